"""AdminNetworkPolicy / BaselineAdminNetworkPolicy: decoding and tier order, table-driven.

Expected values follow the v1alpha1 API reference
(https://network-policy-api.sigs.k8s.io/reference/spec/): ANP (priority
ascending, rules in order, first match) -> NetworkPolicy -> BANP -> allow.
"""

from __future__ import annotations

from typing import Any

import pytest

from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    CustomObject,
    Meta,
    Namespace,
    NetworkPolicy,
    Node,
    NodeAddress,
    Pod,
    PodSpec,
    PolicyPeer,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy import DecidedBy, IPEndpoint, PodEndpoint, admin_policies, evaluate
from netsleuth.policy.anp import decode_admin_policy


def anp(name: str, priority: int, spec: dict[str, Any]) -> CustomObject:
    return CustomObject(
        api_version="policy.networking.k8s.io/v1alpha1",
        kind="AdminNetworkPolicy",
        meta=Meta(name=name),
        spec={"priority": priority, **spec},
    )


def banp(spec: dict[str, Any]) -> CustomObject:
    return CustomObject(
        api_version="policy.networking.k8s.io/v1alpha1",
        kind="BaselineAdminNetworkPolicy",
        meta=Meta(name="default"),
        spec=spec,
    )


def ns_sel(name: str) -> dict[str, Any]:
    return {"matchLabels": {"kubernetes.io/metadata.name": name}}


SUBJECT_SRV = {"namespaces": ns_sel("srv")}
FROM_CLI = [{"namespaces": ns_sel("cli")}]


def base() -> list[ModelObject]:
    ports = (
        ContainerPort(container_port=80, name="web", protocol="TCP"),
        ContainerPort(container_port=53, name="dns", protocol="UDP"),
    )
    return [
        Namespace(meta=Meta(name="srv", labels={"kubernetes.io/metadata.name": "srv"})),
        Namespace(meta=Meta(name="cli", labels={"kubernetes.io/metadata.name": "cli"})),
        Node(
            meta=Meta(name="n1", labels={"kubernetes.io/os": "linux"}),
            addresses=(NodeAddress(type="InternalIP", address="172.18.0.2"),),
        ),
        Pod(
            meta=Meta(name="server", namespace="srv", labels={"app": "server"}),
            spec=PodSpec(containers=(Container(name="c", ports=ports),)),
            pod_ips=("10.0.0.10",),
        ),
        Pod(
            meta=Meta(name="client", namespace="cli", labels={"app": "client"}),
            pod_ips=("10.0.1.10",),
        ),
    ]


def allow_all_np(namespace: str) -> NetworkPolicy:
    return NetworkPolicy(
        meta=Meta(name="np", namespace=namespace),
        pod_selector=LabelSelector(),
        policy_types=("Ingress",),
        ingress=(PolicyRule(peers=(PolicyPeer(namespace_selector=LabelSelector()),)),),
    )


def deny_all_np(namespace: str) -> NetworkPolicy:
    return NetworkPolicy(
        meta=Meta(name="np-deny", namespace=namespace),
        pod_selector=LabelSelector(),
        policy_types=("Ingress",),
    )


def run(objs: list[ModelObject], proto: str = "TCP", port: int = 80) -> Any:
    m: ClusterModel = build_model([*base(), *objs])
    c, s = m.pod("cli", "client"), m.pod("srv", "server")
    assert c is not None and s is not None
    return evaluate(m, PodEndpoint(c), PodEndpoint(s), proto, port)


def rule(
    action: str, peers: list[dict[str, Any]] = FROM_CLI, ports: list[Any] | None = None
) -> dict[str, Any]:
    r: dict[str, Any] = {"name": f"{action.lower()}-rule", "action": action, "from": peers}
    if ports is not None:
        r["ports"] = ports
    return r


CASES: list[tuple[str, list[ModelObject], str, int, bool, str]] = [
    (
        "ANP deny",
        [anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Deny")]})],
        "TCP",
        80,
        False,
        DecidedBy.ADMIN,
    ),
    # Surprising: an ANP Deny cannot be overridden by a NetworkPolicy allow.
    (
        "ANP deny beats NetworkPolicy allow",
        [anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Deny")]}), allow_all_np("srv")],
        "TCP",
        80,
        False,
        DecidedBy.ADMIN,
    ),
    # Surprising: an ANP Allow overrides a NetworkPolicy deny-all.
    (
        "ANP allow beats NetworkPolicy deny",
        [anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Allow")]}), deny_all_np("srv")],
        "TCP",
        80,
        True,
        DecidedBy.ADMIN,
    ),
    (
        "lower priority number wins",
        [
            anp("allow", 5, {"subject": SUBJECT_SRV, "ingress": [rule("Allow")]}),
            anp("deny", 50, {"subject": SUBJECT_SRV, "ingress": [rule("Deny")]}),
        ],
        "TCP",
        80,
        True,
        DecidedBy.ADMIN,
    ),
    (
        "first rule in order wins",
        [anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Deny"), rule("Allow")]})],
        "TCP",
        80,
        False,
        DecidedBy.ADMIN,
    ),
    # Pass skips remaining ANPs (even a later Deny) and lets NetworkPolicy decide.
    (
        "Pass hands over to NetworkPolicy deny",
        [
            anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Pass")]}),
            anp("b", 20, {"subject": SUBJECT_SRV, "ingress": [rule("Allow")]}),
            deny_all_np("srv"),
        ],
        "TCP",
        80,
        False,
        DecidedBy.NETWORK_POLICY,
    ),
    (
        "Pass then no NetworkPolicy: BANP decides",
        [
            anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Pass")]}),
            banp({"subject": SUBJECT_SRV, "ingress": [rule("Deny")]}),
        ],
        "TCP",
        80,
        False,
        DecidedBy.BASELINE,
    ),
    # NetworkPolicy isolation overrides BANP (even its Deny).
    (
        "NetworkPolicy allow beats BANP deny",
        [allow_all_np("srv"), banp({"subject": SUBJECT_SRV, "ingress": [rule("Deny")]})],
        "TCP",
        80,
        True,
        DecidedBy.NETWORK_POLICY,
    ),
    (
        "BANP allow when not isolated",
        [banp({"subject": SUBJECT_SRV, "ingress": [rule("Allow"), rule("Deny")]})],
        "TCP",
        80,
        True,
        DecidedBy.BASELINE,
    ),
    (
        "no matching rule: default allow",
        [
            banp(
                {
                    "subject": SUBJECT_SRV,
                    "ingress": [rule("Deny", [{"namespaces": ns_sel("other")}])],
                }
            )
        ],
        "TCP",
        80,
        True,
        DecidedBy.DEFAULT,
    ),
    (
        "namedPort resolves on destination (name and number)",
        [
            anp(
                "a",
                10,
                {"subject": SUBJECT_SRV, "ingress": [rule("Deny", ports=[{"namedPort": "web"}])]},
            )
        ],
        "TCP",
        80,
        False,
        DecidedBy.ADMIN,
    ),
    # Surprising: namedPort carries no protocol; the container port's protocol must match the traffic.
    (
        "namedPort dns is UDP: TCP 53 not matched",
        [
            anp(
                "a",
                10,
                {"subject": SUBJECT_SRV, "ingress": [rule("Deny", ports=[{"namedPort": "dns"}])]},
            )
        ],
        "TCP",
        53,
        True,
        DecidedBy.DEFAULT,
    ),
    (
        "portRange is inclusive",
        [
            anp(
                "a",
                10,
                {
                    "subject": SUBJECT_SRV,
                    "ingress": [
                        rule(
                            "Deny",
                            ports=[{"portRange": {"protocol": "TCP", "start": 70, "end": 80}}],
                        )
                    ],
                },
            )
        ],
        "TCP",
        80,
        False,
        DecidedBy.ADMIN,
    ),
    (
        "portNumber protocol mismatch",
        [
            anp(
                "a",
                10,
                {
                    "subject": SUBJECT_SRV,
                    "ingress": [
                        rule("Deny", ports=[{"portNumber": {"protocol": "UDP", "port": 80}}])
                    ],
                },
            )
        ],
        "TCP",
        80,
        True,
        DecidedBy.DEFAULT,
    ),
    (
        "pods subject needs both selectors",
        [
            anp(
                "a",
                10,
                {
                    "subject": {
                        "pods": {
                            "namespaceSelector": ns_sel("srv"),
                            "podSelector": {"matchLabels": {"app": "other"}},
                        }
                    },
                    "ingress": [rule("Deny")],
                },
            )
        ],
        "TCP",
        80,
        True,
        DecidedBy.DEFAULT,
    ),
]


@pytest.mark.parametrize(
    ("objs", "proto", "port", "expected", "decided"), [pytest.param(*c[1:], id=c[0]) for c in CASES]
)
def test_tiers(
    objs: list[ModelObject], proto: str, port: int, expected: bool, decided: str
) -> None:
    d = run(objs, proto, port)
    assert d.allowed is expected
    assert d.ingress.decided_by == decided


def test_egress_networks_and_nodes() -> None:
    objs = [
        *base(),
        anp(
            "e",
            10,
            {
                "subject": {"namespaces": ns_sel("cli")},
                "egress": [
                    {
                        "name": "allow-node-80",
                        "action": "Allow",
                        "to": [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}],
                        "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}],
                    },
                    {
                        "name": "deny-all",
                        "action": "Deny",
                        "to": [{"networks": ["0.0.0.0/0", "::/0"]}],
                    },
                ],
            },
        ),
    ]
    m = build_model(objs)
    c, s = m.pod("cli", "client"), m.pod("srv", "server")
    assert c is not None and s is not None
    # networks 0.0.0.0/0 matches pod IPs too.
    assert not evaluate(m, PodEndpoint(c), PodEndpoint(s), "TCP", 80).allowed
    assert evaluate(m, PodEndpoint(c), IPEndpoint("172.18.0.2"), "TCP", 80).allowed  # node
    assert not evaluate(m, PodEndpoint(c), IPEndpoint("172.18.0.2"), "TCP", 81).allowed
    d = evaluate(m, PodEndpoint(c), IPEndpoint("8.8.8.8"), "TCP", 80)
    assert not d.allowed and d.egress.admin is not None and d.egress.admin.rule is not None
    assert d.egress.admin.rule.rule_name == "deny-all"
    assert any("not a node address" in miss.reason for miss in d.egress.admin.misses)


def test_decoding_problems_do_not_crash() -> None:
    bad = anp(
        "bad",
        10,
        {
            "subject": {"namespaces": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}},
            "ingress": [
                {"name": "x", "action": "Reject", "from": FROM_CLI},
                {"name": "y", "action": "Deny", "from": []},
                {
                    "name": "z",
                    "action": "Allow",
                    "from": FROM_CLI,
                    "ports": [{"portNumber": {"port": "eighty"}}, "junk"],
                },
            ],
        },
    )
    pol, problems = decode_admin_policy(bad)
    assert pol.subject is not None and pol.subject.namespace_selector.invalid
    assert [r.name for r in pol.ingress] == ["y", "z"]  # the Reject rule is dropped
    assert pol.ingress[0].peers == ()  # empty from: matches nothing
    assert pol.ingress[1].ports == ()  # both port entries unusable
    assert len(problems) == 5, problems
    # The invalid subject selects nothing, so the policy decides nothing.
    assert run([bad]).allowed
    nopri = CustomObject(
        api_version="policy.networking.k8s.io/v1alpha1",
        kind="AdminNetworkPolicy",
        meta=Meta(name="np"),
        spec={},
    )
    m = build_model([*base(), nopri])
    assert admin_policies(m).anps[0].priority == 1000 and admin_policies(m).problems


def test_early_v1alpha1_namespaced_peer_form() -> None:
    """v0.1.0-v0.1.4 wrote peers as ``namespaces: {namespaceSelector: ...}`` (policy-assistant
    demos use it). Reading it as a plain selector would make it match every namespace."""
    old = [
        {
            "namespaces": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}}
            }
        }
    ]
    assert run([anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Deny", old)]})]).allowed
    hit = [
        {
            "pods": {
                "namespaces": {"namespaceSelector": ns_sel("cli")},
                "podSelector": {"matchLabels": {"app": "client"}},
            }
        }
    ]
    assert not run([anp("a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Deny", hit)]})]).allowed


def test_same_and_not_same_labels() -> None:
    """sameLabels: the peer namespace shares the key's value with the subject's namespace."""
    team = [
        Namespace(
            meta=Meta(name="srv", labels={"kubernetes.io/metadata.name": "srv", "team": "blue"})
        ),
        Namespace(
            meta=Meta(name="cli", labels={"kubernetes.io/metadata.name": "cli", "team": "red"})
        ),
    ]

    def verdict(peer: dict[str, Any]) -> bool:
        pol = anp(
            "a", 10, {"subject": SUBJECT_SRV, "ingress": [rule("Deny", [{"namespaces": peer}])]}
        )
        m = build_model([*team, *[o for o in base() if not isinstance(o, Namespace)], pol])
        c, s = m.pod("cli", "client"), m.pod("srv", "server")
        assert c is not None and s is not None
        return evaluate(m, PodEndpoint(c), PodEndpoint(s), "TCP", 80).allowed

    assert verdict({"sameLabels": ["team"]})  # red != blue: the Deny does not apply
    assert not verdict({"notSameLabels": ["team"]})  # red != blue: the Deny applies
    assert verdict({"notSameLabels": ["missing"]})  # neither carries the key

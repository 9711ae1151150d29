"""Table tests for the NetworkPolicy primitives and the reference evaluator.

Each row is one Kubernetes rule; a comment marks every row that surprises
people. Expected values come from the NetworkPolicy docs
(https://kubernetes.io/docs/concepts/services-networking/network-policies/)
and the API reference, not from the engine's output.
"""

from __future__ import annotations

from typing import Any

import pytest

from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    IPBlock,
    Meta,
    Namespace,
    NetworkPolicy,
    Pod,
    PodSpec,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector, Operator, Requirement
from netsleuth.policy import (
    IPEndpoint,
    PodEndpoint,
    evaluate,
    ip_block_set,
    port_entry_mismatch,
    port_entry_set,
    resolve_named_port,
    selector_mismatch,
)

SEL = LabelSelector.from_match_labels


def pod(
    ns: str,
    name: str,
    labels: dict[str, str] | None = None,
    ip: str | None = None,
    ports: tuple[ContainerPort, ...] = (),
    host_network: bool = False,
) -> Pod:
    return Pod(
        meta=Meta(name=name, namespace=ns, labels=labels or {"app": name}),
        spec=PodSpec(containers=(Container(name="c", ports=ports),), host_network=host_network),
        pod_ips=(ip,) if ip else (),
        host_ip="192.168.0.1",
        phase="Running",
    )


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(meta=Meta(name=name, labels={"kubernetes.io/metadata.name": name, **labels}))


def netpol(
    namespace: str,
    name: str,
    selector: LabelSelector,
    *,
    ingress: tuple[PolicyRule, ...] | None = None,
    egress: tuple[PolicyRule, ...] | None = None,
    types: tuple[str, ...] | None = None,
) -> NetworkPolicy:
    """A policy as the API server stores it: ``policyTypes`` defaulted when omitted."""
    effective = types or (("Ingress", "Egress") if egress is not None else ("Ingress",))
    return NetworkPolicy(
        meta=Meta(name=name, namespace=namespace),
        pod_selector=selector,
        policy_types=effective,
        declared_policy_types=types,
        ingress=ingress or (),
        egress=egress or (),
    )


WEB_PORTS = (
    ContainerPort(container_port=8080, name="http", protocol="TCP"),
    ContainerPort(container_port=5353, name="dns", protocol="UDP"),
)


def cluster(*objs: ModelObject) -> ClusterModel:
    base: list[ModelObject] = [
        ns("prod", env="prod"),
        ns("dev", env="dev"),
        ns("nolabel"),
        pod("prod", "web", {"app": "web"}, "10.0.0.10", WEB_PORTS),
        pod("prod", "api", {"app": "api", "tier": "be"}, "10.0.0.11"),
        pod("dev", "client", {"app": "client"}, "10.0.1.10"),
        pod("dev", "api", {"app": "api"}, "10.0.1.11"),
        pod("nolabel", "other", {"role": "x"}, "10.0.2.10"),
        pod("prod", "node-agent", {"app": "agent"}, "192.168.0.1", host_network=True),
    ]
    return build_model([*base, *objs])


def verdict(model: ClusterModel, src: str, dst: str, proto: str = "TCP", port: int = 8080) -> bool:
    def ep(text: str) -> Any:
        if "/" in text:
            p = model.pod(*text.split("/"))
            assert p is not None, text
            return PodEndpoint(p)
        return IPEndpoint(text)

    return evaluate(model, ep(src), ep(dst), proto, port).allowed


def ing(*peers: PolicyPeer, ports: tuple[PolicyPort, ...] = ()) -> tuple[PolicyRule, ...]:
    return (PolicyRule(peers=peers, ports=ports),)


WEB = SEL({"app": "web"})

# (id, policies, src, dst, protocol, port, expected)
CASES: list[tuple[str, tuple[NetworkPolicy, ...], str, str, str, int, bool]] = [
    ("no policies: default allow", (), "dev/client", "prod/web", "TCP", 8080, True),
    (
        "deny-all ingress isolates",
        (netpol("prod", "deny", LabelSelector(), ingress=()),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    # Surprising: a policy with only ingress rules and no policyTypes defaults to
    # [Ingress]; it never isolates egress.
    (
        "policyTypes defaults to Ingress: egress untouched",
        (netpol("dev", "ingress-only", LabelSelector(), ingress=()),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Surprising: policyTypes [Egress] with no egress rules denies all egress,
    # even though the policy "has no rules".
    (
        "egress isolation without rules denies egress",
        (netpol("dev", "no-egress", LabelSelector(), types=("Egress",)),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "egress isolation does not touch ingress of the same pod",
        (netpol("prod", "no-egress", LabelSelector(), types=("Egress",)),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Surprising: podSelector alone in a peer means "in the policy's namespace".
    (
        "podSelector-only peer is scoped to the policy namespace",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(pod_selector=SEL({"app": "api"})))),),
        "dev/api",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "podSelector-only peer matches same-namespace pod",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(pod_selector=SEL({"app": "api"})))),),
        "prod/api",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Surprising: namespaceSelector {} = every pod of every namespace.
    (
        "empty namespaceSelector: all namespaces",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(namespace_selector=LabelSelector()))),),
        "nolabel/other",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "empty namespaceSelector does not match external IPs",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(namespace_selector=LabelSelector()))),),
        "203.0.113.7",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    # Surprising: an empty rule (no from) admits everything, external IPs included.
    (
        "rule without from admits external addresses",
        (netpol("prod", "p", WEB, ingress=ing()),),
        "203.0.113.7",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # AND: both selectors in one peer.
    (
        "AND peer: namespace matches, pod does not",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(
                        namespace_selector=SEL({"env": "dev"}), pod_selector=SEL({"app": "api"})
                    )
                ),
            ),
        ),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "AND peer: both match",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(
                        namespace_selector=SEL({"env": "dev"}), pod_selector=SEL({"app": "api"})
                    )
                ),
            ),
        ),
        "dev/api",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # OR: the same two selectors as two peers.
    (
        "OR peers: namespace alone is enough",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(namespace_selector=SEL({"env": "dev"})),
                    PolicyPeer(pod_selector=SEL({"app": "api"})),
                ),
            ),
        ),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Surprising: NotIn matches a namespace that lacks the key entirely.
    (
        "NotIn matches when the key is missing",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(
                        namespace_selector=LabelSelector(
                            expressions=(Requirement("env", Operator.NOT_IN, frozenset({"dev"})),)
                        )
                    )
                ),
            ),
        ),
        "nolabel/other",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "NotIn rejects the listed value",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(
                        namespace_selector=LabelSelector(
                            expressions=(Requirement("env", Operator.NOT_IN, frozenset({"dev"})),)
                        )
                    )
                ),
            ),
        ),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "DoesNotExist matches a namespace without the key",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(
                        namespace_selector=LabelSelector(
                            expressions=(Requirement("env", Operator.DOES_NOT_EXIST),)
                        )
                    )
                ),
            ),
        ),
        "nolabel/other",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "Exists rejects a namespace without the key",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(
                        namespace_selector=LabelSelector(
                            expressions=(Requirement("env", Operator.EXISTS),)
                        )
                    )
                ),
            ),
        ),
        "nolabel/other",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    # Ports.
    (
        "named port resolves on the destination pod",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(port="http"),))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Surprising: the name matches but the protocol does not (dns is UDP on the pod).
    (
        "named port with protocol mismatch matches nothing",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(port="dns", protocol="TCP"),))),),
        "dev/client",
        "prod/web",
        "TCP",
        5353,
        False,
    ),
    (
        "named port with matching protocol",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(port="dns", protocol="UDP"),))),),
        "dev/client",
        "prod/web",
        "UDP",
        5353,
        True,
    ),
    (
        "endPort range includes its end",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(port=8000, end_port=8080),))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "endPort range excludes the next port",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(port=8000, end_port=8079),))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    # Surprising: a UDP-only rule still isolates the pod for TCP.
    (
        "protocol-only entry: UDP rule blocks TCP",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(protocol="UDP"),))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "protocol-only entry: every UDP port",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(protocol="UDP"),))),),
        "dev/client",
        "prod/web",
        "UDP",
        65535,
        True,
    ),
    (
        "SCTP is not TCP",
        (netpol("prod", "p", WEB, ingress=ing(ports=(PolicyPort(protocol="SCTP", port=8080),))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    # ipBlock with except, applied to pod IPs (upstream e2e cases 35/36).
    (
        "ipBlock matches pod IPs",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(ip_block=IPBlock(cidr="10.0.1.0/24")))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "ipBlock except carves out one pod",
        (
            netpol(
                "prod",
                "p",
                WEB,
                ingress=ing(
                    PolicyPeer(ip_block=IPBlock(cidr="10.0.1.0/24", except_=("10.0.1.10/32",)))
                ),
            ),
        ),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "ipBlock with host bits set is accepted (10.0.1.11/4 = 0.0.0.0/4)",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(ip_block=IPBlock(cidr="10.0.1.11/4")))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "ipBlock egress to an external address",
        (
            netpol(
                "dev",
                "p",
                SEL({"app": "client"}),
                egress=ing(
                    PolicyPeer(ip_block=IPBlock(cidr="0.0.0.0/0", except_=("203.0.113.0/24",)))
                ),
            ),
        ),
        "dev/client",
        "203.0.113.7",
        "TCP",
        443,
        False,
    ),
    # hostNetwork pods: never isolated; as peers only ipBlock on the node IP matches.
    (
        "hostNetwork pod is not selected by a deny-all",
        (netpol("prod", "deny", LabelSelector(), ingress=()),),
        "dev/client",
        "prod/node-agent",
        "TCP",
        8080,
        True,
    ),
    (
        "hostNetwork source is not matched by podSelector",
        (netpol("prod", "p", WEB, ingress=ing(PolicyPeer(pod_selector=SEL({"app": "agent"})))),),
        "prod/node-agent",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    (
        "hostNetwork source is matched by ipBlock on the node IP",
        (
            netpol(
                "prod", "p", WEB, ingress=ing(PolicyPeer(ip_block=IPBlock(cidr="192.168.0.0/24")))
            ),
        ),
        "prod/node-agent",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Union of policies: one allow among several selecting policies wins.
    (
        "policies are additive",
        (
            netpol("prod", "deny", LabelSelector(), ingress=()),
            netpol(
                "prod",
                "allow-dev",
                WEB,
                ingress=ing(PolicyPeer(namespace_selector=SEL({"env": "dev"}))),
            ),
        ),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    # Both sides must allow.
    (
        "egress of source and ingress of destination both needed",
        (
            netpol("prod", "allow-all-in", WEB, ingress=ing()),
            netpol("dev", "deny-out", LabelSelector(), types=("Egress",)),
        ),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        False,
    ),
    # Surprising: for egress, named ports resolve against the *destination* pod.
    (
        "egress named port resolves on the destination",
        (netpol("dev", "p", SEL({"app": "client"}), egress=ing(ports=(PolicyPort(port="http"),))),),
        "dev/client",
        "prod/web",
        "TCP",
        8080,
        True,
    ),
    (
        "egress named port cannot match an external address",
        (netpol("dev", "p", SEL({"app": "client"}), egress=ing(ports=(PolicyPort(port="http"),))),),
        "dev/client",
        "203.0.113.7",
        "TCP",
        8080,
        False,
    ),
]


@pytest.mark.parametrize(
    ("policies", "src", "dst", "proto", "port", "expected"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_semantics_table(
    policies: tuple[NetworkPolicy, ...], src: str, dst: str, proto: str, port: int, expected: bool
) -> None:
    assert verdict(cluster(*policies), src, dst, proto, port) is expected


def test_selector_mismatch_reasons() -> None:
    assert selector_mismatch(SEL({"app": "web"}), {"app": "web", "x": "y"}) is None
    assert selector_mismatch(SEL({"app": "web"}), {}) == "app=web wanted, found no label app"
    notin = LabelSelector(expressions=(Requirement("env", Operator.NOT_IN, frozenset({"dev"})),))
    assert selector_mismatch(notin, {}) is None  # NotIn with the key missing matches
    assert selector_mismatch(notin, {"env": "dev"}) == "env notin (dev) wanted, found env=dev"
    assert selector_mismatch(LabelSelector(invalid="bad"), {}) is not None


def test_port_entries() -> None:
    web = pod("prod", "web", ports=WEB_PORTS)
    assert resolve_named_port(web, "http", "tcp") == 8080
    assert resolve_named_port(web, "dns", "TCP") is None  # protocol must match too
    assert port_entry_set(PolicyPort(port="http"), None).unresolved == "http"
    assert port_entry_set(PolicyPort(port=90, end_port=80), web).ports.is_empty()  # invalid range
    assert port_entry_set(PolicyPort(port="80"), web).ports.ranges == ((80, 80),)  # numeric string
    why = port_entry_mismatch(PolicyPort(port=80), "UDP", 80, web)
    assert why is not None and "protocol UDP" in why


def test_ip_block_set() -> None:
    s = ip_block_set(IPBlock(cidr="10.0.0.0/8", except_=("10.1.0.0/16", "bogus")))
    assert s.contains_ip("10.0.0.1") and not s.contains_ip("10.1.255.255")
    assert s.contains_ip("10.2.0.0")
    assert ip_block_set(IPBlock(cidr="not-a-cidr")).is_empty()  # bad input matches nothing


def test_pod_without_ip_matched_by_labels_not_by_ipblock() -> None:
    """A pod without an IP is still selected/matched by labels; ipBlock can never match it."""
    nip = pod("dev", "pending", {"app": "api"})
    by_label = netpol(
        "prod", "p", WEB, ingress=ing(PolicyPeer(namespace_selector=SEL({"env": "dev"})))
    )
    by_ip = netpol("prod", "q", WEB, ingress=ing(PolicyPeer(ip_block=IPBlock(cidr="0.0.0.0/0"))))
    for pol, want in ((by_label, True), (by_ip, False)):
        m = cluster(nip, pol)
        src, dst = m.pod("dev", "pending"), m.pod("prod", "web")
        assert src is not None and dst is not None
        assert evaluate(m, PodEndpoint(src), PodEndpoint(dst), "TCP", 8080).allowed is want

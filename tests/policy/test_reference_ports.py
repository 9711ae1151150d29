"""Property: the every-port view (``evaluate_ports``) agrees with ``evaluate`` port by port.

``evaluate_ports`` evaluates one representative port per stretch between
rule boundaries; if a boundary were missed, some port inside a stretch would
get the wrong verdict. Random policies (numbered ports, ranges, named ports,
protocol-only entries, ANP/BANP port rules) and random probe ports check it.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netsleuth.model.cluster import ModelObject, build_model
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    CustomObject,
    Meta,
    Namespace,
    NetworkPolicy,
    Pod,
    PodSpec,
    PolicyPort,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy import PROTOCOLS, PodEndpoint, evaluate, evaluate_ports

protocols = st.sampled_from(PROTOCOLS)
numbers = st.integers(1, 200)


@st.composite
def policy_ports(draw: st.DrawFn) -> PolicyPort:
    proto = draw(protocols)
    form = draw(st.sampled_from(["number", "range", "name", "protocol-only"]))
    if form == "number":
        return PolicyPort(protocol=proto, port=draw(numbers))
    if form == "range":
        lo = draw(numbers)
        return PolicyPort(protocol=proto, port=lo, end_port=lo + draw(st.integers(0, 50)))
    if form == "name":
        return PolicyPort(protocol=proto, port=draw(st.sampled_from(["web", "dns", "missing"])))
    return PolicyPort(protocol=proto)


@st.composite
def admin_port(draw: st.DrawFn) -> dict[str, object]:
    form = draw(st.sampled_from(["portNumber", "portRange", "namedPort"]))
    if form == "portNumber":
        return {"portNumber": {"protocol": draw(protocols), "port": draw(numbers)}}
    if form == "portRange":
        lo = draw(numbers)
        return {
            "portRange": {
                "protocol": draw(protocols),
                "start": lo,
                "end": lo + draw(st.integers(0, 50)),
            }
        }
    return {"namedPort": draw(st.sampled_from(["web", "dns"]))}


rules = st.lists(
    st.lists(policy_ports(), max_size=3).map(lambda ps: PolicyRule(ports=tuple(ps))), max_size=3
)


@given(
    ingress=rules,
    egress=rules,
    anp_rules=st.lists(
        st.tuples(
            st.sampled_from(["Allow", "Deny", "Pass"]),
            st.lists(admin_port(), min_size=1, max_size=2),
        ),
        max_size=3,
    ),
    banp_rules=st.lists(
        st.tuples(
            st.sampled_from(["Allow", "Deny"]), st.lists(admin_port(), min_size=1, max_size=2)
        ),
        max_size=2,
    ),
    probes=st.lists(st.tuples(protocols, st.integers(1, 260)), min_size=1, max_size=8),
    isolate=st.tuples(st.booleans(), st.booleans()),
)
def test_every_port_view_matches_single_verdicts(
    ingress: list[PolicyRule],
    egress: list[PolicyRule],
    anp_rules: list[tuple[str, list[dict[str, object]]]],
    banp_rules: list[tuple[str, list[dict[str, object]]]],
    probes: list[tuple[str, int]],
    isolate: tuple[bool, bool],
) -> None:
    ports = (
        ContainerPort(container_port=80, name="web", protocol="TCP"),
        ContainerPort(container_port=53, name="dns", protocol="UDP"),
    )
    peers = [{"namespaces": {}}]
    objs: list[ModelObject] = [
        Namespace(meta=Meta(name="a", labels={"kubernetes.io/metadata.name": "a"})),
        Pod(meta=Meta(name="src", namespace="a", labels={"r": "src"}), pod_ips=("10.0.0.1",)),
        Pod(
            meta=Meta(name="dst", namespace="a", labels={"r": "dst"}),
            spec=PodSpec(containers=(Container(name="c", ports=ports),)),
            pod_ips=("10.0.0.2",),
        ),
    ]
    if isolate[0]:
        objs.append(
            NetworkPolicy(
                meta=Meta(name="in", namespace="a"),
                pod_selector=LabelSelector.from_match_labels({"r": "dst"}),
                policy_types=("Ingress",),
                ingress=tuple(ingress),
            )
        )
    if isolate[1]:
        objs.append(
            NetworkPolicy(
                meta=Meta(name="out", namespace="a"),
                pod_selector=LabelSelector.from_match_labels({"r": "src"}),
                policy_types=("Egress",),
                egress=tuple(egress),
            )
        )
    if anp_rules:
        objs.append(
            CustomObject(
                api_version="policy.networking.k8s.io/v1alpha1",
                kind="AdminNetworkPolicy",
                meta=Meta(name="anp"),
                spec={
                    "priority": 1,
                    "subject": {"namespaces": {}},
                    "egress": [
                        {"name": f"r{i}", "action": a, "to": peers, "ports": p}
                        for i, (a, p) in enumerate(anp_rules)
                    ],
                },
            )
        )
    if banp_rules:
        objs.append(
            CustomObject(
                api_version="policy.networking.k8s.io/v1alpha1",
                kind="BaselineAdminNetworkPolicy",
                meta=Meta(name="default"),
                spec={
                    "subject": {"namespaces": {}},
                    "ingress": [
                        {"name": f"b{i}", "action": a, "from": peers, "ports": p}
                        for i, (a, p) in enumerate(banp_rules)
                    ],
                },
            )
        )
    m = build_model(objs)
    src, dst = m.pod("a", "src"), m.pod("a", "dst")
    assert src is not None and dst is not None
    s, d = PodEndpoint(src), PodEndpoint(dst)
    view = evaluate_ports(m, s, d)
    boundary_probes = [(p, x) for p in PROTOCOLS for x in (1, 52, 53, 54, 79, 80, 81, 65535)]
    for proto, port in [*probes, *boundary_probes]:
        single = evaluate(m, s, d, proto, port)
        assert (port in view.combined[proto]) == single.allowed, (proto, port)
        assert (port in view.egress.allowed[proto]) == single.egress.allowed, (proto, port)
        assert (port in view.ingress.allowed[proto]) == single.ingress.allowed, (proto, port)

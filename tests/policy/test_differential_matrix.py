"""The matrix engine equals the reference evaluator on generated clusters.

Hypothesis builds small clusters (labelled namespaces, pods with labels,
named container ports and IPs, a hostNetwork pod now and then) and
NetworkPolicies with random selectors, matchExpressions, ipBlocks with
excepts, numeric/named/ranged ports and policyTypes. For every pair of
endpoints (pods, one address per external range, the ingress-controller
pseudo-peer) and every port of a sample holding every rule bound, both
engines must give the same verdict. The example count comes from the
Hypothesis profile in ``tests/conftest.py`` (more under ``CI=true``).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from netsleuth.model import build_model
from netsleuth.model.cluster import ClusterModel
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
    Endpoint,
    IngressControllerEndpoint,
    IPEndpoint,
    PodEndpoint,
    is_allowed,
)
from netsleuth.policy.matrix import EXTERNAL, POD, PSEUDO, PolicyMatrix, Unit, pod_units

# The engine against its own reference on generated clusters: costly examples, not
# hostile-input fuzzing. They keep the count they had, so the CI profile's 300 examples
# (tests/conftest.py) go to the loaders, parsers, renderers and printed commands and
# `make test` stays under 3 minutes.
EQUIVALENCE_EXAMPLES = 60 if os.environ.get("CI") else 30

NAMESPACES = ("a", "b", "c")
KEYS = ("app", "tier", "env")
VALUES = ("x", "y", "z")
PORT_NAMES = ("http", "dns", "metrics")
IPS = ("10.0.0.1", "10.0.1.5", "10.1.0.9", "192.168.1.20", "10.0.0.130")
CIDRS = ("10.0.0.0/8", "10.0.0.0/16", "10.0.0.0/24", "10.0.0.128/25", "0.0.0.0/0", "192.168.0.0/16")
EXCEPTS = ("10.0.0.0/24", "10.1.0.0/16", "10.0.0.1/32", "192.168.1.0/24")
NUMBERS = (53, 80, 443, 8080, 9090)

labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)


@st.composite
def selectors(draw: Any) -> LabelSelector:
    labels = draw(labels_st)
    exprs = []
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(list(Operator)))
        vals = (
            frozenset(draw(st.sets(st.sampled_from(VALUES), min_size=1, max_size=2)))
            if op in (Operator.IN, Operator.NOT_IN)
            else frozenset()
        )
        exprs.append(Requirement(draw(st.sampled_from(KEYS)), op, vals))
    return LabelSelector(labels=tuple(sorted(labels.items())), expressions=tuple(exprs))


@st.composite
def peers(draw: Any) -> PolicyPeer:
    kind = draw(st.sampled_from(["pod", "ns", "both", "ip", "ip"]))
    if kind == "ip":
        cidr = draw(st.sampled_from(CIDRS))
        excepts = tuple(draw(st.lists(st.sampled_from(EXCEPTS), max_size=2, unique=True)))
        return PolicyPeer(ip_block=IPBlock(cidr=cidr, except_=excepts))
    return PolicyPeer(
        pod_selector=draw(selectors()) if kind in ("pod", "both") else None,
        namespace_selector=draw(selectors()) if kind in ("ns", "both") else None,
    )


@st.composite
def ports(draw: Any) -> PolicyPort:
    proto = draw(st.sampled_from(["TCP", "TCP", "UDP", "SCTP"]))
    kind = draw(st.sampled_from(["num", "name", "range", "none"]))
    if kind == "num":
        return PolicyPort(protocol=proto, port=draw(st.sampled_from(NUMBERS)))
    if kind == "name":
        return PolicyPort(protocol=proto, port=draw(st.sampled_from(PORT_NAMES)))
    if kind == "range":
        lo = draw(st.sampled_from(NUMBERS))
        return PolicyPort(protocol=proto, port=lo, end_port=lo + draw(st.integers(-1, 2000)))
    return PolicyPort(protocol=proto)


@st.composite
def rules(draw: Any) -> PolicyRule:
    return PolicyRule(
        peers=tuple(draw(st.lists(peers(), max_size=2))),
        ports=tuple(draw(st.lists(ports(), max_size=2))),
    )


@st.composite
def clusters(draw: Any) -> ClusterModel:
    objs: list[Any] = []
    for ns in NAMESPACES:
        labels = {"kubernetes.io/metadata.name": ns, **draw(labels_st)}
        objs.append(Namespace(meta=Meta(name=ns, labels=labels)))
    ips = list(IPS)
    for i in range(draw(st.integers(1, 5))):
        cports = tuple(
            ContainerPort(
                container_port=draw(st.sampled_from((*NUMBERS, 5353))),
                name=draw(st.sampled_from((*PORT_NAMES, None))),
                protocol=draw(st.sampled_from(["TCP", "UDP"])),
            )
            for _ in range(draw(st.integers(0, 2)))
        )
        has_ip = draw(st.booleans()) or i == 0
        objs.append(
            Pod(
                meta=Meta(
                    name=f"p{i}",
                    namespace=draw(st.sampled_from(NAMESPACES)),
                    labels=draw(labels_st),
                ),
                spec=PodSpec(
                    containers=(Container(name="c", ports=cports),),
                    host_network=draw(st.integers(0, 9)) == 0,
                ),
                phase="Running",
                pod_ips=(ips[i],) if has_ip else (),
                host_ip="192.168.1.20",
            )
        )
    for k in range(draw(st.integers(0, 4))):
        types = draw(st.sampled_from([("Ingress",), ("Egress",), ("Ingress", "Egress")]))
        objs.append(
            NetworkPolicy(
                meta=Meta(name=f"np{k}", namespace=draw(st.sampled_from(NAMESPACES))),
                pod_selector=draw(selectors()),
                policy_types=types,
                ingress=tuple(draw(st.lists(rules(), max_size=2))) if "Ingress" in types else (),
                egress=tuple(draw(st.lists(rules(), max_size=2))) if "Egress" in types else (),
            )
        )
    return build_model(objs)


def _endpoint(u: Unit) -> Endpoint:
    if u.kind == EXTERNAL:
        return IPEndpoint(u.ips[0])
    if u.kind == PSEUDO:
        return IngressControllerEndpoint()
    return PodEndpoint(u.pods[0])


def _probe_ports(model: ClusterModel) -> dict[str, list[int]]:
    """Every rule bound (and one inside), every container port, plus a few far ports."""
    pts = {1, 2, 65535, 65534, 5353}
    for pol in model.network_policies:
        for rule in (*pol.ingress, *pol.egress):
            for e in rule.ports:
                if isinstance(e.port, int):
                    hi = e.end_port if e.end_port is not None else e.port
                    pts.update((e.port - 1, e.port, e.port + 1, hi - 1, hi, hi + 1))
    for pod in model.pods:
        for cp in pod.spec.all_ports():
            pts.update((cp.container_port, cp.container_port + 1))
    sample = sorted(p for p in pts if 1 <= p <= 65535)
    return {"TCP": sample, "UDP": sample, "SCTP": sample}


@settings(max_examples=EQUIVALENCE_EXAMPLES)
@given(clusters())
def test_matrix_equals_reference(model: ClusterModel) -> None:
    units, _ = pod_units(model)
    pm = PolicyMatrix.build(model, units)
    probe = _probe_ports(model)
    eps = [(u, _endpoint(u)) for u in units]
    for su, s in eps:
        for du, d in eps:
            if su.kind != POD and du.kind != POD:
                continue
            for proto, sample in probe.items():
                for port in sample:
                    want = is_allowed(model, s, d, proto, port)
                    got = pm.allowed(su.key, du.key, proto, port)
                    assert got == want, (su.key, du.key, proto, port, model.network_policies)


def test_extra_ips_in_one_range_agree() -> None:
    """Every address of a range is treated alike: probe two addresses of each range."""
    pol = NetworkPolicy(
        meta=Meta(name="np", namespace="a"),
        pod_selector=LabelSelector(),
        policy_types=("Ingress",),
        ingress=(
            PolicyRule(
                peers=(PolicyPeer(ip_block=IPBlock(cidr="10.0.0.0/8", except_=("10.1.0.0/16",))),)
            ),
        ),
    )
    pod = Pod(meta=Meta(name="p", namespace="a"), phase="Running", pod_ips=("10.0.0.5",))
    model = build_model([Namespace(meta=Meta(name="a")), pod, pol])
    units, of_pod = pod_units(model)
    pm = PolicyMatrix.build(model, units)
    ranges = {u.key[1]: u.key for u in units if u.kind == EXTERNAL}  # type: ignore[index]
    # 10.0.0.0/8 minus 10.1.0.0/16 → cuts at 10.0.0.0, 10.1.0.0, 10.2.0.0, 11.0.0.0.
    assert sorted(ranges) == sorted(
        [
            "0.0.0.0-9.255.255.255",
            "10.0.0.0-10.0.255.255",
            "10.1.0.0-10.1.255.255",
            "10.2.0.0-10.255.255.255",
            "11.0.0.0-255.255.255.255",
        ]
    )
    dst = of_pod[("a", "p")]
    for label, ip, allowed in (
        ("10.0.0.0-10.0.255.255", "10.0.200.1", True),
        ("10.1.0.0-10.1.255.255", "10.1.2.3", False),
        ("10.2.0.0-10.255.255.255", "10.200.0.1", True),
        ("11.0.0.0-255.255.255.255", "8.8.8.8", False),
    ):
        assert is_allowed(model, IPEndpoint(ip), PodEndpoint(pod), "TCP", 80) is allowed
        assert pm.allowed(ranges[label], dst, "TCP", 80) is allowed

"""The reference evaluator's result values: provenance, every-port verdicts, derived peers."""

from __future__ import annotations

from netsleuth.model.cluster import ModelObject, build_model
from netsleuth.model.intervals import ALL_PORTS, IntervalSet
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    Meta,
    Namespace,
    NetworkPolicy,
    Pod,
    PodSpec,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
    Service,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy import (
    DecidedBy,
    Direction,
    IngressControllerEndpoint,
    IPEndpoint,
    PodEndpoint,
    allowed_ports,
    endpoint_for_ip,
    evaluate,
    evaluate_ports,
    explain_text,
    has_kube_dns,
    ingress_controller_endpoints,
    policies_selecting,
    unresolved_named_ports,
    with_kube_dns,
)

SEL = LabelSelector.from_match_labels


def objs() -> list[ModelObject]:
    return [
        Namespace(meta=Meta(name="shop", labels={"kubernetes.io/metadata.name": "shop"})),
        Namespace(
            meta=Meta(name="ops", labels={"kubernetes.io/metadata.name": "ops", "team": "ops"})
        ),
        Pod(
            meta=Meta(name="db", namespace="shop", labels={"app": "db"}),
            spec=PodSpec(
                containers=(
                    Container(name="pg", ports=(ContainerPort(container_port=5432, name="pg"),)),
                )
            ),
            pod_ips=("10.1.0.5",),
        ),
        Pod(meta=Meta(name="web", namespace="shop", labels={"app": "web"}), pod_ips=("10.1.0.6",)),
        Pod(meta=Meta(name="mon", namespace="ops", labels={"app": "mon"}), pod_ips=("10.2.0.7",)),
        NetworkPolicy(
            meta=Meta(name="db-in", namespace="shop"),
            pod_selector=SEL({"app": "db"}),
            policy_types=("Ingress",),
            ingress=(
                PolicyRule(
                    peers=(PolicyPeer(pod_selector=SEL({"app": "web"})),),
                    ports=(PolicyPort(port="pg"), PolicyPort(port="metrics")),
                ),
                PolicyRule(
                    peers=(PolicyPeer(namespace_selector=SEL({"team": "ops"})),),
                    ports=(PolicyPort(port=9000, end_port=9100),),
                ),
            ),
        ),
    ]


def model():  # type: ignore[no-untyped-def]
    return build_model(objs())


def ep(m, ns: str, name: str) -> PodEndpoint:  # type: ignore[no-untyped-def]
    p = m.pod(ns, name)
    assert p is not None
    return PodEndpoint(p)


def test_allowed_decision_names_rule_peer_and_port() -> None:
    m = model()
    d = evaluate(m, ep(m, "shop", "web"), ep(m, "shop", "db"), "tcp", 5432)
    assert d.allowed and d.protocol == "TCP"
    assert d.ingress.isolated and d.ingress.decided_by == DecidedBy.NETWORK_POLICY
    (match,) = d.ingress.allowed_by
    assert (match.policy.name, match.rule, match.peer, match.port) == ("db-in", 0, 0, 0)
    assert d.egress.decided_by == DecidedBy.DEFAULT and not d.egress.isolated
    text = "\n".join(explain_text(d))
    assert "pg/TCP (= 5432)" in text and "not isolated for egress: default allow" in text


def test_denied_decision_lists_misses_with_reasons() -> None:
    m = model()
    d = evaluate(m, ep(m, "ops", "mon"), ep(m, "shop", "db"), "TCP", 5432)
    assert not d.allowed and d.egress.allowed and not d.ingress.allowed
    reasons = [x.reason for x in d.ingress.misses]
    # Rule 1: mon is not in namespace shop; rule 2: namespace matches but port is wrong.
    assert any("only matches pods of namespace shop, not ops" in r for r in reasons)
    assert any("port 5432/TCP is not 9000-9100/TCP" in r for r in reasons)
    assert "no ingress rule admits it" in d.ingress.reason


def test_evaluate_ports_and_unresolved_names() -> None:
    m = model()
    web, db, mon = ep(m, "shop", "web"), ep(m, "shop", "db"), ep(m, "ops", "mon")
    ports = allowed_ports(m, web, db)
    assert ports["combined"]["TCP"] == IntervalSet.single(5432)
    assert ports["combined"]["UDP"].is_empty()
    assert ports["egress"]["SCTP"] == ALL_PORTS  # web's egress is not isolated
    assert allowed_ports(m, mon, db)["combined"]["TCP"] == IntervalSet.single(9000, 9100)
    # "metrics" is named in the rule but db defines no such port: it allows nothing.
    assert unresolved_named_ports(m, web, db) == ("metrics/TCP",)
    pd = evaluate_ports(m, mon, db)
    assert pd.ingress.isolated and [r.name for r in pd.ingress.selecting] == ["db-in"]
    # The peer miss of rule 1 holds on every port, so it is reported for the all-ports view.
    assert any(x.rule == 0 for x in pd.ingress.misses)


def test_policies_selecting_and_endpoint_for_ip() -> None:
    m = model()
    db = m.pod("shop", "db")
    assert db is not None
    assert [p.name for p in policies_selecting(m, db, Direction.INGRESS)] == ["db-in"]
    assert policies_selecting(m, db, Direction.EGRESS) == ()
    assert endpoint_for_ip(m, "10.1.0.5") == PodEndpoint(db)
    assert endpoint_for_ip(m, "8.8.8.8") == IPEndpoint("8.8.8.8")


def test_address_sides_are_not_governed() -> None:
    m = model()
    d = evaluate(m, IPEndpoint("203.0.113.10"), ep(m, "shop", "web"), "TCP", 80)
    assert d.allowed and d.egress.decided_by == DecidedBy.NOT_A_POD


def test_ingress_controller_pseudo_peer() -> None:
    m = model()
    (ctrl,) = ingress_controller_endpoints(m)
    assert isinstance(ctrl, IngressControllerEndpoint)
    # podSelector-only peer (same namespace) does not match a controller from elsewhere.
    assert not evaluate(m, ctrl, ep(m, "shop", "db"), "TCP", 5432).allowed
    allow_any_ns = NetworkPolicy(
        meta=Meta(name="from-anywhere", namespace="shop"),
        pod_selector=SEL({"app": "db"}),
        policy_types=("Ingress",),
        ingress=(PolicyRule(peers=(PolicyPeer(namespace_selector=LabelSelector()),)),),
    )
    m2 = build_model([*objs(), allow_any_ns])
    assert evaluate(m2, ctrl, ep(m2, "shop", "db"), "TCP", 5432).allowed
    # With controller pods in the input, those pods are the peer.
    nginx = Pod(
        meta=Meta(
            name="ingress-nginx-controller-1",
            namespace="ingress-nginx",
            labels={
                "app.kubernetes.io/name": "ingress-nginx",
                "app.kubernetes.io/component": "controller",
            },
        ),
        pod_ips=("10.3.0.2",),
    )
    m3 = build_model([*objs(), nginx])
    (found,) = ingress_controller_endpoints(m3)
    assert isinstance(found, PodEndpoint) and found.pod.name == "ingress-nginx-controller-1"


def test_with_kube_dns_adds_derived_objects_once() -> None:
    m = model()
    assert not has_kube_dns(m)
    m2 = with_kube_dns(m)
    svc = m2.service("kube-system", "kube-dns")
    assert svc is not None and svc.meta.derived
    assert {(p.port, p.protocol, p.name) for p in svc.ports} == {
        (53, "UDP", "dns"),
        (53, "TCP", "dns-tcp"),
    }
    (dns_pod,) = m2.pods_matching("kube-system", {"k8s-app": "kube-dns"})
    assert dns_pod.meta.derived and m2.namespaces["kube-system"].meta.derived
    assert len(m2.pods) == len(m.pods) + 1
    assert with_kube_dns(m2) is m2  # idempotent
    # An existing kube-dns service is kept as it is.
    real = Service(
        meta=Meta(name="kube-dns", namespace="kube-system"), selector={"k8s-app": "kube-dns"}
    )
    m3 = build_model([*objs(), real])
    assert with_kube_dns(m3) is m3

"""``trace`` to a host outside the cluster cites the real destination and the source's node.

An IP is checked as given. For a name whose address the input does not hold, the egress
verdict is worked out for every address the source's policies tell apart (each ipBlock
edge, public and private samples): the hop says the address is not known, never cites a
stand-in address, and is ``unknown`` when the answer depends on the address. The node hop
names the node the traffic leaves through, or says the node is not known.
Fixtures: the owner-chained kube-system of ``make_fixtures.system`` plus a Deployment.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from fixture_builders import network_policy
from make_fixtures import app, system
from owner_chain import complete

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Layer, Verdict
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace
from netsleuth.trace.result import Hop, TraceResult

Obj = dict[str, Any]
DNS_ALLOW = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def _model(tmp_path: Path, *policies: Obj, pods: bool = True) -> ClusterModel:
    objs = system() + app("web", "shop", on_nodes=(0, 0), nodes=False)
    if not pods:
        objs = [
            o
            for o in objs
            if not (o["kind"] in ("Pod", "ReplicaSet") and o["metadata"]["namespace"] == "shop")
        ]
    objs += list(policies)
    (tmp_path / "cluster.yaml").write_text(
        yaml.safe_dump(
            {"apiVersion": "v1", "kind": "List", "items": complete(objs) if pods else objs}
        )
    )
    return load_offline([str(tmp_path)])


def _hop(res: TraceResult, layer: Layer) -> Hop:
    return next(h for h in res.hops if h.layer is layer)


def _egress(name: str, *rules: Obj) -> Obj:
    return network_policy(name, "shop", {}, egress=list(rules), policy_types=["Egress"])


def test_not_isolated_any_address(tmp_path: Path) -> None:
    res = trace(_model(tmp_path), "shop/web", "api.stripe.com", port=443)
    hop = _hop(res, Layer.POLICY_EGRESS)
    assert hop.status is Verdict.OK
    assert "api.stripe.com:443 (its address is not in the input)" in hop.summary
    assert "203.0.113" not in hop.summary
    node = _hop(res, Layer.NODE)
    assert node.summary.startswith("leaves through node node-a")


def test_public_allowed_private_denied_says_so(tmp_path: Path) -> None:
    public = {
        "to": [
            {
                "ipBlock": {
                    "cidr": "0.0.0.0/0",
                    "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
                }
            }
        ]
    }
    res = trace(
        _model(tmp_path, _egress("egress", DNS_ALLOW, public)),
        "shop/web",
        "api.stripe.com",
        port=443,
    )
    hop = _hop(res, Layer.POLICY_EGRESS)
    assert hop.status is Verdict.OK and "any public address" in hop.summary
    assert "private address" in hop.summary and "denied" in hop.summary
    assert "10.0.0.0/8" in hop.summary


def test_answer_depending_on_the_address_is_unknown(tmp_path: Path) -> None:
    one = {"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}
    res = trace(
        _model(tmp_path, _egress("egress", DNS_ALLOW, one)), "shop/web", "api.stripe.com", port=443
    )
    hop = _hop(res, Layer.POLICY_EGRESS)
    assert hop.status is Verdict.UNKNOWN
    assert "depends on the address it resolves to" in hop.summary
    assert "allowed to 198.51.100.0/24" in hop.summary  # the range, not a sample address
    assert "every other public address" in hop.summary and "192.0.2" not in hop.summary


def test_no_ipblock_denies_every_address(tmp_path: Path) -> None:
    res = trace(
        _model(tmp_path, _egress("egress", DNS_ALLOW)), "shop/web", "api.stripe.com", port=443
    )
    hop = _hop(res, Layer.POLICY_EGRESS)
    assert hop.status is Verdict.BROKEN and "no ipBlock" in hop.summary
    assert hop.change is not None and hop.change.ref() == "NetworkPolicy/shop/egress"


def test_an_ip_is_checked_as_given(tmp_path: Path) -> None:
    one = {"to": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}
    model = _model(tmp_path, _egress("egress", DNS_ALLOW, one))
    ok = _hop(trace(model, "shop/web", "198.51.100.7", port=443), Layer.POLICY_EGRESS)
    assert ok.status is Verdict.OK and "198.51.100.7:443" in ok.summary
    denied = _hop(trace(model, "shop/web", "192.0.2.7", port=443), Layer.POLICY_EGRESS)
    assert denied.status is Verdict.BROKEN and "192.0.2.7:443" in denied.summary


def test_source_node_not_known(tmp_path: Path) -> None:
    # manifests only: the pod stands for the Deployment's template, with no node
    res = trace(_model(tmp_path, pods=False), "shop/web", "api.stripe.com", port=443)
    node = _hop(res, Layer.NODE)
    assert "node ?" not in node.summary
    assert "is not known" in node.summary and "shop/" in node.summary


def test_too_many_ranges_to_sample_is_unknown(tmp_path: Path) -> None:
    # 120 separate blocks cut the address space into more than 256 ranges
    blocks = [{"ipBlock": {"cidr": f"11.{2 * i}.0.0/16"}} for i in range(120)]
    res = trace(
        _model(tmp_path, _egress("egress", DNS_ALLOW, {"to": blocks})),
        "shop/web",
        "api.stripe.com",
        port=443,
    )
    hop = _hop(res, Layer.POLICY_EGRESS)
    assert hop.status is Verdict.UNKNOWN and "trace the address it resolves to" in hop.summary


def _lb_model(tmp_path: Path, *policies: Obj) -> ClusterModel:
    """web behind a LoadBalancer Service (owner-chained, with its EndpointSlice)."""
    objs = system() + app("web", "shop", on_nodes=(0, 1), nodes=False)
    svc = next(o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "web")
    svc["spec"]["type"] = "LoadBalancer"
    for p in svc["spec"]["ports"]:
        p["nodePort"] = 31080
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.20"}]}}
    (tmp_path / "cluster.yaml").write_text(
        yaml.safe_dump(
            {"apiVersion": "v1", "kind": "List", "items": complete(objs + list(policies))}
        )
    )
    return load_offline([str(tmp_path)])


def _ingress(*rules: Obj) -> Obj:
    return network_policy("ingress", "shop", {}, ingress=list(rules), policy_types=["Ingress"])


def test_from_outside_names_no_stand_in(tmp_path: Path) -> None:
    res = trace(_lb_model(tmp_path), "external", "shop/web", port=80)
    hop = _hop(res, Layer.POLICY_INGRESS)
    assert hop.status is Verdict.OK and "outside (any address)" in hop.summary
    assert "203.0.113" not in hop.summary and "192.0.2" not in hop.summary


def test_from_outside_depending_on_the_client_is_unknown(tmp_path: Path) -> None:
    office = {"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}
    res = trace(_lb_model(tmp_path, _ingress(office)), "external", "shop/web", port=80)
    hop = _hop(res, Layer.POLICY_INGRESS)
    assert hop.status is Verdict.UNKNOWN
    assert "allowed from 198.51.100.0/24" in hop.summary
    assert "denied from every other public address" in hop.summary
    assert "203.0.113" not in hop.summary and "192.0.2" not in hop.summary


def test_from_outside_denied_for_every_address(tmp_path: Path) -> None:
    pods_only = {"from": [{"podSelector": {}}]}
    res = trace(_lb_model(tmp_path, _ingress(pods_only)), "external", "shop/web", port=80)
    hop = _hop(res, Layer.POLICY_INGRESS)
    assert hop.status is Verdict.BROKEN and "outside (any address)" in hop.summary
    assert "an external address is not a pod" in " ".join(hop.detail)

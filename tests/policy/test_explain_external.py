"""``explain`` with 'external' and no address: the answer for every public address, or the
ranges where it differs; never a stand-in address.

The policies selecting the pod on the other side cut the address space at the edges of the
CIDRs they name; one member of each range is evaluated and only the ranges are printed.
Fixtures: the owner-chained kube-system of ``make_fixtures.system`` plus a Deployment
(Deployment -> ReplicaSet -> Pods, Service, EndpointSlice), as ``kubectl get -A -o yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from fixture_builders import network_policy
from make_fixtures import app, system
from owner_chain import complete

from netsleuth.errors import QueryError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.ports import parse_port
from netsleuth.policy.explain import ExplainReport, build_report
from netsleuth.policy.external import address_classes
from netsleuth.render.console import capture_console
from netsleuth.render.explain_json import explain_document
from netsleuth.render.explain_table import render_explain
from netsleuth.sources.load import load_offline

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
# Addresses the tool must never make up (the old stand-in, the evaluation member).
STAND_INS = ("203.0.113", "192.0.2.1")


def _model(tmp_path: Path, *policies: Obj) -> ClusterModel:
    objs = system() + app("web", "shop", on_nodes=(0, 1), nodes=False) + list(policies)
    (tmp_path / "cluster.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": complete(objs)})
    )
    return load_offline([str(tmp_path)])


def _out(rep: ExplainReport) -> str:
    """Everything a user sees: the table and the JSON document."""
    console, buf = capture_console(200)
    render_explain(rep, console)
    return buf.getvalue() + orjson.dumps(explain_document(rep, [])).decode()


def _egress(*rules: Obj) -> Obj:
    return network_policy("egress", "shop", {}, egress=list(rules), policy_types=["Egress"])


def _ingress(*rules: Obj) -> Obj:
    return network_policy("ingress", "shop", {}, ingress=list(rules), policy_types=["Ingress"])


def test_no_policy_any_address(tmp_path: Path) -> None:
    rep = build_report(_model(tmp_path), "external", "shop/web", port=parse_port("tcp/8080"))
    assert rep.verdict == "allowed"
    out = _out(rep)
    assert "any address outside the cluster" in out and "an external address" in out
    assert not any(s in out for s in STAND_INS)
    doc = explain_document(rep, [])
    assert doc["src"] == {"kind": "external", "ip": None, "label": "an external address"}


def test_egress_without_ipblock_denies_every_address(tmp_path: Path) -> None:
    model = _model(tmp_path, _egress(DNS_ALLOW))
    rep = build_report(model, "shop/web", "external", port=parse_port("tcp/443"))
    assert rep.verdict == "denied"
    out = _out(rep)
    assert "names an address range" in out  # no ipBlock: every address is denied
    assert "NetworkPolicy" in out or "netpol shop/egress" in out
    assert not any(s in out for s in STAND_INS)


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
    rep = build_report(
        _model(tmp_path, _egress(DNS_ALLOW, public)),
        "shop/web",
        "external",
        port=parse_port("tcp/443"),
    )
    assert rep.verdict == "allowed"
    out = _out(rep)
    assert "any public address" in out
    assert "private addresses in 10.0.0.0/8" in out and "denied" in out
    assert not any(s in out for s in STAND_INS)


def test_ingress_answer_depending_on_the_address_is_unknown(tmp_path: Path) -> None:
    office = {"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}
    rep = build_report(
        _model(tmp_path, _ingress(office)), "external", "shop/web", port=parse_port("tcp/8080")
    )
    assert rep.verdict == "unknown" and rep.undetermined
    out = _out(rep)
    assert "allowed for 198.51.100.0/24" in out
    assert "denied for every other public address" in out
    assert "--external-ip" in out
    assert not any(s in out for s in STAND_INS)
    doc = explain_document(rep, [])
    assert doc["allowed"] is None and doc["verdict"] == "unknown"
    public = {g["answer"]: g["ranges"] for g in doc["external"]["public"]}
    assert public["allowed"] == ["198.51.100.0/24"]


def test_every_port_depending_on_the_address(tmp_path: Path) -> None:
    office = {"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}], "ports": [{"port": 8080}]}
    rep = build_report(_model(tmp_path, _ingress(office)), "external", "shop/web")
    assert rep.verdict == "unknown"
    out = _out(rep)
    assert "TCP 8080" in out and "198.51.100.0/24" in out
    assert not any(s in out for s in STAND_INS)


def test_an_address_given_is_used(tmp_path: Path) -> None:
    office = {"from": [{"ipBlock": {"cidr": "198.51.100.0/24"}}]}
    model = _model(tmp_path, _ingress(office))
    rep = build_report(
        model, "external", "shop/web", port=parse_port("tcp/8080"), external_ip="198.51.100.7"
    )
    assert rep.verdict == "allowed"
    assert any("198.51.100.7 (--external-ip)" in n for n in rep.notes)
    rep = build_report(model, "198.51.100.7", "shop/web", port=parse_port("tcp/8080"))
    assert rep.verdict == "allowed"


def test_both_sides_external_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="one side must be a pod"):
        build_report(_model(tmp_path), "external", "external")


def test_too_many_ranges_is_unknown(tmp_path: Path) -> None:
    blocks = [{"ipBlock": {"cidr": f"11.{i}.0.0/16"}} for i in range(200)]
    rep = build_report(
        _model(tmp_path, _egress(DNS_ALLOW, {"to": blocks})),
        "shop/web",
        "external",
        port=parse_port("tcp/443"),
    )
    assert rep.verdict == "unknown" and "give the address" in rep.undetermined
    assert not any(s in _out(rep) for s in STAND_INS)


def test_classes_split_public_and_private() -> None:
    classes, cut = address_classes(["198.51.100.0/24"])
    assert not cut
    covering = [c for c in classes if c.lo <= int.from_bytes(bytes([10, 1, 2, 3])) <= c.hi]
    assert len(covering) == 1 and covering[0].private
    inside = [c for c in classes if c.sample == "198.51.100.0"]
    assert inside and not inside[0].private and inside[0].hi - inside[0].lo == 255

"""Hop status and verdict semantics (README, "trace"):

- the verdict comes from the path's own hops: broken > warning > unknown > ok;
- ``not-checked`` (data absent) never changes it and is listed with the command
  that collects the data; a path with nothing verified is ``unknown``;
- something unverified is never ``ok``;
- cluster-wide risks (CoreDNS sizing, no cache) are notes, not hop statuses.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from netsleuth.model.findings import Layer, Verdict
from netsleuth.render.console import capture_console
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.trace_json import trace_document
from netsleuth.render.trace_table import render_trace
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace
from netsleuth.trace.result import Hop, TraceQuery, TraceResult

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
QUERY = TraceQuery(
    src="a", dst="b", port=80, protocol="TCP", src_resolved="a", dst_resolved="b", path="x"
)


def _result(*statuses: Verdict) -> TraceResult:
    hops = tuple(Hop(layer=Layer.DNS, status=s, summary=str(s)) for s in statuses)
    return TraceResult(query=QUERY, hops=hops)


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        ((Verdict.OK, Verdict.BROKEN, Verdict.WARNING, Verdict.UNKNOWN), Verdict.BROKEN),
        # a real warning is not hidden behind an unknown elsewhere on the path
        ((Verdict.OK, Verdict.UNKNOWN, Verdict.WARNING), Verdict.WARNING),
        ((Verdict.OK, Verdict.UNKNOWN), Verdict.UNKNOWN),
        # absent data never changes the verdict...
        ((Verdict.OK, Verdict.NOT_CHECKED, Verdict.SKIPPED), Verdict.OK),
        ((Verdict.WARNING, Verdict.NOT_CHECKED), Verdict.WARNING),
        # ...but a path on which nothing was verified is not ok
        ((Verdict.NOT_CHECKED, Verdict.SKIPPED), Verdict.UNKNOWN),
        ((), Verdict.UNKNOWN),
    ],
)
def test_verdict_order(statuses: tuple[Verdict, ...], verdict: Verdict) -> None:
    assert _result(*statuses).verdict is verdict


@pytest.fixture(scope="module")
def no_node_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """healthy-cross-node as a user without node access would dump it: no nodes/ folder."""
    d = tmp_path_factory.mktemp("healthy-no-nodes")
    shutil.copy(SCENARIOS / "healthy-cross-node" / "cluster.yaml", d / "cluster.yaml")
    return d


def test_healthy_path_without_node_files_is_ok_with_a_not_checked_list(
    no_node_files: Path,
) -> None:
    model = load_offline([str(no_node_files)])
    result = trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    assert result.verdict is Verdict.OK
    missing = {str(h.layer): h for h in result.not_checked}
    assert set(missing) == {"kube-proxy", "mtu", "conntrack"}
    for hop in missing.values():
        assert hop.confirm, f"{hop.layer}: a not-checked hop names the command that collects it"
    assert "ip -d link show" in str(missing["mtu"].confirm[0])
    assert "nf_conntrack_count" in str(missing["conntrack"].confirm[0])

    console, buf = capture_console(120)
    render_trace(result, console)
    text = buf.getvalue()
    assert "Verdict: ok" in text
    assert "not checked: mtu — no node link data (ip -d link) for worker-1, worker-2" in text

    doc = json.loads(dumps_json(trace_document(result, [])))
    assert doc["verdict"] == "ok"
    assert [n["layer"] for n in doc["not_checked"]] == ["kube-proxy", "mtu", "conntrack"]
    assert all(n["collect"] for n in doc["not_checked"])


@pytest.mark.parametrize(
    ("scenario", "src", "dst", "port"),
    [
        ("healthy-cross-node", "checkout/checkout-web", "payments/payments-api", 8080),
        ("healthy-same-node", "shop/storefront", "shop/cart", 80),
        ("healthy-ingress", "external", "https://shop.example.com/", None),
    ],
)
def test_the_healthy_scenarios_trace_ok(
    scenario: str, src: str, dst: str, port: int | None
) -> None:
    result = trace(load_offline([str(SCENARIOS / scenario)]), src, dst, port=port)
    assert result.verdict is Verdict.OK, [(str(h.layer), str(h.status)) for h in result.hops]


def test_coredns_sizing_is_a_note_not_a_hop() -> None:
    """CoreDNS limits and a Corefile without cache are risks for every path; the restarts
    they cause are what this path sees (a warning on its DNS hop)."""
    model = load_offline([str(SCENARIOS / "coredns-cpu-throttled")])
    result = trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    assert result.verdict is Verdict.WARNING
    risky = " ".join(r.summary for r in result.risks)
    assert "CPU limit 100m" in risky and "cache" in risky
    # 128Mi is above the scaling guide's estimate (54 MB) and no pod was OOMKilled: no risk.
    assert "memory limit" not in risky
    for hop in result.hops:
        assert "CPU limit" not in hop.summary and "memory limit" not in hop.summary
    warnings = [h for h in result.hops if h.status is Verdict.WARNING]
    assert [str(h.layer) for h in warnings] == ["dns"]
    assert "restarting" in warnings[0].summary


UNDECLARED_PORT = """\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {kubernetes.io/metadata.name: shop}}}
- apiVersion: v1
  kind: Service
  metadata: {name: api, namespace: shop}
  spec: {clusterIP: 10.96.20.20, selector: {app: api}, ports: [{port: 80, targetPort: 9090, protocol: TCP}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: api-1, namespace: shop, labels: {app: api}}
  spec: {nodeName: n1, containers: [{name: api, image: api:1}]}
  status:
    phase: Running
    podIP: 10.244.1.20
    conditions: [{type: Ready, status: "True"}]
- apiVersion: v1
  kind: Pod
  metadata: {name: web-1, namespace: shop, labels: {app: web}}
  spec: {nodeName: n1, containers: [{name: web, image: web:1}]}
  status:
    phase: Running
    podIP: 10.244.1.21
    conditions: [{type: Ready, status: "True"}]
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata: {name: api-x1, namespace: shop, labels: {kubernetes.io/service-name: api}}
  addressType: IPv4
  endpoints:
  - addresses: [10.244.1.20]
    conditions: {ready: true}
    targetRef: {kind: Pod, name: api-1, namespace: shop}
  ports: [{port: 9090, protocol: TCP}]
"""


def test_an_unverified_target_port_is_not_ok(tmp_path: Path) -> None:
    """A numeric targetPort the pods do not declare is legal; only the app knows whether
    it listens there, so the hop is not-checked, not ok."""
    (tmp_path / "c.yaml").write_text(UNDECLARED_PORT)
    model = load_offline([str(tmp_path)])
    result = trace(model, "shop/web-1", "shop/api", port=80)
    hop = next(h for h in result.hops if h.layer is Layer.TARGET_PORT)
    assert hop.status is Verdict.NOT_CHECKED
    assert hop.confirm  # the command that shows what the pod listens on

"""``TraceResult.nodes``: the nodes a traced path goes through (``collect --path`` reads them)."""

from __future__ import annotations

from pathlib import Path

from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_pod_to_service_names_the_source_and_the_followed_backend() -> None:
    model = load_offline([str(SCENARIOS / "healthy-cross-node")])
    result = trace(model, "checkout/checkout-web", "payments/payments-api")
    assert result.query.path == "pod-to-service"
    assert result.nodes == ("worker-1", "worker-2")


def test_ingress_names_the_controller_pod_node_first() -> None:
    model = load_offline([str(SCENARIOS / "healthy-ingress")])
    result = trace(model, "external", "https://shop.example.com/")
    ctrl = next(h for h in result.hops if h.layer.value == "node")
    assert result.nodes[0] == "worker-2"  # ingress-nginx-controller-…-hrzq9 runs there
    assert set(result.nodes) == {"worker-1", "worker-2"}
    assert "worker-2" in ctrl.summary


def test_a_path_broken_before_its_backends_names_only_the_source() -> None:
    model = load_offline([str(SCENARIOS / "label-drift")])
    result = trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    src = model.pods_by_namespace["checkout"][0]
    assert result.verdict.value == "broken"
    assert result.nodes == (src.node_name,)

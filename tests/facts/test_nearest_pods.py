"""Label drift: SVC201 and the trace's service hop name the same nearest pod."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.service_backends import label_differences, nearest_pods, selector_near_miss
from netsleuth.model.findings import Layer, Verdict
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "label-drift"


def _pod(name: str, labels: dict[str, str]) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "payments", "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running"},
    }


def test_scan_and_trace_name_the_same_drifted_pod(tmp_path: Path) -> None:
    doc = yaml.load((SCENARIO / "cluster.yaml").read_text(), Loader=yaml.CSafeLoader)
    svc = next(
        i
        for i in doc["items"]
        if i["kind"] == "Service" and i["metadata"]["name"] == "payments-api"
    )
    selector = {"app": "payments-api", "app.kubernetes.io/part-of": "payments", "tier": "api"}
    svc["spec"]["selector"] = selector
    # Same score (2.0): the decoy has two right keys with wrong values, the drifted pod
    # two right labels and no tier. The one with fewer differences is the nearest, and
    # the decoy comes first in input order.
    decoy = {"app": "payments-api", "app.kubernetes.io/part-of": "billing", "tier": "web"}
    drifted = {"app": "payments-api", "app.kubernetes.io/part-of": "payments"}
    doc["items"][:0] = [_pod("decoy", decoy), _pod("drifted", drifted)]
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    model = load_offline([str(tmp_path)])

    near = nearest_pods(model, "payments", selector)
    assert [p.name for p in near] == ["drifted"]
    assert label_differences(near[0], selector) == ["tier"]

    scan = run_checks(model, list(load_all().values()))
    svc201 = [f for f in scan.findings if f.rule_id == "SVC201"]
    assert len(svc201) == 1
    scan_pods = {e.object for e in svc201[0].evidence if e.object.startswith("Pod/")}

    result = trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    hop = next(h for h in result.hops if h.layer is Layer.SERVICE and h.status is Verdict.BROKEN)
    trace_pods = {e.object for e in hop.evidence if e.object.startswith("Pod/")}
    assert scan_pods == trace_pods == {"Pod/payments/drifted"}


def _drift(tmp_path: Path, selector: dict[str, str], pods: list[tuple[str, dict[str, str]]]) -> Any:
    doc = yaml.load((SCENARIO / "cluster.yaml").read_text(), Loader=yaml.CSafeLoader)
    svc = next(
        i
        for i in doc["items"]
        if i["kind"] == "Service" and i["metadata"]["name"] == "payments-api"
    )
    svc["spec"]["selector"] = selector
    doc["items"][:0] = [_pod(name, labels) for name, labels in pods]
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    return load_offline([str(tmp_path)])


def _named(model: Any) -> tuple[set[str], set[str], str]:
    scan = run_checks(model, [load_all()["SVC201"]])
    (svc201,) = [f for f in scan.findings if f.subject.ref() == "Service/payments/payments-api"]
    scan_pods = {e.object for e in svc201.evidence if e.object.startswith("Pod/")}
    result = trace(model, "checkout/checkout-web", "payments/payments-api", port=8080)
    hop = next(h for h in result.hops if h.layer is Layer.SERVICE and h.status is Verdict.BROKEN)
    trace_pods = {e.object for e in hop.evidence if e.object.startswith("Pod/")}
    return scan_pods, trace_pods, svc201.message


def test_one_difference_each_the_nearer_value_wins_in_both(tmp_path: Path) -> None:
    """Two pods one label away: ``app-only`` lacks tier, ``wrong-tier`` has tier=web (the
    key right, the value wrong: nearer). SVC201's own list named the first in input
    order (``app-only``) while the trace named ``wrong-tier``; one fact now."""
    selector = {"app": "payments-api", "tier": "api"}
    model = _drift(
        tmp_path,
        selector,
        [
            ("app-only", {"app": "payments-api"}),
            ("wrong-tier", {"app": "payments-api", "tier": "web"}),
        ],
    )
    near = selector_near_miss(model, "payments", selector)
    assert near is not None and near.pod.name == "wrong-tier"
    assert near.differences == (("tier", "api", "web"),)
    scan_pods, trace_pods, message = _named(model)
    assert scan_pods == trace_pods == {"Pod/payments/wrong-tier"}
    assert message.endswith("; pod wrong-tier differs only in tier=web.")


def test_two_differences_are_named_by_both(tmp_path: Path) -> None:
    """The nearest pod differs in two labels: SVC201 named no pod before (only exactly one
    difference counted); now it names the pod the trace names, with both differences."""
    selector = {"app": "payments-api", "tier": "api", "track": "stable"}
    model = _drift(tmp_path, selector, [("renamed", {"app": "payments-api", "tier": "backend"})])
    scan_pods, trace_pods, message = _named(model)
    assert scan_pods == trace_pods == {"Pod/payments/renamed"}
    assert message.endswith("; the nearest pod, renamed, has tier=backend, track missing.")

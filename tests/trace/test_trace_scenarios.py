"""Every scenario cluster with a trace query: the verdict, the first broken
layer and the culprit object must match the scenario's ``scenario.yaml``
(written from what an experienced SRE would call the cause), and the
rendered trace must match its golden file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.model.findings import Verdict
from netsleuth.render.console import capture_console
from netsleuth.render.trace_json import trace_document
from netsleuth.render.trace_table import render_trace
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _cases() -> list[Any]:
    out = []
    for spec_file in sorted(SCENARIOS.glob("*/scenario.yaml")):
        spec = yaml.safe_load(spec_file.read_text()) or {}
        t = spec.get("trace")
        if not isinstance(t, dict):
            continue
        queries = t if isinstance(t, list) else [t]
        for n, q in enumerate(queries):
            out.append(
                pytest.param(
                    spec_file.parent,
                    q,
                    spec.get("expected") or {},
                    id=f"{spec_file.parent.name}-{n}",
                )
            )
    return out


CASES = _cases()


@pytest.mark.skipif(not CASES, reason="no scenario with a trace query in tests/scenarios")
@pytest.mark.parametrize(("folder", "query", "expected"), CASES)
def test_scenario_trace(
    folder: Path, query: dict[str, Any], expected: dict[str, Any], golden: Any
) -> None:
    model = load_offline([str(folder)])
    result = trace(
        model,
        str(query["src"]),
        str(query["dst"]),
        port=query.get("port"),
        protocol=str(query.get("protocol", "TCP")),
    )
    want = str(expected.get("verdict", "ok"))
    assert str(result.verdict) == want, _explain(result)
    if want in ("broken", "warning"):
        status = Verdict.BROKEN if want == "broken" else Verdict.WARNING
        flagged = [h for h in result.hops if h.status is status]
        assert flagged, _explain(result)
        layers = {str(h.layer) for h in flagged}
        assert str(expected["broken_layer"]) in layers, _explain(result)
        # Every broken or degraded hop names the object a person changes.
        for h in result.hops:
            if h.status in (Verdict.BROKEN, Verdict.WARNING):
                assert h.change is not None, (
                    f"{h.layer} names no object to change\n{_explain(result)}"
                )
        culprit = expected.get("culprit")
        if culprit:
            # Named first: the first flagged hop's object to change is the culprit (a symptom hop
            # names its root cause's object), not merely somewhere in the evidence.
            first = flagged[0]
            assert first.change is not None and first.change.ref() == culprit, (
                f"first {want} hop names {first.change.ref() if first.change else None}, "
                f"expected {culprit}\n{_explain(result)}"
            )
    console, buf = capture_console(120)
    render_trace(result, console)
    golden(f"trace/{folder.name}.txt", buf.getvalue())
    doc = trace_document(result, [])
    golden(f"trace/{folder.name}.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")


def _explain(result: Any) -> str:
    return "\n".join(
        f"{h.layer} {h.status}: {h.summary} [change: {h.change.ref() if h.change else None}]"
        for h in result.hops
    )

"""``trace -o json``: the documented shape."""

from __future__ import annotations

from typing import Any

from netsleuth.render.jsonout import dumps_json, problems_json
from netsleuth.render.output import Output
from netsleuth.trace.result import Hop, TraceResult


def hop_json(hop: Hop) -> dict[str, Any]:
    return {
        "layer": str(hop.layer),
        "status": str(hop.status),
        "summary": hop.summary,
        "evidence": [
            {"object": e.object, "field": e.field, "value": e.value} for e in hop.evidence
        ],
        "confirm": [str(c) for c in hop.confirm],
        "fix": None
        if hop.fix is None
        else "\n".join(
            str(part)
            for part in (hop.fix.text, hop.fix.command, hop.fix.snippet)
            if part is not None
        ),
        "root_cause": hop.root_cause,
        "change": None
        if hop.change is None
        else {
            "kind": hop.change.kind,
            "namespace": hop.change.namespace,
            "name": hop.change.name,
            "field": hop.change_field or None,
        },
        "detail": list(hop.detail),
    }


def trace_document(result: TraceResult, problems: list[dict[str, Any]]) -> dict[str, Any]:
    q = result.query
    return {
        "query": {
            "src": q.src,
            "dst": q.dst,
            "port": q.port,
            "protocol": q.protocol,
            "src_resolved": q.src_resolved,
            "dst_resolved": q.dst_resolved,
            "path": q.path,
            "notes": list(q.notes),
        },
        "verdict": str(result.verdict),
        "hops": [hop_json(h) for h in result.hops],
        "not_checked": [
            {
                "layer": str(h.layer),
                "missing": h.summary,
                "collect": [str(c) for c in h.confirm],
            }
            for h in result.not_checked
        ],
        "notes": [
            {
                "layer": str(r.layer),
                "summary": r.summary,
                "evidence": [
                    {"object": e.object, "field": e.field, "value": e.value} for e in r.evidence
                ],
                "fix": None if r.fix is None else r.fix.text,
            }
            for r in result.risks
        ],
        "problems": problems,
    }


def trace_json(result: TraceResult, out: Output) -> None:
    """``trace -o json``."""
    out.write(dumps_json(trace_document(result, problems_json(result.problems))))

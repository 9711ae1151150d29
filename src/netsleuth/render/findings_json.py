"""Scan results as JSON: ``{"findings": [...], "skipped": [...], "problems": [...]}``.

One finding::

    {"rule_id": "SVC201", "layer": "endpoints", "severity": "error",
     "confidence": "observed",
     "subject": {"kind": "Service", "namespace": "shop", "name": "cart"},
     "message": "...",
     "evidence": [{"object": "Service/shop/cart", "field": "spec.selector", "value": "app=cart"}],
     "confirm": ["kubectl get endpointslices -n shop -l kubernetes.io/service-name=cart"],
     "fix": {"text": "...", "command": "kubectl ...", "snippet": null},
     "file": "cluster.yaml", "line": 12}

``confirm`` and ``fix.command`` are shell-quoted command lines (paste-safe);
``fix.snippet`` is YAML to merge into the manifest. ``fix`` is ``null`` when there is none; ``file``/``line`` are ``null`` for live input.
Checks that raised are listed under ``skipped`` with a ``check failed:`` reason.
``inconclusive`` lists checks that apply to an object but cannot decide from the input
(``{"rule_id", "subject", "reason", "confirm"}``): an absence that proves nothing because the
kind was not listed across namespaces, for example.
"""

from __future__ import annotations

from collections.abc import Iterable

from netsleuth.checks.base import ScanResult
from netsleuth.checks.scan import ScanReport
from netsleuth.model.findings import Finding
from netsleuth.render.jsonout import dumps_json, problems_json
from netsleuth.render.output import Output


def finding_json(f: Finding) -> dict[str, object]:
    return {
        "rule_id": f.rule_id,
        "layer": str(f.layer),
        "severity": str(f.severity),
        "confidence": str(f.confidence),
        "subject": {
            "kind": f.subject.kind,
            "namespace": f.subject.namespace,
            "name": f.subject.name,
        },
        "message": f.message,
        "evidence": [{"object": e.object, "field": e.field, "value": e.value} for e in f.evidence],
        "confirm": [str(c) for c in f.confirm],
        "fix": None
        if f.fix is None
        else {
            "text": f.fix.text,
            "command": None if f.fix.command is None else str(f.fix.command),
            "snippet": None if f.fix.snippet is None else str(f.fix.snippet),
        },
        "file": f.origin_file,
        "line": f.origin_line,
    }


def findings_document(
    result: ScanResult, findings: Iterable[Finding], problems: list[dict[str, object]]
) -> dict[str, object]:
    """The JSON document; ``findings`` is the filtered list to print (scope, min severity)."""
    skipped = [
        {"check_id": s.check_id, "reason": s.reason} for s in (*result.skipped, *result.errors)
    ]
    return {
        "findings": [finding_json(f) for f in findings],
        "inconclusive": [
            {
                "rule_id": i.rule_id,
                "subject": {
                    "kind": i.subject.kind,
                    "namespace": i.subject.namespace,
                    "name": i.subject.name,
                },
                "reason": i.reason,
                "confirm": [str(c) for c in i.confirm],
            }
            for i in result.inconclusive
        ],
        "skipped": skipped,
        "problems": problems,
    }


def scan_json(report: ScanReport, out: Output) -> None:
    """``scan -o json``."""
    doc = findings_document(report.result, report.findings, problems_json(report.problems))
    if report.empty_input:
        doc["empty_input"] = True
    out.write(dumps_json(doc))

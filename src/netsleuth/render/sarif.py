"""Scan results as SARIF 2.1.0, for code scanning of manifests in CI.

Rules come from the check registry (every registered check, whether or not
it fired), with ``help.markdown`` built from the check's docstring and
``helpUri`` pointing at its generated page ``<docs_base_uri><ID>.md`` when a
base URL for the published ``docs/checks/`` is given (SARIF requires an
absolute URI there, so without one the field is left out; the help text
is in ``help.markdown`` either way). Results found in files point
at the manifest file and the line of the subject (``meta.origin``); live
results carry a logical location (``Kind/namespace/name``) instead.
Skipped checks become tool execution notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from netsleuth import __url__, __version__
from netsleuth.checks.base import Check, ScanResult
from netsleuth.checks.docs import check_markdown
from netsleuth.checks.scan import ScanReport
from netsleuth.model.findings import Finding, Severity
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.output import Output

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _rule(check: Check, docs_base_uri: str | None) -> dict[str, object]:
    what = check.section("What it checks") or check.summary
    rule: dict[str, object] = {
        "id": check.id,
        "name": "".join(part.capitalize() for part in check.name.split("_")),
        "shortDescription": {"text": check.summary},
        "fullDescription": {"text": what},
        "help": {"text": what, "markdown": check_markdown(check)},
        "defaultConfiguration": {"level": _LEVEL[check.severity]},
        "properties": {"tags": ["kubernetes", "networking", str(check.layer)]},
    }
    if docs_base_uri:
        rule["helpUri"] = f"{docs_base_uri.rstrip('/')}/{check.id}.md"
    return rule


def _result(f: Finding, index: dict[str, int]) -> dict[str, object]:
    location: dict[str, object] = {
        "logicalLocations": [{"fullyQualifiedName": f.subject.ref(), "kind": "object"}],
    }
    if f.origin_file:
        physical: dict[str, object] = {"artifactLocation": {"uri": f.origin_file}}
        if f.origin_line is not None and f.origin_line >= 1:
            physical["region"] = {"startLine": f.origin_line}
        location["physicalLocation"] = physical
    text = f.message
    if f.fix is not None:
        text += f" Fix: {f.fix.text}"
    out: dict[str, object] = {
        "ruleId": f.rule_id,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [location],
        "properties": {
            "layer": str(f.layer),
            "confidence": str(f.confidence),
            "subject": f.subject.ref(),
            "evidence": [
                {"object": e.object, "field": e.field, "value": e.value} for e in f.evidence
            ],
            "confirm": [str(c) for c in f.confirm],
        },
    }
    if f.rule_id in index:
        out["ruleIndex"] = index[f.rule_id]
    return out


def sarif_document(
    result: ScanResult,
    findings: Sequence[Finding],
    checks: Iterable[Check],
    *,
    docs_base_uri: str | None = None,
) -> dict[str, object]:
    rules = [_rule(c, docs_base_uri) for c in sorted(checks, key=lambda c: c.id)]
    index = {str(r["id"]): i for i, r in enumerate(rules)}
    notifications = [
        {
            "level": "error" if s in result.errors else "note",
            "message": {"text": f"{s.check_id} skipped: {s.reason}"},
            "descriptor": {"id": s.check_id},
        }
        for s in (*result.skipped, *result.errors)
    ] + [
        {
            "level": "note",
            "message": {"text": f"{i.rule_id} inconclusive for {i.subject.ref()}: {i.reason}"},
            "descriptor": {"id": i.rule_id},
        }
        for i in result.inconclusive
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "netsleuth",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": __url__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {"executionSuccessful": True, "toolExecutionNotifications": notifications}
                ],
                "results": [_result(f, index) for f in findings],
            }
        ],
    }


def scan_sarif(report: ScanReport, out: Output) -> None:
    """``scan -o sarif``."""
    doc = sarif_document(
        report.result, report.findings, report.checks, docs_base_uri=report.docs_base_uri
    )
    out.write(dumps_json(doc))

"""``netsleuth flows`` for the terminal: the counts, then the findings as ``scan`` prints them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console

from netsleuth.checks.base import Check, ScanResult
from netsleuth.flows import FlowSummary
from netsleuth.model.findings import Finding
from netsleuth.model.problems import LoadProblem
from netsleuth.render.console import plain
from netsleuth.render.findings_table import render_findings
from netsleuth.render.jsonout import dumps_json, problems_json
from netsleuth.render.output import Output


@dataclass(frozen=True, slots=True)
class FlowsReport:
    """What ``netsleuth flows`` renders: the summary and the flow checks' findings."""

    summary: FlowSummary
    result: ScanResult
    findings: tuple[Finding, ...]
    checks: tuple[Check, ...]
    problems: tuple[LoadProblem, ...]


def render_flows(
    summary: FlowSummary, result: ScanResult, findings: Sequence[Finding], console: Console
) -> None:
    c = summary.counts
    console.print(
        plain(
            f"{c.total:,} flows: {c.forwarded:,} forwarded, {c.dropped:,} dropped, "
            f"{c.redirected:,} redirected to the L7 proxy, {c.other:,} other"
        ),
        soft_wrap=True,
    )
    if summary.lost_events:
        console.print(
            plain(
                f"Hubble lost {summary.lost_events:,} events (lost_events): counts are a lower bound"
            ),
            soft_wrap=True,
        )
    for note in summary.notes:
        console.print(plain(f"note: {note}"), soft_wrap=True)
    if summary.problems:
        first = summary.problems[0]
        console.print(
            plain(
                f"{len(summary.problems)} unreadable line(s) skipped; first: "
                f"{first.origin.describe()}: {first.message}"
            ),
            soft_wrap=True,
        )
    console.print()
    render_findings(result, findings, console, show_skipped=False)


def flows_table(report: FlowsReport, out: Output) -> None:
    render_flows(report.summary, report.result, report.findings, out.console())


def flows_json(report: FlowsReport, out: Output) -> None:
    from netsleuth.render.findings_json import findings_document

    doc = findings_document(report.result, report.findings, problems_json(report.problems))
    doc["flows"] = report.summary.counts.as_dict()
    doc["lost_events"] = report.summary.lost_events
    doc["notes"] = list(report.summary.notes)
    out.write(dumps_json(doc))


def flows_sarif(report: FlowsReport, out: Output) -> None:
    from netsleuth.render.sarif import sarif_document

    out.write(dumps_json(sarif_document(report.result, report.findings, report.checks)))

"""``netsleuth flows`` for the terminal: the counts, then the findings as ``scan`` prints them."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from netsleuth.checks.base import ScanResult
from netsleuth.flows import FlowSummary
from netsleuth.model.findings import Finding
from netsleuth.render.console import plain
from netsleuth.render.findings_table import render_findings


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

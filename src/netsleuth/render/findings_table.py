"""Scan results as terminal tables, grouped by severity, then layer.

Each group is a table (check ID, subject, what is wrong with its evidence
and fix). A summary line and the skipped checks follow, so a reader sees
what was not looked at as clearly as what was found.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from rich.console import Console
from rich.table import Table
from rich.text import Text

from netsleuth.checks.base import ScanResult
from netsleuth.model.findings import Finding, Severity
from netsleuth.render.console import status_style

_HEADINGS = {Severity.ERROR: "Errors", Severity.WARNING: "Warnings", Severity.INFO: "Info"}


def _detail(f: Finding) -> Text:
    text = Text(f.message)
    for e in f.evidence:
        text.append(f"\n  {e.object} {e.field} = {e.value}", style="dim")
    if f.fix is not None:
        text.append("\n  Fix: ", style="bold")
        text.append(f.fix.text)
    for cmd in f.confirm[:2]:
        text.append("\n  $ ", style="dim")
        text.append(cmd, style="dim")
    return text


def render_findings(
    result: ScanResult, findings: Sequence[Finding], console: Console, *, show_skipped: bool = True
) -> None:
    """Print ``findings`` (already filtered and sorted by severity) and the run summary."""
    if not findings:
        console.print("No findings.")
    ordered = sorted(
        findings, key=lambda f: (-f.severity.rank, str(f.layer), f.rule_id, f.subject.ref())
    )
    for sev, by_sev in groupby(ordered, key=lambda f: f.severity):
        items = list(by_sev)
        console.print(Text(f"{_HEADINGS[sev]} ({len(items)})", style=status_style(str(sev))))
        for layer, by_layer in groupby(items, key=lambda f: f.layer):
            group = list(by_layer)
            table = Table(
                title=f"{layer} ({len(group)})", title_justify="left", show_lines=True, expand=True
            )
            table.add_column("Check", no_wrap=True)
            table.add_column("Subject", ratio=1, overflow="fold")
            table.add_column("Finding", ratio=3, overflow="fold")
            table.add_column("Conf.", no_wrap=True)
            for f in group:
                table.add_row(f.rule_id, f.subject.ref(), _detail(f), str(f.confidence))
            console.print(table)
        console.print()
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    summary = (
        f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: {counts[Severity.ERROR]} error, "
        f"{counts[Severity.WARNING]} warning, {counts[Severity.INFO]} info; "
        f"{len(result.checks_run)} checks run, {len(result.skipped)} skipped"
    )
    if result.errors:
        summary += f", {len(result.errors)} failed"
    console.print(summary)
    if show_skipped and (result.skipped or result.errors):
        console.print("Skipped checks:")
        for s in (*result.skipped, *result.errors):
            console.print(f"  {s.check_id}: {s.reason}")


def render_scan(result: ScanResult, model: object, console: Console) -> None:
    """Print every finding of ``result`` (no filtering) and the summary.

    ``model`` is accepted for callers that render a whole scan (``demo``);
    the findings carry everything the table prints.
    """
    render_findings(result, result.findings, console)

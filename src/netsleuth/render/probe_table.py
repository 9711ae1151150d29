"""``probe`` as a terminal report: one row per hop with what the packets did."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netsleuth.model.findings import Verdict
from netsleuth.probe.report import ProbeReport
from netsleuth.render.console import status_mark, status_style
from netsleuth.render.output import Output


def render_probe(report: ProbeReport, console: Console, *, verbose: bool = False) -> None:
    console.print(
        f"[bold]probe[/bold] {escape(report.src)} → {escape(report.dst)}  [dim]({escape(report.backend)})[/dim]"
    )
    for note in report.notes:
        console.print(f"  [dim]note: {escape(note)}[/dim]")
    table = Table(show_edge=False, show_header=True, pad_edge=False, expand=False)
    table.add_column("", width=1)
    table.add_column("Hop", no_wrap=True)
    table.add_column("Target")
    table.add_column("Status", no_wrap=True)
    table.add_column("Observed")
    for h in report.hops:
        st = str(h.verdict)
        table.add_row(
            status_mark(st),
            h.hop,
            escape(h.target),
            f"[{status_style(st)}]{st}[/]",
            escape(h.observed),
        )
    console.print(table)
    console.print()
    v = report.verdict
    console.print(f"[bold]Verdict:[/bold] [{status_style(str(v))}]{v}[/]")
    for h in report.hops:
        if (verbose or h.verdict in (Verdict.BROKEN, Verdict.WARNING)) and h.details:
            console.print()
            console.print(f"[bold]{escape(h.hop)}[/bold] {escape(h.target)}")
            for line in h.details:
                console.print(f"  {escape(line)}")
    if report.commands:
        console.print()
        console.print("[bold]Run by hand[/bold]")
        for c in report.commands:
            console.print(f"  $ {escape(c)}")


def probe_document(report: ProbeReport) -> dict[str, Any]:
    return {
        "src": report.src,
        "dst": report.dst,
        "backend": report.backend,
        "verdict": str(report.verdict),
        "hops": [
            {
                "hop": h.hop,
                "target": h.target,
                "verdict": str(h.verdict),
                "observed": h.observed,
                "details": list(h.details),
            }
            for h in report.hops
        ],
        "notes": list(report.notes),
        "commands": list(report.commands),
        "raw": report.raw,
    }


def probe_table(report: ProbeReport, out: Output) -> None:
    """``probe -o table`` (``-v``: every query and attempt)."""
    render_probe(report, out.console(), verbose=out.verbose)


def probe_json(report: ProbeReport, out: Output) -> None:
    from netsleuth.render.jsonout import dumps_json

    out.write(dumps_json(probe_document(report)))

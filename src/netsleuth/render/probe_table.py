"""``probe`` as a terminal report: one row per hop with what the packets did.

Every name and observation is printed as text (:func:`plain`, :func:`styled`),
never parsed as markup.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from netsleuth.model.findings import Verdict
from netsleuth.probe.report import ProbeReport
from netsleuth.render.console import plain, status_mark, status_style, styled
from netsleuth.render.output import Output


def render_probe(report: ProbeReport, console: Console, *, verbose: bool = False) -> None:
    console.print(
        styled(("probe", "bold"), f" {report.src} → {report.dst}  ", (f"({report.backend})", "dim"))
    )
    for note in report.notes:
        console.print(plain(f"  note: {note}", "dim"))
    table = Table(show_edge=False, show_header=True, pad_edge=False, expand=False)
    table.add_column("", width=1)
    table.add_column("Hop", no_wrap=True)
    table.add_column("Target")
    table.add_column("Status", no_wrap=True)
    table.add_column("Observed")
    for h in report.hops:
        st = str(h.verdict)
        table.add_row(
            plain(status_mark(st)),
            plain(h.hop),
            plain(h.target),
            plain(st, status_style(st)),
            plain(h.observed),
        )
    console.print(table)
    console.print()
    v = str(report.verdict)
    console.print(styled(("Verdict:", "bold"), " ", (v, status_style(v))))
    for h in report.hops:
        if (verbose or h.verdict in (Verdict.BROKEN, Verdict.WARNING)) and h.details:
            console.print()
            console.print(styled((h.hop, "bold"), f" {h.target}"))
            for line in h.details:
                console.print(plain(f"  {line}"))
    if report.commands:
        console.print()
        console.print(plain("Run by hand", "bold"))
        for c in report.commands:
            console.print(plain(f"  $ {c}"), soft_wrap=True)


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

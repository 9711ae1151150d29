"""``trace`` as a terminal report: one row per hop, then the broken hop explained."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netsleuth.model.findings import Verdict
from netsleuth.render.console import status_mark, status_style
from netsleuth.render.problems_table import render_problems
from netsleuth.trace.result import Hop, TraceResult


def render_trace(result: TraceResult, console: Console) -> None:
    q = result.query
    port = f":{q.port}" if q.port is not None else ""
    console.print(
        f"[bold]trace[/bold] {escape(q.src_resolved)} → {escape(q.dst_resolved)}{port}/{q.protocol}"
        f"  [dim]({q.path})[/dim]"
    )
    for note in q.notes:
        console.print(f"  [dim]note: {escape(note)}[/dim]")
    table = Table(show_edge=False, show_header=True, pad_edge=False, expand=False)
    table.add_column("", width=1)
    table.add_column("Hop", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("What we found")
    for hop in result.hops:
        st = str(hop.status)
        label = str(hop.layer) + (" (cause)" if hop.root_cause else "")
        table.add_row(status_mark(st), label, f"[{status_style(st)}]{st}[/]", escape(hop.summary))
    console.print(table)
    verdict = result.verdict
    console.print()
    console.print(f"[bold]Verdict:[/bold] [{status_style(str(verdict))}]{verdict}[/]")
    focus: list[Hop] = [h for h in result.hops if h.status is Verdict.BROKEN]
    if not focus:
        focus = [h for h in result.hops if h.status in (Verdict.WARNING, Verdict.UNKNOWN)]
    for hop in focus:
        _explain(hop, console)
    render_problems(result.problems, console)


def _explain(hop: Hop, console: Console) -> None:
    console.print()
    title = f"{hop.layer}" + (" — root cause" if hop.root_cause else "")
    console.print(f"[bold]{escape(title)}[/bold]: {escape(hop.summary)}")
    for line in hop.detail:
        console.print(f"  {escape(line)}")
    if hop.evidence:
        console.print("  [bold]Evidence[/bold]")
        for e in hop.evidence:
            console.print(f"    {escape(e.object)}  {escape(e.field)} = {escape(e.value)}")
    if hop.confirm:
        console.print("  [bold]Confirm live[/bold]")
        for c in hop.confirm:
            console.print(f"    $ {escape(str(c))}")
    if hop.fix is not None:
        console.print(f"  [bold]Fix[/bold]  {escape(hop.fix.text)}")
        if hop.fix.command is not None:
            console.print(f"    $ {escape(str(hop.fix.command))}")
        if hop.fix.snippet is not None:
            for line in str(hop.fix.snippet).split("\n"):
                console.print(f"    {escape(line)}")

"""``trace`` as a terminal report: one row per hop, then the broken hop explained.

Every name and message is printed as text (:func:`plain`, :func:`styled`):
never parsed as markup, control characters escaped. Commands are printed
on one line each (``soft_wrap``), so a terminal never splits one where a
paste would break it.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from netsleuth.model.findings import Verdict
from netsleuth.render.console import plain, print_table, status_mark, status_style, styled
from netsleuth.render.output import Output
from netsleuth.render.problems_table import render_problems
from netsleuth.trace.result import Hop, TraceResult


def render_trace(result: TraceResult, console: Console) -> None:
    q = result.query
    port = f":{q.port}" if q.port is not None else ""
    console.print(
        styled(
            ("trace", "bold"),
            f" {q.src_resolved} → {q.dst_resolved}{port}/{q.protocol}",
            ("  ", ""),
            (f"({q.path})", "dim"),
        )
    )
    for note in q.notes:
        console.print(styled("  ", (f"note: {note}", "dim")))
    table = Table(show_edge=False, show_header=True, pad_edge=False, expand=False)
    table.add_column("", width=1)
    table.add_column("Hop", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    table.add_column("What we found", overflow="fold")
    for hop in result.hops:
        st = str(hop.status)
        label = str(hop.layer) + (" (cause)" if hop.root_cause else "")
        table.add_row(
            plain(status_mark(st)), plain(label), plain(st, status_style(st)), plain(hop.summary)
        )
    print_table(console, table)
    verdict = result.verdict
    console.print()
    console.print(styled(("Verdict:", "bold"), " ", (str(verdict), status_style(str(verdict)))))
    # Not-checked hops never change the verdict; say what to collect to check them.
    for hop in result.not_checked:
        line = f"  not checked: {hop.layer} — {hop.summary}"
        if hop.confirm:
            line += "; collect with: " + "; ".join(str(c) for c in hop.confirm)
        console.print(plain(line), soft_wrap=True)
    for risk in result.risks:
        console.print(
            plain(f"  note ({risk.layer} risk, not a fault on this path): {risk.summary}"),
            soft_wrap=True,
        )
    focus: list[Hop] = [h for h in result.hops if h.status is Verdict.BROKEN]
    if not focus:
        focus = [h for h in result.hops if h.status in (Verdict.WARNING, Verdict.UNKNOWN)]
    for hop in focus:
        _explain(hop, console)
    render_problems(result.problems, console)


def _explain(hop: Hop, console: Console) -> None:
    console.print()
    title = f"{hop.layer}" + (" — root cause" if hop.root_cause else "")
    console.print(styled((title, "bold"), f": {hop.summary}"))
    if hop.change is not None:
        what = f"  ({hop.change_field})" if hop.change_field else ""
        console.print(styled(("  Change", "bold"), f"  {hop.change.ref()}{what}"))
    for line in hop.detail:
        console.print(plain(f"  {line}"))
    if hop.evidence:
        console.print(styled(("  Evidence", "bold")))
        for e in hop.evidence:
            console.print(plain(f"    {e.object}  {e.field} = {e.value}"))
    if hop.confirm:
        console.print(styled(("  Confirm live", "bold")))
        for c in hop.confirm:
            console.print(plain(f"    $ {c}"), soft_wrap=True)
    if hop.fix is not None:
        console.print(styled(("  Fix", "bold"), f"  {hop.fix.text}"))
        if hop.fix.command is not None:
            console.print(plain(f"    $ {hop.fix.command}"), soft_wrap=True)
        if hop.fix.snippet is not None:
            for line in str(hop.fix.snippet).split("\n"):
                console.print(plain(f"    {line}"))


def trace_table(result: TraceResult, out: Output) -> None:
    """``trace -o table`` (the format registry's renderer)."""
    render_trace(result, out.console())

"""``explain`` as text: the verdict per direction, then the engine's reasons in plain words."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from netsleuth.model.intervals import IntervalSet
from netsleuth.model.problems import LoadProblem
from netsleuth.policy.decision import DirectionPorts
from netsleuth.policy.explain import ExplainReport
from netsleuth.policy.provenance import explain_text
from netsleuth.render.console import cells, plain, print_table, status_mark
from netsleuth.render.output import Output


def _ports_cell(s: IntervalSet) -> str:
    if s.size() == 65535:
        return "all"
    if not s:
        return "none"
    return ",".join(s.describe())


def _direction_block(d: DirectionPorts) -> list[str]:
    word = d.direction.lower()
    lines = [f"{word}:"]
    if d.selecting:
        lines.append("  selected by: " + ", ".join(r.describe() for r in d.selecting))
    for m in d.allowed_by:
        lines.append(f"  allowed by {m.describe()}")
    for r in d.reasons:
        lines.append(f"  {r}")
    for miss in d.misses:
        lines.append(f"  no match: {miss.describe()}")
    return lines


def _mark_status(report: ExplainReport) -> str:
    return {"allowed": "ok", "denied": "broken"}.get(report.verdict, "unknown")


def render_explain(
    report: ExplainReport, console: Console, problems: tuple[LoadProblem, ...] = ()
) -> None:
    """Print ``report`` to ``console``."""
    out = console.print
    for note in report.notes:
        out(plain(f"note: {note}"))
    if report.decision is not None:
        d = report.decision
        lines = explain_text(d)
        mark = status_mark(_mark_status(report))
        out(plain(f"{mark} {lines[0]}"))
        for line in lines[1:]:
            out(plain(line))
    else:
        pd = report.ports
        assert pd is not None
        mark = status_mark(_mark_status(report))
        verdict = "some ports allowed" if report.allowed else "nothing allowed"
        if report.unreadable:
            verdict += " by the policies read (unknown)"
        out(plain(f"{mark} {pd.src.describe()} -> {pd.dst.describe()}, every port: {verdict}"))
        table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        table.add_column("DIRECTION", no_wrap=True)
        table.add_column("DECIDED BY", overflow="fold")
        for proto in pd.combined:
            table.add_column(proto, overflow="fold")
        for side in (pd.egress, pd.ingress):
            table.add_row(
                *cells(
                    side.direction.lower(),
                    ", ".join(side.decided_by),
                    *(_ports_cell(side.allowed[p]) for p in pd.combined),
                )
            )
        table.add_row(*cells("combined", "", *(_ports_cell(s) for s in pd.combined.values())))
        print_table(console, table)
        for side in (pd.egress, pd.ingress):
            for line in _direction_block(side):
                out(plain(line))
        if pd.unresolved_named_ports:
            out(
                plain(
                    "named ports the destination does not define (they allow nothing): "
                    + ", ".join(pd.unresolved_named_ports)
                )
            )
    if problems:
        out(plain(f"{len(problems)} input problem(s):"))
        for p in problems:
            where = p.origin.file or ""
            if p.origin.document is not None:
                where += f" doc {p.origin.document}"
            out(plain(f"  {p.level}: {p.message}" + (f" ({where})" if where else "")))


def explain_table(report: ExplainReport, out: Output) -> None:
    """``explain -o table``."""
    render_explain(report, out.console(), report.problems)

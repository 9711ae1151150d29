"""``netsleuth diff`` as a table, Markdown and JSON."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from netsleuth.model.problems import LoadProblem
from netsleuth.model.untrusted import visible
from netsleuth.policy.diff import DiffReport, Explained
from netsleuth.render.cells import md_cell, md_row
from netsleuth.render.console import cells, plain, print_table
from netsleuth.render.jsonout import dumps_json, problems_json
from netsleuth.render.output import Output
from netsleuth.render.problems_table import render_problems


def _rows(report: DiffReport) -> list[tuple[str, str, str, str, str]]:
    d = report.diff
    rows = [("lost", c.src.describe(), c.dst.describe(), c.conn_text(), "-") for c in d.lost]
    rows += [("gained", c.src.describe(), c.dst.describe(), "-", c.conn_text()) for c in d.gained]
    rows += [
        ("changed", x.src.describe(), x.dst.describe(), x.conn_text(), y.conn_text())
        for x, y in d.changed
    ]
    return rows


def _summary(report: DiffReport) -> str:
    d = report.diff
    return f"{len(d.lost)} lost, {len(d.gained)} gained, {len(d.changed)} changed"


def _why(e: Explained) -> list[str]:
    proto, port = e.probe
    out = [f"{e.before.src.describe()} -> {e.before.dst.describe()} ({proto}/{port}):"]
    out += [f"  {line}" for line in e.why]
    out += [
        f"  changed: {c.describe()}" + (f" ({c.origin.describe()})" if c.origin.file else "")
        for c in e.changes
    ]
    return out


def render_table(
    report: DiffReport,
    console: Console,
    problems: Sequence[LoadProblem] = (),
    notes: Sequence[str] = (),
) -> None:
    for note in notes:
        console.print(plain(f"? {note}"))
    table = Table(show_edge=False)
    for col in ("diff", "src", "dst", "before", "after"):
        table.add_column(col, overflow="fold", no_wrap=col in ("src", "dst"))
    for r in _rows(report):
        table.add_row(*cells(*r))
    print_table(console, table)
    console.print(plain(_summary(report)))
    if report.lost:
        console.print()
        console.print(plain("Why the lost connections are denied now:"))
        for e in report.lost:
            for line in _why(e):
                console.print(plain(line))
    render_problems(problems, console)


def render_md(
    report: DiffReport, problems: Sequence[LoadProblem] = (), notes: Sequence[str] = ()
) -> str:
    lines = [f"> {md_cell(n)}" for n in notes]
    if notes:
        lines.append("")
    lines += ["| diff | src | dst | before | after |", "|---|---|---|---|---|"]
    lines += [md_row(*r) for r in _rows(report)]
    lines += ["", _summary(report)]
    if report.lost:
        lines += ["", "### Why the lost connections are denied now", ""]
        for e in report.lost:
            lines += ["```", *(visible(w).replace("```", "\\`\\`\\`") for w in _why(e)), "```"]
    if problems:
        lines += ["", f"### Input problems ({len(problems)})", ""]
        lines += [f"- {md_cell(p.describe())}" for p in problems]
    return "\n".join(lines) + "\n"


def _explained_json(e: Explained) -> dict[str, object]:
    return {
        "src": e.before.src.json(),
        "dst": e.before.dst.json(),
        "before": e.before.conn_json(),
        "after": e.after.conn_json() if e.after is not None else None,
        "probe": {"protocol": e.probe[0], "port": e.probe[1]},
        "why": list(e.why),
        "policy_changes": [
            {
                "change": c.change,
                "namespace": c.namespace,
                "name": c.name,
                "file": c.origin.file,
                "line": c.origin.line,
            }
            for c in e.changes
        ],
    }


def render_json(
    report: DiffReport, problems: list[dict[str, object]], notes: Sequence[str] = ()
) -> str:
    d = report.diff
    return dumps_json(
        {
            **({"notes": list(notes)} if notes else {}),
            "lost": [_explained_json(e) for e in report.lost],
            "gained": [
                {"src": c.src.json(), "dst": c.dst.json(), "conn": c.conn_json()} for c in d.gained
            ],
            "changed": [_explained_json(e) for e in report.changed],
            "problems": problems,
        }
    )


def diff_table(report: DiffReport, out: Output) -> None:
    render_table(report, out.console(), report.problems, report.notes)


def diff_md(report: DiffReport, out: Output) -> None:
    out.write(render_md(report, report.problems, report.notes))


def diff_json(report: DiffReport, out: Output) -> None:
    out.write(render_json(report, problems_json(report.problems), report.notes))

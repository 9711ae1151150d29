"""``netsleuth connectivity`` as a table, CSV, Markdown, Graphviz dot and JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from netsleuth.model.problems import LoadProblem
from netsleuth.model.untrusted import visible
from netsleuth.policy.connlist import Connection
from netsleuth.policy.reports import ConnectivityReport
from netsleuth.render.cells import csv_cells, md_row
from netsleuth.render.console import cells, plain, print_table
from netsleuth.render.jsonout import dumps_plain_json, problems_json
from netsleuth.render.output import Output
from netsleuth.render.problems_table import render_problems, render_unreadable_policies


def render_table(
    conns: Sequence[Connection],
    problems: Sequence[LoadProblem],
    console: Console,
    unreadable: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> None:
    render_unreadable_policies(unreadable, console)
    for note in notes:
        console.print(plain(f"? {note}"))
    table = Table(show_edge=False)
    for col in ("src", "dst", "conn"):
        table.add_column(col, overflow="fold", no_wrap=col != "conn")
    for c in conns:
        table.add_row(*cells(c.src.describe(), c.dst.describe(), c.conn_text()))
    print_table(console, table)
    console.print(plain(f"{len(conns)} allowed connection(s)"))
    render_problems(problems, console)


def render_json(
    conns: Sequence[Connection],
    problems: list[dict[str, object]],
    unreadable: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> str:
    """``{"connections": [{"src", "dst", "conn"}], "problems": [...]}``.

    ``notes`` says which connections are held back as unknown (an invalid
    policy was left out). When policy kinds could not be read,
    ``unreadable_policy_resources`` lists them: the connections are then what the policies that were read allow.
    """
    doc: dict[str, object] = {
        "connections": [
            {"src": c.src.json(), "dst": c.dst.json(), "conn": c.conn_json()} for c in conns
        ],
        "problems": problems,
    }
    if unreadable:
        doc["unreadable_policy_resources"] = list(unreadable)
    if notes:
        doc["notes"] = list(notes)
    return dumps_plain_json(doc)


def render_csv(conns: Sequence[Connection]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["src", "dst", "conn"])
    for c in conns:
        w.writerow(csv_cells(c.src.describe(), c.dst.describe(), c.conn_text()))
    return buf.getvalue()


def render_md(conns: Sequence[Connection]) -> str:
    lines = ["| src | dst | conn |", "|---|---|---|"]
    lines += [md_row(c.src.describe(), c.dst.describe(), c.conn_text()) for c in conns]
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_dot(conns: Sequence[Connection]) -> str:
    """One node per peer (address ranges and the pseudo-peer as ellipses), one edge per connection."""
    lines = ["digraph connectivity {", "  rankdir=LR;", "  node [shape=box];"]
    seen: dict[str, str] = {}
    for c in conns:
        for p in (c.src, c.dst):
            if p.describe() not in seen:
                shape = "ellipse" if p.kind in ("ip_range", "pseudo") else "box"
                seen[p.describe()] = shape
                lines.append(f"  {_q(p.describe())} [shape={shape}];")
    for c in conns:
        lines.append(
            f"  {_q(c.src.describe())} -> {_q(c.dst.describe())} [label={_q(c.conn_text())}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- format registry


def conn_table(report: ConnectivityReport, out: Output) -> None:
    """Aligned columns, one connection per line (see :mod:`netsleuth.render.columns`)."""
    from netsleuth.render.columns import write_columns

    if report.unreadable:
        render_unreadable_policies(report.unreadable, out.console())
    for note in report.notes:
        out.write(visible(f"? {note}") + "\n")
    conns = report.connections
    write_columns(
        out,
        ("src", "dst", "conn"),
        [(visible(c.src.describe()), visible(c.dst.describe()), c.conn_text()) for c in conns],
    )
    out.write(f"{len(conns)} allowed connection(s)\n")
    if report.problems:
        render_problems(report.problems, out.console())


def conn_json(report: ConnectivityReport, out: Output) -> None:
    out.write(
        render_json(
            report.connections, problems_json(report.problems), report.unreadable, report.notes
        )
    )


def conn_csv(report: ConnectivityReport, out: Output) -> None:
    out.write(render_csv(report.connections))


def conn_md(report: ConnectivityReport, out: Output) -> None:
    out.write(render_md(report.connections))


def conn_dot(report: ConnectivityReport, out: Output) -> None:
    out.write(render_dot(report.connections))

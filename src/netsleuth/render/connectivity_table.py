"""``netsleuth connectivity`` as a table, CSV, Markdown, Graphviz dot and JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from netsleuth.model.untrusted import visible
from netsleuth.policy.connlist import Connection
from netsleuth.policy.reports import ConnectivityReport
from netsleuth.render.cells import csv_cell, md_row
from netsleuth.render.jsonout import dumps_plain_json, dumps_plain_json_bytes, problems_json
from netsleuth.render.output import Output

if TYPE_CHECKING:
    from rich.console import Console

    from netsleuth.model.problems import LoadProblem

# rich (and the modules that use it) is imported by the renderers that draw with it, so
# the machine formats (json, csv, md, dot) and the plain table do not pay for it.


def render_table(
    conns: Sequence[Connection],
    problems: Sequence[LoadProblem],
    console: Console,
    unreadable: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> None:
    from rich.table import Table

    from netsleuth.render.console import cells, plain, print_table
    from netsleuth.render.problems_table import render_problems, render_unreadable_policies

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
    """``{"connections": [{"src", "dst", "conn"}], "problems": [...]}`` (see :func:`json_doc`)."""
    return dumps_plain_json(json_doc(conns, problems, unreadable, notes))


def json_doc(
    conns: Sequence[Connection],
    problems: list[dict[str, object]],
    unreadable: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> dict[str, object]:
    """``{"connections": [{"src", "dst", "conn"}], "problems": [...]}``.

    ``notes`` says which connections are held back as unknown (an invalid
    policy was left out). When policy kinds could not be read,
    ``unreadable_policy_resources`` lists them: the connections are then what the policies that were read allow.
    """
    # Peers and port sets repeat across connections: make each one's JSON once
    # (keyed by identity: every connection, so every key, lives until the dump), and
    # the connections come sorted by source, so a source is looked up once per run.
    peer_json: dict[int, dict[str, str]] = {}
    conn_of: dict[int, dict[str, object]] = {}
    rows: list[dict[str, object]] = []
    append = rows.append
    last_src: object = None
    src: dict[str, str] = {}
    for c in conns:
        s = c.src
        if s is not last_src:
            got = peer_json.get(id(s))
            src = peer_json[id(s)] = s.json() if got is None else got
            last_src = s
        d = c.dst
        dst = peer_json.get(id(d))
        if dst is None:
            dst = peer_json[id(d)] = d.json()
        p = c.ports
        conn = conn_of.get(id(p))
        if conn is None:
            conn = conn_of[id(p)] = c.conn_json()
        append({"src": src, "dst": dst, "conn": conn})
    doc: dict[str, object] = {
        "connections": rows,
        "problems": problems,
    }
    if unreadable:
        doc["unreadable_policy_resources"] = list(unreadable)
    if notes:
        doc["notes"] = list(notes)
    return doc


def _rows(
    conns: Sequence[Connection], peer: Callable[[str], str], conn: Callable[[str], str]
) -> list[tuple[str, str, str]]:
    """``(peer(src.describe()), peer(dst.describe()), conn(conn_text()))`` per connection,
    each peer and port set rendered once (keyed by identity: the connections hold them)."""
    peers: dict[int, str] = {}
    texts: dict[int, str] = {}
    rows = []
    for c in conns:
        src = peers.get(id(c.src))
        if src is None:
            src = peers[id(c.src)] = peer(c.src.describe())
        dst = peers.get(id(c.dst))
        if dst is None:
            dst = peers[id(c.dst)] = peer(c.dst.describe())
        text = texts.get(id(c.ports))
        if text is None:
            text = texts[id(c.ports)] = conn(c.conn_text())
        rows.append((src, dst, text))
    return rows


def render_csv(conns: Sequence[Connection]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["src", "dst", "conn"])
    w.writerows(_rows(conns, csv_cell, csv_cell))
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
    from netsleuth.render.problems_table import render_problems, render_unreadable_policies

    if report.unreadable:
        render_unreadable_policies(report.unreadable, out.console())
    for note in report.notes:
        out.write(visible(f"? {note}") + "\n")
    conns = report.connections
    write_columns(
        out,
        ("src", "dst", "conn"),
        _rows(conns, visible, str),
    )
    out.write(f"{len(conns)} allowed connection(s)\n")
    if report.problems:
        render_problems(report.problems, out.console())


def conn_json(report: ConnectivityReport, out: Output) -> None:
    doc = json_doc(
        report.connections, problems_json(report.problems), report.unreadable, report.notes
    )
    if (getattr(out.stream, "encoding", None) or "").lower().replace("-", "") == "utf8":
        # orjson writes UTF-8: the same bytes as the text, without decoding 26 MB (at
        # 90,000 connections) to write it encoded again
        out.write_bytes(dumps_plain_json_bytes(doc))
    else:
        out.write(dumps_plain_json(doc))


def conn_csv(report: ConnectivityReport, out: Output) -> None:
    out.write(render_csv(report.connections))


def conn_md(report: ConnectivityReport, out: Output) -> None:
    out.write(render_md(report.connections))


def conn_dot(report: ConnectivityReport, out: Output) -> None:
    out.write(render_dot(report.connections))

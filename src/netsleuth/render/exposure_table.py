"""``netsleuth exposure`` as a table and JSON."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from netsleuth.model.problems import LoadProblem
from netsleuth.policy.exposure import Exposure, ports_text
from netsleuth.render.console import cells, plain
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.problems_table import render_problems, render_unreadable_policies


def render_table(
    rows: Sequence[Exposure],
    problems: Sequence[LoadProblem],
    console: Console,
    unreadable: Sequence[str] = (),
) -> None:
    render_unreadable_policies(unreadable, console)
    table = Table(show_edge=False)
    for col in (
        "workload",
        "from other namespaces",
        "from outside the cluster",
        "ingress protected",
        "egress protected",
    ):
        table.add_column(col)
    for r in rows:
        n = len(r.from_namespaces)
        ns_text = "nobody" if not n else f"{n} workload(s): {ports_text(r.namespace_ports)}"
        table.add_row(
            *cells(
                r.peer.describe(),
                ns_text,
                ports_text(r.outside_ports),
                "yes" if r.ingress_protected else "NO",
                "yes" if r.egress_protected else "NO",
            )
        )
    console.print(table)
    open_in = [r for r in rows if not r.ingress_protected]
    open_out = [r for r in rows if not r.egress_protected]
    console.print(
        plain(
            f"{len(rows)} workload(s); {len(open_in)} without ingress protection, "
            f"{len(open_out)} without egress protection"
        )
    )
    render_problems(problems, console)


def render_json(
    rows: Sequence[Exposure], problems: list[dict[str, object]], unreadable: Sequence[str] = ()
) -> str:
    doc: dict[str, object] = {
        "workloads": [r.json() for r in rows],
        "unprotected": {
            "ingress": [r.peer.json() for r in rows if not r.ingress_protected],
            "egress": [r.peer.json() for r in rows if not r.egress_protected],
        },
        "problems": problems,
    }
    if unreadable:
        # what the policies that were read allow: exposure may be smaller in truth
        doc["unreadable_policy_resources"] = list(unreadable)
    return dumps_json(doc)

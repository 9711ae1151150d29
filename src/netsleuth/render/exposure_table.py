"""``netsleuth exposure`` as a table and JSON."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from netsleuth.model.problems import LoadProblem
from netsleuth.policy.exposure import Exposure, PotentialDirection, ports_text
from netsleuth.policy.reports import ExposureReport
from netsleuth.render.console import cells, plain, print_table
from netsleuth.render.jsonout import dumps_json, problems_json
from netsleuth.render.output import Output
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
        table.add_column(col, overflow="fold", no_wrap=col == "workload")
    for r in rows:
        n = len(r.from_namespaces)
        ns_text = "nobody" if not n else f"{n} workload(s): {ports_text(r.namespace_ports)}"
        table.add_row(
            *cells(
                r.peer.describe() + (" (hostNetwork)" if r.host_network else ""),
                ns_text,
                ports_text(r.outside_ports),
                _protection(r.ingress),
                _protection(r.egress),
            )
        )
    print_table(console, table)
    open_in = [r for r in rows if not r.ingress_protected]
    open_out = [r for r in rows if not r.egress_protected]
    console.print(
        plain(
            f"{len(rows)} workload(s); {len(open_in)} without ingress protection, "
            f"{len(open_out)} without egress protection"
        )
    )
    console.print()
    console.print("Potential exposure: what each workload's policies admit, by selector")
    pot = Table(show_edge=False)
    for col in ("workload", "direction", "admitted peer", "ports", "by"):
        pot.add_column(col, overflow="fold", no_wrap=col == "workload")
    notes: list[str] = []
    for r in rows:
        for word, d in (("ingress", r.ingress), ("egress", r.egress)):
            if not d.admitted:
                pot.add_row(*cells(r.peer.describe(), word, "nobody", "-", _by(d)))
            for a in d.admitted:
                pot.add_row(
                    *cells(
                        r.peer.describe(),
                        word,
                        a.peer.describe(),
                        a.ports_text(),
                        ", ".join(a.policies) or ("not isolated" if not d.isolated else "-"),
                    )
                )
            notes += [f"{r.peer.describe()} {word}: {note}" for note in d.notes]
    console.print(pot)
    for note in dict.fromkeys(notes):
        console.print(plain(f"  note: {note}"))
    render_problems(problems, console)


def _protection(d: PotentialDirection) -> str:
    if d.protected:
        return "yes"
    if d.isolated:
        return "NO (admits everything)"
    return "NO"


def _by(d: PotentialDirection) -> str:
    return "isolated, no rule admits any peer" if d.isolated else "-"


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


def exposure_table(report: ExposureReport, out: Output) -> None:
    render_table(report.rows, report.problems, out.console(), report.unreadable)


def exposure_json(report: ExposureReport, out: Output) -> None:
    out.write(render_json(report.rows, problems_json(report.problems), report.unreadable))

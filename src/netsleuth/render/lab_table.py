"""``lab up`` and ``lab status`` as tables and JSON."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from netsleuth.lab.build import LabStatus
from netsleuth.lab.state import LabState
from netsleuth.render.console import cells, plain, styled


def render_lab_up(state: LabState, console: Console) -> None:
    plan = state.plan
    assert plan is not None
    console.print(
        styled(
            (f"lab {state.lab}", "bold"),
            f" up in {state.timings.get('up_s', 0):.2f} s: {len(plan.nodes)} nodes, "
            f"{len(plan.pods)} pods, {len(state.netns)} namespaces",
        )
    )
    table = Table(show_edge=False, pad_edge=False)
    for col in ("Node", "IP", "podCIDR", "MTU underlay/vxlan/pod", "Pods", "Namespace"):
        table.add_column(col)
    for n in plan.nodes:
        count = sum(1 for p in plan.pods if p.node == n.name)
        table.add_row(
            *cells(
                n.name,
                n.ip,
                n.pod_cidr,
                f"{n.underlay_mtu}/{n.vxlan_mtu}/{n.pod_mtu}",
                str(count),
                n.netns,
            )
        )
    console.print(table)
    for note in plan.notes:
        console.print(plain(f"  note: {note}", "dim"))
    if plan.skipped:
        console.print(plain(f"  not built: {len(plan.skipped)} (see `lab status -o json`)", "dim"))
    console.print(plain(f"  remove with: netsleuth lab down {state.lab}"))


def render_lab_status(s: LabStatus, console: Console) -> None:
    st = s.state
    if st is None:
        console.print(
            styled(
                (f"lab {s.lab}", "bold"),
                f": no state file; {len(s.netns_present)} namespaces left "
                f"(remove with `netsleuth lab down {s.lab}`)",
            )
        )
        return
    health = "intact" if s.healthy else "damaged"
    console.print(
        styled(
            (f"lab {s.lab}", "bold"),
            f": {st.status}, {health}; created {st.created}; "
            f"{len(s.netns_present)}/{len(st.netns)} namespaces",
        )
    )
    for kind, pids in s.processes_dead.items():
        console.print(plain(f"  {kind} not running (pids {', '.join(map(str, pids))})", "red"))
    for ns in s.netns_missing:
        console.print(plain(f"  missing namespace {ns}", "red"))
    if st.faults:
        console.print(plain("  faults: " + ", ".join(str(f.get("kind")) for f in st.faults)))
    if st.plan is not None:
        table = Table(show_edge=False, pad_edge=False)
        for col in ("Pod", "Node", "IP", "Listens", "Namespace"):
            table.add_column(col)
        for p in st.plan.pods:
            listens = ", ".join(f"{port}/{proto}" for proto, port in p.listen)
            if p.dns_server:
                listens = ("53/UDP+TCP (dnsmasq), " + listens).rstrip(", ")
            table.add_row(*cells(p.key, p.node, p.ip, listens, p.netns))
        console.print(table)


def lab_document(s: LabStatus) -> dict[str, Any]:
    st = s.state
    doc: dict[str, Any] = {
        "lab": s.lab,
        "status": st.status if st else None,
        "healthy": s.healthy,
        "netns_present": s.netns_present,
        "netns_missing": s.netns_missing,
        "processes_alive": s.processes_alive,
        "processes_dead": s.processes_dead,
    }
    if st is not None:
        doc.update(
            {
                "created": st.created,
                "paths": st.paths,
                "faults": st.faults,
                "timings": st.timings,
            }
        )
        if st.plan is not None:
            import dataclasses

            doc["plan"] = dataclasses.asdict(st.plan)
    return doc

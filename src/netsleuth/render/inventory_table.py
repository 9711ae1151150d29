"""``inventory`` as terminal tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from netsleuth.inventory import Inventory
from netsleuth.render.console import cells, print_table, styled
from netsleuth.render.output import Output
from netsleuth.render.problems_table import render_problems


def render_inventory(inv: Inventory, console: Console) -> None:
    console.print(styled(("Source", "bold"), f"  {inv.source}"))
    cni = ", ".join(inv.cni) if inv.cni else "not visible in the input"
    mode = inv.kube_proxy_mode or "not visible in the input"
    if inv.kube_proxy_mode and inv.kube_proxy_mode_source:
        mode += f"  (from {inv.kube_proxy_mode_source})"
    console.print(styled(("CNI", "bold"), f"     {cni}"))
    console.print(styled(("kube-proxy", "bold"), f" {mode}"))
    coredns = inv.coredns_replicas + " ready" if inv.coredns_replicas else "not found"
    console.print(styled(("CoreDNS", "bold"), f" {coredns}"))
    console.print()

    kinds = Table(title="Objects by kind", title_justify="left", show_edge=False)
    kinds.add_column("Kind", no_wrap=True, overflow="fold")
    kinds.add_column("Count", justify="right", overflow="fold")
    for kind, n in inv.counts_by_kind.items():
        kinds.add_row(*cells(kind, str(n)))
    for kind, n in inv.derived.items():
        kinds.add_row(*cells(f"{kind} (derived)", str(n)))
    print_table(console, kinds)
    console.print()

    if inv.counts_by_namespace:
        all_kinds = sorted({k for c in inv.counts_by_namespace.values() for k in c})
        shown = [
            k
            for k in ("Pod", "Deployment", "Service", "EndpointSlice", "NetworkPolicy", "Ingress")
            if k in all_kinds
        ]
        ns_table = Table(title="Objects by namespace", title_justify="left", show_edge=False)
        ns_table.add_column("Namespace", no_wrap=True, overflow="fold")
        for k in (*shown, "Other"):  # headers are words too: fold, never cut
            ns_table.add_column(k, justify="right", overflow="fold")
        for ns, counts in inv.counts_by_namespace.items():
            other = sum(v for k, v in counts.items() if k not in shown)
            ns_table.add_row(*cells(ns, *[str(counts.get(k, 0)) for k in shown], str(other)))
        print_table(console, ns_table)
        console.print()

    if inv.nodes:
        nodes = Table(title="Nodes", title_justify="left", show_edge=False)
        for col in ("Node", "Ready", "PodCIDR", "InternalIP", "Kubelet", "Pods"):
            nodes.add_column(
                col,
                justify="right" if col == "Pods" else "left",
                no_wrap=col == "Node",
                overflow="fold",
            )
        for row in inv.nodes:
            pods = f"{row.pods}/{row.max_pods}" if row.max_pods else str(row.pods)
            nodes.add_row(
                *cells(
                    row.name,
                    row.ready,
                    ",".join(row.pod_cidrs) or "-",
                    row.internal_ip or "-",
                    row.kubelet_version or "-",
                    pods,
                )
            )
        print_table(console, nodes)
        console.print()

    if inv.node_evidence:
        ev = Table(title="Node evidence", title_justify="left", show_edge=False)
        for col in ("Node", "Recognised", "Where"):
            ev.add_column(col)
        by_node: dict[str, list[tuple[str, str]]] = {}
        for e in inv.node_evidence:
            by_node.setdefault(e.node, []).append((e.kind, f"{e.file}:{e.line}"))
        for node, found in by_node.items():
            for i, (kind, where) in enumerate(found):
                ev.add_row(*cells(node if i == 0 else "", kind, where))
        console.print(ev)
        console.print()

    if inv.unknown_kinds:
        console.print(
            styled(
                ("Kept but not analysed", "bold"),
                ": " + ", ".join(f"{k} ×{n}" for k, n in inv.unknown_kinds.items()),
            )
        )
    if inv.forbidden:
        console.print(styled(("Forbidden", "bold red"), ": " + ", ".join(inv.forbidden)))
    if inv.failed:
        console.print(styled(("Failed", "bold red"), ": " + ", ".join(inv.failed)))
    render_problems(inv.problems, console)


def inventory_table(inv: Inventory, out: Output) -> None:
    render_inventory(inv, out.console())

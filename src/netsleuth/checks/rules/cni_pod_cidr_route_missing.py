"""CNI412: a node routes to other nodes' podCIDRs, but not to one of them."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.node_artifacts import RouteEntry
from netsleuth.model.objects import Meta

Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def _net(text: str) -> Net | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _forwards(r: RouteEntry) -> bool:
    """A route that sends packets somewhere (``blackhole``/``unreachable``/``prohibit``
    routes have neither a gateway nor a device)."""
    return r.gateway is not None or r.device is not None


@register(
    id="CNI412",
    layer=Layer.NODE,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Node",), node_artifacts=("routes",)),
)
def cni_pod_cidr_route_missing(model: ClusterModel) -> Iterator[Finding]:
    """A node routes to other nodes' podCIDRs, but not to one of them.

    What it checks:
        The node's ``ip route`` (main table) against every other node's
        ``spec.podCIDR``. It fires only where the CNI programs a route per
        node — the node has a specific route (not the default route) to at
        least one other node's podCIDR — and none to another's, or only a
        ``blackhole``/``unreachable`` one. CNIs that route pods without
        per-node routes (the AWS VPC CNI, Cilium's eBPF host routing, cloud
        routes behind the default route) are never flagged.

    Why it breaks traffic:
        Packets from the node's pods to pods on that other node follow the
        default route to the underlay gateway, which knows nothing of pod
        addresses, and vanish: every cross-node connection between the two
        times out, while everything else works.

    Example:
        ``worker-1`` has ``10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink``
        but nothing for ``worker-2``'s ``10.244.2.0/24``: the flannel agent
        on ``worker-1`` missed the node (a failed watch, a restart mid-sync).

    Fix:
        Restart the CNI agent on the node (it re-programs every route from
        the node list); find out why it missed the node (its log).

    Confirm live:
        ``ip route get <a pod IP on the other node>`` on the node (the route
        it picks); a ping between pods of the two nodes.

    References:
        https://kubernetes.io/docs/concepts/cluster-administration/networking/ ;
        https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan
    """
    cidrs: dict[str, Net] = {}
    for name, node in model.nodes.items():
        net = next((n for n in (_net(c) for c in node.pod_cidrs) if n is not None), None)
        if net is not None:
            cidrs[name] = net
    for name, art in sorted(model.node_artifacts.items()):
        if not art.routes or name not in model.nodes:
            continue
        routes = [
            (net, r)
            for r in art.routes
            if r.destination != "default"
            and (r.table in (None, "main"))
            and (net := _net(r.destination)) is not None
            and net.prefixlen > 0
        ]
        others = {n: c for n, c in cidrs.items() if n != name}
        covered: dict[str, RouteEntry] = {}
        dead: dict[str, RouteEntry] = {}
        for other, cidr in others.items():
            best = max(
                (
                    (net, r)
                    for net, r in routes
                    if net.version == cidr.version and cidr.subnet_of(net)  # type: ignore[arg-type]
                ),
                key=lambda nr: nr[0].prefixlen,
                default=None,
            )
            if best is None:
                continue
            if _forwards(best[1]):
                covered[other] = best[1]
            else:
                dead[other] = best[1]
        if not covered:
            continue  # this CNI does not route per node (or the file is partial)
        node = model.nodes[name]
        for other in sorted(others):
            if other in covered:
                continue
            cidr = others[other]
            example_node, example = next(iter(sorted(covered.items())))
            how = "a blackhole/unreachable route" if other in dead else "no route"
            yield finding(
                "CNI412",
                model,
                kind="Node",
                meta=node.meta if node else Meta(name=name),
                artifacts=True,
                message=(
                    f"node {name} has {how} to node {other}'s podCIDR {cidr}: its pods cannot "
                    f"reach pods on {other} (it routes to {example_node}'s "
                    f"{others[example_node]} via {example.gateway or example.device})"
                ),
                evidence=[
                    Evidence(f"Node/{other}", "spec.podCIDR", str(cidr)),
                    Evidence(f"Node/{name}", f"ip route {cidr}", how),
                    Evidence(
                        f"Node/{name}",
                        f"ip route {example.destination}",
                        " ".join(
                            x
                            for x in (
                                f"via {example.gateway}" if example.gateway else "",
                                f"dev {example.device}" if example.device else "",
                            )
                            if x
                        ),
                    ),
                ],
                confirm=(
                    cmd("ip", "route", "get", str(next(cidr.hosts(), cidr.network_address))).note(
                        f"on {name}"
                    ),
                ),
                fix=Fix(
                    text=f"Restart the CNI agent on {name} so it re-programs its routes, and read "
                    "its log for why it missed the node."
                ),
            )

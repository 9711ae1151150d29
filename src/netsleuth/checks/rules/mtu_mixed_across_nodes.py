"""MTU502: node MTUs differ, so pods on one node send packets another node's path cannot carry."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.overlay_mtu import OVERHEAD, node_mtus, overhead
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Glob, cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


@register(
    id="MTU502", layer=Layer.MTU, severity=Severity.WARNING, needs=Needs(node_artifacts=("links",))
)
def mtu_mixed_across_nodes(model: ClusterModel) -> Iterator[Finding]:
    """Node MTUs differ, so pods on one node send packets another node's path cannot carry.

    What it checks:
        Across nodes with ``ip -d link``: pod MTUs (conflist or veth) that
        differ between nodes, reported on the nodes away from the most common
        value (configuration drift; MTU501 may also report the node if its own
        overlay cannot carry it). Then, for each node A whose pods use MTU
        p (conflist or veth) and fit A's own uplink, the nodes B whose uplink
        MTU u gives p > min(u_A, u_B) − overhead. When no pod MTU is visible,
        uplink MTUs that differ between nodes (jumbo frames on some, 1500 on
        others) are reported on the nodes above the smallest.

    Why it breaks traffic:
        CNIs that auto-detect the MTU set each node's pod MTU from its own
        uplink. Pods on a 9001-MTU node then send 8951-byte packets to pods on
        a 1500-MTU node; the encapsulated packet exceeds the smaller link and
        is dropped, so only cross-node traffic between those node groups
        breaks, and only for large payloads.

    Example:
        ``worker-1`` eth0 9001 with pod MTU 8951 (VXLAN); ``worker-3`` eth0
        1500: pod packets from worker-1 to worker-3 over 1450 bytes are lost.

    Fix:
        Give every node the same uplink MTU, or pin the CNI MTU to the
        smallest effective figure across the cluster (uplink minimum −
        overhead) instead of auto-detection.

    Confirm live:
        ``kubectl exec <pod-on-A> -- ping -M do -s <size-28> <pod-ip-on-B>``;
        ``ip link show eth0`` on both nodes.

    References:
        https://docs.tigera.io/calico/latest/networking/configuring/mtu ;
        https://docs.cilium.io/en/stable/network/concepts/routing/
    """
    nodes = node_mtus(model)
    if len(nodes) < 2:
        return
    by_name = {n.node: n for n in nodes}
    reported: set[str] = set()
    for a in nodes:
        p = a.pod_mtu
        encap = a.encapsulation if a.encapsulation in OVERHEAD else None
        if p is None or encap is None:
            continue
        own_eff = a.underlay_mtu - overhead(encap, a.ipv6)
        if p > own_eff:
            continue  # MTU501 reports the node-local fault
        victims = [
            b
            for b in nodes
            if b.node != a.node
            and p > min(a.underlay_mtu, b.underlay_mtu) - overhead(encap, a.ipv6)
        ]
        if not victims:
            continue
        reported.add(a.node)
        smallest = min(b.underlay_mtu for b in victims)
        eff = min(a.underlay_mtu, smallest) - overhead(encap, a.ipv6)
        node = model.nodes.get(a.node)
        yield finding(
            "MTU502",
            model,
            kind="Node",
            meta=node.meta if node else Meta(name=a.node),
            artifacts=True,
            message=f"pods on node {a.node} use MTU {p}, but the path to "
            f"{', '.join(b.node for b in victims[:5])} (uplink MTU {smallest}) carries at most {eff} with {encap}",
            evidence=[
                Evidence(
                    f"Node/{a.node}",
                    f"ip -d link {a.underlay_device} mtu",
                    str(a.underlay_mtu),
                ),
                *[
                    Evidence(f"Node/{a.node}", f.where, str(f.value))
                    for f in a.facts
                    if f.value == p
                ][:1],
                *(
                    Evidence(
                        f"Node/{b.node}",
                        f"ip -d link {b.underlay_device} mtu",
                        str(b.underlay_mtu),
                    )
                    for b in victims[:5]
                ),
            ],
            confirm=(
                kubectl(
                    "exec",
                    f"<pod-on-{a.node}>",
                    "--",
                    "ping",
                    "-c",
                    "3",
                    "-M",
                    "do",
                    "-s",
                    p - 28,
                    f"<pod-ip-on-{victims[0].node}>",
                ),
                cmd("ip", "link", "show").note("on both nodes"),
            ),
            fix=Fix(
                text=f"Pin the CNI MTU to {eff} cluster-wide, or give every node the same uplink MTU."
            ),
        )
    # Pod MTUs that differ between nodes: per-node configuration drift (a hand-edited
    # conflist, a node created before an MTU change). The odd nodes are the ones away
    # from the most common value (ties: the smaller value is taken as the intent).
    pod_mtus = {n.node: n.pod_mtu for n in nodes if n.pod_mtu is not None}
    if len(set(pod_mtus.values())) > 1:
        counts: dict[int, int] = {}
        for v in pod_mtus.values():
            counts[v] = counts.get(v, 0) + 1
        usual = min(counts, key=lambda v: (-counts[v], v))
        peers = sorted(n for n, v in pod_mtus.items() if v == usual)
        for n in nodes:
            p = pod_mtus.get(n.node)
            if p is None or p == usual or n.node in reported:
                continue
            reported.add(n.node)
            node = model.nodes.get(n.node)
            fact = next(f for f in n.facts if f.value == p and not f.is_tunnel_device)
            yield finding(
                "MTU502",
                model,
                kind="Node",
                meta=node.meta if node else Meta(name=n.node),
                artifacts=True,
                message=f"pods on node {n.node} use MTU {p} while {len(peers)} other node(s) "
                f"({', '.join(peers[:5])}) use {usual}: the nodes' CNI configuration has drifted",
                evidence=[
                    Evidence(f"Node/{n.node}", fact.where, str(p)),
                    *(
                        Evidence(
                            f"Node/{m}",
                            next(f.where for f in by_name[m].facts if f.value == usual),
                            str(usual),
                        )
                        for m in peers[:3]
                    ),
                ],
                confirm=(
                    cmd("ip", "-d", "link", "show").note(
                        f"on {n.node} and {peers[0]}: compare the pod veth MTUs"
                    ),
                    cmd("cat", Glob("/etc/cni/net.d/*.conflist")).note("on both nodes"),
                ),
                fix=Fix(
                    text=f"Make {n.node}'s CNI configuration match the other nodes (MTU {usual} if that fits the "
                    "overlay), restart the CNI agent there and recreate its pods."
                ),
            )
    mtus = {n.underlay_mtu for n in nodes}
    if len(mtus) > 1:
        low = min(mtus)
        for n in nodes:
            if n.underlay_mtu > low and n.node not in reported and n.pod_mtu is None:
                node = model.nodes.get(n.node)
                lows = [m.node for m in nodes if m.underlay_mtu == low]
                yield finding(
                    "MTU502",
                    model,
                    kind="Node",
                    meta=node.meta if node else Meta(name=n.node),
                    artifacts=True,
                    message=f"node {n.node} uplink {n.underlay_device} MTU {n.underlay_mtu} differs from "
                    f"{', '.join(lows[:5])} ({low}); a pod MTU derived from {n.node}'s uplink would not fit the others",
                    evidence=[
                        Evidence(
                            f"Node/{n.node}",
                            f"ip -d link {n.underlay_device} mtu",
                            str(n.underlay_mtu),
                        ),
                        *(
                            Evidence(
                                f"Node/{m}",
                                f"ip -d link {by_name[m].underlay_device} mtu",
                                str(low),
                            )
                            for m in lows[:3]
                        ),
                    ],
                    confirm=(
                        cmd("ip", "link", "show", n.underlay_device).note(
                            f"on {n.node} and {lows[0]}"
                        ),
                    ),
                    fix=Fix(
                        text="Use one uplink MTU on every node, or pin the CNI MTU to the smallest uplink minus the overhead."
                    ),
                )

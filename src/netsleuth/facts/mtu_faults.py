"""MTU faults from the node MTU facts (:mod:`netsleuth.facts.overlay_mtu`): a pod MTU
larger than the node's uplink minus the encapsulation overhead (MTU501), and pod
or uplink MTUs that differ between nodes so a cross-node path does not fit
(MTU502). The trace's mtu hop reads the same faults for the nodes on its path.
"""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.facts.faults import Fault
from netsleuth.facts.overlay_mtu import OVERHEAD, node_mtus, overhead
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Glob, cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.objects import Meta, Pod


def ping_targets(model: ClusterModel, node: str) -> tuple[Pod | None, Pod | None]:
    """A running pod on ``node`` and one on another node, for the DF-bit ping."""
    src = next(
        (p for p in model.pods_by_node.get(node, ()) if p.running and p.ip and not p.host_network),
        None,
    )
    dst = next(
        (
            p
            for p in model.pods
            if p.running and p.ip and not p.host_network and p.node_name not in (None, node)
        ),
        None,
    )
    return src, dst


def mtu_exceeds_overlay_faults(model: ClusterModel) -> Iterator[Fault]:
    """MTU501: The pod MTU is larger than the underlay MTU minus the encapsulation overhead."""
    for nm in node_mtus(model):
        eff = nm.effective
        if eff is None:
            continue
        too_big = [f for f in nm.facts if f.value > eff]
        if not too_big:
            continue
        worst = max(f.value for f in too_big)
        node = model.nodes.get(nm.node)
        meta = node.meta if node is not None else Meta(name=nm.node)
        ov = overhead(nm.encapsulation or "none", nm.ipv6)
        src, dst = ping_targets(model, nm.node)
        src_args = ("-n", src.namespace, src.name) if src else (f"<pod-on-{nm.node}>",)
        dst_ip = dst.ip if dst and dst.ip else "<pod-ip-on-another-node>"
        yield Fault(
            layer=Layer.MTU,
            severity=Severity.ERROR,
            kind="Node",
            meta=meta,
            artifacts=True,
            message=f"node {nm.node}: pod MTU {worst} exceeds {eff} = {nm.underlay_device} MTU "
            f"{nm.underlay_mtu} − {ov} ({nm.encapsulation}); packets over {eff} bytes are dropped",
            evidence=[
                Evidence(
                    f"Node/{nm.node}",
                    f"ip -d link {nm.underlay_device} mtu",
                    str(nm.underlay_mtu),
                ),
                Evidence(
                    f"Node/{nm.node}",
                    "encapsulation",
                    f"{nm.encapsulation} ({nm.encapsulation_source})",
                ),
                *(Evidence(f"Node/{nm.node}", f.where, str(f.value)) for f in too_big),
            ],
            confirm=(
                kubectl(
                    "exec", *src_args, "--", "ping", "-c", "3", "-M", "do", "-s", eff - 28, dst_ip
                ).note("fits"),
                kubectl(
                    "exec", *src_args, "--", "ping", "-c", "3", "-M", "do", "-s", worst - 28, dst_ip
                ).note("lost if the MTU is wrong"),
                cmd("ip", "-d", "link", "show").note("on the node"),
            ),
            fix=Fix(
                text=f"Set the CNI MTU to {eff} (or raise {nm.underlay_device} to at least {worst + ov} on every "
                "node), restart the CNI agents and recreate the pods."
            ),
        )


def mtu_mixed_across_nodes_faults(model: ClusterModel) -> Iterator[Fault]:
    """MTU502: Node MTUs differ, so pods on one node send packets another node's path cannot carry."""
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
        yield Fault(
            layer=Layer.MTU,
            severity=Severity.WARNING,
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
            yield Fault(
                layer=Layer.MTU,
                severity=Severity.WARNING,
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
                yield Fault(
                    layer=Layer.MTU,
                    severity=Severity.WARNING,
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

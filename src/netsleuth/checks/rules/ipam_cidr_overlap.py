"""CNI404: pod, Service and node address ranges (and user-given ranges) overlap."""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterator
from typing import Any

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.facts.cluster_cidrs import (
    Range,
    cluster_pod_cidrs,
    node_pod_cidrs,
    overlaps,
    parse_network,
    service_cidrs,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


def _ev(r: Range) -> Evidence:
    obj, _, field = r.source.partition(" ")
    return Evidence(obj, field or "range", r.cidr)


@register(
    id="CNI404",
    layer=Layer.IPAM,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Node",)),
    config=True,
)
def ipam_cidr_overlap(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Pod, Service and node address ranges (and user-given ranges) overlap.

    What it checks:
        Each node's ``spec.podCIDRs`` against the Service CIDR (from
        ``--service-cidr``, kube-apiserver's ``--service-cluster-ip-range``
        or kubeadm-config; when none is visible, against the actual
        ClusterIPs), against other nodes' podCIDRs, and against node
        addresses; the cluster pod CIDR against the Service CIDR; and every
        ``--extra-cidrs`` range (VPN, peered VPC, on-prem) against pod and
        Service ranges.

    Why it breaks traffic:
        An address in two ranges has two routes: packets to a ClusterIP that
        is also a pod address are DNATed or routed to the wrong place, two
        nodes with the same podCIDR hand out the same pod IPs, and pods
        cannot reach a VPN host whose address the cluster routes internally.

    Example:
        Node ``worker-1`` podCIDR ``10.96.1.0/24`` inside the Service CIDR
        ``10.96.0.0/12``; or ``--extra-cidrs 10.244.0.0/16`` (the office VPN)
        equal to the pod CIDR.

    Fix:
        Choose disjoint ranges: the pod CIDR (``--cluster-cidr`` /
        ``podSubnet``), the Service CIDR (``--service-cluster-ip-range``) and
        the node/VPC subnets must not share addresses. Changing a live
        cluster's pod or Service CIDR means re-creating nodes or the
        cluster; for a VPN overlap, change the VPN range.

    Confirm live:
        ``kubectl get nodes -o custom-columns=NAME:.metadata.name,PODCIDRS:.spec.podCIDRs``;
        ``kubectl -n kube-system get pod -l component=kube-apiserver -o yaml | grep service-cluster-ip-range``;
        ``ip route`` on a node.

    References:
        https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/ ;
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
    """
    svc = service_cidrs(model, config.service_cidr)
    nodes = node_pod_cidrs(model)
    cluster_pods = cluster_pod_cidrs(model)
    svc_desc = ", ".join(r.cidr for r in svc)

    # 1. node podCIDR vs Service CIDR (or ClusterIPs, sorted once for range lookups)
    cluster_ips = sorted(
        (cip.version, int(cip), text)
        for text in model.services_by_cluster_ip
        if (cip := _addr(text)) is not None
    )
    for node, r in nodes:
        meta = model.nodes[node].meta
        hit = [s for s in svc if overlaps(r.network, s.network)]
        if hit:
            yield finding(
                "CNI404",
                model,
                kind="Node",
                meta=meta,
                message=f"node {node} podCIDR {r.cidr} overlaps the Service CIDR {svc_desc}",
                evidence=[_ev(r), *(_ev(s) for s in hit)],
                confirm=(kubectl("get", "node", node, "-o", "jsonpath={.spec.podCIDRs}"),),
                fix=Fix(
                    text="Use a pod CIDR (--cluster-cidr) disjoint from the Service CIDR "
                    "(--service-cluster-ip-range); the nodes must be re-registered to get new podCIDRs."
                ),
            )
        elif not svc:
            lo_ip, hi_ip = int(r.network.network_address), int(r.network.broadcast_address)
            lo_k = bisect.bisect_left(cluster_ips, (r.network.version, lo_ip, ""))
            hi_k = bisect.bisect_right(cluster_ips, (r.network.version, hi_ip, "\uffff"))
            ips = sorted(text for _v, _n, text in cluster_ips[lo_k:hi_k])
            if ips:
                owners = [model.services_by_cluster_ip[ip] for ip in ips[:3]]
                yield finding(
                    "CNI404",
                    model,
                    kind="Node",
                    meta=meta,
                    message=f"node {node} podCIDR {r.cidr} contains {len(ips)} ClusterIP(s) "
                    f"({', '.join(ips[:3])}): the pod and Service ranges overlap",
                    evidence=[
                        _ev(r),
                        *(
                            Evidence(
                                f"Service/{s.namespace}/{s.name}",
                                "spec.clusterIP",
                                s.cluster_ip or "",
                            )
                            for s in owners
                        ),
                    ],
                    confirm=(
                        kubectl("get", "node", node, "-o", "jsonpath={.spec.podCIDRs}"),
                        kubectl("get", "svc", "-A", "-o", "wide"),
                    ),
                    fix=Fix(text="Use a pod CIDR disjoint from the Service CIDR."),
                )

    # 2. node podCIDRs overlapping each other
    # Sort and sweep: 5,000 nodes would be 12.5 million pairs compared one by one.
    ordered = sorted(
        nodes, key=lambda nr: (nr[1].network.version, int(nr[1].network.network_address))
    )
    pairs: list[tuple[str, Any, str, Any]] = []
    for i, (n1, r1) in enumerate(ordered):
        end1 = int(r1.network.broadcast_address)
        for n2, r2 in ordered[i + 1 :]:
            if r2.network.version != r1.network.version or int(r2.network.network_address) > end1:
                break
            pairs.append((n1, r1, n2, r2))
    for n1, r1, n2, r2 in pairs:
        if n1 != n2 and overlaps(r1.network, r2.network):
            yield finding(
                "CNI404",
                model,
                kind="Node",
                meta=model.nodes[n2].meta,
                message=f"nodes {n1} and {n2} have overlapping podCIDRs {r1.cidr} and {r2.cidr}: "
                "both hand out the same pod IPs",
                evidence=[_ev(r1), _ev(r2)],
                confirm=(
                    kubectl(
                        "get",
                        "nodes",
                        "-o",
                        "custom-columns=NAME:.metadata.name,PODCIDRS:.spec.podCIDRs",
                    ),
                ),
                fix=Fix(
                    text=f"Drain and delete node {n2}, then let it re-register so the "
                    "node IPAM controller assigns it a free podCIDR."
                ),
            )

    # 3. node addresses inside pod or Service ranges
    pod_ranges = [r for _, r in nodes] + cluster_pods
    range_index = _index([*pod_ranges, *svc])
    for name, node_obj in sorted(model.nodes.items()):
        for a in node_obj.addresses:
            addr = _addr(a.address)
            if addr is None:
                continue
            hit = _containing(range_index, addr)
            if hit:
                yield finding(
                    "CNI404",
                    model,
                    kind="Node",
                    meta=node_obj.meta,
                    message=f"node {name} address {a.address} ({a.type}) lies inside "
                    f"{', '.join(sorted({r.cidr for r in hit}))}: traffic to the node is routed as pod or Service traffic",
                    evidence=[
                        Evidence(f"Node/{name}", "status.addresses", f"{a.type} {a.address}"),
                        *(_ev(r) for r in hit),
                    ],
                    confirm=(kubectl("get", "node", name, "-o", "wide"),),
                    fix=Fix(text="Keep node subnets disjoint from the pod and Service CIDRs."),
                )
                break

    # 4. cluster pod CIDR vs Service CIDR
    for p in cluster_pods:
        for s in svc:
            if overlaps(p.network, s.network):
                yield finding(
                    "CNI404",
                    model,
                    kind="ClusterCIDR",
                    meta=Meta(name=p.cidr),
                    message=f"the cluster pod CIDR {p.cidr} overlaps the Service CIDR {s.cidr}",
                    evidence=[_ev(p), _ev(s)],
                    confirm=(
                        kubectl("cluster-info", "dump").pipe(
                            "grep", "-E", "cluster-cidr|service-cluster-ip-range"
                        ),
                    ),
                    fix=Fix(text="Choose disjoint pod and Service CIDRs."),
                )

    # 5. user-given ranges
    for text in config.extra_cidrs:
        net = parse_network(text)
        if net is None:
            continue
        hits = [r for r in (*svc, *cluster_pods) if overlaps(net, r.network)]
        if not cluster_pods:
            hits += [r for _, r in nodes if overlaps(net, r.network)]
        if hits:
            yield finding(
                "CNI404",
                model,
                kind="ExtraCIDR",
                meta=Meta(name=str(net)),
                message=f"--extra-cidrs {net} overlaps the cluster's "
                f"{', '.join(sorted({r.cidr for r in hits}))}: pods cannot reach those external "
                "addresses (the cluster routes them internally)",
                evidence=[
                    Evidence("--extra-cidrs", "value", str(net)),
                    *(_ev(r) for r in hits[:5]),
                ],
                confirm=(
                    cmd("ip", "route", "get", "<address", "in", "the", "range>").note(
                        "from a node"
                    ),
                    kubectl("exec", "<pod>", "--", "traceroute", "<address", "in", "the", "range>"),
                ),
                fix=Fix(
                    text="Renumber the external range (VPN pool, peered VPC) or the cluster's "
                    "pod/Service CIDR so they are disjoint."
                ),
            )


def _addr(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _index(
    ranges: list[Any],
) -> tuple[list[tuple[int, int, int, Any]], list[int], list[tuple[int, int]]]:
    """Ranges as sorted ``(version, first, last, range)``, with the running maximum of
    ``last`` per version, for containment lookups in O(log n + hits)."""
    items = sorted(
        (
            (r.network.version, int(r.network.network_address), int(r.network.broadcast_address), r)
            for r in ranges
        ),
        key=lambda t: (t[0], t[1], t[2]),
    )
    running: list[int] = []
    cur_v, cur = -1, -1
    for v, _first, last, _r in items:
        if v != cur_v:
            cur_v, cur = v, -1
        cur = max(cur, last)
        running.append(cur)
    return items, running, [(t[0], t[1]) for t in items]


def _containing(
    index: tuple[list[tuple[int, int, int, Any]], list[int], list[tuple[int, int]]], addr: Any
) -> list[Any]:
    """Ranges containing ``addr``: scan back from the last range starting at or before it,
    stopping once no earlier range reaches it."""
    import bisect

    items, running, keys = index
    v, a = addr.version, int(addr)
    pos = bisect.bisect_right(keys, (v, a))
    out = []
    for k in range(pos - 1, -1, -1):
        ver, first, last, r = items[k]
        if ver != v or running[k] < a:
            break
        if first <= a <= last:
            out.append(r)
    return out

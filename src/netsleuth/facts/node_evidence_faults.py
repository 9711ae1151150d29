"""Faults from node evidence and logs (KPX611-613, CNI421-423, MTU511, DNS131).

Each check module keeps the documentation page and the registration and yields
``findings_from`` these; the tracer reads the same faults for the nodes and the
Service on its path (see :mod:`netsleuth.facts.faults`).
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from netsleuth.facts.cluster_cidrs import (
    IPNetwork,
    node_pod_cidrs,
    overlaps,
    parse_network,
    service_cidrs,
)
from netsleuth.facts.cni_detect import detect_cni
from netsleuth.facts.faults import Fault
from netsleuth.facts.kube_dns import corefile_config_map
from netsleuth.facts.kube_proxy_mode import ProxyMode, cluster_proxy_mode, node_proxy_mode
from netsleuth.facts.node_evidence import (
    component_events,
    describe,
    events_on_node,
    kube_ipvs0_addresses,
    nodes_with_events,
    where_seen,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.logs import EventKind
from netsleuth.model.objects import Meta, Pod

# CNIs whose pods sit on a Linux bridge (cni0/cbr0): their pod-to-pod traffic on one node
# crosses the bridge, which netfilter only sees with br_netfilter.
_BRIDGE_CNIS = ("flannel", "canal", "kubenet", "bridge", "weave")
# Devices a CNI gives an address inside the node's own pod range (the pods' gateway).
_CNI_DEVICES = (
    "cni0",
    "cbr0",
    "docker0",
    "flannel.",
    "cilium_host",
    "vxlan.calico",
    "tunl0",
    "weave",
    "kube-bridge",
    "antrea-gw0",
    "nodelocaldns",
)
LEAK_MIN = 5
"""Fewer leaked addresses than this are pods being created or deleted right now."""
FULL = 0.90
_UPSTREAM = re.compile(r"->\s*(\[?[0-9a-fA-F:.]+\]?):53\b")


def kpx_ipvs_addresses_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX611: kube-proxy in IPVS mode has not bound a Service's ClusterIP to kube-ipvs0."""
    cluster = cluster_proxy_mode(model)
    by_ip: dict[str, tuple[str, str]] = {}
    for svc in model.services:
        if svc.type == "ExternalName" or svc.headless:
            continue
        for ip in (
            *(svc.cluster_ips or ((svc.cluster_ip,) if svc.cluster_ip else ())),
            *svc.external_ips,
        ):
            if ip and ip != "None":
                by_ip[ip] = (svc.namespace, svc.name)
    for node, art in sorted(model.node_artifacts.items()):
        bound = kube_ipvs0_addresses(art)
        if bound is None:
            continue
        mode = node_proxy_mode(art)
        ipvs = (mode is not None and mode.mode == ProxyMode.IPVS) or (
            mode is None and cluster is not None and cluster.mode == ProxyMode.IPVS
        )
        if not ipvs:
            continue
        n = model.nodes.get(node)
        meta = n.meta if n is not None else Meta(name=node)
        missing = sorted(ip for ip in by_ip if ip not in bound)
        stale = sorted(ip for ip in bound if ip not in by_ip)
        confirm = (
            cmd("ip", "addr", "show", "kube-ipvs0").note(f"on {node}"),
            cmd("ipvsadm", "-Ln"),
        )
        fix = Fix(
            text=f"Restart kube-proxy on {node}; if addresses stay missing, read its log for the "
            "failed bind.",
            command=kubectl(
                "-n",
                "kube-system",
                "delete",
                "pod",
                "-l",
                "k8s-app=kube-proxy",
                "--field-selector",
                f"spec.nodeName={node}",
            ),
        )
        if missing:
            shown = ", ".join(f"{ip} ({by_ip[ip][0]}/{by_ip[ip][1]})" for ip in missing[:6])
            yield Fault(
                layer=Layer.KUBE_PROXY,
                severity=Severity.ERROR,
                kind="Node",
                meta=meta,
                artifacts=True,
                message=f"node {node}: kube-proxy (IPVS) has not bound {len(missing)} Service "
                f"address(es) to kube-ipvs0, so IPVS never sees connections to them from this "
                f"node: {shown}",
                evidence=[
                    Evidence(
                        f"Node/{node}", "kube-ipvs0 addresses", ", ".join(sorted(bound)) or "none"
                    ),
                    *(
                        Evidence(f"Service/{by_ip[ip][0]}/{by_ip[ip][1]}", "spec.clusterIP", ip)
                        for ip in missing[:6]
                    ),
                ],
                confirm=confirm,
                fix=fix,
            )
        if stale:
            yield Fault(
                layer=Layer.KUBE_PROXY,
                kind="Node",
                meta=meta,
                artifacts=True,
                severity=Severity.INFO,
                message=f"node {node}: kube-ipvs0 still holds {len(stale)} address(es) no Service in "
                f"the input has: {', '.join(stale[:6])} (kube-proxy did not finish a sync, or the "
                "input lacks those Services' namespaces)",
                evidence=[Evidence(f"Node/{node}", "kube-ipvs0 addresses", ", ".join(stale[:12]))],
                confirm=confirm,
                fix=fix,
            )


def kpx_kernel_modules_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX612: A kernel module kube-proxy depends on is not loaded on a node."""
    cluster = cluster_proxy_mode(model)
    cni_names = {c.name for c in detect_cni(model)}
    for node, art in sorted(model.node_artifacts.items()):
        mods = art.modules
        sysctls = art.sysctls or {}
        n = model.nodes.get(node)
        meta = n.meta if n is not None else Meta(name=node)
        problems: list[tuple[str, str, str]] = []  # (module, why, evidence)
        mode = node_proxy_mode(art)
        ipvs = (mode is not None and mode.mode == ProxyMode.IPVS) or (
            mode is None and cluster is not None and cluster.mode == ProxyMode.IPVS
        )
        if ipvs and mods is not None and mods.known_absent("ip_vs"):
            problems.append(
                (
                    "ip_vs",
                    "kube-proxy runs in IPVS mode and cannot program virtual servers",
                    "lsmod",
                )
            )
        bridge_cni = bool(cni_names & set(_BRIDGE_CNIS)) or any(
            t in ("bridge", "flannel") for c in art.cni_configs or () for t in c.plugin_types
        )
        nf_call = sysctls.get("net.bridge.bridge-nf-call-iptables")
        if bridge_cni and (
            nf_call == "0" or (mods is not None and mods.known_absent("br_netfilter"))
        ):
            why = (
                "net.bridge.bridge-nf-call-iptables = 0"
                if nf_call == "0"
                else "br_netfilter is not loaded"
            )
            problems.append(
                (
                    "br_netfilter",
                    f"{why}: traffic between pods on the node's bridge bypasses kube-proxy's "
                    "rules, so Service calls to a pod on the same node hang",
                    "sysctl" if nf_call == "0" else "lsmod",
                )
            )
        no_conntrack = art.conntrack is None and not any(
            k.startswith("net.netfilter.nf_conntrack") for k in sysctls
        )
        if mods is not None and mods.known_absent("nf_conntrack") and no_conntrack:
            problems.append(
                ("nf_conntrack", "no connection tracking: kube-proxy's NAT cannot work", "lsmod")
            )
        if not problems:
            continue
        severity = (
            Severity.ERROR
            if any(m in ("ip_vs", "nf_conntrack") for m, _, _ in problems)
            else Severity.WARNING
        )
        yield Fault(
            layer=Layer.KUBE_PROXY,
            kind="Node",
            meta=meta,
            artifacts=True,
            severity=severity,
            message=f"node {node}: " + "; ".join(f"{m}: {why}" for m, why, _ in problems),
            evidence=[
                Evidence(
                    f"Node/{node}",
                    src,
                    f"{m} not loaded"
                    if src == "lsmod"
                    else "net.bridge.bridge-nf-call-iptables = 0",
                )
                for m, _, src in problems
            ],
            confirm=(
                cmd("lsmod")
                .pipe("grep", "-E", "ip_vs|br_netfilter|nf_conntrack")
                .note(f"on {node}"),
                cmd("sysctl", "net.bridge.bridge-nf-call-iptables"),
            ),
            fix=Fix(
                text=f"On {node}: load "
                + ", ".join(m for m, _, _ in problems)
                + " now (modprobe) and at boot (/etc/modules-load.d/k8s.conf); set "
                "net.bridge.bridge-nf-call-iptables = 1 in /etc/sysctl.d when the CNI uses a bridge.",
                command=cmd("modprobe", "-a", *(m for m, _, _ in problems)).note(
                    f"as root on {node}"
                ),
            ),
        )


def kpx_sync_errors_logged_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX613: kube-proxy's log shows rule syncs that failed."""
    for node, events in nodes_with_events(model, (EventKind.KUBE_PROXY_SYNC_ERROR,)).items():
        pods = [
            p
            for p in model.pods_by_node.get(node, ())
            if p.namespace == "kube-system" and p.name.startswith("kube-proxy")
        ]
        n = model.nodes.get(node)
        if pods:
            kind, meta = "Pod", pods[0].meta
        else:
            kind, meta = "Node", n.meta if n is not None else Meta(name=node)
        total = sum(e.count for e in events)
        first = events[0]
        logs = (
            kubectl("-n", "kube-system", "logs", pods[0].name).pipe("grep", "-iE", "failed|error")
            if pods
            else kubectl(
                "-n",
                "kube-system",
                "get",
                "pods",
                "-l",
                "k8s-app=kube-proxy",
                "--field-selector",
                f"spec.nodeName={node}",
            )
        )
        yield Fault(
            layer=Layer.KUBE_PROXY,
            severity=Severity.WARNING,
            kind=kind,
            meta=meta,
            artifacts=True,
            message=f"node {node}: kube-proxy failed to sync its rules {total} time(s) "
            f"({first.first_time or 'time unknown'} … {events[-1].last_time or first.last_time or '?'}): "
            f"{first.example[:200]}",
            evidence=[
                Evidence(where_seen(e), f"{e.source}: failed syncs", describe(e)) for e in events
            ],
            confirm=(logs,),
            fix=Fix(
                text=f"Find what holds the xtables lock on {node} (lsof /run/xtables.lock), make the "
                "node's iptables backend match kube-proxy's (nft or legacy), then restart kube-proxy "
                "on the node.",
                command=kubectl(
                    "-n",
                    "kube-system",
                    "delete",
                    "pod",
                    "-l",
                    "k8s-app=kube-proxy",
                    "--field-selector",
                    f"spec.nodeName={node}",
                ),
            ),
        )


def cni_local_route_shadows_pods_faults(
    model: ClusterModel, service_cidr: str | None = None
) -> Iterator[Fault]:
    """CNI421: A node's local routing table claims addresses of pods or Services."""
    pod_ranges = node_pod_cidrs(model)
    svc_ranges = service_cidrs(model, service_cidr)
    service_ips = set(model.services_by_cluster_ip)
    index: tuple[list[tuple[int, int]], list[Pod]] | None = None

    def pods_in(net: IPNetwork) -> list[Pod]:
        nonlocal index
        if index is None:
            pairs = sorted(
                ((_key(p.ip), p) for p in model.pods if p.ip and not p.host_network),
                key=lambda t: t[0],
            )
            index = ([k for k, _ in pairs], [p for _, p in pairs])
        keys, pods = index
        lo = (net.version, int(net.network_address))
        hi = (net.version, int(net.broadcast_address))
        return pods[bisect_left(keys, lo) : bisect_right(keys, hi)]

    for node, art in sorted(model.node_artifacts.items()):
        own = [r.network for n, r in pod_ranges if n == node]
        ipvs = kube_ipvs0_addresses(art) or set()
        bad: list[tuple[str, str]] = []
        for route in art.routes or ():
            if route.table != "local" or route.type != "local":
                continue
            net = parse_network(route.destination)
            if net is None:
                continue
            addr_only = net.prefixlen == net.max_prefixlen
            ip = str(net.network_address)
            if addr_only and route.device == "kube-ipvs0" and (ip in service_ips or ip in ipvs):
                continue
            pods_here = [
                p for p in model.pods if p.ip and not p.host_network and _inside(p.ip, net)
            ]
            if (
                addr_only
                and any(_inside(ip, o) for o in own)
                and not pods_here
                and (route.device or "").startswith(_CNI_DEVICES)
            ):
                continue  # the node's own pod gateway
            why = []
            others = [
                f"{n}'s pod CIDR {r.cidr}"
                for n, r in pod_ranges
                if n != node and overlaps(net, r.network)
            ]
            why.extend(others)
            if pods_here and not others:
                why.append(
                    "pod " + ", ".join(f"{p.namespace}/{p.name} {p.ip}" for p in pods_here[:3])
                )
            for r in svc_ranges:
                if overlaps(net, r.network):
                    why.append(f"the Service range {r.cidr}")
                    break
            if why:
                bad.append((f"local {route.destination} dev {route.device or '?'}", "; ".join(why)))
        if not bad:
            continue
        n = model.nodes.get(node)
        first = bad[0][0].split()[1]
        yield Fault(
            layer=Layer.NODE,
            severity=Severity.ERROR,
            kind="Node",
            meta=n.meta if n is not None else Meta(name=node),
            artifacts=True,
            message=f"node {node}: the local routing table claims addresses that are not the node's, "
            "so its pods' packets to them are delivered to the node itself: "
            + "; ".join(f"{r} covers {why}" for r, why in bad[:4]),
            evidence=[
                Evidence(f"Node/{node}", "ip route show table local", f"{r} ({why})")
                for r, why in bad[:6]
            ],
            confirm=(
                cmd("ip", "route", "show", "table", "local").note(f"on {node}"),
                cmd("ip", "route", "get", _probe(first)),
            ),
            fix=Fix(
                text=f"On {node}, delete the route or the address that creates it, and remove it from "
                "the configuration that adds it at boot.",
                command=cmd("ip", "route", "del", "local", first, "table", "local").note(
                    f"as root on {node}"
                ),
            ),
        )


def _key(ip: str) -> tuple[int, int]:
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return (0, 0)
    return (a.version, int(a))


def _inside(ip: str, net: IPNetwork) -> bool:
    try:
        return ipaddress.ip_address(ip) in net
    except ValueError:
        return False


def _probe(cidr: str) -> str:
    net = parse_network(cidr)
    if net is None or net.num_addresses < 4:
        return cidr.split("/")[0]
    return str(net.network_address + 2)


def cni_host_local_ipam_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI422: Host-local IPAM on a node is leaking or out of addresses, or IP allocation failed."""
    cidrs = dict(node_pod_cidrs(model))
    names = set(model.node_artifacts)
    for log in model.container_logs:
        pod = model.pod(log.namespace, log.pod)
        if (
            pod is not None
            and pod.node_name
            and any(e.kind == EventKind.CNI_IPAM_ERROR for e in log.events)
        ):
            names.add(pod.node_name)
    for node in sorted(names):
        art = model.node_artifacts.get(node)
        failures = events_on_node(model, node, (EventKind.CNI_IPAM_ERROR,))
        parts: list[str] = []
        evidence: list[Evidence] = []
        severity = Severity.WARNING
        allocations = art.ipam if art is not None else None
        if allocations:
            held = {a.address for a in allocations}
            used = {p.ip for p in model.pods_by_node.get(node, ()) if p.ip and not p.host_network}
            leaked = sorted(held - used, key=_ip_key) if model.has_kind("Pod") else []
            rng = cidrs.get(node)
            size = None
            if rng is not None and rng.network.version == 4:
                # host-local hands out the range minus network, broadcast and gateway
                size = max(rng.network.num_addresses - 3, 1)
            if size and len(held) >= FULL * size:
                severity = Severity.ERROR
                parts.append(
                    f"{len(held)} of {size} addresses of {rng.cidr if rng else '?'} allocated"
                )
            if len(leaked) >= LEAK_MIN:
                parts.append(
                    f"{len(leaked)} allocation(s) held by no pod on the node (leaked): "
                    + ", ".join(leaked[:5])
                )
            if parts:
                evidence.append(
                    Evidence(
                        f"Node/{node}",
                        "/var/lib/cni/networks",
                        f"{len(held)} allocated, {len(used)} pod IPs on the node",
                    )
                )
        if failures:
            severity = Severity.ERROR
            total = sum(e.count for e in failures)
            parts.append(f"IP allocation failed {total} time(s): {failures[0].example[:160]}")
            evidence.extend(
                Evidence(where_seen(e), f"{e.source}: IPAM failures", describe(e)) for e in failures
            )
        if not parts:
            continue
        n = model.nodes.get(node)
        net = next((a.network for a in allocations or () if a.network), "<net>")
        yield Fault(
            layer=Layer.IPAM,
            kind="Node",
            meta=n.meta if n is not None else Meta(name=node),
            artifacts=True,
            severity=severity,
            message=f"node {node}: " + "; ".join(parts),
            evidence=evidence,
            confirm=(
                cmd("ls", f"/var/lib/cni/networks/{net}/").pipe("wc", "-l").note(f"on {node}"),
                cmd("crictl", "pods", "-q").pipe("wc", "-l"),
            ),
            fix=Fix(
                text=f"On {node}: remove the allocation files of addresses no running container holds "
                "(check the IDs with crictl ps -a), or drain the node and clear the directory; then "
                "find why CNI DEL did not run. A larger podCIDR only delays it.",
            ),
        )


def _ip_key(ip: str) -> tuple[int, int]:
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return (9, 0)
    return (a.version, int(a))


def cni_neighbour_table_overflow_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI423: A node's kernel logged neighbour (ARP) table overflows."""
    for node, events in nodes_with_events(model, (EventKind.NEIGHBOUR_TABLE_OVERFLOW,)).items():
        art = model.node_artifacts.get(node)
        sysctls = (art.sysctls if art is not None else None) or {}
        thresh = sysctls.get("net.ipv4.neigh.default.gc_thresh3")
        n = model.nodes.get(node)
        total = sum(e.count for e in events)
        yield Fault(
            layer=Layer.NODE,
            severity=Severity.WARNING,
            kind="Node",
            meta=n.meta if n is not None else Meta(name=node),
            artifacts=True,
            message=f"node {node}: the kernel logged 'neighbor table overflow' {total}×"
            + (f" (gc_thresh3 = {thresh})" if thresh else "")
            + ": new neighbours (pods, peers) could not be resolved",
            evidence=[
                *(
                    Evidence(f"Node/{node}", f"{e.source}: neighbour overflow", describe(e))
                    for e in events
                ),
                *(
                    [Evidence(f"Node/{node}", "net.ipv4.neigh.default.gc_thresh3", thresh)]
                    if thresh
                    else []
                ),
            ],
            confirm=(
                cmd("dmesg").pipe("grep", "neighbor table overflow").note(f"on {node}"),
                cmd("ip", "-4", "neigh").pipe("wc", "-l"),
                cmd("sysctl", "net.ipv4.neigh.default.gc_thresh3"),
            ),
            fix=Fix(
                text=f"Raise net.ipv4.neigh.default.gc_thresh1/2/3 on {node} (e.g. 4096/8192/16384) "
                "in /etc/sysctl.d.",
                command=cmd(
                    "sysctl",
                    "-w",
                    "net.ipv4.neigh.default.gc_thresh1=4096",
                    "net.ipv4.neigh.default.gc_thresh2=8192",
                    "net.ipv4.neigh.default.gc_thresh3=16384",
                ).note(f"as root on {node}"),
            ),
        )


def mtu_over_mtu_drops_logged_faults(model: ClusterModel) -> Iterator[Fault]:
    """MTU511: A node's kernel logged packets dropped for being larger than the MTU."""
    for node, events in nodes_with_events(model, (EventKind.OVER_MTU_DROP,)).items():
        n = model.nodes.get(node)
        total = sum(e.count for e in events)
        yield Fault(
            layer=Layer.MTU,
            severity=Severity.WARNING,
            kind="Node",
            meta=n.meta if n is not None else Meta(name=node),
            artifacts=True,
            message=f"node {node}: the kernel dropped packets larger than the MTU {total}× "
            f"({events[0].example[:120]}): large transfers through it hang",
            evidence=[
                Evidence(f"Node/{node}", f"{e.source}: over-mtu drops", describe(e)) for e in events
            ],
            confirm=(cmd("dmesg").pipe("grep", "over-mtu").note(f"on {node}"),),
            fix=Fix(
                text="Set the pod (CNI) MTU to the underlay MTU minus the encapsulation overhead, or "
                "raise the underlay MTU, then restart the pods.",
            ),
        )


def dns_coredns_logged_errors_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS131: CoreDNS's log shows a forwarding loop or timeouts to its upstream."""
    loops = component_events(model, "coredns-log", (EventKind.COREDNS_LOOP,))
    timeouts = component_events(model, "coredns-log", (EventKind.COREDNS_UPSTREAM_TIMEOUT,))
    if not loops and not timeouts:
        return
    cm = corefile_config_map(model)
    meta = cm.meta if cm is not None else Meta(name="coredns", namespace="kube-system")
    confirm = (
        kubectl("-n", "kube-system", "logs", "-l", "k8s-app=kube-dns").pipe(
            "grep", "-E", "Loop|i/o timeout"
        ),
        kubectl("-n", "kube-system", "get", "configmap", meta.name, "-o", "yaml"),
    )
    if loops:
        yield Fault(
            layer=Layer.DNS,
            severity=Severity.ERROR,
            kind="ConfigMap",
            meta=meta,
            artifacts=True,
            message="CoreDNS detected a forwarding loop (its upstream answers with CoreDNS itself) "
            f"{sum(e.count for e in loops)}×: it exits and restarts, and external names do not "
            f"resolve ({loops[0].example[:160]})",
            evidence=[Evidence(where_seen(e), "coredns log: loop", describe(e)) for e in loops],
            confirm=confirm,
            fix=Fix(
                text="Point the Corefile's forward at a real resolver, or start the kubelet with "
                "--resolv-conf=/run/systemd/resolve/resolv.conf so pods (and CoreDNS) do not get the "
                "node's 127.0.0.53 stub.",
            ),
        )
    if timeouts:
        upstreams = sorted({m.group(1) for e in timeouts for m in _UPSTREAM.finditer(e.example)})
        yield Fault(
            layer=Layer.DNS,
            kind="ConfigMap",
            meta=meta,
            artifacts=True,
            severity=Severity.WARNING,
            message=f"CoreDNS timed out {sum(e.count for e in timeouts)}× waiting for its upstream"
            + (f" {', '.join(upstreams)}" if upstreams else "")
            + ": external lookups fail or take seconds",
            evidence=[
                Evidence(where_seen(e), "coredns log: upstream timeouts", describe(e))
                for e in timeouts
            ],
            confirm=confirm,
            fix=Fix(
                text="Make the upstream resolver reachable from the pod network (egress firewall, "
                "security groups, NAT), or forward to one that is.",
            ),
        )

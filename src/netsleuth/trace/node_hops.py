"""Node, CNI, overlay, MTU, kube-proxy and conntrack hops.

Every status here comes from a fact function in :mod:`netsleuth.facts` that the
scan's checks read too (the faults of ``cni_health``, ``ipam``, ``mtu_faults``,
``conntrack``, ``kube_proxy_faults``, ``coredns_health``), restricted to the
nodes, pods and Service on this path. A fault about another node is not this
path's problem; a capacity risk on a path node (podCIDR filling up, CoreDNS
sizing) is a note, not a hop status. When the node files a hop needs are absent
the hop is ``not-checked`` and names the command that collects them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace

from netsleuth.facts import cni_health, conntrack, coredns_health, ipam, kube_proxy_faults
from netsleuth.facts import mtu_faults as mtu
from netsleuth.facts import node_evidence_faults as node_ev
from netsleuth.facts.cni_detect import primary_cni
from netsleuth.facts.faults import Fault, faults_of
from netsleuth.facts.kube_proxy_mode import cluster_proxy_mode, node_proxy_mode
from netsleuth.facts.node_agents import (
    KUBE_PROXY,
    AgentGap,
    cni_agent_fix,
    entry_nodes,
    gaps_on,
    kube_proxy_fix,
)
from netsleuth.facts.overlay_mtu import OVERHEAD, NodeMtu, is_ipv6, node_mtus, overhead
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_pods
from netsleuth.model.commands import Command, cmd, kubectl
from netsleuth.model.findings import Layer, Severity, Subject, Verdict
from netsleuth.model.objects import Pod, Service, ServicePort
from netsleuth.trace.evidence import ev, exec_in, svc_ref
from netsleuth.trace.result import Hop, Risk

COLLECT = "netsleuth collect"
"""Collects every node file below in one go (``netsleuth collect``, see the README)."""


def _on_node(node: str, *argv: str) -> Command:
    return cmd(*argv).note(f"on node {node}")


def hop_from_fault(f: Fault, *, root_cause: bool = False) -> Hop:
    """The hop for a fault on this path: ``error`` is broken, ``warning`` a degradation."""
    evidence = tuple(f.evidence)
    if not any(e.object == f.subject for e in evidence):
        evidence = (ev(f.subject, "the object this is about", f.kind), *evidence)
    return Hop(
        layer=f.layer,
        status=Verdict.BROKEN if f.severity is Severity.ERROR else Verdict.WARNING,
        summary=f.message,
        evidence=evidence,
        confirm=f.confirm,
        fix=f.fix,
        root_cause=root_cause,
        change=Subject(f.kind, f.meta.namespace, f.meta.name),
    )


def risk_from_fault(f: Fault) -> Risk:
    return Risk(layer=f.layer, summary=f.message, evidence=tuple(f.evidence), fix=f.fix)


def _faults(
    model: ClusterModel, fns: Iterable[Callable[[ClusterModel], Iterable[Fault]]]
) -> list[Fault]:
    return [f for fn in fns for f in faults_of(model, fn)]


# Faults that break or degrade traffic through a node now.
# (A CNI agent missing or not ready on a path node is read per node: :func:`agent_hop`.)
NODE_FAULTS: tuple[Callable[[ClusterModel], Iterable[Fault]], ...] = (
    cni_health.cni_node_network_not_ready_faults,
    cni_health.cni_pod_cidr_route_missing_faults,
    node_ev.cni_local_route_shadows_pods_faults,
    node_ev.cni_neighbour_table_overflow_faults,
)
# Faults that explain why a pod has no sandbox or no address.
POD_START_FAULTS: tuple[Callable[[ClusterModel], Iterable[Fault]], ...] = (
    cni_health.cni_daemonset_not_ready_faults,
    cni_health.cni_node_network_not_ready_faults,
    cni_health.cni_pod_sandbox_failed_faults,
    ipam.ipam_allocation_failed_faults,
    ipam.ipam_pod_cidr_nearly_full_faults,
    ipam.ipam_pod_cidr_too_small_faults,
    node_ev.cni_host_local_ipam_faults,
)
# Capacity risks on a node: notes for a path whose pods already run there.
NODE_RISKS: tuple[Callable[[ClusterModel], Iterable[Fault]], ...] = (
    ipam.ipam_pod_cidr_too_small_faults,
    ipam.ipam_pod_cidr_nearly_full_faults,
    ipam.ipam_allocation_failed_faults,
    node_ev.cni_host_local_ipam_faults,
)


def agent_hop(gap: AgentGap) -> Hop:
    """A node-local agent (CNI agent, kube-proxy) with no ready pod on a path node: the
    hop is broken, and what to change is its DaemonSet; the pod is the evidence."""
    ds = gap.daemonset
    if gap.agent == KUBE_PROXY:
        what = (
            "the Service rules there are not kept in sync with the endpoints (missing after a "
            "node restart, stale after every change)"
        )
        fix = kube_proxy_fix(ds, [gap.node])
    else:
        what = (
            "new pods there get no interface, and the node's routes and policy rules are not "
            "kept up to date"
        )
        fix = cni_agent_fix(gap)
    return Hop(
        layer=gap.layer,
        status=Verdict.BROKEN,
        summary=f"{'' if gap.agent == KUBE_PROXY else gap.agent + ' agent '}DaemonSet "
        f"{ds.namespace}/{ds.name} has no ready pod on node "
        f"{gap.node} ({gap.describe()}): {what}",
        evidence=(
            ev(f"DaemonSet/{ds.namespace}/{ds.name}", "the agent of node " + gap.node, gap.agent),
            *gap.evidence(),
        ),
        confirm=gap.confirm(),
        fix=fix,
        change=Subject("DaemonSet", ds.namespace, ds.name),
    )


def entry_kube_proxy_hop(model: ClusterModel, svc: Service) -> Hop | None:
    """kube-proxy on the nodes where traffic from outside enters a NodePort/LoadBalancer
    Service (:func:`netsleuth.facts.node_agents.entry_nodes`): which of them gets a
    connection is the load balancer's (or the client's) choice, so no ready kube-proxy pod
    on every one of them is broken, on some of them a warning naming those nodes. Nothing
    when every candidate's kube-proxy is ready, or the input shows no Node or no
    kube-proxy pod (no gap is known)."""
    candidates = entry_nodes(model, svc)
    gaps = gaps_on(model, candidates, KUBE_PROXY)
    if not gaps:
        return None
    down = sorted({g.node for g in gaps})
    base = agent_hop(gaps[0])
    ds = gaps[0].daemonset
    who = "the load balancer" if svc.type == "LoadBalancer" else "the client"
    stale = (
        "Service rules not kept in sync with the endpoints (missing after a node restart, "
        "stale after every change)"
    )
    states = "; ".join(f"{g.node}: {g.describe()}" for g in gaps[:4]) + (
        f" and {len(gaps) - 4} more" if len(gaps) > 4 else ""
    )
    if len(down) == len(candidates):
        summary = (
            f"kube-proxy DaemonSet {ds.namespace}/{ds.name} has no ready pod on any node this "
            f"traffic can enter through ({states}): every connection meets {stale}"
        )
        status = Verdict.BROKEN
    else:
        summary = (
            f"kube-proxy DaemonSet {ds.namespace}/{ds.name} has no ready pod on "
            f"{len(down)} of the {len(candidates)} nodes this traffic can enter through "
            f"({states}); the entry node is {who}'s choice, so connections entering there "
            f"meet {stale}"
        )
        status = Verdict.WARNING
    return replace(
        base,
        status=status,
        summary=summary,
        evidence=(*base.evidence, *(e for g in gaps[1:] for e in g.evidence())),
        fix=kube_proxy_fix(ds, down),
    )


def _agent_pods(model: ClusterModel, nodes: Iterable[str], exclude: set[str]) -> set[str]:
    """The system pods (CNI agents among them) on these nodes: a CNI DaemonSet fault names
    its not-ready agent pod as evidence."""
    return {
        f"Pod/{q.namespace}/{q.name}"
        for n in nodes
        for q in model.pods_by_node.get(n, ())
        if q.namespace != "default" and q.namespace not in exclude
    }


def node_hops(
    model: ClusterModel, src: Pod, backends: list[Pod], risks: list[Risk]
) -> Iterator[Hop]:
    dst = backends[0]
    src_node, dst_node = src.node_name, dst.node_name
    nodes = list(dict.fromkeys(n for n in (src_node, dst_node) if n))
    node_refs = {f"Node/{n}" for n in nodes}
    same = src_node is not None and src_node == dst_node
    where = (
        f"same node {src_node}" if same else f"{src_node or '?'} → {dst_node or '?'} (cross-node)"
    )
    if not model.nodes:
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.NOT_CHECKED,
            summary="no Node objects in the input (manifests only): node, overlay, MTU and "
            "conntrack cannot be checked",
            confirm=(kubectl("get", "nodes", "-o", "yaml"),),
        )
        return
    if not nodes or not any(n in model.nodes for n in nodes):
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.NOT_CHECKED,
            summary=f"{where}: the pods' nodes are not in the input",
            confirm=(kubectl("get", "nodes", "-o", "yaml"),),
        )
        return
    # Node readiness: a node fault (no pod network, CNI agent down there) is the hop.
    refs = node_refs | _agent_pods(model, nodes, {src.namespace, dst.namespace})
    node_faults = [f for f in _faults(model, NODE_FAULTS) if f.about(refs)]
    not_ready = [
        ev(f"Node/{n}", "status.conditions[Ready]", "False")
        for n in nodes
        if (node := model.nodes.get(n)) is not None and node.ready is False
    ]
    agents = [agent_hop(g) for g in gaps_on(model, nodes, "cni")]
    if node_faults or agents:
        yield from agents
        yield from (hop_from_fault(f) for f in node_faults)
    elif not_ready:
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.BROKEN,
            summary=f"{where}: node not ready for pod traffic",
            evidence=tuple(not_ready),
            confirm=tuple(kubectl("describe", "node", n) for n in nodes),
        )
    else:
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.OK,
            summary=where,
            evidence=tuple(
                ev(f"Node/{n}", "status.conditions[Ready]", "True")
                for n in nodes
                if n in model.nodes
            ),
        )
    # A node firewall dropping DNS, on the client's node or a CoreDNS pod's.
    dns_nodes = [src_node, *(p.node_name for p in dns_pods(model))]
    dns_refs = {f"Node/{n}" for n in dict.fromkeys(dns_nodes) if n}
    for f in faults_of(model, coredns_health.dns_node_firewall_drops_faults):
        if f.about(dns_refs):
            yield hop_from_fault(f)
    risks.extend(risk_from_fault(f) for f in _faults(model, NODE_RISKS) if f.about(node_refs))
    if not same:
        yield _overlay_hop(model, nodes)
        yield from _mtu_hops(model, src, dst, nodes)
    yield from _conntrack_hops(model, nodes)


def _encapsulation(text: str | None) -> str | None:
    """The overhead key of a CNI's encapsulation (``vxlan``; ``ipip`` of ``ipip+vxlan``)."""
    if not text:
        return None
    key = text.split("+")[0].lower()
    return key if key in OVERHEAD else None


def _overlay_hop(model: ClusterModel, nodes: list[str]) -> Hop:
    cni = primary_cni(model)
    if cni is None:
        return Hop(
            layer=Layer.OVERLAY,
            status=Verdict.NOT_CHECKED,
            summary="no CNI in the input (agent DaemonSet, its ConfigMap or node CNI config): "
            "encapsulation not known",
            confirm=(kubectl("get", "daemonsets", "-n", "kube-system", "-o", "yaml"),),
        )
    if cni.encapsulation is None:
        return Hop(
            layer=Layer.OVERLAY,
            status=Verdict.NOT_CHECKED,
            summary=f"{cni.name}: its encapsulation setting is not in the input",
            evidence=(ev(cni.evidence, "encapsulation", "not set in the input"),),
            confirm=(cmd("ip", "-d", "link", "show").note("on a node"),),
        )
    key = _encapsulation(cni.encapsulation)
    node = model.nodes.get(nodes[0]) if nodes else None
    ipv6 = is_ipv6(node.internal_ip if node else None)
    ov = overhead(key, ipv6) if key is not None else None
    text = f"{cni.name}: {cni.encapsulation}" + (
        f" (overhead {ov} bytes{' over IPv6' if ipv6 else ''})" if ov else ""
    )
    return Hop(
        layer=Layer.OVERLAY,
        status=Verdict.OK,
        summary=text,
        evidence=(ev(cni.evidence, "encapsulation", cni.encapsulation),) if cni.evidence else (),
    )


def _mtu_hops(model: ClusterModel, src: Pod, dst: Pod, nodes: list[str]) -> Iterator[Hop]:
    node_refs = {f"Node/{n}" for n in nodes}
    ping = (
        (exec_in(src, cmd("ping", "-M", "do", "-s", "1422", "-c", "3", dst.ip)),) if dst.ip else ()
    )
    faults = [
        f
        for f in _faults(
            model,
            (
                mtu.mtu_exceeds_overlay_faults,
                node_ev.mtu_over_mtu_drops_logged_faults,
            ),
        )
        if f.about(node_refs)
    ]
    # MTU drift names the odd node; its evidence cites the others it differs from. A path
    # between two of those others (same MTU) is not affected: only the odd node's paths are.
    faults += [
        f for f in faults_of(model, mtu.mtu_mixed_across_nodes_faults) if f.subject in node_refs
    ]
    if faults:
        yield from (hop_from_fault(f) for f in faults)
        return
    by_node: dict[str, NodeMtu] = {m.node: m for m in node_mtus(model)}
    missing = [n for n in nodes if n not in by_node]
    if missing:
        yield Hop(
            layer=Layer.MTU,
            status=Verdict.NOT_CHECKED,
            summary="no node link data (ip -d link) for " + ", ".join(missing),
            confirm=(*(_on_node(n, "ip", "-d", "link", "show") for n in missing), *ping),
        )
        return
    facts = [by_node[n] for n in nodes]
    pod_mtus = [m.pod_mtu for m in facts]
    limits = [m.effective for m in facts]
    if any(v is None for v in (*pod_mtus, *limits)):
        yield Hop(
            layer=Layer.MTU,
            status=Verdict.NOT_CHECKED,
            summary="the node files do not show the pod MTU or the encapsulation of "
            + ", ".join(
                m.node
                for m, p, e in zip(facts, pod_mtus, limits, strict=True)
                if p is None or e is None
            ),
            confirm=(*(_on_node(n, "ip", "-d", "link", "show") for n in nodes), *ping),
        )
        return
    limit = min(v for v in limits if v is not None)
    biggest = max(v for v in pod_mtus if v is not None)
    yield Hop(
        layer=Layer.MTU,
        status=Verdict.OK,
        summary=f"pod MTU {biggest} fits the path's {limit} "
        f"({' / '.join(f'{m.node} {m.underlay_device} {m.underlay_mtu}' for m in facts)} "
        f"− {facts[0].encapsulation})",
        evidence=tuple(
            ev(f"Node/{m.node}", f"ip -d link {m.underlay_device} mtu", m.underlay_mtu)
            for m in facts
        ),
        confirm=ping,
    )


def _conntrack_hops(model: ClusterModel, nodes: list[str]) -> Iterator[Hop]:
    node_refs = {f"Node/{n}" for n in nodes}
    faults = [
        f
        for f in _faults(model, (conntrack.ct_table_nearly_full_faults, conntrack.ct_drops_faults))
        if f.about(node_refs)
    ]
    if faults:
        yield from (hop_from_fault(f) for f in faults)
        return
    usage = []
    missing = []
    for n in nodes:
        art = model.node_artifacts.get(n)
        count, limit = conntrack.count_and_max(art) if art is not None else (None, None)
        if count is None or not limit:
            missing.append(n)
        else:
            usage.append((n, count, limit))
    if missing:
        yield Hop(
            layer=Layer.CONNTRACK,
            status=Verdict.NOT_CHECKED,
            summary="no conntrack counts (nf_conntrack_count / nf_conntrack_max) for "
            + ", ".join(missing),
            confirm=tuple(
                _on_node(
                    n,
                    "cat",
                    "/proc/sys/net/netfilter/nf_conntrack_count",
                    "/proc/sys/net/netfilter/nf_conntrack_max",
                )
                for n in missing
            ),
        )
        return
    yield Hop(
        layer=Layer.CONNTRACK,
        status=Verdict.OK,
        summary="; ".join(f"{n}: {c:,} of {m:,} entries ({c / m:.0%})" for n, c, m in usage),
        evidence=tuple(
            ev(f"Node/{n}", "/proc/sys/net/netfilter/nf_conntrack_count", f"{c} of {m}")
            for n, c, m in usage
        ),
    )


def kube_proxy_hop(model: ClusterModel, src: Pod, svc: Service, sp: ServicePort) -> Hop:
    """kube-proxy on the client's node: its mode, and its rules for this Service when the
    node's iptables-save / ipvsadm output is in the input."""
    if svc.headless:
        return Hop(
            layer=Layer.KUBE_PROXY,
            status=Verdict.SKIPPED,
            summary="headless Service: no virtual IP, kube-proxy is not involved",
        )
    node = src.node_name or ""
    # kube-proxy on the client's node does the DNAT: no ready pod there breaks this hop.
    down = gaps_on(model, [node], KUBE_PROXY)
    if down:
        return agent_hop(down[0])
    rule_faults = [
        f
        for f in _faults(
            model,
            (
                kube_proxy_faults.kpx_stale_iptables_rules_faults,
                kube_proxy_faults.kpx_stale_ipvs_rules_faults,
                node_ev.kpx_ipvs_addresses_faults,
            ),
        )
        if _names_service(f, svc) and f.about({f"Node/{node}"})
    ]
    if rule_faults:
        return hop_from_fault(rule_faults[0])
    # kube-proxy on the node cannot work (a module missing) or failed its last syncs
    node_faults = [
        f
        for f in _faults(
            model, (node_ev.kpx_kernel_modules_faults, node_ev.kpx_sync_errors_logged_faults)
        )
        if f.about({f"Node/{node}"}) and f.severity is not Severity.INFO
    ]
    if node_faults:
        return hop_from_fault(node_faults[0])
    mode_faults = [
        f
        for f in faults_of(model, kube_proxy_faults.kpx_mixed_modes_faults)
        if f.subject == f"Node/{node}"
    ]
    if mode_faults:
        return hop_from_fault(mode_faults[0])
    info = cluster_proxy_mode(model)
    art = model.node_artifacts.get(node)
    node_mode = node_proxy_mode(art) if art is not None else None
    grep = (
        cmd("iptables-save", "-t", "nat")
        .pipe("grep", "-e", f"{svc.namespace}/{svc.name}")
        .note(f"on node {node}")
    )
    if node_mode is not None and svc.cluster_ip:
        where = f"{svc.cluster_ip}:{sp.port}/{sp.protocol}"
        return Hop(
            layer=Layer.KUBE_PROXY,
            status=Verdict.OK,
            summary=f"mode {node_mode.mode} on {node}; its rules for {where} match the ready endpoints",
            evidence=(ev(f"Node/{node}", "kube-proxy mode (from its rules)", node_mode.mode),),
            confirm=(grep,),
        )
    mode = f"mode {info.mode} (from {info.evidence})" if info is not None else "mode not known"
    return Hop(
        layer=Layer.KUBE_PROXY,
        status=Verdict.NOT_CHECKED,
        summary=f"{mode}; node {node}'s kube-proxy rules (iptables-save / ipvsadm -Ln) "
        "are not in the input",
        confirm=(
            grep,
            _on_node(node, "ipvsadm", "-Ln"),
        ),
    )


def _names_service(f: Fault, svc: Service) -> bool:
    """The fault is about ``svc``: its subject, its evidence, or the object it rests on (a
    kube-proxy fault names kube-proxy's DaemonSet as what to change, and the Service here)."""
    return f.about({svc_ref(svc)}) or any(
        m.name == svc.name and m.namespace == svc.namespace for m in f.also
    )


def coredns_path_faults(model: ClusterModel) -> list[Fault]:
    """Faults that stop every ClusterFirst lookup: no DNS Service, no ready CoreDNS endpoint,
    no CoreDNS replica available."""
    return [
        f
        for f in _faults(
            model,
            (
                coredns_health.dns_service_missing_faults,
                coredns_health.dns_no_ready_endpoints_faults,
                coredns_health.coredns_replicas_unavailable_faults,
            ),
        )
        if f.severity is Severity.ERROR
    ]


CHURN_RESTARTS = 5
"""Restarts from which a CoreDNS pod is restarting over and over (DNS104's threshold)."""


def _churning_now(model: ClusterModel, f: Fault) -> bool:
    """A CoreDNS restart fault whose pods are not all Ready now, or restart over and over
    (:data:`CHURN_RESTARTS` or more): lookups sent to them time out again and again. A few
    past restarts of pods Ready again (two OOMKills under a burst) are a sizing risk for
    the next burst, a note rather than a degradation of this path."""
    for m in f.also:
        pod = model.pod(m.namespace or "", m.name)
        if pod is None:
            continue
        if not pod.ready or any(s.restart_count >= CHURN_RESTARTS for s in pod.container_statuses):
            return True
    return False


def coredns_churn_hops(model: ClusterModel) -> list[Hop]:
    """CoreDNS pods restarting now: lookups sent to a restarting pod time out until its
    endpoint is withdrawn, a degradation of every path that uses cluster DNS. A forwarding
    loop in CoreDNS's log takes every lookup down too; its upstream timeouts are a note
    (:func:`coredns_risks`), they only hurt the names CoreDNS forwards. Pods that restarted
    before and are Ready now are a note too."""
    restarts = [
        f
        for f in faults_of(model, coredns_health.coredns_restarts_faults)
        if _churning_now(model, f)
    ]
    loops = [
        f
        for f in faults_of(model, node_ev.dns_coredns_logged_errors_faults)
        if f.severity is Severity.ERROR
    ]
    return [hop_from_fault(f) for f in (*restarts, *loops)]


def coredns_risks(model: ClusterModel) -> list[Risk]:
    """CoreDNS sizing and resilience (replicas left, limits, cache, past restarts): risks
    for every path that uses cluster DNS, notes rather than hop statuses."""
    past = [
        f
        for f in faults_of(model, coredns_health.coredns_restarts_faults)
        if not _churning_now(model, f)
    ]
    return [
        risk_from_fault(f)
        for f in (
            *past,
            *_faults(
                model,
                (
                    coredns_health.coredns_replicas_unavailable_faults,
                    coredns_health.coredns_cpu_limit_low_faults,
                    coredns_health.coredns_memory_limit_low_faults,
                    coredns_health.corefile_no_cache_faults,
                    node_ev.dns_coredns_logged_errors_faults,
                ),
            ),
        )
        if f.severity is not Severity.ERROR
    ]


def root_cause_hops_for_pods(model: ClusterModel, pods: list[Pod]) -> list[Hop]:
    """CNI/IPAM faults that explain why these pods have no sandbox or no address."""
    refs = {f"Pod/{p.namespace}/{p.name}" for p in pods}
    nodes = {p.node_name for p in pods if p.node_name}
    refs |= {f"Node/{n}" for n in nodes}
    refs |= _agent_pods(model, nodes, {p.namespace for p in pods})
    for p in pods:
        o = model.owner(p)
        refs.add(f"{o.kind}/{o.namespace}/{o.name}")
    names = {(p.namespace, p.name) for p in pods}

    def about_these_pods(f: Fault) -> bool:
        # A fault whose evidence cites these pods or their events (CNI403, CNI407) explains
        # them more directly than one about their node's capacity (CNI405, CNI406).
        for e in f.evidence:
            kind, _, rest = e.object.partition("/")
            ns, _, name = rest.partition("/")
            if kind == "Pod" and (ns, name) in names:
                return True
            if kind == "Event" and any(
                ns == pns and name.startswith(pname + ".") for pns, pname in names
            ):
                return True
        return False

    found = sorted(
        (f for f in _faults(model, POD_START_FAULTS) if f.about(refs)),
        key=lambda f: (not about_these_pods(f), -f.severity.rank),
    )
    return [hop_from_fault(f, root_cause=True) for f in found if f.severity is not Severity.INFO]

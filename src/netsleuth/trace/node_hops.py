"""Node, overlay, MTU, kube-proxy and conntrack hops."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_pods
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Finding, Layer, Severity, Verdict
from netsleuth.model.objects import Pod, Service, ServicePort
from netsleuth.trace.check_findings import checks_ran, cni_infos, findings_about
from netsleuth.trace.evidence import ev, exec_in, svc_ref
from netsleuth.trace.result import Hop

# The checks a trace reuses: only those about one node, one pod or CoreDNS, so the
# first trace on a 150,000-pod cluster does not pay for cluster-wide scans
# (CIDR overlaps, ndots audits) that cannot change its verdict.
NODE_CNI_CHECKS = ("CNI401", "CNI402", "CNI403", "CNI405", "CNI406", "CNI407", "CNI412")
COREDNS_CHECKS = ("DNS102", "DNS103", "DNS104", "DNS105", "DNS106", "DNS107")

ENCAP_OVERHEAD = {"vxlan": 50, "geneve": 50, "ipip": 20, "wireguard": 60, "none": 0}


def _hop_from_finding(f: Finding, layer: Layer) -> Hop:
    status = Verdict.BROKEN if f.severity is Severity.ERROR else Verdict.WARNING
    subject = ev(f.subject.ref(), f"(check {f.rule_id})", f.severity)
    evidence = (
        f.evidence
        if any(e.object == subject.object for e in f.evidence)
        else (subject, *f.evidence)
    )
    return Hop(
        layer=layer,
        status=status,
        summary=f.message,
        evidence=evidence,
        confirm=f.confirm,
        fix=f.fix,
        detail=(f"from check {f.rule_id}",),
        change=f.subject,
    )


def node_hops(model: ClusterModel, src: Pod, backends: list[Pod]) -> Iterator[Hop]:
    dst = backends[0]
    src_node, dst_node = src.node_name, dst.node_name
    nodes = [n for n in (src_node, dst_node) if n]
    node_refs = [f"Node/{n}" for n in nodes]
    # Node readiness and network availability.
    bad = []
    for name in dict.fromkeys(nodes):
        node = model.nodes.get(name)
        if node is None:
            continue
        if node.ready is False:
            bad.append(ev(f"Node/{name}", "status.conditions[Ready]", "False"))
        for c in node.conditions:
            if c.type == "NetworkUnavailable" and c.is_true:
                bad.append(
                    ev(
                        f"Node/{name}",
                        "status.conditions[NetworkUnavailable]",
                        f"True ({c.reason})",
                    )
                )
    cni_findings = findings_about(model, NODE_CNI_CHECKS, node_refs)
    same = src_node is not None and src_node == dst_node
    where = (
        f"same node {src_node}" if same else f"{src_node or '?'} → {dst_node or '?'} (cross-node)"
    )
    if not model.nodes:
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.UNKNOWN,
            summary="no Nodes in the input (manifests only): node, overlay and MTU hops cannot be checked",
        )
        return
    if not nodes or not any(n in model.nodes for n in nodes):
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.UNKNOWN,
            summary=f"{where}; the pods' nodes are not in the input",
        )
    elif bad:
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.BROKEN,
            summary=f"{where}: node not ready for pod traffic",
            evidence=tuple(bad),
            confirm=tuple(kubectl("describe", "node", n) for n in dict.fromkeys(nodes)),
        )
    else:
        yield Hop(
            layer=Layer.NODE,
            status=Verdict.OK,
            summary=where,
            evidence=tuple(
                ev(r, "status.conditions[Ready]", "True") for r in dict.fromkeys(node_refs)
            ),
        )
    for f in cni_findings:
        yield _hop_from_finding(f, Layer.CNI if f.layer is Layer.CNI else f.layer)
    # A node firewall dropping DNS, on the client's node or a CoreDNS pod's (DNS116).
    dns_nodes = [src_node, *(p.node_name for p in dns_pods(model))]
    dns_refs = [f"Node/{n}" for n in dict.fromkeys(dns_nodes) if n]
    for f in findings_about(model, ("DNS116",), dns_refs):
        yield _hop_from_finding(f, Layer.DNS)
    if not same:
        infos = cni_infos(model)
        # As primary_cni: prefer an overlay CNI over aws-node (the overlay decides the MTU).
        cni = next((i for i in infos if i.name != "aws-vpc-cni"), infos[0] if infos else None)
        if cni is None:
            yield Hop(
                layer=Layer.OVERLAY,
                status=Verdict.UNKNOWN,
                summary="CNI not visible in the input: encapsulation unknown",
            )
        else:
            encap = cni.encapsulation or "unknown"
            overhead = ENCAP_OVERHEAD.get(encap.split("+")[0].lower())
            text = f"{cni.name}: {encap}" + (f" (overhead {overhead} bytes)" if overhead else "")
            yield Hop(
                layer=Layer.OVERLAY,
                status=Verdict.OK if cni.encapsulation else Verdict.UNKNOWN,
                summary=text,
                evidence=(ev(cni.evidence, "encapsulation", encap),) if cni.evidence else (),
            )
        mtu = findings_about(model, ("MTU",), node_refs)
        if mtu:
            for f in mtu:
                yield _hop_from_finding(f, Layer.MTU)
        elif checks_ran(model, ("MTU",)):
            yield Hop(
                layer=Layer.MTU,
                status=Verdict.OK,
                summary="the MTU checks found no mismatch on these nodes"
                + (f" (pod MTU {cni.configured_mtu})" if cni and cni.configured_mtu else ""),
                confirm=(
                    exec_in(src, cmd("ping", "-M", "do", "-s", "1422", "-c", "3", backends[0].ip)),
                )
                if backends[0].ip
                else (),
            )
        else:
            yield Hop(
                layer=Layer.MTU,
                status=Verdict.UNKNOWN,
                summary="no MTU data (CNI config or node links) in the input",
                confirm=(
                    exec_in(src, cmd("ping", "-M", "do", "-s", "1422", "-c", "3", backends[0].ip)),
                )
                if backends[0].ip
                else (),
            )
    for f in findings_about(model, ("CT",), node_refs):
        yield _hop_from_finding(f, Layer.CONNTRACK)


def kube_proxy_hop(model: ClusterModel, src: Pod, svc: Service, sp: ServicePort) -> Hop | None:
    """kube-proxy mode, and the node's rules for this Service when node artifacts are given."""
    if svc.headless:
        return Hop(
            layer=Layer.KUBE_PROXY,
            status=Verdict.SKIPPED,
            summary="headless Service: no virtual IP, kube-proxy is not involved",
        )
    from netsleuth.facts.kube_proxy_mode import cluster_proxy_mode

    sref = svc_ref(svc)
    findings = findings_about(model, ("KPX",), [sref, f"Node/{src.node_name}"])
    svc_findings = [
        f for f in findings if f.subject.ref() == sref or any(e.object == sref for e in f.evidence)
    ]
    if svc_findings:
        return _hop_from_finding(svc_findings[0], Layer.KUBE_PROXY)
    info = cluster_proxy_mode(model)
    if info is None:
        return None
    mode, where = str(info.mode), info.evidence
    art = model.node_artifacts.get(src.node_name or "")
    extra = ""
    if art is not None and (art.iptables is not None or art.ipvs is not None):
        extra = f"; node {src.node_name}'s rules for {svc.cluster_ip}:{sp.port} match the ready endpoints"
    return Hop(
        layer=Layer.KUBE_PROXY,
        status=Verdict.OK,
        summary=f"mode {mode} (from {where}){extra}",
        confirm=(
            cmd("iptables-save", "-t", "nat")
            .pipe("grep", "-e", f"{svc.namespace}/{svc.name}")
            .note(f"on node {src.node_name}"),
        ),
    )


COREDNS_REFS = (
    "Deployment/kube-system/coredns",
    "Deployment/kube-system/kube-dns",
    "ConfigMap/kube-system/coredns",
    "Service/kube-system/kube-dns",
)


def coredns_health_hop(model: ClusterModel) -> Hop | None:
    """CoreDNS works now but is at risk (CPU throttling, small memory limit, restarts,
    no cache): a warning on the DNS layer, from the DNS checks about CoreDNS itself."""
    findings = [
        f
        for f in findings_about(model, COREDNS_CHECKS, COREDNS_REFS)
        if f.severity is not Severity.INFO and f.subject.ref() in COREDNS_REFS
    ]
    if not findings:
        return None
    worst = (
        Verdict.BROKEN if any(f.severity is Severity.ERROR for f in findings) else Verdict.WARNING
    )
    # CoreDNS answered (the name resolved): a risk, not a break, whatever the severity.
    worst = Verdict.WARNING if worst is Verdict.BROKEN else worst
    return Hop(
        layer=Layer.DNS,
        status=worst,
        summary="CoreDNS at risk: " + "; ".join(f"{f.rule_id} {f.message}" for f in findings[:3]),
        evidence=tuple(e for f in findings for e in f.evidence)[:8],
        confirm=tuple(dict.fromkeys(c for f in findings for c in f.confirm))[:4],
        fix=findings[0].fix,
        detail=tuple(f"from check {f.rule_id}" for f in findings),
    )


def root_cause_hops_for_pods(model: ClusterModel, pods: list[Pod]) -> list[Hop]:
    """CNI/IPAM findings that explain why these pods have no sandbox or no address."""
    refs = {f"Pod/{p.namespace}/{p.name}" for p in pods}
    nodes = {p.node_name for p in pods if p.node_name}
    refs |= {f"Node/{n}" for n in nodes}
    # The CNI agent pods on those nodes (a DaemonSet finding names them as evidence).
    for n in nodes:
        refs |= {
            f"Pod/{q.namespace}/{q.name}"
            for q in model.pods_by_node.get(n, ())
            if q.namespace != "default" and q.namespace not in {p.namespace for p in pods}
        }
    for p in pods:
        o = model.owner(p)
        refs.add(f"{o.kind}/{o.namespace}/{o.name}")
    out = []
    names = {(p.namespace, p.name) for p in pods}

    def about_these_pods(f: Finding) -> bool:
        # A finding whose evidence cites these pods or their events (CNI403, CNI407) explains
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
        findings_about(model, NODE_CNI_CHECKS, refs),
        key=lambda f: (not about_these_pods(f), -f.severity.rank),
    )
    for f in found:
        if f.severity is Severity.INFO:
            continue
        hop = _hop_from_finding(f, f.layer if f.layer in (Layer.CNI, Layer.IPAM) else Layer.CNI)
        out.append(
            Hop(
                layer=hop.layer,
                status=hop.status,
                summary=hop.summary,
                evidence=hop.evidence,
                confirm=hop.confirm,
                fix=hop.fix,
                detail=hop.detail,
                root_cause=True,
                change=hop.change,
            )
        )
    return out

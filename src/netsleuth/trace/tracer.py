"""Walk the packet path hop by hop and name the first hop that breaks.

The paths (``MISSION.md``):

- pod → Service: dns → service → endpoints → target-port → policy-egress →
  policy-ingress → kube-proxy → node (→ overlay → mtu when cross-node) → mesh;
- pod → pod: policy-egress → policy-ingress → node (→ overlay → mtu);
- pod → outside: dns → policy-egress → node (SNAT is out of sight);
- outside → Ingress/Gateway → Service → pod: ingress → service → endpoints →
  target-port → policy-ingress (from the controller) → node;
- outside → LoadBalancer/NodePort Service → pod: loadbalancer → service →
  endpoints → target-port → policy-ingress (from outside) → node.

A hop whose data is missing is ``unknown`` with the reason, never ``ok``.
When a hop breaks because of an object in another layer (DNS times out
because a policy blocks port 53), the broken hop's evidence names that
object and a second hop in the culprit's layer carries the root cause.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from netsleuth.errors import QueryError
from netsleuth.facts import dns_resolution as dnssim
from netsleuth.facts.attribution import workload_of
from netsleuth.facts.cluster_domain import cluster_domain
from netsleuth.facts.kube_dns import ndots_amplification
from netsleuth.facts.node_agents import gaps_on
from netsleuth.facts.service_backends import not_ready_reason, selector_near_miss
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_pods, dns_service, has_kube_dns, with_kube_dns
from netsleuth.model.commands import Command, Snippet, cmd, kubectl, merge_patch, sh_c
from netsleuth.model.findings import Fix, Layer, Subject, Verdict
from netsleuth.model.objects import Pod, Service, ServicePort
from netsleuth.model.targets import Target, parse_target
from netsleuth.trace.evidence import ev, exec_in, pod_ref, selector_text, slices_cmd, svc_ref
from netsleuth.trace.result import Hop, Risk, TraceQuery, TraceResult

MAX_BACKENDS = 25
"""Backends evaluated one by one for policy; beyond that a sample (the verdict says so)."""


@dataclass
class _Walk:
    model: ClusterModel
    protocol: str
    hops: list[Hop] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    """The nodes the path goes through, in path order (see :attr:`TraceResult.nodes`)."""

    def add(self, hop: Hop) -> Hop:
        self.hops.append(hop)
        return hop

    def via(self, *pods: Pod) -> None:
        """The path goes through these pods' nodes."""
        for p in pods:
            if p.node_name and p.node_name not in self.nodes:
                self.nodes.append(p.node_name)


def trace(
    model: ClusterModel,
    src: str,
    dst: str,
    *,
    port: int | str | None = None,
    protocol: str = "TCP",
    domain: str | None = None,
    namespace: str | None = None,
) -> TraceResult:
    """Trace ``src`` → ``dst``. Raises :class:`QueryError` when either cannot be resolved.

    ``domain`` is the cluster domain when the user gives it; ``None`` derives it from the
    input (:func:`netsleuth.facts.cluster_domain.cluster_domain`, as the scan does).

    ``namespace`` is the default namespace of bare names (``-n``), see
    :func:`netsleuth.model.targets.qualify`.
    """
    domain = cluster_domain(model, domain)
    protocol = protocol.upper()
    if protocol not in ("TCP", "UDP", "SCTP"):
        raise QueryError(f"unknown protocol {protocol}", tip="Use tcp, udp or sctp.")
    s = parse_target(model, src, role="src", namespace=namespace)
    d = parse_target(model, dst, role="dst", namespace=namespace)
    if port is None:
        port = d.port
    w = _Walk(model=model, protocol=protocol)
    if not has_kube_dns(model) and not model.pods_by_namespace.get("kube-system"):
        # Manifests only: nothing of kube-system was given. Assume the standard
        # CoreDNS (derived, marked so) rather than calling DNS broken.
        w.model = model = with_kube_dns(model)
        w.notes.append(
            "kube-dns is not in the input: a standard CoreDNS (k8s-app=kube-dns in kube-system) is assumed"
        )
    src_pod = s.pods[0] if s.pods else None
    if src_pod is not None:
        w.via(src_pod)
    if s.form == "workload" and s.workload and len(s.pods) > 1:
        w.notes.append(
            f"{s.workload.describe()} has {len(s.pods)} pods; tracing from {s.pods[0].name}"
        )
    if s.form not in ("external", "ip") and src_pod is None:
        w.add(
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.NOT_CHECKED,
                summary=f"{s.describe()} has no pod in the input to trace from",
                confirm=(_pods_cmd(s),),
            )
        )
        return _result(model, s, d, port, protocol, "unknown", w)

    if s.form == "external":
        if d.form == "url":
            path = "ingress"
            _north_south_url(w, d, domain)
        elif d.form == "service" and d.service is not None:
            path = "loadbalancer"
            _north_south_service(w, d.service, port)
        else:
            raise QueryError(
                "from 'external', the destination must be a URL or a LoadBalancer/NodePort Service",
                tip="e.g. netsleuth trace external https://shop.example.com/ or external ns/svc",
            )
        return _result(model, s, d, port, protocol, path, w)

    assert src_pod is not None or s.form == "ip"
    if src_pod is None:
        raise QueryError(
            "an IP source must be a pod IP", tip="Give the pod as ns/name, or use 'external'."
        )

    if d.form == "url":
        d = Target(form="dns", text=d.text, dns_name=d.url_host, port=d.port)
        port = port or d.port
    if d.form == "dns":
        assert d.dns_name is not None
        res = _dns_hop(w, src_pod, d.dns_name, domain)
        if res is None or not res.resolved:
            return _result(model, s, d, port, protocol, "pod-to-service", w)
        ans = res.answer
        assert ans is not None
        if ans.kind in ("service", "headless") and ans.service is not None:
            _service_path(w, src_pod, ans.service, port)
            return _result(model, s, d, port, protocol, "pod-to-service", w)
        if ans.kind == "external-name" and ans.service is not None:
            w.add(
                Hop(
                    layer=Layer.SERVICE,
                    status=Verdict.OK,
                    summary=f"ExternalName {svc_ref(ans.service)} is a CNAME to {ans.target}; "
                    "no ClusterIP, no kube-proxy, no endpoints",
                    evidence=(ev(svc_ref(ans.service), "spec.externalName", ans.target),),
                )
            )
            _external_path(w, src_pod, ans.target or "", port, resolved_via_dns=True)
            return _result(model, s, d, port, protocol, "pod-to-external", w)
        if ans.kind == "pod" and ans.target:
            pods = model.pods_by_ip.get(ans.target, ())
            if pods:
                _pod_path(w, src_pod, pods[0], port)
                return _result(model, s, d, port, protocol, _pod_path_name(src_pod, pods[0]), w)
        _external_path(w, src_pod, d.dns_name, port, resolved_via_dns=True)
        return _result(model, s, d, port, protocol, "pod-to-external", w)

    if d.form == "service" and d.service is not None:
        svc = d.service
        if d.ip:
            w.add(
                Hop(
                    layer=Layer.DNS,
                    status=Verdict.SKIPPED,
                    summary=f"addressed by ClusterIP {d.ip}: no DNS lookup",
                )
            )
        else:
            name = svc.name if svc.namespace == src_pod.namespace else f"{svc.name}.{svc.namespace}"
            w.notes.append(f"the app is assumed to call the Service as {name!r}")
            res = _dns_hop(w, src_pod, name, domain)
            if res is None or not res.resolved:
                return _result(model, s, d, port, protocol, "pod-to-service", w)
        _service_path(w, src_pod, svc, port)
        return _result(model, s, d, port, protocol, "pod-to-service", w)

    if d.form in ("pod", "workload"):
        if not d.pods:
            w.add(
                Hop(
                    layer=Layer.ENDPOINTS,
                    status=Verdict.NOT_CHECKED,
                    summary=f"{d.describe()} has no pod in the input",
                    confirm=(_pods_cmd(d),),
                )
            )
            return _result(model, s, d, port, protocol, "pod-to-pod", w)
        w.add(
            Hop(
                layer=Layer.DNS,
                status=Verdict.SKIPPED,
                summary="addressed by pod IP: no DNS lookup",
            )
        )
        dst_pod = d.pods[0]
        _pod_path(w, src_pod, dst_pod, port)
        return _result(model, s, d, port, protocol, _pod_path_name(src_pod, dst_pod), w)

    if d.form == "ip" and d.ip:
        w.add(
            Hop(
                layer=Layer.DNS,
                status=Verdict.SKIPPED,
                summary=f"addressed by IP {d.ip}: no DNS lookup",
            )
        )
        _external_path(w, src_pod, d.ip, port, resolved_via_dns=False)
        return _result(model, s, d, port, protocol, "pod-to-external", w)
    raise QueryError(f"cannot trace to {dst}")


def _pods_cmd(t: Target) -> Command:
    """Lists the pods a SRC/DST would have, to add them to the input."""
    ns = t.workload.namespace if t.workload is not None else None
    return kubectl("get", "pods", *(("-n", ns) if ns else ("-A",)), "-o", "yaml")


def _pod_path_name(a: Pod, b: Pod) -> str:
    if a.node_name and a.node_name == b.node_name:
        return "same-node"
    return "cross-node"


def _result(
    model: ClusterModel,
    s: Target,
    d: Target,
    port: int | str | None,
    protocol: str,
    path: str,
    w: _Walk,
) -> TraceResult:
    q = TraceQuery(
        src=s.text,
        dst=d.text,
        port=port,
        protocol=protocol,
        src_resolved=s.describe(),
        dst_resolved=d.describe(),
        path=path,
        notes=tuple(w.notes),
    )
    from netsleuth.trace.attribution import attribute_hops

    risks = tuple({r.summary: r for r in w.risks}.values())
    hops = attribute_hops(model, w.hops)
    nodes = list(w.nodes)
    for h in hops:  # a node a hop names (a CoreDNS pod's node dropping DNS, a kube-proxy's)
        refs = [e.object for e in h.evidence] + ([h.change.ref()] if h.change else [])
        for r in refs:
            name = r[len("Node/") :] if r.startswith("Node/") else ""
            if name and name not in nodes:
                nodes.append(name)
    return TraceResult(
        query=q,
        hops=hops,
        problems=model.problems,
        risks=risks,
        nodes=tuple(nodes),
    )


# --------------------------------------------------------------------------- dns


def _dns_hop(w: _Walk, pod: Pod, name: str, domain: str) -> dnssim.Resolution | None:
    model = w.model
    res = dnssim.resolve(model, pod, name, domain)
    cfg = res.config
    detail = [
        f"resolv.conf: nameserver {' '.join(cfg.nameservers)}; search {' '.join(cfg.search) or '(none)'}; "
        f"ndots:{cfg.ndots}"
    ]
    detail += [f"query {n + 1}: {a}" for n, a in enumerate(res.attempts)]
    evidence = [ev(pod_ref(pod), "spec.dnsPolicy", cfg.policy)]
    if cfg.note:
        detail.append(cfg.note)
    confirm = [exec_in(pod, cmd("nslookup", name)), exec_in(pod, cmd("cat", "/etc/resolv.conf"))]
    if res.absolute:
        w.add(
            Hop(
                layer=Layer.DNS,
                status=Verdict.SKIPPED if res.resolved else Verdict.BROKEN,
                summary=f"{name} is fully qualified (trailing dot): one lookup, no search list"
                + ("" if res.resolved else "; it does not exist"),
                detail=tuple(detail),
                evidence=tuple(evidence),
                confirm=tuple(confirm),
            )
        )
        return res if res.resolved else None
    ans = res.answer
    assert ans is not None
    cluster_name = ans.kind in ("service", "headless", "external-name", "pod")

    if not res.resolved:
        others = dnssim.services_named(model, name.split(".")[0])
        hint = ""
        fix = None
        if others:
            o = others[0]
            hint = f"; a Service {o.name} exists in namespace {o.namespace}: call it {o.name}.{o.namespace}"
            fix = Fix(
                text=f"Use the namespace-qualified name {o.name}.{o.namespace} "
                f"(or {o.name}.{o.namespace}.svc.{domain}) in the client's configuration."
            )
            evidence.append(ev(svc_ref(o), "metadata.namespace", o.namespace))
        if cfg.effective_policy != "ClusterFirst":
            hint = f"; dnsPolicy {cfg.policy} does not use cluster DNS" + (
                f" ({cfg.note})" if cfg.note else ""
            )
            fix = Fix(
                text="Set dnsPolicy: ClusterFirstWithHostNet for hostNetwork pods (or ClusterFirst).",
                command=merge_patch(
                    "deploy",
                    pod.namespace,
                    "<owner>",
                    {"spec": {"template": {"spec": {"dnsPolicy": "ClusterFirstWithHostNet"}}}},
                ),
            )
        w.add(
            Hop(
                layer=Layer.DNS,
                status=Verdict.BROKEN,
                summary=f"{name} → NXDOMAIN after {len(res.attempts)} lookups ({res.queries} queries){hint}",
                detail=tuple(detail),
                evidence=tuple(evidence),
                confirm=tuple(confirm),
                fix=fix,
            )
        )
        return None

    # The name resolves in principle: now check that the pod can actually reach CoreDNS.
    if cfg.effective_policy == "ClusterFirst":
        server_hop = _dns_server_reachability(w, pod)
        if server_hop is not None:
            w.hops.insert(
                len(w.hops) - (1 if server_hop.root_cause else 0),
                Hop(
                    layer=Layer.DNS,
                    status=Verdict.BROKEN,
                    summary=f"{name} cannot be resolved: {server_hop.summary if not server_hop.root_cause else 'queries to CoreDNS are dropped, the lookup times out'}",
                    detail=tuple(detail),
                    evidence=tuple(evidence) + server_hop.evidence,
                    confirm=tuple(confirm),
                    fix=server_hop.fix if not server_hop.root_cause else None,
                    change=server_hop.change,
                    change_field=server_hop.change_field,
                ),
            )
            if not server_hop.root_cause:
                w.hops.remove(server_hop)
            return None
    if cluster_name and cfg.effective_policy == "ClusterFirst":
        # The simulation answers under the kubelet's domain; CoreDNS answers only its zones
        # (DNS117: the same fault the scan reports).
        from netsleuth.facts.cluster_domain import cluster_domain_mismatch_faults, corefile_zones
        from netsleuth.facts.faults import faults_of
        from netsleuth.trace.node_hops import hop_from_fault

        served = corefile_zones(model)
        mismatch = faults_of(model, cluster_domain_mismatch_faults)
        if mismatch and served is not None and domain not in served[2]:
            hop = hop_from_fault(mismatch[0])
            w.add(
                replace(
                    hop,
                    summary=f"{name} cannot be resolved: {hop.summary}",
                    detail=tuple(detail),
                    confirm=(*confirm, *hop.confirm),
                )
            )
            return None
    wasted = len(res.attempts) - 1
    summary = f"{name} → {ans.name}" + (f" ({ans.kind})" if ans.kind != "service" else "")
    status = Verdict.OK
    fix = None
    if not cluster_name and wasted > 0:
        summary += (
            f" after {len(res.attempts)} lookups ({res.queries} queries, {2 * wasted} wasted on the search "
            f"list because the name has fewer than ndots:{cfg.ndots} dots)"
        )
        fix = Fix(
            text=f"Call it as {name.rstrip('.')}. (trailing dot), or set dnsConfig options ndots:2 on the pod.",
            snippet=Snippet(
                {
                    "spec": {
                        "template": {
                            "spec": {"dnsConfig": {"options": [{"name": "ndots", "value": "2"}]}}
                        }
                    }
                }
            ),
        )
        # The fact DNS113 reads: a warning when several names are wasted per lookup and no
        # NodeLocal DNSCache answers them; a cost worth a note otherwise.
        amp = ndots_amplification(model, pod, name.rstrip("."), domain)
        if amp is not None and amp.degraded:
            status = Verdict.WARNING
        else:
            w.risks.append(Risk(layer=Layer.DNS, summary=summary, fix=fix))
    elif wasted > 0:
        summary += f" (lookup {len(res.attempts)}, {res.queries} queries)"
    w.add(
        Hop(
            layer=Layer.DNS,
            status=status,
            summary=summary,
            detail=tuple(detail),
            evidence=tuple(evidence),
            confirm=tuple(confirm),
            fix=fix,
        )
    )
    if cfg.effective_policy == "ClusterFirst":
        from netsleuth.trace.node_hops import coredns_churn_hops, coredns_risks

        for hop in coredns_churn_hops(model):
            w.add(hop)
        w.risks.extend(coredns_risks(model))
    return res


def _dns_server_reachability(w: _Walk, pod: Pod) -> Hop | None:
    """kube-dns Service present with ready CoreDNS endpoints, and DNS egress allowed."""
    from netsleuth.trace.node_hops import coredns_path_faults, hop_from_fault

    model = w.model
    down = coredns_path_faults(model)
    if down:
        hop = hop_from_fault(down[0])
        svc = dns_service(model)
        servers = dns_pods(model)
        if svc is not None and servers and down[0].subject == svc_ref(svc):
            # No ready CoreDNS endpoint: what to change is CoreDNS's workload, not its Service.
            owner = workload_of(model, servers[0])
            if owner is not None:
                hop = replace(hop, change=owner.subject())
        w.add(hop)
        return hop
    svc = dns_service(model)
    if svc is None:
        return None
    servers = dns_pods(model)
    # Policy: UDP and TCP 53 to the CoreDNS pods (post-DNAT target ports).
    if not servers:
        return None
    from netsleuth.policy.coverage import POLICY_RESOURCES, unreadable_policies
    from netsleuth.trace.policy_hops import dns_egress_verdict, unknown_policy_hop

    invalid = tuple(
        u
        for u in unreadable_policies(model, (pod.namespace, *(s.namespace for s in servers)))
        if u not in POLICY_RESOURCES
    )
    if invalid:
        # A left-out invalid policy may deny (or allow) DNS: neither answer holds.
        w.add(
            unknown_policy_hop(
                model,
                Layer.POLICY_EGRESS,
                invalid,
                f"DNS from {pod.namespace}/{pod.name} to CoreDNS",
            )
        )
        return None
    blocked = dns_egress_verdict(model, pod, servers, svc)
    if blocked is None:
        return None
    hop = Hop(
        layer=blocked.layer,
        status=Verdict.BROKEN,
        root_cause=True,
        summary=blocked.summary,
        evidence=blocked.evidence,
        confirm=blocked.confirm,
        fix=blocked.fix,
        detail=blocked.detail,
        change=blocked.culprit,
        change_field="spec.egress" if blocked.layer is Layer.POLICY_EGRESS else "spec.ingress",
    )
    w.add(hop)
    return hop


# --------------------------------------------------------------------------- service path


def _pick_service_port(
    svc: Service, port: int | str | None
) -> tuple[ServicePort | None, str | None]:
    if port is None:
        if len(svc.ports) == 1:
            return svc.ports[0], None
        if not svc.ports:
            return None, "the Service has no ports"
        return None, "the Service has several ports: pass --port"
    sp = svc.port_by_name_or_number(port)
    if sp is None:
        have = ", ".join(
            f"{p.port}/{p.protocol}" + (f" ({p.name})" if p.name else "") for p in svc.ports
        )
        return None, f"port {port} is not a port of the Service (it has {have or 'none'})"
    return sp, None


def _service_path(w: _Walk, src: Pod, svc: Service, port: int | str | None) -> None:
    sref = svc_ref(svc)
    sp, why = _pick_service_port(svc, port)
    if svc.type == "ExternalName":
        w.add(
            Hop(
                layer=Layer.SERVICE,
                status=Verdict.OK,
                summary=f"ExternalName → {svc.external_name}; traffic leaves the cluster",
                evidence=(ev(sref, "spec.externalName", svc.external_name),),
            )
        )
        _external_path(w, src, svc.external_name or "", port, resolved_via_dns=True)
        return
    if sp is None:
        w.add(
            Hop(
                layer=Layer.SERVICE,
                status=Verdict.BROKEN if port is not None else Verdict.UNKNOWN,
                summary=f"{sref}: {why}",
                evidence=(ev(sref, "spec.ports", [f"{p.port}/{p.protocol}" for p in svc.ports]),),
                confirm=(kubectl("get", "svc", "-n", svc.namespace, svc.name, "-o", "yaml"),),
                fix=Fix(text=f"Call one of the Service's ports, or add port {port} to the Service.")
                if port is not None
                else None,
            )
        )
        return
    if sp.protocol != w.protocol:
        w.add(
            Hop(
                layer=Layer.SERVICE,
                status=Verdict.BROKEN,
                summary=f"{sref} port {sp.port} is {sp.protocol}, the client speaks {w.protocol}",
                evidence=(ev(sref, "spec.ports.protocol", sp.protocol),),
            )
        )
        return
    if svc.headless:
        kind = "headless (DNS returns pod IPs, no VIP)"
    else:
        kind = f"{svc.type} {svc.cluster_ip or '(IP assigned at creation)'}"
    w.add(
        Hop(
            layer=Layer.SERVICE,
            status=Verdict.OK,
            summary=f"{sref} {kind} port {sp.port}/{sp.protocol} → targetPort {sp.effective_target_port}",
            evidence=(ev(sref, "spec.ports[].targetPort", sp.effective_target_port),),
            confirm=(kubectl("get", "svc", "-n", svc.namespace, svc.name, "-o", "wide"),),
        )
    )
    backends = _endpoints_hop(w, svc, src_node=src.node_name)
    if backends is None:
        return
    target_ports = _target_port_hop(w, svc, sp, backends)
    if not target_ports:
        return
    _policy_hops(w, src, backends, target_ports, svc, sp.port)
    _kube_proxy_hop(w, src, svc, sp)
    _node_hops(w, src, backends)
    _mesh_hop(w, src, backends, svc)


def _nearest_labels(
    model: ClusterModel, ns: str, selector: dict[str, str]
) -> tuple[str, list[Pod]]:
    near = selector_near_miss(model, ns, selector)  # the pod SVC201 names too
    if near is None:
        return "no pod in the namespace shares a label with the selector", []
    return (
        f"nearest: pod {near.pod.name} has {near.describe()} "
        f"(selector wants {selector_text(selector)})",
        [near.pod],
    )


def _endpoints_hop(w: _Walk, svc: Service, src_node: str | None) -> list[Pod] | None:
    """Ready backends (pods) of the Service, or None after adding a broken hop."""
    model = w.model
    sref = svc_ref(svc)
    confirm = [slices_cmd(svc)]
    slices = model.slices_for(svc)
    if not svc.has_selector and not slices:
        w.add(
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.BROKEN if model.has_kind("EndpointSlice") else Verdict.NOT_CHECKED,
                summary=f"{sref} has no selector and no EndpointSlice: nothing behind it",
                evidence=(ev(sref, "spec.selector", "none"),),
                confirm=tuple(confirm),
                fix=Fix(text="Add a selector, or create an EndpointSlice for the Service by hand."),
            )
        )
        return None
    selected = model.pods_matching(svc.namespace, svc.selector) if svc.selector else []
    ready_eps = model.ready_endpoints(svc)
    if not slices and not model.has_kind("EndpointSlice") and not model.has_kind("Endpoints"):
        # Manifests only: infer from pod readiness (derived pods count as ready-to-be).
        if not selected:
            text, _near = _nearest_labels(model, svc.namespace, svc.selector or {})
            w.add(
                Hop(
                    layer=Layer.SERVICE,
                    status=Verdict.BROKEN,
                    change=Subject("Service", svc.namespace, svc.name),
                    change_field="spec.selector",
                    summary=f"selector {selector_text(svc.selector or {})} matches no pod: {text}",
                    evidence=(ev(sref, "spec.selector", selector_text(svc.selector or {})),),
                    confirm=(kubectl("get", "pods", "-n", svc.namespace, "--show-labels"),),
                    fix=Fix(text="Make the Service selector and the pod template labels agree."),
                )
            )
            return None
        w.add(
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.OK,
                summary=f"{len(selected)} pod(s) match the selector (no EndpointSlices in the input; inferred)",
                evidence=(ev(sref, "spec.selector", selector_text(svc.selector or {})),),
            )
        )
        return selected
    if not ready_eps:
        evidence = [ev(sref, "spec.selector", selector_text(svc.selector or {}))]
        if svc.selector and not selected:
            text, near = _nearest_labels(model, svc.namespace, svc.selector)
            if near:
                evidence.append(
                    ev(pod_ref(near[0]), "metadata.labels", selector_text(near[0].labels))
                )
            # The selector is a field of the Service: the fix goes there (layer service).
            w.add(
                Hop(
                    layer=Layer.SERVICE,
                    status=Verdict.BROKEN,
                    change=Subject("Service", svc.namespace, svc.name),
                    change_field="spec.selector",
                    summary=f"no endpoints: selector {selector_text(svc.selector)} matches no pod; {text}",
                    evidence=tuple(evidence),
                    confirm=(
                        *confirm,
                        kubectl("get", "pods", "-n", svc.namespace, "--show-labels"),
                    ),
                    fix=Fix(
                        text="Make the Service selector match the pods' labels (label drift after a rename "
                        "is the usual cause).",
                        command=(
                            merge_patch(
                                "svc",
                                svc.namespace,
                                svc.name,
                                {
                                    "spec": {
                                        "selector": _selector_as_pod_has(
                                            near[0].labels, svc.selector
                                        )
                                    }
                                },
                            )
                        )
                        if near
                        else None,
                    ),
                )
            )
            return None
        reasons = [not_ready_reason(model, p) for p in selected[:5]]
        evidence += [ev(pod_ref(p), "status.conditions[Ready]", "False") for p in selected[:5]]
        owner = workload_of(model, selected[0]) if selected else None
        w.add(
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.BROKEN,
                change=owner.subject() if owner is not None else None,
                change_field="spec.template (readiness)" if owner is not None else "",
                summary=f"no ready endpoints: {len(selected)} pod(s) selected, none Ready: "
                + "; ".join(reasons),
                evidence=tuple(evidence),
                confirm=(
                    *confirm,
                    kubectl("describe", "pod", "-n", svc.namespace, selected[0].name)
                    if selected
                    else kubectl("get", "pods", "-n", svc.namespace),
                ),
                fix=Fix(
                    text="Make the pods pass their readiness probe (check the probe's path and port, and the "
                    "app's dependencies); publishNotReadyAddresses only if clients can cope."
                ),
            )
        )
        # Pods that never got a sandbox or an address: the cause is in the CNI/IPAM layer.
        from netsleuth.trace.node_hops import root_cause_hops_for_pods

        for hop in root_cause_hops_for_pods(model, selected[:20]):
            w.add(hop)
        return None
    pods: list[Pod] = []
    unknown_addrs = 0
    for e in ready_eps:
        found = None
        if e.target is not None and e.target.kind == "Pod":
            found = model.pod(e.target.namespace or svc.namespace, e.target.name)
        if found is None:
            for a in e.addresses:
                cand = model.pods_by_ip.get(a)
                if cand:
                    found = cand[0]
                    break
        if found is not None:
            pods.append(found)
        else:
            unknown_addrs += 1
    summary = f"{len(ready_eps)} ready endpoint(s)"
    status = Verdict.OK
    evidence2 = [
        ev(
            f"EndpointSlice/{s.namespace}/{s.meta.name}",
            "endpoints[].conditions.ready",
            sum(1 for e in s.endpoints if e.is_ready),
        )
        for s in model.slices_for(svc)[:3]
    ]
    not_ready = [p for p in selected if not p.ready]
    if not_ready:
        summary += f"; {len(not_ready)} selected pod(s) not Ready"
    if unknown_addrs:
        summary += f"; {unknown_addrs} endpoint(s) point at no pod in the input"
    # Traffic policy Local: only endpoints on the client's node count.
    if svc.internal_traffic_policy == "Local" and src_node:
        local = [p for p in pods if p.node_name == src_node]
        if not local:
            nodes = sorted({p.node_name or "?" for p in pods})
            # internalTrafficPolicy is a field of the Service: the fix (and the layer) is the Service's.
            w.add(
                Hop(
                    layer=Layer.SERVICE,
                    status=Verdict.BROKEN,
                    change=Subject("Service", svc.namespace, svc.name),
                    change_field="spec.internalTrafficPolicy",
                    summary=f"internalTrafficPolicy Local: no ready endpoint on the client's node {src_node} "
                    f"(ready endpoints are on {', '.join(nodes)}); kube-proxy drops the traffic",
                    evidence=(
                        ev(sref, "spec.internalTrafficPolicy", "Local"),
                        ev(f"Node/{src_node}", "endpoints", "0"),
                    ),
                    confirm=tuple(confirm),
                    fix=Fix(
                        text="Run a backend on every client node (a DaemonSet), or set "
                        "internalTrafficPolicy: Cluster.",
                        command=merge_patch(
                            "svc",
                            svc.namespace,
                            svc.name,
                            {"spec": {"internalTrafficPolicy": "Cluster"}},
                        ),
                    ),
                )
            )
            return None
        pods = local
        summary += f"; internalTrafficPolicy Local: {len(local)} on node {src_node}"
    w.add(
        Hop(
            layer=Layer.ENDPOINTS,
            status=status,
            summary=summary,
            evidence=tuple(evidence2),
            confirm=tuple(confirm),
        )
    )
    if not pods:
        w.add(
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.NOT_CHECKED,
                summary="the ready endpoints are not pods of the input: policy and node hops cannot be checked",
                confirm=(kubectl("get", "pods", "-n", svc.namespace, "-o", "wide"),),
            )
        )
        return None
    return pods


def _selector_as_pod_has(have: dict[str, str], want: dict[str, str]) -> dict[str, str]:
    """The selector rewritten to the nearest pod's values (keys the pod lacks keep theirs)."""
    return {k: have.get(k, v) for k, v in want.items()}


def _target_port_hop(
    w: _Walk, svc: Service, sp: ServicePort, backends: list[Pod]
) -> dict[str, int]:
    """Resolve targetPort per backend pod. Returns pod name -> numeric port for those that resolve."""
    sref = svc_ref(svc)
    tp = sp.effective_target_port
    out: dict[str, int] = {}
    if isinstance(tp, int):
        declared = [
            p
            for p in backends
            if any(
                cp.container_port == tp and cp.protocol == sp.protocol for cp in p.spec.all_ports()
            )
        ]
        for p in backends:
            out[p.name] = tp
        if len(declared) == len(backends):
            w.add(
                Hop(
                    layer=Layer.TARGET_PORT,
                    status=Verdict.OK,
                    summary=f"targetPort {tp}/{sp.protocol} is declared by the backend pods",
                    evidence=(ev(sref, "spec.ports[].targetPort", tp),),
                )
            )
        else:
            w.add(
                Hop(
                    layer=Layer.TARGET_PORT,
                    status=Verdict.NOT_CHECKED,
                    summary=f"targetPort {tp}/{sp.protocol}: the pods do not declare it as a "
                    "containerPort (legal; only the app knows if it listens)",
                    evidence=(ev(sref, "spec.ports[].targetPort", tp),),
                    confirm=(
                        exec_in(backends[0], cmd(*sh_c(cmd("netstat", "-tln"), cmd("ss", "-tln")))),
                    ),
                )
            )
        return out
    missing = []
    for p in backends:
        cp = p.spec.resolve_named_port(tp, sp.protocol)
        if cp is None:
            missing.append(p)
        else:
            out[p.name] = cp.container_port
    if missing:
        p = missing[0]
        declared_ports = (
            ", ".join(
                f"{cp.name or '-'}={cp.container_port}/{cp.protocol}" for cp in p.spec.all_ports()
            )
            or "none"
        )
        status = Verdict.BROKEN if not out else Verdict.WARNING
        w.add(
            Hop(
                layer=Layer.TARGET_PORT,
                status=status,
                summary=f"targetPort {tp!r} is not declared by {len(missing)} of {len(backends)} backend pod(s) "
                f"(pod {p.name} declares {declared_ports}); those endpoints get no port",
                evidence=(
                    ev(sref, "spec.ports[].targetPort", tp),
                    ev(pod_ref(p), "spec.containers[].ports", declared_ports),
                ),
                confirm=(
                    kubectl(
                        "get",
                        "pod",
                        "-n",
                        p.namespace,
                        p.name,
                        "-o",
                        "jsonpath={.spec.containers[*].ports}",
                    ),
                    slices_cmd(svc),
                ),
                fix=Fix(
                    text=f"Name the container port {tp!r} in the pod template, or use the numeric port in the "
                    "Service's targetPort."
                ),
            )
        )
        if not out:
            return {}
    else:
        ports = sorted(set(out.values()))
        w.add(
            Hop(
                layer=Layer.TARGET_PORT,
                status=Verdict.OK,
                summary=f"targetPort {tp!r} → containerPort {','.join(map(str, ports))}/{sp.protocol}",
                evidence=(ev(sref, "spec.ports[].targetPort", tp),),
            )
        )
    return out


# --------------------------------------------------------------------------- policy, node, mesh


def _policy_hops(
    w: _Walk,
    src: Pod,
    backends: list[Pod],
    ports: dict[str, int],
    svc: Service | None = None,
    service_port: int | None = None,
) -> None:
    from netsleuth.trace.policy_hops import policy_hops

    for hop in policy_hops(
        w.model, src, backends[:MAX_BACKENDS], ports, w.protocol, svc, service_port
    ):
        w.add(hop)


def _pod_path(w: _Walk, src: Pod, dst: Pod, port: int | str | None) -> None:
    w.via(src, dst)
    if port is None:
        declared = dst.spec.all_ports()
        if len(declared) == 1:
            port = declared[0].container_port
        else:
            w.add(
                Hop(
                    layer=Layer.POLICY_INGRESS,
                    status=Verdict.UNKNOWN,
                    summary="no port given and the pod does not declare exactly one port: pass --port",
                )
            )
            return
    if isinstance(port, str):
        cp = dst.spec.resolve_named_port(port, w.protocol)
        if cp is None:
            w.add(
                Hop(
                    layer=Layer.TARGET_PORT,
                    status=Verdict.BROKEN,
                    summary=f"pod {dst.name} declares no port named {port!r}",
                )
            )
            return
        port = cp.container_port
    if not dst.ip:
        w.add(
            Hop(
                layer=Layer.ENDPOINTS,
                status=Verdict.UNKNOWN if dst.meta.derived else Verdict.BROKEN,
                summary=f"pod {dst.name} has no IP ({dst.phase})"
                + (" — derived from a template" if dst.meta.derived else ""),
            )
        )
    _policy_hops(w, src, [dst], {dst.name: int(port)})
    _node_hops(w, src, [dst])
    _mesh_hop(w, src, [dst], None)


def _external_path(
    w: _Walk, src: Pod, target: str, port: int | str | None, *, resolved_via_dns: bool
) -> None:
    from netsleuth.trace.policy_hops import external_egress_hop

    w.add(
        external_egress_hop(
            w.model, src, target, port if isinstance(port, int) else None, w.protocol
        )
    )
    node = w.model.nodes.get(src.node_name or "")
    if node is not None:
        where = (
            f"leaves through node {node.name}: SNAT to the node address and the NAT "
            "gateway/proxies are outside what the input shows"
        )
    elif src.node_name:
        where = f"leaves through node {src.node_name}, which is not in the input"
    else:
        where = f"the node of {src.namespace}/{src.name} is not known (no spec.nodeName" + (
            ": the pod stands for its workload's template)" if src.meta.derived else ")"
        )
    w.add(
        Hop(
            layer=Layer.NODE,
            status=Verdict.NOT_CHECKED,
            summary=where,
            confirm=(exec_in(src, cmd("curl", "-sv", "--max-time", "5", target)),),
        )
    )


def _node_hops(w: _Walk, src: Pod, backends: list[Pod]) -> None:
    from netsleuth.trace.node_hops import node_hops

    w.via(src, *backends[:1])  # node_hops follows the first backend
    for hop in node_hops(w.model, src, backends, w.risks):
        w.add(hop)


def _kube_proxy_hop(w: _Walk, src: Pod, svc: Service, sp: ServicePort) -> None:
    from netsleuth.trace.node_hops import kube_proxy_hop

    w.add(kube_proxy_hop(w.model, src, svc, sp))


def _mesh_hop(w: _Walk, src: Pod, backends: list[Pod], svc: Service | None) -> None:
    from netsleuth.trace.mesh_hop import mesh_hop

    hop = mesh_hop(w.model, src, backends)
    if hop is not None:
        w.add(hop)


# --------------------------------------------------------------------------- north-south


def _north_south_url(w: _Walk, d: Target, domain: str) -> None:
    from netsleuth.trace.ingress_hops import ingress_hops

    result = ingress_hops(w.model, d.url_host or "", d.url_path or "/", d.url_scheme or "http")
    for hop in result.hops:
        w.add(hop)
    if result.service is None or result.port is None:
        return
    svc, port = result.service, result.port
    sp, _why = _pick_service_port(svc, port)
    if sp is None:
        return  # the ingress hop already reported the missing port
    backends = _endpoints_hop(w, svc, src_node=None)
    if backends is None:
        return
    ports = _target_port_hop(w, svc, sp, backends)
    if not ports:
        return
    from netsleuth.trace.policy_hops import ingress_from_controller_hop

    w.add(
        ingress_from_controller_hop(
            w.model, result.ingress, result.controller_pods, backends, ports, w.protocol
        )
    )
    if result.controller_pods:
        _node_hops(w, result.controller_pods[0], backends)


def _north_south_service(w: _Walk, svc: Service, port: int | str | None) -> None:
    from netsleuth.trace.ingress_hops import loadbalancer_hop

    sref = svc_ref(svc)
    sp, why = _pick_service_port(svc, port)
    lb = loadbalancer_hop(w.model, svc)
    w.add(lb)
    if lb.status is Verdict.BROKEN:
        return
    if sp is None:
        w.add(
            Hop(
                layer=Layer.SERVICE,
                status=Verdict.BROKEN if port is not None else Verdict.UNKNOWN,
                summary=f"{sref}: {why}",
            )
        )
        return
    w.add(
        Hop(
            layer=Layer.SERVICE,
            status=Verdict.OK,
            summary=f"{sref} {svc.type} port {sp.port}/{sp.protocol}"
            + (f" nodePort {sp.node_port}" if sp.node_port else "")
            + f" → targetPort {sp.effective_target_port}",
        )
    )
    backends = _endpoints_hop(w, svc, src_node=None)
    if backends is None:
        return
    if svc.external_traffic_policy == "Local":
        nodes = sorted({p.node_name or "?" for p in backends})
        all_nodes = sorted(w.model.nodes)
        without = [n for n in all_nodes if n not in nodes]
        status = Verdict.WARNING if without else Verdict.OK
        w.add(
            Hop(
                layer=Layer.LOADBALANCER,
                status=status,
                summary=f"externalTrafficPolicy Local: ready endpoints only on {', '.join(nodes)}"
                + (
                    f"; traffic sent to {', '.join(without)} is dropped unless the load balancer's "
                    "health check (healthCheckNodePort) takes those nodes out"
                    if without
                    else ""
                ),
                evidence=(ev(sref, "spec.externalTrafficPolicy", "Local"),),
                fix=Fix(
                    text="Keep Local (it preserves the client IP) only with a load balancer that honours the "
                    "health check node port; otherwise set externalTrafficPolicy: Cluster."
                )
                if without
                else None,
            )
        )
    ports = _target_port_hop(w, svc, sp, backends)
    if not ports:
        return
    from netsleuth.trace.node_hops import agent_hop
    from netsleuth.trace.policy_hops import ingress_from_external_hop

    w.add(ingress_from_external_hop(w.model, backends, ports, w.protocol))
    from netsleuth.trace.node_hops import entry_kube_proxy_hop

    entry = entry_kube_proxy_hop(w.model, svc)  # kube-proxy where the traffic enters
    if entry is not None:
        w.add(entry)
    # The entry node is the load balancer's choice; the backend's node is on every path.
    for gap in gaps_on(w.model, [backends[0].node_name or ""], "cni"):
        w.add(agent_hop(gap))


__all__ = ["trace"]

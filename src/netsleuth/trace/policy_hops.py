"""The policy-egress and policy-ingress hops, from the reference engine's decisions.

Ports are the destination pod's ports after DNAT (a Service's targetPort):
NetworkPolicy is enforced on the pod, after kube-proxy has rewritten the
ClusterIP:port to podIP:targetPort. That is why a rule written with the
Service port blocks the traffic (the ``ingress-rule-service-port`` trap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from netsleuth.facts.attribution import denying_policy, isolating_policy
from netsleuth.facts.cni_detect import unenforcing_cni
from netsleuth.facts.policy_facts import DNS_EGRESS_SNIPPET, rule_aims_at_dns
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, Snippet, cmd, json_patch, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Subject, Verdict
from netsleuth.model.objects import Ingress, Pod, Service
from netsleuth.policy import (
    Decision,
    Direction,
    DirectionDecision,
    Endpoint,
    IPEndpoint,
    PodEndpoint,
    PolicyRef,
    direction_lines,
    evaluate,
    ingress_controller_endpoints,
    resolve_named_port,
)
from netsleuth.policy.coverage import POLICY_RESOURCES, invalid_policies, unreadable_policies
from netsleuth.trace.evidence import ev, exec_in
from netsleuth.trace.result import Hop


def unknown_policy_hop(
    model: ClusterModel, layer: Layer, unreadable: tuple[str, ...], what: str
) -> Hop:
    """A policy hop whose verdict is unknown: a policy resource unread, or an invalid policy left out."""
    listed = [u for u in unreadable if u in POLICY_RESOURCES]
    reasons = []
    confirm: list[Command] = []
    if listed:
        reasons.append(f"{', '.join(listed)} could not be listed (forbidden or failed)")
        confirm.append(kubectl("auth", "can-i", "list", listed[0], "--all-namespaces"))
    for p in invalid_policies(model):
        if p.describe() in unreadable:
            reasons.append(p.describe())
            if p.namespace is not None:
                confirm.append(
                    kubectl("get", "networkpolicy", "-n", p.namespace, p.name, "-o", "yaml")
                )
            else:
                confirm.append(kubectl("get", p.kind.lower(), p.name, "-o", "yaml"))
    return Hop(
        layer=layer,
        status=Verdict.UNKNOWN,
        summary=f"{what}: unknown, {'; '.join(reasons)}",
        confirm=tuple(confirm[:3]),
    )


def _pref(p: PolicyRef) -> str:
    return f"{p.kind}/{p.namespace}/{p.name}" if p.namespace else f"{p.kind}/{p.name}"


def _policy_evidence(d: DirectionDecision) -> tuple[Evidence, ...]:
    out: list[Evidence] = []
    for p in d.selecting:
        out.append(ev(_pref(p), "spec.podSelector", f"selects the pod ({d.direction.lower()})"))
    for m in d.misses[:6]:
        field = f"spec.{d.direction.lower()}[{m.rule}]" + (
            f".{'from' if d.direction.lower() == 'ingress' else 'to'}[{m.peer}]"
            if m.peer is not None
            else ""
        )
        out.append(ev(_pref(m.policy), field, m.reason))
    if d.admin is not None and d.admin.rule is not None:
        out.append(
            ev(
                _pref(d.admin.rule.policy),
                f"spec.{d.direction.lower()}[{d.admin.rule.rule}]",
                f"{d.admin.action}",
            )
        )
    if d.baseline is not None and d.baseline.rule is not None:
        out.append(
            ev(
                _pref(d.baseline.rule.policy),
                f"spec.{d.direction.lower()}[{d.baseline.rule.rule}]",
                f"{d.baseline.action}",
            )
        )
    return tuple(out)


def _pref_subject(p: PolicyRef) -> Subject:
    return Subject(p.kind, p.namespace, p.name)


def deny_culprit(model: ClusterModel, pod: Pod | None, d: DirectionDecision) -> Subject | None:
    c = denying_policy(model, pod, d)
    return c.subject() if c is not None else None


def _allowed_summary(d: DirectionDecision) -> str:
    if d.allowed_by:
        return "allowed by " + "; ".join(m.describe() for m in d.allowed_by[:2])
    return d.reason


def _pod_peer(pod: Pod) -> dict[str, Any]:
    """A policy peer selecting ``pod``'s app labels in its namespace (one peer: both selectors)."""
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": pod.namespace}},
        "podSelector": {"matchLabels": dict(sorted(_app_labels(pod).items()))},
    }


def _rule(peer_key: str, peer: dict[str, Any], protocol: str, port: int | None) -> dict[str, Any]:
    rule: dict[str, Any] = {peer_key: [peer]}
    if port:
        rule["ports"] = [{"protocol": protocol, "port": port}]
    return rule


def _egress_fix(
    src: Pod,
    dst: Pod | None,
    protocol: str,
    port: int | None,
    d: DirectionDecision,
    culprit: Subject | None = None,
) -> Fix:
    peer = _pod_peer(dst) if dst else {"ipBlock": {"cidr": "<address>/32"}}
    name = (
        f"{culprit.namespace}/{culprit.name}"
        if culprit is not None and culprit.kind == "NetworkPolicy"
        else f"a NetworkPolicy in {src.namespace}"
    )
    return Fix(
        text=f"Add an egress rule to {name} that allows this destination (peer and port in one rule).",
        snippet=Snippet({"egress": [_rule("to", peer, protocol, port)]}),
    )


def _ingress_fix(
    src: Pod | None,
    dst: Pod,
    protocol: str,
    port: int | None,
    d: DirectionDecision,
    culprit: Subject | None = None,
) -> Fix:
    peer = _pod_peer(src) if src is not None else {"ipBlock": {"cidr": "0.0.0.0/0"}}
    name = (
        f"{culprit.namespace}/{culprit.name}"
        if culprit is not None and culprit.kind == "NetworkPolicy"
        else f"a NetworkPolicy in {dst.namespace}"
    )
    return Fix(
        text=f"Add an ingress rule to {name} that admits this client on the pod's port {port} "
        "(the targetPort, not the Service port).",
        snippet=Snippet({"ingress": [_rule("from", peer, protocol, port)]}),
    )


def _app_labels(pod: Pod) -> dict[str, str]:
    """The labels worth selecting on (drop hashes and generated ones)."""
    skip = (
        "pod-template-hash",
        "controller-revision-hash",
        "statefulset.kubernetes.io/pod-name",
        "pod-template-generation",
    )
    labels = {k: v for k, v in pod.labels.items() if k not in skip}
    for key in ("app.kubernetes.io/name", "app", "k8s-app", "name"):
        if key in labels:
            return {key: labels[key]}
    return labels


def _nc(src: Pod, ip: str | None, port: int | None, protocol: str) -> Command:
    udp = ("-u",) if protocol == "UDP" else ()
    return exec_in(src, cmd("nc", "-zv", *udp, "-w", "3", ip or "<ip>", port or "<port>"))


def policy_hops(
    model: ClusterModel,
    src: Pod,
    backends: list[Pod],
    ports: dict[str, int],
    protocol: str,
    service: Service | None = None,
    service_port: int | None = None,
) -> list[Hop]:
    unreadable = unreadable_policies(model, (src.namespace, *(b.namespace for b in backends)))
    if unreadable and any(b.name in ports for b in backends):
        return [
            unknown_policy_hop(
                model, Layer.POLICY_EGRESS, unreadable, f"{src.namespace}/{src.name} egress"
            ),
            unknown_policy_hop(model, Layer.POLICY_INGRESS, unreadable, "backend ingress"),
        ]
    decisions: list[tuple[Pod, Decision]] = []
    for b in backends:
        port = ports.get(b.name)
        if port is None:
            continue
        decisions.append((b, evaluate(model, PodEndpoint(src), PodEndpoint(b), protocol, port)))
    if not decisions:
        return []
    hops: list[Hop] = []
    for direction in ("egress", "ingress"):
        layer = Layer.POLICY_EGRESS if direction == "egress" else Layer.POLICY_INGRESS
        side = [(b, getattr(d, direction)) for b, d in decisions]
        allowed = [(b, x) for b, x in side if x.allowed]
        denied = [(b, x) for b, x in side if not x.allowed]
        first_b, first = (denied or allowed)[0]
        port = ports.get(first_b.name)
        detail = tuple(direction_lines(first))
        confirm = (
            _nc(src, first_b.ip, port, protocol),
            kubectl(
                "get",
                "networkpolicy",
                "-n",
                src.namespace if direction == "egress" else first_b.namespace,
            ),
        )
        if not denied:
            hops.append(Hop(layer=layer, status=Verdict.OK, summary=_allowed_summary(first)))
            continue
        who = (
            f"{src.namespace}/{src.name} egress"
            if direction == "egress"
            else f"{first_b.namespace}/{first_b.name} ingress"
        )
        summary = f"{who} denies {protocol}/{port}: {first.reason}"
        if allowed:
            summary = f"{len(denied)} of {len(side)} backends deny: " + summary
        culprit = deny_culprit(model, src if direction == "egress" else first_b, first)
        fix = (
            _egress_fix(src, first_b, protocol, port, first, culprit)
            if direction == "egress"
            else _ingress_fix(src, first_b, protocol, port, first, culprit)
        )
        evidence = _policy_evidence(first)
        # The Service-port trap: the policy admits the Service port, not the pod port.
        if (
            direction == "ingress"
            and service_port is not None
            and port is not None
            and service_port != port
        ):
            again = evaluate(
                model, PodEndpoint(src), PodEndpoint(first_b), protocol, service_port
            ).ingress
            if again.allowed and again.allowed_by:
                m = again.allowed_by[0]
                culprit = _pref_subject(m.policy)
                summary = (
                    f"{who} denies {protocol}/{port}: {m.policy.describe()} allows port {service_port} — the "
                    f"Service port — but policies see the pod port {port} after DNAT"
                )
                evidence = (
                    ev(
                        _pref(m.policy),
                        f"spec.ingress[{m.rule}].ports",
                        m.port_text or str(service_port),
                    ),
                    *evidence,
                )
                fix = Fix(
                    text=f"In {m.policy.describe()}, allow port {port} (the targetPort) instead of "
                    f"{service_port} (the Service port).",
                    command=json_patch(
                        "networkpolicy",
                        m.policy.namespace,
                        m.policy.name,
                        [
                            {
                                "op": "test",
                                "path": f"/spec/ingress/{m.rule}/ports/{m.port}/port",
                                "value": service_port,
                            },
                            {
                                "op": "replace",
                                "path": f"/spec/ingress/{m.rule}/ports/{m.port}/port",
                                "value": port,
                            },
                        ],
                    )
                    if m.port is not None and m.policy.kind == "NetworkPolicy"
                    else None,
                    snippet=None
                    if m.port is not None
                    else Snippet({"ports": [{"protocol": protocol, "port": port}]}),
                )
        status = Verdict.BROKEN if not allowed else Verdict.WARNING
        change_field = f"spec.{direction}"
        unenforced = _unenforcing_cni(model)
        if unenforced is not None:
            # The policy would deny, but this CNI ignores NetworkPolicy: traffic flows today,
            # and the day an enforcing CNI is installed it breaks. What to change is the CNI
            # (or the policy, once it enforces): the hop is filed under cni.
            status = Verdict.WARNING
            summary = f"{summary} — but {unenforced[0]} does not enforce NetworkPolicy, so the traffic flows today"
            layer = Layer.CNI
            if unenforced[1] is not None:
                denier = (
                    f"{culprit.kind} {culprit.namespace}/{culprit.name}"
                    if culprit
                    else "the policies"
                )
                fix = Fix(
                    text=f"Run a CNI that enforces NetworkPolicy in place of {unenforced[1].ref()} (Canal "
                    "adds Calico's policy engine to Flannel; or Calico, Cilium). Once it enforces, this "
                    f"connection is denied by {denier}: admit it there first if it is wanted."
                )
                culprit, change_field = unenforced[1], ""
        hops.append(
            Hop(
                layer=layer,
                status=status,
                summary=summary,
                evidence=evidence,
                confirm=confirm,
                fix=fix,
                detail=detail,
                change=culprit,
                change_field=change_field if culprit is not None else "",
            )
        )
    return hops


@dataclass(frozen=True, slots=True, kw_only=True)
class Blocked:
    layer: Layer
    summary: str
    evidence: tuple[Evidence, ...]
    confirm: tuple[Command, ...]
    fix: Fix | None
    detail: tuple[str, ...]
    culprit: Subject | None = None


def dns_egress_verdict(
    model: ClusterModel, pod: Pod, dns_pods: list[Pod], svc: Service
) -> Blocked | None:
    """None when the pod can send DNS over UDP to at least one CoreDNS pod."""
    udp = next((p for p in svc.ports if p.protocol == "UDP" and p.port == 53), None)
    target = udp.effective_target_port if udp is not None else 53
    last: tuple[Pod, Decision, int] | None = None
    for dp in dns_pods:
        port = target if isinstance(target, int) else resolve_named_port(dp, target, "UDP")
        if port is None:
            continue
        d = evaluate(model, PodEndpoint(pod), PodEndpoint(dp), "UDP", port)
        if d.allowed:
            return None
        last = (dp, d, port)
    if last is None:
        return None
    dp, d, port = last
    side = d.egress if not d.egress.allowed else d.ingress
    layer = Layer.POLICY_EGRESS if side is d.egress else Layer.POLICY_INGRESS
    culprit = _dns_culprit(model, pod if side is d.egress else dp, side)
    if side is d.egress:
        summary = (
            f"{pod.namespace}/{pod.name} egress to CoreDNS UDP/{port} is denied: {side.reason}"
        )
        where = (
            f"netpol {culprit.namespace}/{culprit.name}"
            if culprit is not None
            else "the egress policy"
        )
        fix = Fix(
            text=f"Allow DNS in {where}: one peer that combines the kube-system namespace (by its "
            "kubernetes.io/metadata.name label) and the CoreDNS pods, on UDP and TCP 53.",
            snippet=DNS_EGRESS_SNIPPET,
        )
    else:
        summary = (
            f"CoreDNS ingress denies UDP/{port} from {pod.namespace}/{pod.name}: {side.reason}"
        )
        fix = Fix(
            text="Admit DNS from every namespace in the kube-system policy that selects CoreDNS "
            "(from: [{namespaceSelector: {}}], UDP and TCP 53)."
        )
    return Blocked(
        layer=layer,
        summary=summary,
        evidence=_policy_evidence(side),
        confirm=(exec_in(pod, cmd("nslookup", "kubernetes.default")), _nc(pod, dp.ip, port, "UDP")),
        fix=fix,
        detail=tuple(direction_lines(side)),
        culprit=culprit,
    )


def _dns_culprit(model: ClusterModel, pod: Pod, d: DirectionDecision) -> Subject | None:
    """The policy to change so DNS flows: a rule that aims at DNS and misses is fixed where it
    is; with no such rule, the policy whose policyTypes isolates the pods (a default-deny
    covers every pod of the namespace, an allow rule there serves them all)."""
    for tier in (d.admin, d.baseline):
        if tier is not None and tier.action == "Deny" and tier.rule is not None:
            return _pref_subject(tier.rule.policy)
    aimed = [m for m in d.misses if m.policy.kind == "NetworkPolicy" and _aims_at_dns(model, m)]
    if aimed:
        return _pref_subject(aimed[0].policy)
    pol = isolating_policy(model, pod, d.direction)
    if pol is not None:
        return Subject("NetworkPolicy", pol.namespace, pol.name)
    return None


def _aims_at_dns(model: ClusterModel, m: Any) -> bool:
    """The missed rule is meant for DNS (:func:`netsleuth.facts.policy_facts.rule_aims_at_dns`)."""
    pol = next(
        (p for p in model.policies_in(m.policy.namespace or "") if p.name == m.policy.name),
        None,
    )
    if pol is None:
        return False
    rules = pol.egress if m.direction is Direction.EGRESS else pol.ingress
    return 0 <= m.rule < len(rules) and rule_aims_at_dns(rules[m.rule])


def external_egress_hop(
    model: ClusterModel, src: Pod, target: str, port: int | None, protocol: str
) -> Hop:
    """Egress of ``src`` to an address outside the cluster (or a name that resolves outside).

    An address the user gave is checked as it is. A name whose address the input does not
    hold is checked against every address the policies could tell apart
    (:func:`_address_samples`): when public addresses all get the same answer, that answer
    holds whatever the name resolves to (outside private ranges), and the hop says the
    address is not known rather than citing a stand-in.
    """
    from netsleuth.model.intervals import parse_ip

    try:
        parse_ip(target)
        known = True
    except ValueError:
        known = False
    probe_port = port or 443
    unreadable = unreadable_policies(model, (src.namespace,))
    if unreadable:
        return unknown_policy_hop(
            model, Layer.POLICY_EGRESS, unreadable, f"egress to {target}:{probe_port}"
        )
    if known:
        d = evaluate(model, PodEndpoint(src), IPEndpoint(target), protocol, probe_port).egress
        detail = tuple(direction_lines(d))
        if d.allowed:
            return Hop(
                layer=Layer.POLICY_EGRESS,
                status=Verdict.OK,
                summary=f"to {target}:{probe_port}: {_allowed_summary(d)}",
                detail=detail,
            )
        culprit = deny_culprit(model, src, d)
        return Hop(
            layer=Layer.POLICY_EGRESS,
            status=Verdict.BROKEN,
            summary=f"egress to {target}:{probe_port} denied: {d.reason}",
            evidence=_policy_evidence(d),
            detail=detail,
            confirm=(_nc(src, target, probe_port, protocol),),
            fix=_egress_fix(src, None, protocol, probe_port, d, culprit),
            change=culprit,
            change_field="spec.egress" if culprit is not None else "",
        )
    from netsleuth.policy.external import (
        MAX_ADDRESS_CLASSES,
        address_classes,
        describe_ranges,
        policy_cidrs,
    )

    classes, cut = address_classes(
        policy_cidrs(model, src, Direction.EGRESS), ipv6=any(":" in ip for ip in src.pod_ips)
    )
    decisions = {
        c: evaluate(
            model,
            PodEndpoint(src),
            IPEndpoint(c.sample, label="an external address"),
            protocol,
            probe_port,
        ).egress
        for c in classes
    }
    public = {c: d for c, d in decisions.items() if not c.private}
    private = {c: d for c, d in decisions.items() if c.private}
    unknown_addr = f"{target}:{probe_port} (its address is not in the input)"
    pub_allowed = {d.allowed for d in public.values()}
    lookup = exec_in(src, cmd("nslookup", target))
    if cut:
        return Hop(
            layer=Layer.POLICY_EGRESS,
            status=Verdict.UNKNOWN,
            summary=f"egress to {unknown_addr}: the policies isolating {src.namespace}/{src.name} name "
            f"more address ranges than are checked one by one ({MAX_ADDRESS_CLASSES}); "
            "trace the address it resolves to",
            confirm=(lookup,),
        )
    if len(pub_allowed) > 1:
        allowed_cls = [c for c, d in public.items() if d.allowed]
        denied_cls = [c for c, d in public.items() if not d.allowed]
        d = public[denied_cls[0]]
        if sum(c.hi - c.lo for c in allowed_cls) <= sum(c.hi - c.lo for c in denied_cls):
            split = (
                f"allowed to {describe_ranges(allowed_cls)}, denied to every other public "
                f"address ({d.reason})"
            )
        else:
            split = (
                f"denied to {describe_ranges(denied_cls)} ({d.reason}), allowed to every other "
                "public address"
            )
        return Hop(
            layer=Layer.POLICY_EGRESS,
            status=Verdict.UNKNOWN,
            summary=f"egress to {unknown_addr} depends on the address it resolves to: {split}; "
            "trace the address it resolves to",
            evidence=_policy_evidence(d),
            detail=tuple(direction_lines(d)),
            confirm=(lookup, _nc(src, target, probe_port, protocol)),
        )
    d = next(iter(public.values()))
    detail = tuple(direction_lines(d))
    caveat = ""
    differ = [c for c, p in private.items() if p.allowed != d.allowed]
    if differ:
        caveat = (
            f"; if it resolves to a private address the answer may differ ({describe_ranges(differ)} "
            f"{'allowed' if private[differ[0]].allowed else 'denied'})"
        )
    if d.allowed:
        return Hop(
            layer=Layer.POLICY_EGRESS,
            status=Verdict.OK,
            summary=f"to {unknown_addr}: any public address: {_allowed_summary(d)}{caveat}",
            detail=detail,
            confirm=(lookup,),
        )
    culprit = deny_culprit(model, src, d)
    why = (
        "no egress rule of its policies admits any address outside the cluster (no ipBlock)"
        if _no_address_admitted(model, src, d)
        else f"no egress rule admits a public address ({d.reason})"
    )
    return Hop(
        layer=Layer.POLICY_EGRESS,
        status=Verdict.UNKNOWN if caveat else Verdict.BROKEN,
        summary=f"egress to {unknown_addr} denied: {src.namespace}/{src.name} is isolated for "
        f"egress and {why}{caveat}",
        evidence=_policy_evidence(d),
        detail=detail,
        confirm=(lookup, _nc(src, target, probe_port, protocol)),
        fix=None if caveat else _egress_fix(src, None, protocol, probe_port, d, culprit),
        change=None if caveat else culprit,
        change_field="spec.egress" if culprit is not None and not caveat else "",
    )


def _no_address_admitted(model: ClusterModel, src: Pod, d: DirectionDecision) -> bool:
    """The pod is isolated for egress by NetworkPolicies none of whose egress rules has an
    ipBlock, and no AdminNetworkPolicy tier selects it: no external address is allowed."""
    if not d.isolated or d.allowed:
        return False
    for tier in (d.admin, d.baseline):
        if tier is not None and tier.subjects:
            return False
    for ref in d.selecting:
        pol = next((p for p in model.policies_in(ref.namespace or "") if p.name == ref.name), None)
        if pol is None:
            return False
        for rule in pol.egress:
            if not rule.peers or any(peer.ip_block is not None for peer in rule.peers):
                return False
    return True


def _ingress_hop_from(
    model: ClusterModel,
    sources: tuple[Endpoint, ...],
    backends: list[Pod],
    ports: dict[str, int],
    protocol: str,
    label: str,
) -> Hop:
    unreadable = unreadable_policies(
        model,
        (
            *(b.namespace for b in backends),
            *(getattr(getattr(s, "pod", None), "namespace", None) for s in sources),
        ),
    )
    if unreadable and any(b.name in ports for b in backends):
        return unknown_policy_hop(model, Layer.POLICY_INGRESS, unreadable, f"ingress from {label}")
    results = []
    for b in backends:
        port = ports.get(b.name)
        if port is None:
            continue
        for s in sources:
            results.append((s, b, port, evaluate(model, s, PodEndpoint(b), protocol, port)))
    if not results:
        return Hop(
            layer=Layer.POLICY_INGRESS, status=Verdict.UNKNOWN, summary="no backend port to check"
        )
    denied = [r for r in results if not r[3].ingress.allowed]
    s, b, port, d = (denied or results)[0]
    detail = tuple(direction_lines(d.ingress))
    if not denied:
        return Hop(
            layer=Layer.POLICY_INGRESS,
            status=Verdict.OK,
            summary=f"{label} → {b.namespace}/{b.name}:{port}: {_allowed_summary(d.ingress)}",
            detail=detail,
        )
    src_pod = s.pod if isinstance(s, PodEndpoint) else None
    return Hop(
        layer=Layer.POLICY_INGRESS,
        status=Verdict.BROKEN if len(denied) == len(results) else Verdict.WARNING,
        summary=f"{b.namespace}/{b.name} ingress denies {protocol}/{port} from {label}: {d.ingress.reason}",
        evidence=_policy_evidence(d.ingress),
        detail=detail,
        confirm=(kubectl("get", "networkpolicy", "-n", b.namespace),),
        fix=_ingress_fix(src_pod, b, protocol, port, d.ingress),
    )


def ingress_from_controller_hop(
    model: ClusterModel,
    ingress: Ingress | None,
    _controller_pods: list[Pod],
    backends: list[Pod],
    ports: dict[str, int],
    protocol: str,
) -> Hop:
    sources = ingress_controller_endpoints(model, ingress)
    label = (
        "the ingress controller"
        if not any(isinstance(s, PodEndpoint) for s in sources)
        else "ingress controller "
        + ", ".join(
            f"{s.pod.namespace}/{s.pod.name}" for s in sources[:2] if isinstance(s, PodEndpoint)
        )
    )
    return _ingress_hop_from(model, sources, backends, ports, protocol, label)


def ingress_from_external_hop(
    model: ClusterModel, backends: list[Pod], ports: dict[str, int], protocol: str
) -> Hop:
    """Ingress from a client outside the cluster whose address the user did not give.

    The backends' ingress policies cut the address space at the CIDRs they name
    (:func:`netsleuth.policy.external.address_classes`); one member of each public range is
    evaluated. One answer for all of them is the hop; answers that differ make it
    ``unknown`` naming the ranges. No stand-in address is cited."""
    from netsleuth.policy.external import address_classes, describe_ranges, policy_cidrs
    from netsleuth.policy.semantics import Direction

    checked = [b for b in backends if b.name in ports]
    cidrs: list[str] = []
    for b in checked:
        cidrs += policy_cidrs(model, b, Direction.INGRESS)
    ipv6 = any(":" in ip for b in checked for ip in b.pod_ips)
    classes, cut = address_classes(dict.fromkeys(cidrs), ipv6=ipv6)
    label = "outside (any public address)" if cidrs else "outside (any address)"
    if cut:
        return Hop(
            layer=Layer.POLICY_INGRESS,
            status=Verdict.UNKNOWN,
            summary="ingress from outside: the policies selecting the backends name more address "
            "ranges than are checked one by one; trace from the client's address (as SRC)",
            confirm=(kubectl("get", "networkpolicy", "-n", checked[0].namespace),)
            if checked
            else (),
        )

    def hop_for(ip: str, what: str) -> Hop:
        src = IPEndpoint(ip, label="an external address")
        return _ingress_hop_from(model, (src,), backends, ports, protocol, what)

    public = [c for c in classes if not c.private]
    hops = {c: hop_for(c.sample, label) for c in public}
    by_status: dict[Verdict, list[Any]] = {}
    for c, h in hops.items():
        by_status.setdefault(h.status, []).append(c)
    first = hops[public[0]]
    if len(by_status) == 1:
        private = [
            c for c in classes if c.private and hop_for(c.sample, label).status != first.status
        ]
        if not private:
            return first
        return Hop(
            layer=first.layer,
            status=first.status,
            summary=f"{first.summary}; from private addresses in {describe_ranges(private)} the "
            "answer differs",
            evidence=first.evidence,
            detail=first.detail,
            confirm=first.confirm,
            fix=first.fix,
        )
    ordered = sorted(by_status.items(), key=lambda kv: sum(c.hi - c.lo for c in kv[1]))
    words = {Verdict.OK: "allowed", Verdict.BROKEN: "denied", Verdict.WARNING: "partly denied"}
    parts = [f"{words.get(v, v.value)} from {describe_ranges(cs)}" for v, cs in ordered[:-1]]
    parts.append(
        f"{words.get(ordered[-1][0], ordered[-1][0].value)} from every other public address"
    )
    denied = next((hops[cs[0]] for v, cs in ordered if v is not Verdict.OK), first)
    return Hop(
        layer=Layer.POLICY_INGRESS,
        status=Verdict.UNKNOWN,
        summary="ingress from outside depends on the client's address: "
        + "; ".join(parts)
        + "; trace from the client's address (as SRC)",
        evidence=denied.evidence,
        detail=denied.detail,
        confirm=denied.confirm,
    )


def _unenforcing_cni(model: ClusterModel) -> tuple[str, Subject | None] | None:
    """``(description, the CNI DaemonSet)`` when the cluster's CNI enforces no NetworkPolicy
    (the fact POL308 reads: :func:`netsleuth.facts.cni_detect.unenforcing_cni`)."""
    from netsleuth.facts.attribution import cni_agent

    info = unenforcing_cni(model)
    if info is None:
        return None
    agent = cni_agent(model)
    return f"plain {info.name.capitalize()}", agent.subject() if agent is not None else None

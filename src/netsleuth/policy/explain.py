"""``explain``: one policy question between two endpoints, as a report value.

:func:`build_report` is the command as a library call: it resolves SRC and
DST with the one target parser (:mod:`netsleuth.model.targets`) into
endpoints (with notes such as "pod x of deployment y"), turns a Service port
into the pod port it targets, then :func:`explain` evaluates either one
port/protocol (a :class:`~netsleuth.policy.decision.Decision`) or every port
(a :class:`~netsleuth.policy.decision.PortsDecision`). Renderers print the
report; the reasons come from the engine.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace

from netsleuth.errors import QueryError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import has_kube_dns, with_kube_dns
from netsleuth.model.objects import Service
from netsleuth.model.ports import PortSpec
from netsleuth.model.problems import LoadProblem
from netsleuth.model.targets import close_matches, parse_target
from netsleuth.policy.coverage import unreadable_note, unreadable_policies
from netsleuth.policy.decision import (
    Decision,
    Endpoint,
    IPEndpoint,
    PodEndpoint,
    PortsDecision,
)
from netsleuth.policy.external import (
    MAX_ADDRESS_CLASSES,
    AddressClass,
    address_classes,
    describe_ranges,
    policy_cidrs,
    range_list,
)
from netsleuth.policy.ingress_controller import ingress_controller_endpoints
from netsleuth.policy.provenance import describe_port_sets, explain_text
from netsleuth.policy.reference import (
    admin_policies_selecting,
    endpoint_for_ip,
    evaluate,
    evaluate_ports,
    policies_selecting,
)
from netsleuth.policy.semantics import Direction, resolve_named_port

EXTERNAL_LABEL = "an external address"
"""How 'external' is named when the user gave no address: the verdict is worked out for
every public address (:mod:`netsleuth.policy.external`), never for a stand-in."""


@dataclass(frozen=True, slots=True)
class ExplainReport:
    """What ``explain`` found. Exactly one of ``decision``/``ports`` is set."""

    src: Endpoint
    dst: Endpoint
    notes: tuple[str, ...]
    decision: Decision | None = None
    ports: PortsDecision | None = None
    unreadable: tuple[str, ...] = ()
    """Policy resources the source could not list, and invalid policies left out that
    could change this verdict: the verdict is then unknown."""
    problems: tuple[LoadProblem, ...] = ()
    """The input's load problems (renderers list them after the verdict)."""
    undetermined: str = ""
    """Why the verdict is unknown although every policy was read: 'external' without an
    address, and the answer depends on the address (the notes give the ranges)."""
    external: dict[str, object] | None = None
    """For 'external' without an address: the address ranges and their answers (JSON)."""

    @property
    def allowed(self) -> bool:
        """The single verdict, or whether any port of any protocol is allowed.

        Computed from the policies that were read; see :attr:`verdict`.
        """
        if self.decision is not None:
            return self.decision.allowed
        assert self.ports is not None
        return any(bool(s) for s in self.ports.combined.values())

    @property
    def verdict(self) -> str:
        """``allowed``, ``denied``, or ``unknown`` when policy kinds could not be read.

        An unread policy can only take connections away (NetworkPolicy and
        BANP/ANP Deny), or give back what another took (ANP Allow), so neither
        answer holds without it.
        """
        if self.unreadable or self.undetermined:
            return "unknown"
        return "allowed" if self.allowed else "denied"


def explain(
    model: ClusterModel,
    src: Endpoint,
    dst: Endpoint,
    *,
    protocol: str | None = None,
    port: int | None = None,
    notes: tuple[str, ...] = (),
) -> ExplainReport:
    """Evaluate ``src -> dst`` on ``protocol/port``, or on every port when ``port`` is None."""
    unreadable = unreadable_policies(model, (_namespace(src), _namespace(dst)))
    if port is not None:
        d = evaluate(model, src, dst, protocol or "TCP", port)
        return ExplainReport(src, dst, notes, decision=d, unreadable=unreadable)
    return ExplainReport(
        src, dst, notes, ports=evaluate_ports(model, src, dst), unreadable=unreadable
    )


def _namespace(ep: Endpoint) -> str | None:
    """The namespace whose policies decide for ``ep`` (``None`` for addresses and the pseudo-peer)."""
    pod = getattr(ep, "pod", None)
    return pod.namespace if pod is not None else None


def model_for_explain(model: ClusterModel) -> tuple[ClusterModel, tuple[str, ...]]:
    """The model with a derived kube-dns when the input has none (and a note saying so)."""
    if has_kube_dns(model):
        return model, ()
    return with_kube_dns(model), (
        "the input has no kube-dns; a derived kube-system/kube-dns (k8s-app=kube-dns, "
        "53/UDP dns, 53/TCP dns-tcp) is assumed",
    )


def resolve_endpoint(
    model: ClusterModel,
    text: str,
    *,
    role: str,
    external_ip: str | None = None,
    namespace: str | None = None,
) -> tuple[Endpoint, list[str], Service | None]:
    """SRC (``role="src"``) or DST (``"dst"``) text -> an endpoint, notes, and the Service DST names.

    'external' is ``external_ip`` when the user gave one, else an :data:`EXTERNAL_LABEL`
    endpoint that :func:`build_report` answers for every public address."""
    who = "source" if role == "src" else "destination"
    raw = text.strip()
    if raw == "external":
        if external_ip is None:
            return IPEndpoint(_EVAL_MEMBER, label=EXTERNAL_LABEL), [], None
        note = f"{who} 'external' is the address {external_ip} (--external-ip)"
        return IPEndpoint(external_ip), [note], None
    if raw in ("ingress-controller", "ingress"):
        eps = ingress_controller_endpoints(model)
        ep = eps[0]
        return ep, [f"{who} is the ingress controller: {ep.describe()}"], None
    target = parse_target(model, raw, role=role, namespace=namespace)
    notes: list[str] = []
    if target.form == "ip":
        assert target.ip is not None
        return endpoint_for_ip(model, target.ip), notes, None
    if target.form == "pod":
        return PodEndpoint(target.pods[0]), notes, None
    if target.form == "workload":
        if not target.pods:
            raise QueryError(
                f"{target.describe()} has no pods in the input",
                tip="Give a pod (ns/pod) or load manifests that include the pods or the template.",
            )
        pod = target.pods[0]
        notes.append(
            f"{who} {target.describe()} has {len(target.pods)} pod(s); using {pod.namespace}/{pod.name}"
            + (" (derived from the template)" if pod.meta.derived else "")
        )
        return PodEndpoint(pod), notes, None
    if target.form == "service" and target.service is not None:
        svc = target.service
        pods = model.pods_matching(svc.namespace, svc.selector) if svc.selector else []
        if not pods:
            raise QueryError(
                f"service {svc.namespace}/{svc.name} selects no pods in the input",
                tip="explain works on pods; give one of the backend pods as ns/pod.",
            )
        pod = pods[0]
        notes.append(
            f"{who} service {svc.namespace}/{svc.name} has {len(pods)} backend pod(s); "
            f"using {pod.namespace}/{pod.name}"
        )
        return PodEndpoint(pod), notes, svc
    if target.form == "dns":
        where = f" in namespace {namespace}" if namespace else ""
        close = close_matches(model, f"{namespace}/{raw}" if namespace else raw)
        raise QueryError(
            f"{who} {raw!r} names no pod, workload or service{where}",
            tip=("Did you mean: " + ", ".join(close) + "? ")
            if close
            else "explain takes ns/pod, ns/workload, ns/service, kind/ns/name, an IP or "
            "'external' (a bare name with -n NAMESPACE).",
        )
    raise QueryError(
        f"explain takes pods, workloads, services, IPs or 'external', not {target.describe()}",
        tip="e.g. netsleuth explain shop/frontend shop/db --port tcp/5432",
    )


def target_port(dst: Endpoint, svc: Service | None, spec: PortSpec, notes: list[str]) -> int:
    """The destination pod port: a Service port -> its targetPort, names resolved on the pod."""
    proto, port = spec.protocol, spec.port
    pod = dst.pod if isinstance(dst, PodEndpoint) else None
    if svc is not None:
        for sp in svc.ports:
            if sp.protocol.upper() == proto and (sp.port == port or sp.name == port):
                tp = sp.effective_target_port
                if isinstance(tp, str) and not tp.isdigit():
                    number = resolve_named_port(pod, tp, proto) if pod is not None else None
                    if number is None:
                        raise QueryError(
                            f"service port {sp.port} targets port name {tp!r}, which the pod does not define"
                        )
                    tp = number
                notes.append(f"service port {sp.port}/{proto} targets pod port {tp}")
                return int(tp)
    if isinstance(port, int):
        return port
    if pod is None:
        raise QueryError(f"named port {port!r} needs a pod destination")
    number = resolve_named_port(pod, port, proto)
    if number is None:
        raise QueryError(
            f"pod {pod.namespace}/{pod.name} has no {proto} port named {port!r}",
            tip="Ports it defines: "
            + (
                ", ".join(
                    f"{p.name or '-'}={p.container_port}/{p.protocol}" for p in pod.spec.all_ports()
                )
                or "none"
            ),
        )
    notes.append(f"port {port}/{proto} is {number} on pod {pod.namespace}/{pod.name}")
    return number


def build_report(
    model: ClusterModel,
    src_text: str,
    dst_text: str,
    *,
    port: PortSpec | None = None,
    external_ip: str | None = None,
    namespace: str | None = None,
) -> ExplainReport:
    """``netsleuth explain SRC DST [--port]`` as a library call: resolve, then evaluate."""
    problems = model.problems
    if external_ip is None and src_text.strip() == dst_text.strip() == "external":
        raise QueryError(
            "SRC and DST are both 'external': policies select pods, so one side must be a pod",
            tip="e.g. netsleuth explain external shop/frontend --port tcp/8080",
        )
    model, dns_notes = model_for_explain(model)
    src, notes, _ = resolve_endpoint(
        model, src_text, role="src", external_ip=external_ip, namespace=namespace
    )
    dst, dst_notes, svc = resolve_endpoint(
        model, dst_text, role="dst", external_ip=external_ip, namespace=namespace
    )
    unreadable = unreadable_policies(model, (_namespace(src), _namespace(dst)))
    if unreadable:
        dns_notes = (unreadable_note(unreadable), *dns_notes)
    notes += dst_notes
    protocol, number = None, None
    if port is not None:
        protocol, number = port.protocol, target_port(dst, svc, port, notes)
    labelled = [ep for ep in (src, dst) if isinstance(ep, IPEndpoint) and ep.label]
    if labelled:
        report = _explain_external(
            model, src, dst, protocol=protocol, port=number, notes=(*dns_notes, *notes)
        )
    else:
        report = explain(
            model, src, dst, protocol=protocol, port=number, notes=(*dns_notes, *notes)
        )
    return replace(report, problems=problems)


_EVAL_MEMBER = "192.0.2.1"
"""The member an 'external' endpoint holds before its address classes are worked out (and
when there are too many to check): it is evaluated only, never shown (the endpoint's
label is)."""


def _explain_external(
    model: ClusterModel,
    src: Endpoint,
    dst: Endpoint,
    *,
    protocol: str | None,
    port: int | None,
    notes: tuple[str, ...],
) -> ExplainReport:
    """'external' (no address given) on one side: the verdict for every public address.

    The policies that select the pod on the other side (egress when DST is external,
    ingress when SRC is) cut the address space at the edges of the CIDRs they name; one
    member of each range is evaluated. One answer for every public range is the verdict
    (private ranges that differ are a note); answers that differ make the verdict unknown
    and the notes give the ranges of each answer, never a made-up address.
    """
    ext_is_src = isinstance(src, IPEndpoint) and bool(src.label)
    other = dst if ext_is_src else src
    who = "source" if ext_is_src else "destination"
    direction = Direction.INGRESS if ext_is_src else Direction.EGRESS
    pod = other.pod if isinstance(other, PodEndpoint) else None

    def run(ip: str) -> ExplainReport:
        ep = IPEndpoint(ip, label=EXTERNAL_LABEL)
        return explain(
            model,
            ep if ext_is_src else src,
            dst if ext_is_src else ep,
            protocol=protocol,
            port=port,
        )

    def key(r: ExplainReport) -> Hashable:
        if r.ports is None:
            return r.allowed
        return tuple((p, s.ranges) for p, s in r.ports.combined.items())

    def answer(r: ExplainReport) -> str:
        if r.ports is None:
            return "allowed" if r.allowed else "denied"
        return describe_port_sets(r.ports.combined)

    cidrs = policy_cidrs(model, pod, direction) if pod is not None else []
    ipv6 = pod is not None and any(":" in ip for ip in pod.pod_ips)
    classes, cut = address_classes(cidrs, ipv6=ipv6)
    selected = pod is not None and bool(
        policies_selecting(model, pod, direction) or admin_policies_selecting(model, pod, direction)
    )
    whose = f"{pod.namespace}/{pod.name}" if pod is not None else "the other side"
    give = "give the address: --external-ip ADDRESS, or the IP itself as " + (
        "SRC" if ext_is_src else "DST"
    )
    if cut:
        rep = run(_EVAL_MEMBER)
        why = (
            f"the policies selecting {whose} ({direction.lower()}) name more address ranges "
            f"than are checked one by one ({MAX_ADDRESS_CLASSES}); {give}"
        )
        return replace(rep, notes=(*notes, f"{who} 'external': unknown, {why}"), undetermined=why)

    results = {c: run(c.sample) for c in classes}
    public = [c for c in classes if not c.private]
    private = [c for c in classes if c.private]
    groups: dict[Hashable, list[AddressClass]] = {}
    for c in public:
        groups.setdefault(key(results[c]), []).append(c)
    priv_groups: dict[Hashable, list[AddressClass]] = {}
    for c in private:
        priv_groups.setdefault(key(results[c]), []).append(c)

    def doc(gs: dict[Hashable, list[AddressClass]]) -> list[dict[str, object]]:
        return [
            {
                "ranges": range_list(cs),
                "answer": answer(results[cs[0]]),
            }
            for cs in gs.values()
        ]

    external: dict[str, object] = {
        "side": "src" if ext_is_src else "dst",
        "cidrs_considered": cidrs,
        "public": doc(groups),
        "private": doc(priv_groups),
    }
    out_notes = list(notes)
    if len(groups) == 1:
        rep = results[public[0]]
        if not cidrs:
            out_notes.append(
                f"{who} 'external' is any address outside the cluster: "
                + (
                    f"no policy selecting {whose} ({direction.lower()}) names an address range, "
                    "so every address gets this answer"
                    if selected
                    else f"no policy selects {whose} for {direction.lower()}, so every address "
                    "gets this answer"
                )
            )
        else:
            out_notes.append(
                f"{who} 'external' is any public address: the policies selecting {whose} "
                f"({direction.lower()}) name {len(cidrs)} address range(s); every public "
                "address gets this answer"
            )
            sigs = {_signature(results[c]) for c in public}
            if len(sigs) > 1:
                out_notes.append(
                    "which rule decides depends on the address (the reasons below are for one "
                    f"public address); for the reasons for a given address, {give}"
                )
        for k, cs in priv_groups.items():
            if k != key(rep):
                out_notes.append(
                    f"private addresses in {describe_ranges(cs)} get another answer: "
                    f"{answer(results[cs[0]])}"
                )
        return replace(rep, notes=tuple(out_notes), external=external)
    # The answer depends on the address: show the ranges of each answer.
    ordered = sorted(groups.values(), key=lambda cs: sum(c.hi - c.lo for c in cs))
    if port is not None:
        parts = [f"{answer(results[cs[0]])} for {describe_ranges(cs)}" for cs in ordered[:-1]]
        parts.append(f"{answer(results[ordered[-1][0]])} for every other public address")
        sep = "; "
    else:
        parts = [f"{describe_ranges(cs)} gets {answer(results[cs[0]])}" for cs in ordered[:-1]]
        parts.append(f"every other public address gets {answer(results[ordered[-1][0]])}")
        sep = " | "
    why = f"the answer depends on the address: {sep.join(parts)}; {give}"
    rep = results[ordered[-1][0]]
    out_notes.append(f"{who} 'external': unknown, {why}")
    out_notes.append(f"the reasons below are for a public address that gets: {answer(rep)}")
    return replace(rep, notes=tuple(out_notes), undetermined=why, external=external)


def _signature(report: ExplainReport) -> Hashable:
    """The reasons a report gives (the address class is named by its label, not its member)."""
    if report.decision is not None:
        return tuple(explain_text(report.decision))
    assert report.ports is not None
    return (report.ports.egress, report.ports.ingress)

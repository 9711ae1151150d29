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

from dataclasses import dataclass, replace

from netsleuth.errors import QueryError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import has_kube_dns, with_kube_dns
from netsleuth.model.objects import Service
from netsleuth.model.ports import PortSpec
from netsleuth.model.problems import LoadProblem
from netsleuth.model.targets import close_matches, parse_target
from netsleuth.policy.coverage import unreadable_note, unreadable_policies
from netsleuth.policy.decision import Decision, Endpoint, IPEndpoint, PodEndpoint, PortsDecision
from netsleuth.policy.ingress_controller import ingress_controller_endpoints
from netsleuth.policy.reference import endpoint_for_ip, evaluate, evaluate_ports
from netsleuth.policy.semantics import resolve_named_port

DEFAULT_EXTERNAL_IP = "203.0.113.10"
"""TEST-NET-3 (RFC 5737): an address outside every pod and node of any real cluster."""


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
        if self.unreadable:
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
    external_ip: str = DEFAULT_EXTERNAL_IP,
    namespace: str | None = None,
) -> tuple[Endpoint, list[str], Service | None]:
    """SRC (``role="src"``) or DST (``"dst"``) text -> an endpoint, notes, and the Service DST names."""
    who = "source" if role == "src" else "destination"
    raw = text.strip()
    if raw == "external":
        return IPEndpoint(external_ip), [f"{who} 'external' is the address {external_ip}"], None
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
    external_ip: str = DEFAULT_EXTERNAL_IP,
    namespace: str | None = None,
) -> ExplainReport:
    """``netsleuth explain SRC DST [--port]`` as a library call: resolve, then evaluate."""
    problems = model.problems
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
    if port is None:
        report = explain(model, src, dst, notes=(*dns_notes, *notes))
    else:
        number = target_port(dst, svc, port, notes)
        report = explain(
            model, src, dst, protocol=port.protocol, port=number, notes=(*dns_notes, *notes)
        )
    return replace(report, problems=problems)

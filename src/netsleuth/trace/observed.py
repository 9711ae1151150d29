"""Observed evidence beside the predicted path: Hubble flows and Prometheus signals.

:func:`with_flows` adds what Hubble last saw for the traced pair — the last
verdict per (source, destination, protocol, port) that
:func:`netsleuth.flows.summarize` keeps — as an ``observed`` hop after the
predicted ones. The pair is matched as Hubble shows it: the source pod's
workload, and each backend's workload on the port the backend receives
(a Service's targetPort, resolved per pod when named), or the Service
itself on its port (a flow seen before load balancing).

- last verdict ``DROPPED``: a broken hop in the layer of the drop reason
  (a policy drop in the direction it was judged). When no predicted hop is
  broken, that is a disagreement: the cluster drops what the input allows.
- last verdict ``FORWARDED``: an ok hop. When a predicted hop is broken,
  that is a disagreement and the hop is ``unknown`` (the evidence
  contradicts): the input is stale or the policy is not enforced.
- no flow of the pair: a ``not-checked`` hop (with the ``hubble observe``
  that collects it), never ok.

:func:`with_metrics` adds a hop per Prometheus breach on the path's nodes
(the source's, the destination's or its backends') or, when the path asks
DNS, of CoreDNS; signals Prometheus does not measure are ``not-checked`` hops
naming the missing series.
Breaches come from :mod:`netsleuth.facts.metric_breaches`, the same fact the
metric checks read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from netsleuth.facts.metric_breaches import (
    Breach,
    breaches,
    coredns_corefile,
    coredns_deployment,
    kube_proxy_daemonset,
)
from netsleuth.facts.service_backends import selected_pods, target_of
from netsleuth.flows import FlowSummary, PairObservation, drop_layer, drop_meaning
from netsleuth.flows.filters import side_filters
from netsleuth.flows.reasons import is_policy_reason
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, cmd
from netsleuth.model.findings import Evidence, Layer, Subject, Verdict
from netsleuth.model.metrics import SIGNALS, MetricsSnapshot
from netsleuth.model.objects import Pod, Service
from netsleuth.model.problems import LoadProblem
from netsleuth.trace.query import Target, parse_target
from netsleuth.trace.result import Hop, TraceResult

MAX_DETAIL = 8


@dataclass(frozen=True, slots=True)
class _Pair:
    """One (src, dst, proto, port) key of the flow summary the traced path maps to."""

    src_key: str
    dst_key: str
    protocol: str
    port: int | None
    """``None``: any port (the trace named none)."""
    what: str


def _resolve(
    model: ClusterModel, result: TraceResult, namespace: str | None
) -> tuple[Target | None, Target | None]:
    q = result.query
    try:
        src = parse_target(model, q.src, role="src", namespace=namespace)
        dst = parse_target(model, q.dst, role="dst", namespace=namespace)
    except Exception:  # the trace resolved them already; a model copy may differ
        return None, None
    if dst.form == "dns" and dst.dns_name:
        svc = _service_by_name(model, dst.dns_name, src)
        if svc is not None:
            dst = Target(form="service", text=dst.text, service=svc, port=dst.port)
    return src, dst


def _service_by_name(model: ClusterModel, name: str, src: Target) -> Service | None:
    """``backend``, ``backend.ns``, ``backend.ns.svc…``: the Service the name means, if any."""
    labels = name.rstrip(".").split(".")
    if len(labels) >= 3 and labels[2] != "svc":
        return None
    if len(labels) >= 2:
        return model.service(labels[1], labels[0])
    ns = src.pods[0].namespace if src.pods else None
    return model.service(ns, labels[0]) if ns else None


def _backend_port(pod: Pod, svc: Service, port: int | str | None) -> int | None:
    for sp in svc.ports:
        if port is not None and sp.port != port and sp.name != port:
            continue
        target = target_of(sp)
        if isinstance(target, int):
            return target
        for cp in pod.spec.all_ports():
            if cp.name == target:
                return cp.container_port
    return None


def _pairs(model: ClusterModel, result: TraceResult, namespace: str | None) -> list[_Pair]:
    src, dst = _resolve(model, result, namespace)
    if src is None or dst is None or not src.pods:
        return []
    proto = result.query.protocol.upper()
    port = result.query.port
    src_key = model.owner(src.pods[0]).describe()
    out: list[_Pair] = []
    if dst.form == "service" and dst.service is not None:
        svc = dst.service
        svc_port = port if isinstance(port, int) else None
        if svc_port is None and isinstance(port, str):
            svc_port = next((sp.port for sp in svc.ports if sp.name == port), None)
        if port is None or svc_port is not None:
            out.append(
                _Pair(
                    src_key, f"service/{svc.namespace}/{svc.name}", proto, svc_port, "the Service"
                )
            )
        seen: set[tuple[str, int | None]] = set()
        for pod in selected_pods(model, svc):
            key = model.owner(pod).describe()
            bport = _backend_port(pod, svc, port) if port is not None else None
            if (port is not None and bport is None) or (key, bport) in seen:
                continue  # a port the Service does not have reaches no backend
            seen.add((key, bport))
            out.append(_Pair(src_key, key, proto, bport, "a backend"))
        return out
    if dst.pods:
        dport = port if isinstance(port, int) else None
        if isinstance(port, str):
            dport = next(
                (cp.container_port for cp in dst.pods[0].spec.all_ports() if cp.name == port),
                None,
            )
        if port is not None and dport is None:
            return []
        keys = sorted({model.owner(p).describe() for p in dst.pods})
        return [_Pair(src_key, k, proto, dport, "the destination") for k in keys]
    return []


def _observations(
    summary: FlowSummary, pairs: Iterable[_Pair]
) -> list[tuple[_Pair, int, PairObservation]]:
    found: list[tuple[_Pair, int, PairObservation]] = []
    for pair in pairs:
        if pair.port is not None:
            obs = summary.pairs.get((pair.src_key, pair.dst_key, pair.protocol, pair.port))
            if obs is not None:
                found.append((pair, pair.port, obs))
            continue
        for (s, d, proto, port), obs in summary.pairs.items():
            if (s, d, proto) == (pair.src_key, pair.dst_key, pair.protocol):
                found.append((pair, port, obs))
    return found


def _policy_direction(summary: FlowSummary, pair: _Pair, reason: str) -> Layer:
    for g in summary.drops:
        if (
            g.reason == reason
            and g.src is not None
            and g.dst is not None
            and (g.src.key, g.dst.key, g.protocol) == (pair.src_key, pair.dst_key, pair.protocol)
        ):
            return Layer.POLICY_EGRESS if g.direction == "EGRESS" else Layer.POLICY_INGRESS
    return Layer.POLICY_INGRESS


def _hubble_cmd(model: ClusterModel, pair: _Pair, port: int, verdict: str | None = None) -> Command:
    """The ``hubble observe`` that shows this pair's flows: exact workload, pod or Service
    filters (:mod:`netsleuth.flows.filters`), never a name prefix that also selects
    ``api-gateway`` for ``api``."""
    args = ["hubble", "observe"]
    if verdict:
        args += ["--verdict", verdict]
    args += side_filters(model, pair.src_key, "from")
    args += side_filters(model, pair.dst_key, "to")
    if port:
        args += ["--to-port", str(port)]
    args += ["--protocol", pair.protocol.lower()]
    return cmd(*args)


def with_flows(
    model: ClusterModel,
    result: TraceResult,
    summary: FlowSummary,
    *,
    namespace: str | None = None,
) -> TraceResult:
    """``result`` with the observed hop (not-checked without a flow of the pair) and any
    disagreement noted. ``namespace``: the ``-n`` the trace's bare names were read in."""
    files = ", ".join(summary.files) or "the flows given"
    pairs = _pairs(model, result, namespace)
    notes = list(result.query.notes)
    if not pairs:
        notes.append(
            f"observed (Hubble): not checked — the flows name pods and workloads; "
            f"{result.query.dst_resolved} is not one of the model's"
        )
        return _with(result, notes=notes, problems=summary.problems)
    found = _observations(summary, pairs)
    if not found:
        ports = sorted({p.port for p in pairs if p.port is not None})
        hop = Hop(
            layer=Layer.POLICY_INGRESS,
            status=Verdict.NOT_CHECKED,
            summary=f"observed (Hubble): no flow from {pairs[0].src_key} to "
            + ", ".join(sorted({p.dst_key for p in pairs}))
            + (f" on {pairs[0].protocol} " + ", ".join(map(str, ports)) if ports else "")
            + f" in {files}",
            confirm=(_hubble_cmd(model, pairs[-1], ports[-1] if ports else 0),),
        )
        return _with(result, hops=(*result.hops, hop), notes=notes, problems=summary.problems)
    predicted_broken = [h for h in result.hops if h.status is Verdict.BROKEN]
    dropped = [(p, port, o) for p, port, o in found if o.verdict == "DROPPED"]
    detail = [
        f"{p.dst_key} {p.protocol}/{port} ({p.what}): last {o.verdict}"
        + (f" {o.reason}" if o.reason else "")
        + (f" at {o.time_text}" if o.time_text else "")
        + (f" on {o.node}" if o.node else "")
        + f" — {o.forwarded} forwarded, {o.dropped} dropped"
        + (f" [{o.origin}]" if o.origin else "")
        for p, port, o in found[:MAX_DETAIL]
    ]
    if len(found) > MAX_DETAIL:
        detail.append(f"… and {len(found) - MAX_DETAIL} more pairs")
    evidence = tuple(
        Evidence(
            f"hubble:{o.origin or files}",
            f"{p.src_key} -> {p.dst_key} {p.protocol}/{port} last verdict",
            f"{o.verdict}{' ' + o.reason if o.reason else ''}"
            + (f" at {o.time_text}" if o.time_text else ""),
        )
        for p, port, o in found[:MAX_DETAIL]
    )
    if dropped:
        pair, port, obs = dropped[0]
        reason = obs.reason or "DROP_REASON_UNKNOWN"
        layer = (
            _policy_direction(summary, pair, reason)
            if is_policy_reason(reason)
            else drop_layer(reason)
        )
        summary_text = (
            f"observed (Hubble): {pair.dst_key} {pair.protocol}/{port} last DROPPED "
            f"({reason}: {drop_meaning(reason)})"
            + (f" at {obs.time_text}" if obs.time_text else "")
        )
        if not predicted_broken:
            notes.append(
                f"predicted and observed disagree: the path is predicted {result.verdict}, "
                f"but Hubble's last verdict for {pair.src_key} -> {pair.dst_key} is DROPPED "
                f"({reason}): the cluster runs something the input does not show (a policy "
                "or CiliumNetworkPolicy not in the dump, a changed object), or the drop is "
                "outside the model (node, CNI datapath)"
            )
            detail.insert(0, "disagrees with the prediction: no predicted hop is broken")
        else:
            agree = [h.layer for h in predicted_broken if h.layer == layer]
            detail.insert(
                0,
                "agrees with the predicted broken hop " + str(agree[0])
                if agree
                else "the prediction breaks at "
                + ", ".join(str(h.layer) for h in predicted_broken)
                + f"; Hubble saw the drop at {layer}",
            )
        hop = Hop(
            layer=layer,
            status=Verdict.BROKEN,
            summary=summary_text,
            evidence=evidence,
            confirm=(_hubble_cmd(model, pair, port, "DROPPED"),),
            detail=tuple(detail),
        )
    else:
        pair, port, obs = found[0]
        layer = Layer.POLICY_INGRESS
        status = Verdict.OK
        summary_text = (
            f"observed (Hubble): {pair.dst_key} {pair.protocol}/{port} last FORWARDED"
            + (f" at {obs.time_text}" if obs.time_text else "")
        )
        if predicted_broken:
            status = Verdict.UNKNOWN
            first = predicted_broken[0]
            notes.append(
                f"predicted and observed disagree: the path is predicted broken at {first.layer}, "
                f"but Hubble's last verdict for {pair.src_key} -> {pair.dst_key} is FORWARDED: "
                "the input is stale (the object changed since the dump), or the cluster does "
                "not enforce what the input says (a CNI without NetworkPolicy support)"
            )
            detail.insert(0, f"disagrees with the prediction: broken at {first.layer}")
            layer = first.layer
        hop = Hop(
            layer=layer,
            status=status,
            summary=summary_text,
            evidence=evidence,
            confirm=(_hubble_cmd(model, pair, port),),
            detail=tuple(detail),
        )
    return _with(result, hops=(*result.hops, hop), notes=notes, problems=summary.problems)


def _with(
    result: TraceResult,
    *,
    hops: tuple[Hop, ...] | None = None,
    notes: list[str] | None = None,
    problems: Iterable[LoadProblem] = (),
) -> TraceResult:
    query = result.query if notes is None else replace(result.query, notes=tuple(notes))
    extra = tuple(p for p in problems if p not in result.problems)
    return replace(
        result,
        query=query,
        hops=result.hops if hops is None else hops,
        problems=(*result.problems, *extra),
    )


# --------------------------------------------------------------------------- Prometheus

_NODE_SIGNALS = (
    ("conntrack_fill", Layer.CONNTRACK),
    ("conntrack_insert_failed", Layer.CONNTRACK),
    ("node_network_drops", Layer.NODE),
    ("node_network_errors", Layer.NODE),
    ("hubble_datapath_drops", Layer.CNI),
)
_SERVICE_SIGNALS = (
    ("kube_proxy_sync_latency", Layer.KUBE_PROXY),
    ("kube_proxy_sync_failures", Layer.KUBE_PROXY),
)
_DNS_SIGNALS = (
    ("coredns_down", Layer.DNS),
    ("coredns_servfail", Layer.DNS),
    ("coredns_forward_failures", Layer.DNS),
    ("coredns_latency", Layer.DNS),
)
_WHAT = {s.name: s.what for s in SIGNALS}


def _path_nodes(model: ClusterModel, result: TraceResult, namespace: str | None) -> list[str]:
    src, dst = _resolve(model, result, namespace)
    nodes: list[str] = []
    pods: list[Pod] = []
    if src is not None:
        pods.extend(src.pods[:1])
    if dst is not None:
        if dst.form == "service" and dst.service is not None:
            pods.extend(p for p in selected_pods(model, dst.service) if p.ready)
        else:
            pods.extend(dst.pods)
    for p in pods:
        if p.node_name and p.node_name not in nodes:
            nodes.append(p.node_name)
    return nodes


def _value_text(b: Breach) -> str:
    unit = b.signal.unit
    if unit == "ratio":
        return f"{b.value * 100:.1f} %"
    if unit == "seconds":
        return f"{b.value * 1000:.0f} ms" if b.value < 1 else f"{b.value:.3g} s"
    if unit == "per-second":
        return f"{b.value:.3g}/s"
    return f"{b.value:g}"


def _metric_hop(model: ClusterModel, snap: MetricsSnapshot, b: Breach, layer: Layer) -> Hop:
    name = b.signal.name
    change: Subject | None
    if b.signal.name.startswith("coredns_"):
        kind, meta = (
            coredns_corefile(model)
            if name in ("coredns_servfail", "coredns_forward_failures")
            else coredns_deployment(model)
        )
        change = Subject(kind, meta.namespace, meta.name)
    elif name == "kube_proxy_sync_latency":
        kind, meta = kube_proxy_daemonset(model)
        change = Subject(kind, meta.namespace, meta.name)
    else:
        change = Subject("Node", None, b.node) if b.node else None
    if name == "hubble_datapath_drops":
        layer = drop_layer(b.sample.get("reason") or "")
    where = "" if name.startswith("coredns_") else f" on {b.where}"
    extra = f" ({b.sample.get('reason')})" if b.sample.get("reason") else ""
    status = Verdict.BROKEN if name == "coredns_down" else Verdict.WARNING
    return Hop(
        layer=layer,
        status=status,
        summary=f"observed (Prometheus, {b.signal.check_id}): {_WHAT[name]}{extra}"
        f"{where} is {_value_text(b)} over the last {snap.thresholds.window}",
        evidence=(
            Evidence(f"prometheus {snap.url}", "query", b.query),
            Evidence(f"prometheus {snap.url}", "series", b.sample.text()),
        ),
        confirm=(
            cmd("curl", "-sG", f"{snap.url}/api/v1/query", "--data-urlencode", f"query={b.query}"),
        ),
        detail=(f"see netsleuth checks {b.signal.check_id}",),
        change=change,
        change_field=_CHANGE_FIELD.get(name, ""),
    )


_CHANGE_FIELD = {
    "coredns_servfail": "data.Corefile (forward)",
    "coredns_forward_failures": "data.Corefile (forward)",
    "coredns_latency": "spec.template.spec.containers[].resources, spec.replicas",
}


def with_metrics(
    model: ClusterModel,
    result: TraceResult,
    snapshot: MetricsSnapshot,
    *,
    namespace: str | None = None,
) -> TraceResult:
    """``result`` with a hop per breach on the path, and a not-checked hop per layer for the
    signals Prometheus did not measure (or could not be asked for)."""
    notes = list(result.query.notes)
    nodes = _path_nodes(model, result, namespace)
    wanted: list[tuple[str, Layer]] = []
    if nodes:
        wanted.extend(_NODE_SIGNALS)
    if result.query.path == "pod-to-service":
        wanted.extend(_SERVICE_SIGNALS)
    if any(h.layer is Layer.DNS for h in result.hops):
        wanted.extend(_DNS_SIGNALS)
    hops: list[Hop] = []
    checked: list[str] = []
    unmeasured: dict[Layer, list[str]] = {}
    for name, layer in wanted:
        why = snapshot.not_measured(name)
        if why is not None:
            unmeasured.setdefault(layer, []).append(f"{_WHAT[name]} ({why})")
            continue
        checked.append(_WHAT[name])
        for b in breaches(model, snapshot, name):
            on_path = name.startswith("coredns_") or (b.node is not None and b.node in nodes)
            if on_path:
                hops.append(_metric_hop(model, snapshot, b, layer))
    if snapshot.error is not None:
        layers = sorted(unmeasured, key=str)
        hops.append(
            Hop(
                layer=layers[0] if layers else Layer.NODE,
                status=Verdict.NOT_CHECKED,
                summary=f"observed (Prometheus): {snapshot.error}",
                detail=tuple(f"not measured: {w}" for ws in unmeasured.values() for w in ws),
            )
        )
    else:
        for layer, what in unmeasured.items():
            hops.append(
                Hop(
                    layer=layer,
                    status=Verdict.NOT_CHECKED,
                    summary="observed (Prometheus): " + "; ".join(what),
                )
            )
    if checked and not any(h.status is not Verdict.NOT_CHECKED for h in hops):
        notes.append(
            "observed (Prometheus): no breach of "
            + ", ".join(checked)
            + (f" on {', '.join(nodes)}" if nodes else "")
        )
    return _with(result, hops=(*result.hops, *hops), notes=notes, problems=snapshot.problems)

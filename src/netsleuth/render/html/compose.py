"""Put a report together: run the traces it asks for and find their ends on the map.

The CLI calls these; they only combine the analyses (``trace``, ``scan``,
the policy engine) and never print.
"""

from __future__ import annotations

from collections.abc import Iterable

from netsleuth.errors import NetsleuthError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Pod
from netsleuth.model.targets import Target, parse_target
from netsleuth.policy.connlist import Peer
from netsleuth.render.html.report import TraceRequest
from netsleuth.trace import trace
from netsleuth.trace.result import TraceResult


def _owners(model: ClusterModel, pods: Iterable[Pod]) -> tuple[Peer, ...]:
    out: dict[Peer, None] = {}
    for pod in pods:
        ref = model.owner(pod)
        out[Peer(ref.kind, ref.namespace, ref.name)] = None
    return tuple(out)


def target_peers(model: ClusterModel, t: Target, *, near: str | None = None) -> tuple[Peer, ...]:
    """The workloads standing for a trace end (a Service: the workloads it selects; a DNS
    name: the Service it names, short names in ``near``'s namespace)."""
    if t.workload is not None:
        w = t.workload
        return (Peer(w.kind, w.namespace, w.name),)
    svc = t.service
    if svc is None and t.form == "dns" and t.dns_name:
        parts = t.dns_name.rstrip(".").split(".")
        if len(parts) >= 2:
            svc = model.service(parts[1], parts[0])
        elif near is not None:
            svc = model.service(near, parts[0])
    if svc is not None:
        selected = model.pods_matching(svc.namespace, svc.selector) if svc.selector else []
        if selected:
            return _owners(model, selected)
        # A Service that selects nothing (the usual broken trace): draw the trace to the
        # workload of the same name, when there is one, so the map still shows it.
        return tuple(
            Peer(kind, svc.namespace, svc.name)
            for kind in ("Deployment", "StatefulSet", "DaemonSet")
            if model.workload(kind, svc.namespace, svc.name) is not None
        )
    return _owners(model, t.pods)


def trace_request(
    model: ClusterModel,
    src: str,
    dst: str,
    *,
    port: int | str | None = None,
    protocol: str = "TCP",
    result: TraceResult | None = None,
    namespace: str | None = None,
) -> TraceRequest:
    """Run ``trace src dst`` (unless ``result`` is given) for a report; a query error is kept
    as the request's ``error``, so one bad trace does not lose the report. ``namespace``:
    the ``-n`` namespace of bare names."""
    try:
        if result is None:
            result = trace(model, src, dst, port=port, protocol=protocol, namespace=namespace)
        s = parse_target(model, src, role="src", namespace=namespace)
        d = parse_target(model, dst, role="dst", namespace=namespace)
    except NetsleuthError as exc:
        return TraceRequest(src=src, dst=dst, result=result, error=exc.message)
    near = s.pods[0].namespace if s.pods else None
    return TraceRequest(
        src=src,
        dst=dst,
        result=result,
        src_peers=target_peers(model, s),
        dst_peers=target_peers(model, d, near=near),
    )

"""A Service's backends as the EndpointSlice controller sees them.

The controller selects pods in the Service's namespace with the Service's
``selector`` (equality only), includes a pod once it has an IP, marks it
ready when the pod's Ready condition is True (or always, with
``publishNotReadyAddresses``), and resolves a named ``targetPort`` per pod
against that pod's container ports of the same protocol.
https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import ContainerPort, Pod, Service, ServicePort


def selected_pods(model: ClusterModel, svc: Service) -> list[Pod]:
    """Pods the selector matches (terminal pods, Succeeded/Failed, are never endpoints).

    Several checks and the trace ask this for every Service; each answer is
    computed once per model. Callers must not mutate the returned list.
    """
    if not svc.has_selector or svc.type == "ExternalName":
        return []
    memo: dict[tuple[str, str], list[Pod]] = model.memoised("facts.selected_pods", dict)
    pods = memo.get(svc.key)
    if pods is None:
        pods = [
            p
            for p in model.pods_matching(svc.namespace, svc.selector or {})
            if p.phase not in ("Succeeded", "Failed")
        ]
        memo[svc.key] = pods
    return pods


def declared_port(pod: Pod, number: int, protocol: str | None = None) -> ContainerPort | None:
    for cp in pod.spec.all_ports():
        if cp.container_port == number and (protocol is None or cp.protocol == protocol):
            return cp
    return None


def target_of(sp: ServicePort) -> int | str:
    """The targetPort as an int when numeric (``"8080"`` counts as 8080), else the name."""
    t = sp.effective_target_port
    if isinstance(t, str) and t.isdigit():
        return int(t)
    return t


def endpoint_nodes(model: ClusterModel, svc: Service) -> set[str]:
    """Nodes with a ready endpoint: from the slices' nodeName, else from ready selected pods."""
    slices = model.slices_for(svc)
    if slices:
        nodes = {e.node_name for s in slices for e in s.endpoints if e.is_ready and e.node_name}
        if nodes or not any(e.is_ready for s in slices for e in s.endpoints):
            return nodes
    return {p.node_name for p in selected_pods(model, svc) if p.ready and p.node_name}


def not_ready_reason(model: ClusterModel, pod: Pod) -> str:
    """Why a pod is not a ready endpoint, in a few words (``web-1 CrashLoopBackOff, 4 restarts``)."""
    for cs in pod.container_statuses:
        if cs.is_init:
            continue
        if cs.state == "waiting" and cs.state_reason:
            extra = f" (last: {cs.last_termination_reason})" if cs.last_termination_reason else ""
            return f"{pod.name} {cs.state_reason}{extra}, {cs.restart_count} restarts"
        if cs.last_termination_reason == "OOMKilled":
            return f"{pod.name} OOMKilled, {cs.restart_count} restarts"
    if pod.phase != "Running":
        return f"{pod.name} {pod.phase}" + (f" ({pod.reason})" if pod.reason else "")
    if not pod.ready:
        probe_events = [
            e for e in model.events_for("Pod", pod.namespace, pod.name) if e.reason == "Unhealthy"
        ]
        if probe_events:
            return f"{pod.name} not Ready: {probe_events[-1].message}"
        return f"{pod.name} Running but not Ready (readiness probe failing)"
    return f"{pod.name} Ready"


def nearest_pods(model: ClusterModel, namespace: str, selector: Mapping[str, str]) -> list[Pod]:
    """The pods of ``namespace`` whose labels come closest to ``selector`` (label drift):
    a label with the wanted value counts 1, the wanted key with another value 0.5; the
    best-scoring pods (ties: fewer differing labels first), in input order; empty when
    no pod shares a key with the selector.

    :func:`selector_near_miss` names the first of them (SVC201 and the trace's service
    hop read it).
    """
    best: list[Pod] = []
    best_key = (0.0, 0)
    for p in model.pods_by_namespace.get(namespace, ()):
        score = float(sum(1 for k, v in selector.items() if p.labels.get(k) == v))
        score += sum(0.5 for k in selector if k in p.labels and p.labels[k] != selector[k])
        if score == 0:
            continue
        key = (score, -len(label_differences(p, selector)))
        if not best or key > best_key:
            best, best_key = [p], key
        elif key == best_key:
            best.append(p)
    return best


def label_differences(pod: Pod, selector: Mapping[str, str]) -> list[str]:
    """The selector's keys the pod's labels do not satisfy, sorted."""
    return sorted(k for k, v in selector.items() if pod.labels.get(k) != v)


@dataclass(frozen=True, slots=True)
class SelectorNearMiss:
    """The pod whose labels come closest to a selector that matches nothing (label drift),
    and how they differ: what SVC201 and the trace's service hop both name."""

    pod: Pod
    """The nearest pod (the first of :func:`nearest_pods`)."""
    differences: tuple[tuple[str, str, str | None], ...]
    """``(key, wanted value, the pod's value or None when it lacks the label)``, by key."""

    def describe(self) -> str:
        """``app=checkout-api, tier missing``: the pod's side of each difference."""
        return ", ".join(
            f"{k}={have}" if have is not None else f"{k} missing" for k, _, have in self.differences
        )


def selector_near_miss(
    model: ClusterModel, namespace: str, selector: Mapping[str, str]
) -> SelectorNearMiss | None:
    """The nearest pod of ``namespace`` to ``selector`` and its differing labels; ``None``
    when no pod shares a label key with the selector (or the selector matches)."""
    best = nearest_pods(model, namespace, selector)
    if not best:
        return None
    p = best[0]
    diffs = tuple((k, selector[k], p.labels.get(k)) for k in label_differences(p, selector))
    if not diffs:
        return None
    return SelectorNearMiss(p, diffs)

"""Input coverage: whether the absence of an object in the input means it does not exist.

A check that reports something *missing* (a TLS Secret, a backend Service,
a cluster DNS Service) may only speak when the input would show the object
if it existed:

- live input lists every namespace of every kind it could read: complete,
  unless the kind was forbidden or failed;
- offline, a kind the input holds in the namespace in question was listed
  there;
- a kind listed *across namespaces* (objects of it in two or more other
  namespaces, as ``kubectl get -A`` gives them) counts as complete for
  every namespace: its absence from one namespace is real;
- otherwise (no object of the kind at all, or one other namespace only) the
  absence proves nothing, and the check says ``inconclusive`` with this
  reason instead of staying silent or raising a false alarm.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel, SourceKind, resource_of


@dataclass(frozen=True, slots=True)
class Coverage:
    complete: bool
    reason: str
    """Why the input does (or does not) show every object of the kind there."""

    def __bool__(self) -> bool:
        return self.complete


def _namespaces(model: ClusterModel, kind: str) -> set[str]:
    def of(items: Iterable[object]) -> set[str]:
        out: set[str] = set()
        for it in items:
            meta = getattr(it, "meta", None)
            if meta is not None and not meta.derived:
                out.add(meta.namespace or "default")
        return out

    by_kind: dict[str, Iterable[object]] = {
        "Service": model.services,
        "Secret": model.secrets,
        "ConfigMap": model.config_maps,
        "Gateway": model.gateways,
        "Ingress": model.ingresses,
        "NetworkPolicy": model.network_policies,
        "EndpointSlice": model.endpoint_slices,
        "Pod": model.pods,
        "Event": model.events,
    }
    if kind in by_kind:
        return of(by_kind[kind])
    return of(
        [w for w in model.workloads if w.kind == kind]
        + [c for c in model.custom if c.kind == kind]
        + [u for u in model.unknown if u.kind == kind]
    )


def coverage(model: ClusterModel, kind: str, namespace: str | None = None) -> Coverage:
    """Whether the input would show an object of ``kind`` (in ``namespace``) if it existed."""
    res = resource_of(kind)
    if model.is_forbidden(res):
        return Coverage(False, f"{res} could not be listed (forbidden or failed)")
    if model.source.kind == SourceKind.LIVE:
        return Coverage(True, f"{res} listed live")
    if namespace is None:
        if model.has_kind(kind):
            return Coverage(True, f"the input lists {kind} objects")
        return Coverage(False, f"the input holds no {kind} (collect: kubectl get {res} -o yaml)")
    seen = _namespaces(model, kind)
    if namespace in seen:
        return Coverage(True, f"the input lists {kind} objects of namespace {namespace}")
    others = sorted(seen - {namespace})
    if len(others) >= 2:
        return Coverage(True, f"{kind} objects are listed across namespaces ({len(others)} others)")
    if others:
        return Coverage(
            False,
            f"the input holds {kind} objects of namespace {others[0]} only: those of {namespace} "
            f"may not have been collected (kubectl get {res} -A)",
        )
    return Coverage(False, f"the input holds no {kind} (kubectl get {res} -A)")


__all__ = ["Coverage", "coverage"]

"""What Ingresses, Gateway routes and LoadBalancer Services point at, and whether the input
can tell that a referenced object is missing.

"Missing" is only said when the input covers the place the object would
be: a live scan that could list the kind, or offline input holding objects
of that kind in that namespace (a dump of one namespace says nothing about
another). This keeps a partial dump from producing "not found" findings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel, SourceKind, resource_of
from netsleuth.model.objects import Ingress, IngressBackend, Pod


def covers(model: ClusterModel, kind: str, namespace: str | None = None) -> bool:
    """True when the input would show an object of ``kind`` in ``namespace`` if it existed."""
    if model.is_forbidden(resource_of(kind)):
        return False
    if model.source.kind == SourceKind.LIVE:
        return True
    if kind == "Service":
        if namespace is None:
            return bool(model.services)
        return any(s.namespace == namespace for s in model.services)
    if kind == "Secret":
        return (
            any(s.meta.namespace == namespace for s in model.secrets)
            if namespace
            else bool(model.secrets)
        )
    if kind == "Gateway":
        return (
            any((g.meta.namespace or "default") == namespace for g in model.gateways)
            if namespace
            else bool(model.gateways)
        )
    return model.has_kind(kind)


@dataclass(frozen=True, slots=True)
class BackendUse:
    backend: IngressBackend
    field: str
    """``spec.rules[0].http.paths[1].backend``."""
    host: str | None
    path: str | None
    path_type: str | None


def ingress_backends(ing: Ingress) -> Iterator[BackendUse]:
    if ing.default_backend is not None:
        yield BackendUse(ing.default_backend, "spec.defaultBackend", None, None, None)
    for i, rule in enumerate(ing.rules):
        for j, p in enumerate(rule.paths):
            yield BackendUse(
                p.backend,
                f"spec.rules[{i}].http.paths[{j}].backend",
                rule.host,
                p.path,
                p.path_type,
            )


def ingress_controller(model: ClusterModel, ing: Ingress) -> str | None:
    """The controller string of the Ingress's class (``k8s.io/ingress-nginx``), when known."""
    name = ing.class_name
    if name is None:
        default = next((c for c in model.ingress_classes if c.is_default), None)
        return default.controller if default else None
    cls = next((c for c in model.ingress_classes if c.meta.name == name), None)
    if cls is not None:
        return cls.controller
    if name == "nginx":
        return "k8s.io/ingress-nginx"
    return None


# Ingress / gateway controller pods by label.
CONTROLLER_LABELS: tuple[tuple[str, str, str], ...] = (
    ("app.kubernetes.io/name", "ingress-nginx", "ingress-nginx"),
    ("app", "ingress-nginx", "ingress-nginx"),
    ("app.kubernetes.io/name", "traefik", "traefik"),
    ("app.kubernetes.io/name", "haproxy-ingress", "haproxy-ingress"),
    ("app.kubernetes.io/name", "kong", "kong"),
    ("app.kubernetes.io/name", "contour", "contour"),
    ("app", "istio-ingressgateway", "istio-ingressgateway"),
)


def controller_pods(model: ClusterModel) -> dict[str, list[Pod]]:
    """Ingress controller pods by controller name (only the controller component of ingress-nginx,
    not its admission jobs)."""
    out: dict[str, list[Pod]] = {}
    for p in model.pods:
        if p.meta.derived or p.phase in ("Succeeded", "Failed"):
            continue
        for k, v, name in CONTROLLER_LABELS:
            if p.labels.get(k) == v:
                comp = p.labels.get("app.kubernetes.io/component")
                if name == "ingress-nginx" and comp not in (None, "controller"):
                    break
                out.setdefault(name, []).append(p)
                break
    return out

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

from netsleuth.facts.coverage import coverage
from netsleuth.model.cluster import ClusterModel, resource_of
from netsleuth.model.objects import Ingress, IngressBackend, Pod


def covers(model: ClusterModel, kind: str, namespace: str | None = None) -> bool:
    """True when the input would show an object of ``kind`` in ``namespace`` if it existed
    (:func:`netsleuth.facts.coverage.coverage`: listed there, listed live, or listed across
    namespaces)."""
    return coverage(model, kind, namespace).complete


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


@dataclass(frozen=True, slots=True)
class SecretRefState:
    """What the input says about a Secret an Ingress names for TLS.

    ``state``: ``present`` (in the Ingress's namespace), ``missing`` (the input
    covers Secrets there and it is not among them), ``elsewhere`` (only Secrets
    of that name in other namespaces: an Ingress can only use its own
    namespace's, https://kubernetes.io/docs/concepts/services-networking/ingress/#tls),
    ``not-checked`` (the input does not show that namespace's Secrets).
    """

    state: str
    type: str | None = None
    """The Secret's type when present (``kubernetes.io/tls`` expected)."""
    elsewhere: tuple[str, ...] = ()
    """Namespaces holding a Secret of that name."""


def tls_secret_state(model: ClusterModel, namespace: str, name: str) -> SecretRefState:
    """The state of Secret ``name`` referenced from an Ingress in ``namespace`` (ING804 and
    the trace's ingress hop both read it)."""
    by_name: dict[str, list[tuple[str, str]]] = model.memoised(
        "facts.secrets_by_name", lambda: _secrets_by_name(model)
    )
    found = by_name.get(name, [])
    here = [t for ns, t in found if ns == namespace]
    if here:
        return SecretRefState("present", type=here[0])
    elsewhere = tuple(sorted(ns for ns, _ in found if ns != namespace))
    if covers(model, "Secret", namespace):
        return SecretRefState("missing", elsewhere=elsewhere)
    if elsewhere and not model.is_forbidden(resource_of("Secret")):
        return SecretRefState("elsewhere", elsewhere=elsewhere)
    return SecretRefState("not-checked")


def _secrets_by_name(model: ClusterModel) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for s in model.secrets:
        out.setdefault(s.meta.name, []).append((s.meta.namespace or "default", s.type))
    return out

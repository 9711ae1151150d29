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
from netsleuth.model import ingress_controllers
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
    """The controller string of the Ingress's class (``k8s.io/ingress-nginx``), when known
    (:func:`netsleuth.model.ingress_controllers.class_controller`)."""
    return ingress_controllers.class_controller(model, ing)


def controller_pods(model: ClusterModel) -> dict[str, list[Pod]]:
    """Ingress controller pods that exist (not derived from a template: readiness is a
    question about them), by controller name.

    The pods are identified once, in :func:`netsleuth.model.ingress_controllers.controller_pods`
    (the policy engine's ingress-controller peer reads the same function); ING810 judges
    these, the trace's ingress hop reads :func:`serving_controller_pods`.
    """
    out: dict[str, list[Pod]] = {}
    for name, pods in ingress_controllers.controller_pods(model).items():
        real = [p for p in pods if not p.meta.derived]
        if real:
            out[name] = real
    return out


def serving_controller_pods(model: ClusterModel, ingress: Ingress | None) -> list[Pod]:
    """The existing controller pods serving ``ingress``: its class's controller's when the
    input holds them, else every controller's
    (:func:`netsleuth.model.ingress_controllers.serving_pods`)."""
    return [p for p in ingress_controllers.serving_pods(model, ingress) if not p.meta.derived]


@dataclass(frozen=True, slots=True)
class ControllerReadiness:
    """Readiness of one workload's ingress controller pods (ING810 and the trace's ingress
    hop both read it): ``not_ready`` excludes terminating pods (they are going away)."""

    controller: str
    """The controller name (``ingress-nginx``)."""
    kind: str
    namespace: str
    name: str
    """The workload owning the pods (what a person changes), else the pod."""
    pods: tuple[Pod, ...]
    not_ready: tuple[Pod, ...]

    @property
    def ready(self) -> int:
        """Pods Ready (a terminating pod is neither counted here nor in ``not_ready``)."""
        return sum(1 for p in self.pods if p.ready)

    @property
    def none_ready(self) -> bool:
        return self.ready == 0

    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def controller_readiness(
    model: ClusterModel, pods: list[Pod] | None = None
) -> list[ControllerReadiness]:
    """Per controller and owning workload, the controller pods and those not Ready
    (terminating pods left out of ``not_ready``). ``pods``: only these (a trace's serving
    pods); default every existing controller pod."""
    keep = {p.key for p in pods} if pods is not None else None
    out: list[ControllerReadiness] = []
    for controller, found in sorted(controller_pods(model).items()):
        by_owner: dict[tuple[str, str, str], list[Pod]] = {}
        for p in found:
            if keep is not None and p.key not in keep:
                continue
            o = model.owner(p)
            by_owner.setdefault((o.kind, o.namespace, o.name), []).append(p)
        for (kind, ns, name), group in sorted(by_owner.items()):
            not_ready = tuple(p for p in group if not p.ready and not p.terminating)
            out.append(ControllerReadiness(controller, kind, ns, name, tuple(group), not_ready))
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

"""Who an Ingress's (or a Route's) traffic comes from, as far as NetworkPolicy can tell.

Traffic for an Ingress, a Gateway API route or an OpenShift Route reaches
the backend pods from the controller's pods (ingress controller, gateway
data plane, OpenShift router), on the Service's target ports
(:func:`backend_targets`). When the controller pods
are in the input we use them (their namespace and labels decide which
``from`` peers match): the pods of the Ingress's class's controller, else every
controller pod, identified by
:func:`netsleuth.model.ingress_controllers.serving_pods` (the one rule ING810 and
the trace's ingress hop read too: ``app.kubernetes.io/name``/``app`` of a known
controller, the OpenShift router's label; pods derived from manifests included).

Otherwise the controller is the pseudo-peer
:class:`~netsleuth.policy.decision.IngressControllerEndpoint`: a pod of an
unknown namespace with unknown labels, i.e. coming from outside the
backend's namespace, which only "any peer" rules and ``namespaceSelector:
{}`` match.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.ingress_controllers import serving_pods
from netsleuth.model.objects import Ingress, Pod, Service, ServicePort
from netsleuth.policy.decision import Endpoint, IngressControllerEndpoint, PodEndpoint
from netsleuth.policy.semantics import PROTOCOLS, normalise_protocol, resolve_named_port

OPENSHIFT_ROUTE_KIND = "Route"
OPENSHIFT_ROUTE_GROUP = "route.openshift.io"


def ingress_controller_endpoints(
    model: ClusterModel, ingress: Ingress | None = None
) -> tuple[Endpoint, ...]:
    """The controller pods (as endpoints) serving ``ingress``, else one pseudo-peer."""
    found = serving_pods(model, ingress)
    if found:
        return tuple(PodEndpoint(p) for p in found)
    cls = ingress.class_name if ingress is not None else None
    return (IngressControllerEndpoint(ingress_class=cls),)


# --------------------------------------------------------------------------- backends


@dataclass(frozen=True, slots=True)
class Frontend:
    """An object that sends outside traffic to a Service: ``kind/namespace/name``."""

    kind: str
    namespace: str
    name: str

    def describe(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"


def openshift_routes(model: ClusterModel) -> list[Any]:
    """The OpenShift Routes of the model (``route.openshift.io``; kept as custom objects)."""
    return [
        c for c in model.custom_of_kind(OPENSHIFT_ROUTE_KIND) if c.group == OPENSHIFT_ROUTE_GROUP
    ]


def has_frontends(model: ClusterModel) -> bool:
    """The input holds an Ingress, a Gateway API route or an OpenShift Route."""
    return bool(model.ingresses or model.routes or openshift_routes(model))


def _target(pod: Pod, sp: ServicePort) -> int | None:
    t = sp.effective_target_port
    if isinstance(t, int):
        return t
    if t.isdigit():
        return int(t)
    return resolve_named_port(pod, t, normalise_protocol(sp.protocol))


PodSelect = Callable[[str, Mapping[str, str]], Iterable[Pod]]
"""``select(namespace, service selector)``: the pods a Service selects."""


def _service_targets(
    select: PodSelect, svc: Service, ports: list[ServicePort], route_target: int | str | None
) -> Iterator[tuple[Pod, str, int]]:
    """(pod, protocol, pod port) for the selected pods of ``svc`` on ``ports``.

    ``route_target`` is an OpenShift Route's ``port.targetPort``: the router
    keeps the endpoints whose port name (the Service port's name) or port
    number (the pod port) equals it
    (openshift/router, ``endpointsForAlias``); ``None`` keeps them all.
    """
    if not svc.selector:
        return
    for pod in select(svc.namespace, svc.selector):
        if pod.host_network:
            continue  # the pseudo-peer reaches only policy-governed pods
        for sp in ports:
            proto = normalise_protocol(sp.protocol)
            if proto not in PROTOCOLS:
                continue
            num = _target(pod, sp)
            if num is None:
                continue
            if route_target is not None and str(route_target) not in (sp.name, str(num)):
                continue
            yield pod, proto, num


def _granted(model: ClusterModel, route_kind: str, route_ns: str, svc_ns: str, svc: str) -> bool:
    """A cross-namespace backendRef needs a ReferenceGrant in the Service's namespace
    (https://gateway-api.sigs.k8s.io/api-types/referencegrant/)."""
    if route_ns == svc_ns:
        return True
    for grant in model.custom_of_kind("ReferenceGrant"):
        if (grant.meta.namespace or "default") != svc_ns:
            continue
        froms = grant.spec.get("from") or []
        tos = grant.spec.get("to") or []
        ok_from = any(
            isinstance(f, Mapping)
            and f.get("group") == "gateway.networking.k8s.io"
            and f.get("kind") == route_kind
            and f.get("namespace") == route_ns
            for f in froms
        )
        ok_to = any(
            isinstance(t, Mapping)
            and (t.get("group") or "") == ""
            and t.get("kind") == "Service"
            and t.get("name") in (None, "", svc)
            for t in tos
        )
        if ok_from and ok_to:
            return True
    return False


def backend_targets(
    model: ClusterModel, select: PodSelect | None = None
) -> Iterator[tuple[Frontend, Pod, str, int]]:
    """(frontend, pod, protocol, pod port) for every pod outside traffic is sent to.

    - Ingress: each rule path and the default backend, ``service.port`` by
      number or name, sent to the Service port's target port.
    - Gateway API routes (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute):
      each ``backendRefs`` entry of kind Service (core group), its ``port``
      being the Service port; another namespace's Service only with a
      ReferenceGrant.
    - OpenShift Route: ``spec.to`` and ``spec.alternateBackends`` (kind
      Service; weight 0 gets no traffic), filtered by ``spec.port.targetPort``
      (see :func:`_service_targets`), TCP (the router proxies HTTP/TLS/TCP).

    ``select`` picks a Service's pods (default: the model's pods).
    """
    pick: PodSelect = select if select is not None else model.pods_matching
    for ing in model.ingresses:
        fe = Frontend("Ingress", ing.namespace, ing.meta.name)
        backends = [p.backend for r in ing.rules for p in r.paths]
        if ing.default_backend is not None:
            backends.append(ing.default_backend)
        for b in backends:
            svc = model.service(ing.namespace, b.service_name) if b.service_name else None
            if svc is None:
                continue
            ref = b.port_number if b.port_number is not None else b.port_name
            sp = svc.port_by_name_or_number(ref) if ref is not None else None
            if sp is not None:
                for pod, proto, num in _service_targets(pick, svc, [sp], None):
                    yield fe, pod, proto, num
    for route in model.routes:
        ns = route.meta.namespace or "default"
        fe = Frontend(route.kind, ns, route.meta.name)
        for rule in route.rules:
            for br in rule.backend_refs:
                if br.kind != "Service" or br.group not in ("", "core"):
                    continue
                svc_ns = br.namespace or ns
                svc = model.service(svc_ns, br.name)
                if (
                    svc is None
                    or br.weight == 0
                    or not _granted(model, route.kind, ns, svc_ns, br.name)
                ):
                    continue
                # backendRef.port is required for a Service; without it nothing resolves.
                sp = svc.port_by_name_or_number(br.port) if br.port is not None else None
                if sp is not None:
                    for pod, proto, num in _service_targets(pick, svc, [sp], None):
                        yield fe, pod, proto, num
    for obj in openshift_routes(model):
        ns = obj.meta.namespace or "default"
        fe = Frontend("Route", ns, obj.meta.name)
        spec = obj.spec
        port = spec.get("port")
        target = port.get("targetPort") if isinstance(port, Mapping) else None
        if not isinstance(target, (int, str)) or isinstance(target, bool) or target == "":
            target = None
        backends = [spec.get("to"), *(spec.get("alternateBackends") or [])]
        for b in backends:
            if not isinstance(b, Mapping) or b.get("kind", "Service") != "Service":
                continue
            weight = b.get("weight")
            if isinstance(weight, int) and not isinstance(weight, bool) and weight == 0:
                continue
            svc = model.service(ns, str(b.get("name") or ""))
            if svc is None:
                continue
            tcp = [sp for sp in svc.ports if normalise_protocol(sp.protocol) == "TCP"]
            for pod, proto, num in _service_targets(pick, svc, tcp, target):
                yield fe, pod, proto, num

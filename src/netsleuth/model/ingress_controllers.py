"""The ingress controller, identified one way for every layer: which pods are the controller
(the proxy north-south traffic goes through), and which controller an Ingress's class names.

A controller pod is found by its standard labels (the charts' and the projects' manifests):
``app.kubernetes.io/name`` or ``app`` equal to a known controller name
(:data:`CONTROLLERS`), or the OpenShift router's
``ingresscontroller.operator.openshift.io/deployment-ingresscontroller`` label. Of
ingress-nginx only the ``controller`` component counts (its admission-webhook Jobs and the
default backend carry the same name and send no traffic to backends). Pods that finished
(``Succeeded``/``Failed``) are not the controller.

An Ingress is served by the controller its IngressClass names (``spec.controller``,
:func:`class_controller`); :func:`serving_pods` gives that controller's pods when the
input holds them, else every controller pod (the class is unknown or its controller's
pods are not in the input).

This lives in the model layer because the policy engine (which peer the backends see
traffic from) and the facts layer (ING810, the trace's ingress hop) both need it, and they
must agree (as :mod:`netsleuth.model.cluster_dns` does for the cluster DNS). Pods derived
from workload templates (manifests only) are included: their labels are what the policy
engine matches; readiness questions leave them out (they have no status).
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Ingress, Pod

OPENSHIFT_ROUTER_LABEL = "ingresscontroller.operator.openshift.io/deployment-ingresscontroller"
OPENSHIFT_ROUTER = "openshift-router"

CONTROLLERS: dict[str, tuple[str, ...]] = {
    # pod name label -> what the IngressClass's spec.controller of that controller contains
    "ingress-nginx": ("k8s.io/ingress-nginx",),
    "nginx-ingress": ("nginx.org/ingress-controller",),
    "nginx-ingress-controller": ("k8s.io/ingress-nginx", "nginx.org/ingress-controller"),
    "traefik": ("traefik.io/ingress-controller",),
    "haproxy-ingress": ("haproxy-ingress.github.io/controller",),
    "kubernetes-ingress": ("haproxy.org/ingress-controller",),
    "kong": ("konghq.com/",),
    "contour": ("projectcontour.io/",),
    "envoy": ("projectcontour.io/",),
    "istio-ingressgateway": ("istio.io/ingress-controller",),
    "aws-load-balancer-controller": ("ingress.k8s.aws/",),
    OPENSHIFT_ROUTER: ("openshift.io/ingress-to-route",),
}
"""Known controllers by the value of their pods' ``app.kubernetes.io/name`` (or ``app``)
label, with the ``spec.controller`` strings of their IngressClass."""

NAME_LABELS = ("app.kubernetes.io/name", "app")
COMPONENT_LABEL = "app.kubernetes.io/component"
CONTROLLER_LABEL_KEYS = (*NAME_LABELS, COMPONENT_LABEL, OPENSHIFT_ROUTER_LABEL)
"""Every label the identification reads (a change to one may change the answer)."""

_ONLY_CONTROLLER_COMPONENT = frozenset({"ingress-nginx", "nginx-ingress-controller"})


def controller_name(pod: Pod) -> str | None:
    """The controller ``pod`` is a pod of (a key of :data:`CONTROLLERS`), or ``None``."""
    if OPENSHIFT_ROUTER_LABEL in pod.labels:
        return OPENSHIFT_ROUTER
    for key in NAME_LABELS:
        name = pod.labels.get(key)
        if name is not None and name in CONTROLLERS and name != OPENSHIFT_ROUTER:
            if name in _ONLY_CONTROLLER_COMPONENT and pod.labels.get(COMPONENT_LABEL) not in (
                None,
                "controller",
            ):
                return None
            return name
    return None


def controller_pods(model: ClusterModel) -> dict[str, tuple[Pod, ...]]:
    """Ingress controller pods by controller name, in input order (derived pods included)."""
    return model.memoised("model.ingress_controller_pods", lambda: _controller_pods(model))


def _controller_pods(model: ClusterModel) -> dict[str, tuple[Pod, ...]]:
    out: dict[str, list[Pod]] = {}
    for p in model.pods:
        if p.phase in ("Succeeded", "Failed"):
            continue
        name = controller_name(p)
        if name is not None:
            out.setdefault(name, []).append(p)
    return {k: tuple(v) for k, v in sorted(out.items())}


def class_controller(model: ClusterModel, ing: Ingress) -> str | None:
    """The controller string of the Ingress's class (``k8s.io/ingress-nginx``), when known:
    its IngressClass's ``spec.controller``, the default class's without a class name, and
    ingress-nginx for the legacy class ``nginx`` when no such IngressClass is in the input."""
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


def serves(name: str, controller: str) -> bool:
    """Pods of controller ``name`` implement IngressClass ``spec.controller`` ``controller``."""
    return name in controller or any(t in controller for t in CONTROLLERS.get(name, ()))


def serving_pods(model: ClusterModel, ingress: Ingress | None = None) -> list[Pod]:
    """The controller pods that serve ``ingress``: its class's controller's when the input
    holds them, else every controller pod (``ingress`` ``None``: every controller pod)."""
    found = controller_pods(model)
    wanted = class_controller(model, ingress) if ingress is not None else None
    if wanted is not None:
        mine = [p for name, pods in found.items() if serves(name, wanted) for p in pods]
        if mine:
            return mine
    return [p for pods in found.values() for p in pods]

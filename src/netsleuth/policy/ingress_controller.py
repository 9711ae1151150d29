"""Who an Ingress's traffic comes from, as far as NetworkPolicy can tell.

Traffic for an Ingress reaches the backend pods from the ingress
controller's pods, on the Service's target ports. When the controller pods
are in the input we use them (their namespace and labels decide which
``from`` peers match). They are found, in order:

1. pods labelled ``app.kubernetes.io/component: controller`` whose
   ``app.kubernetes.io/name`` (or ``app``) is a known controller
   (ingress-nginx, traefik, haproxy-ingress, kong, contour/envoy, …);
2. pods whose ``app.kubernetes.io/name`` or ``app`` is a known controller
   name, in any namespace.

Otherwise the controller is the pseudo-peer
:class:`~netsleuth.policy.decision.IngressControllerEndpoint`: a pod of an
unknown namespace with unknown labels, i.e. coming from outside the
backend's namespace, which only "any peer" rules and ``namespaceSelector:
{}`` match.
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Ingress
from netsleuth.policy.decision import Endpoint, IngressControllerEndpoint, PodEndpoint

KNOWN_CONTROLLERS = frozenset(
    {
        "ingress-nginx",
        "nginx-ingress",
        "nginx-ingress-controller",
        "traefik",
        "haproxy-ingress",
        "kubernetes-ingress",
        "kong",
        "contour",
        "envoy",
        "istio-ingressgateway",
        "aws-load-balancer-controller",
    }
)


def ingress_controller_endpoints(
    model: ClusterModel, ingress: Ingress | None = None
) -> tuple[Endpoint, ...]:
    """The controller pods (as endpoints) serving ``ingress``, else one pseudo-peer."""
    found: list[Endpoint] = []
    for pod in model.pods:
        name = pod.labels.get("app.kubernetes.io/name") or pod.labels.get("app") or ""
        if name in KNOWN_CONTROLLERS:
            found.append(PodEndpoint(pod))
    if found:
        controllers = [
            e
            for e in found
            if isinstance(e, PodEndpoint)
            and e.pod.labels.get("app.kubernetes.io/component") == "controller"
        ]
        return tuple(controllers or found)
    cls = ingress.class_name if ingress is not None else None
    return (IngressControllerEndpoint(ingress_class=cls),)

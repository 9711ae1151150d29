"""ING807: ingress-nginx proxies a gRPC backend over HTTP/1.1 (no backend-protocol annotation)."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import ingress_backends, ingress_controller
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import ServicePort

ANNOTATION = "nginx.ingress.kubernetes.io/backend-protocol"


def is_grpc(port: ServicePort) -> bool:
    """``appProtocol: grpc`` (or ``kubernetes.io/h2c``), or a port named ``grpc`` / ``grpc-*``
    (the Istio naming convention)."""
    app = (port.app_protocol or "").lower()
    name = (port.name or "").lower()
    return app in ("grpc", "kubernetes.io/h2c") or name == "grpc" or name.startswith("grpc-")


@register(
    id="ING807",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Ingress", "Service")),
)
def ing_grpc_backend_protocol(model: ClusterModel) -> Iterator[Finding]:
    """ingress-nginx proxies a gRPC backend over HTTP/1.1 (no backend-protocol annotation).

    What it checks:
        Ingresses served by ingress-nginx (class controller
        ``k8s.io/ingress-nginx``, or class ``nginx``) whose backend Service
        port is gRPC (``appProtocol: grpc``/``kubernetes.io/h2c``, or named
        ``grpc``/``grpc-*``) while the Ingress lacks
        ``nginx.ingress.kubernetes.io/backend-protocol: "GRPC"`` (or
        ``"GRPCS"``).

    Why it breaks traffic:
        gRPC needs HTTP/2 end to end. Without the annotation ingress-nginx
        talks HTTP/1.1 to the backend, the server rejects it, and clients get
        502s or "upstream connect error … protocol error".

    Example:
        Service port ``name: grpc, port: 50051``; Ingress has no
        backend-protocol annotation.

    Fix:
        Annotate the Ingress with ``nginx.ingress.kubernetes.io/backend-protocol: "GRPC"``
        (``"GRPCS"`` when the backend serves TLS); TLS on the Ingress is
        needed for clients that only speak HTTP/2 over TLS. Or use a Gateway
        API GRPCRoute.

    Confirm live:
        ``kubectl get ingress -n <ns> <name> -o jsonpath='{.metadata.annotations}'``;
        ``grpcurl <host>:443 list``.

    References:
        https://kubernetes.github.io/ingress-nginx/examples/grpc/ ;
        https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/annotations/#backend-protocol
    """
    for ing in model.ingresses:
        if ingress_controller(model, ing) != "k8s.io/ingress-nginx":
            continue
        proto = ing.meta.annotations.get(ANNOTATION, "").upper()
        if proto in ("GRPC", "GRPCS"):
            continue
        for use in ingress_backends(ing):
            b = use.backend
            svc = model.service(ing.namespace, b.service_name) if b.service_name else None
            if svc is None:
                continue
            ref: int | str | None = b.port_number if b.port_number is not None else b.port_name
            port = svc.port_by_name_or_number(ref) if ref is not None else None
            if port is None or not is_grpc(port):
                continue
            how = (
                f"appProtocol {port.app_protocol}"
                if port.app_protocol
                else f"port name {port.name}"
            )
            yield finding(
                "ING807",
                model,
                kind="Ingress",
                meta=ing.meta,
                message=f"Ingress {ing.namespace}/{ing.name} sends {use.path or '/'} to gRPC Service {svc.name}:{port.port} "
                f"({how}) without {ANNOTATION}: GRPC, so ingress-nginx speaks HTTP/1.1 to it",
                evidence=[
                    Evidence(
                        f"Ingress/{ing.namespace}/{ing.name}",
                        f"metadata.annotations.{ANNOTATION}",
                        proto or "<unset>",
                    ),
                    Evidence(
                        f"Service/{svc.namespace}/{svc.name}", "spec.ports", f"{port.port} {how}"
                    ),
                ],
                confirm=(
                    kubectl(
                        "get",
                        "ingress",
                        "-n",
                        ing.namespace,
                        ing.name,
                        "-o",
                        "jsonpath={.metadata.annotations}",
                    ),
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
                ),
                fix=Fix(
                    text="Annotate the Ingress so ingress-nginx speaks gRPC (HTTP/2) to the backend.",
                    command=kubectl(
                        "-n",
                        ing.namespace,
                        "annotate",
                        "ingress",
                        ing.name,
                        f"{ANNOTATION}=GRPC",
                        "--overwrite",
                    ),
                ),
            )
            break

"""ING802: an Ingress backend names a Service or port that does not exist."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import covers, ingress_backends
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="ING802",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Ingress", "Service")),
)
def ing_backend_missing(model: ClusterModel) -> Iterator[Finding]:
    """An Ingress backend names a Service or port that does not exist.

    What it checks:
        Every ``service`` backend of an Ingress (``defaultBackend`` and each
        rule path): the Service exists in the Ingress's namespace, the
        backend gives a port (``port.number`` or ``port.name``), and the
        Service has that port (by number or by name). Offline, a missing
        Service is only reported when the input holds Services of that
        namespace.

    Why it breaks traffic:
        The controller has nowhere to send the path's requests: ingress-nginx
        answers 503 (or routes to its default backend), other controllers
        reject or skip the rule, and the error shows only in the
        controller's log.

    Example:
        Path ``/api`` → Service ``api`` port ``8080`` while ``api`` exposes
        only port ``80``.

    Fix:
        Point the backend at the Service's port (``port.number`` = the
        Service's ``port``, not the container's ``targetPort``, or
        ``port.name``), or create the Service.

    Confirm live:
        ``kubectl describe ingress -n <ns> <name>`` (the backend line shows
        ``<error: endpoints "x" not found>``); ``kubectl get svc -n <ns> <svc> -o yaml``.

    References:
        https://kubernetes.io/docs/concepts/services-networking/ingress/#the-ingress-resource ;
        https://kubernetes.github.io/ingress-nginx/troubleshooting/
    """
    for ing in model.ingresses:
        obj = f"Ingress/{ing.namespace}/{ing.name}"
        for use in ingress_backends(ing):
            b = use.backend
            if b.service_name is None:
                continue
            svc = model.service(ing.namespace, b.service_name)
            confirm = (
                kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
                kubectl("get", "svc", "-n", ing.namespace, b.service_name, "-o", "yaml"),
            )
            if svc is None:
                if not covers(model, "Service", ing.namespace):
                    continue
                yield finding(
                    "ING802",
                    model,
                    kind="Ingress",
                    meta=ing.meta,
                    message=f"Ingress {ing.namespace}/{ing.name} backend {use.path or '(default)'} → Service "
                    f"{b.service_name!r}, which does not exist in namespace {ing.namespace}",
                    evidence=[Evidence(obj, use.field + ".service.name", b.service_name)],
                    confirm=confirm,
                    fix=Fix(
                        text=f"Create Service {ing.namespace}/{b.service_name} or point the backend at an existing Service."
                    ),
                )
                continue
            if b.port_number is None and b.port_name is None:
                yield finding(
                    "ING802",
                    model,
                    kind="Ingress",
                    meta=ing.meta,
                    message=f"Ingress {ing.namespace}/{ing.name} backend {use.path or '(default)'} → Service "
                    f"{b.service_name} gives no port (port.number or port.name is required)",
                    evidence=[Evidence(obj, use.field + ".service.port", "<unset>")],
                    confirm=confirm,
                    fix=Fix(
                        text=f"Set {use.field}.service.port.number to one of "
                        f"{', '.join(str(p.port) for p in svc.ports) or 'the Service ports'}."
                    ),
                )
                continue
            ref: int | str = b.port_number if b.port_number is not None else (b.port_name or "")
            if svc.port_by_name_or_number(ref) is not None:
                continue
            ports = (
                ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in svc.ports)
                or "none"
            )
            target_hint = ""
            if isinstance(ref, int) and any(p.target_port == ref for p in svc.ports):
                target_hint = (
                    f" ({ref} is the Service's targetPort; an Ingress names the Service port)"
                )
            field = ".service.port.number" if b.port_number is not None else ".service.port.name"
            yield finding(
                "ING802",
                model,
                kind="Ingress",
                meta=ing.meta,
                message=f"Ingress {ing.namespace}/{ing.name} backend {use.path or '(default)'} → Service "
                f"{b.service_name} port {ref}, which the Service does not define (ports: {ports}){target_hint}",
                evidence=[
                    Evidence(obj, use.field + field, str(ref)),
                    Evidence(f"Service/{svc.namespace}/{svc.name}", "spec.ports", ports),
                ],
                confirm=confirm,
                fix=Fix(
                    text=f"Use one of the Service's ports ({ports}) in {use.field}.service.port."
                ),
            )

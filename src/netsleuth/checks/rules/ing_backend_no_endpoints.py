"""ING803: an Ingress backend Service has no ready endpoints (the 502/503 cause)."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import ingress_backends
from netsleuth.model.cluster import ClusterModel, SourceKind
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="ING803",
    layer=Layer.INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Ingress", "Service"), any_kinds=("EndpointSlice", "Endpoints", "Pod")),
)
def ing_backend_no_endpoints(model: ClusterModel) -> Iterator[Finding]:
    """An Ingress backend Service has no ready endpoints (the 502/503 cause).

    What it checks:
        For each existing Service an Ingress routes to (with a selector, not
        ExternalName): its EndpointSlices hold no ready endpoint. When the
        input has no EndpointSlices at all, the pods its selector matches are
        used instead (none Ready counts as none).

    Why it breaks traffic:
        The controller resolves the Service to its ready endpoints. With none,
        ingress-nginx answers 503 "Service Temporarily Unavailable", and
        proxies that cached old endpoints answer 502 while they time out.

    Example:
        Ingress ``shop/web`` → Service ``web``; its only pod fails its
        readiness probe, so the EndpointSlice lists it with ``ready: false``.

    Fix:
        Make the backend pods Ready (readiness probe, crash, image), or fix
        the Service selector so it matches them.

    Confirm live:
        ``kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc>``;
        ``kubectl describe ingress -n <ns> <name>``;
        ``kubectl get pods -n <ns> -l <selector>``.

    References:
        https://kubernetes.io/docs/concepts/services-networking/endpoint-slices/ ;
        https://kubernetes.github.io/ingress-nginx/troubleshooting/
    """
    slices_known = (
        model.has_kind("EndpointSlice")
        or model.has_kind("Endpoints")
        or model.source.kind == SourceKind.LIVE
    )
    for ing in model.ingresses:
        done: set[str] = set()
        for use in ingress_backends(ing):
            name = use.backend.service_name
            if name is None or name in done:
                continue
            done.add(name)
            svc = model.service(ing.namespace, name)
            if svc is None or svc.type == "ExternalName" or not svc.has_selector:
                continue
            sel = ",".join(f"{k}={v}" for k, v in sorted((svc.selector or {}).items()))
            if slices_known:
                slices = model.slices_for(svc)
                if (
                    not slices
                    and not model.has_kind("EndpointSlice")
                    and not model.has_kind("Endpoints")
                ):
                    continue
                if model.ready_endpoints(svc):
                    continue
                total = sum(len(s.endpoints) for s in slices)
                what = f"{total} endpoint(s), none ready" if total else "no endpoints"
                ev = Evidence(f"Service/{svc.namespace}/{svc.name}", "EndpointSlices", what)
            else:
                pods = model.pods_matching(svc.namespace, svc.selector or {})
                if any(p.ready for p in pods) or any(p.meta.derived for p in pods):
                    continue
                what = (
                    f"{len(pods)} matching pod(s), none Ready"
                    if pods
                    else "no pod matches its selector"
                )
                ev = Evidence(
                    f"Service/{svc.namespace}/{svc.name}", "spec.selector", f"{sel}: {what}"
                )
            yield finding(
                "ING803",
                model,
                kind="Ingress",
                meta=ing.meta,
                message=f"Ingress {ing.namespace}/{ing.name} routes to Service {name}, which has {what}: "
                "the controller answers 503/502",
                evidence=[
                    Evidence(
                        f"Ingress/{ing.namespace}/{ing.name}", use.field + ".service.name", name
                    ),
                    ev,
                ],
                confirm=(
                    kubectl(
                        "get",
                        "endpointslices",
                        "-n",
                        svc.namespace,
                        "-l",
                        f"kubernetes.io/service-name={name}",
                    ),
                    kubectl("get", "pods", "-n", svc.namespace, "-l", sel, "-o", "wide"),
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
                ),
                fix=Fix(
                    text=f"Make the pods behind {svc.namespace}/{name} Ready (readiness probe, crash, image) or fix "
                    f"the selector {sel} so it matches them."
                ),
            )

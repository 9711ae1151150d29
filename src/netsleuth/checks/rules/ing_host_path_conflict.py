"""ING805: two Ingresses of the same class claim the same host and path for different backends."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.ingress_refs import ingress_backends
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Ingress


def _norm_path(path: str | None, path_type: str | None) -> tuple[str, str]:
    p = path or "/"
    t = path_type or "ImplementationSpecific"
    if t == "Prefix" and len(p) > 1:
        p = p.rstrip("/")  # Prefix /foo and /foo/ match the same requests
    return p, t


@register(
    id="ING805", layer=Layer.INGRESS, severity=Severity.WARNING, needs=Needs(kinds=("Ingress",))
)
def ing_host_path_conflict(model: ClusterModel) -> Iterator[Finding]:
    """Two Ingresses of the same class claim the same host and path for different backends.

    What it checks:
        Rule paths across Ingresses grouped by (ingress class, host, path,
        pathType; Prefix paths compared without a trailing slash). A group
        with more than one Ingress and more than one backend (Service and
        port) is a conflict; the finding names the Ingresses that lose, that
        is all but the oldest (ingress-nginx keeps the oldest rule).

    Why it breaks traffic:
        Only one backend can serve a host and path; the controller picks one
        (by age, or arbitrarily) and silently ignores the other, so one team's
        route points at another team's Service, and a re-creation can flip
        which one wins.

    Example:
        ``shop/web`` and ``shop-canary/web`` both route ``shop.example.com /``
        with class ``nginx`` to different Services.

    Fix:
        Give each Ingress its own host or path, or merge them; for canaries
        use the controller's canary annotations or Gateway API weights.

    Confirm live:
        ``kubectl get ingress -A -o wide | grep <host>``;
        ``kubectl -n ingress-nginx exec deploy/ingress-nginx-controller -- cat /etc/nginx/nginx.conf | grep -A3 "server_name <host>"``.

    References:
        https://kubernetes.io/docs/concepts/services-networking/ingress/#name-based-virtual-hosting ;
        https://kubernetes.github.io/ingress-nginx/user-guide/basic-usage/
    """
    groups: dict[tuple[str, str, str, str], list[tuple[Ingress, str, str]]] = {}
    for ing in model.ingresses:
        if ing.meta.annotations.get("nginx.ingress.kubernetes.io/canary", "").lower() == "true":
            continue  # canary Ingresses share host and path on purpose
        for use in ingress_backends(ing):
            if use.path is None or use.backend.service_name is None:
                continue
            path, ptype = _norm_path(use.path, use.path_type)
            port = use.backend.port_name or str(use.backend.port_number)
            key = (ing.class_name or "", use.host or "*", path, ptype)
            backend = f"{ing.namespace}/{use.backend.service_name}:{port}"
            groups.setdefault(key, []).append((ing, backend, use.field))
    for (cls, host, path, ptype), uses in sorted(groups.items()):
        ingresses = {(i.namespace, i.name) for i, _, _ in uses}
        backends = {b for _, b, _ in uses}
        if len(ingresses) < 2 or len(backends) < 2:
            continue
        ordered = sorted(
            uses, key=lambda u: (u[0].meta.creation_timestamp or "", u[0].namespace, u[0].name)
        )
        winner = ordered[0]
        for ing, backend, field in ordered[1:]:
            if (ing.namespace, ing.name) == (
                winner[0].namespace,
                winner[0].name,
            ) or backend == winner[1]:
                continue
            yield finding(
                "ING805",
                model,
                kind="Ingress",
                meta=ing.meta,
                message=f"Ingress {ing.namespace}/{ing.name} routes {host}{path} ({ptype}, class {cls or 'default'}) to "
                f"{backend}, but {winner[0].namespace}/{winner[0].name} claims the same host and path for {winner[1]}: "
                "only one of them is served",
                evidence=[
                    Evidence(f"Ingress/{ing.namespace}/{ing.name}", field, backend),
                    Evidence(
                        f"Ingress/{winner[0].namespace}/{winner[0].name}", winner[2], winner[1]
                    ),
                ],
                confirm=(
                    kubectl("get", "ingress", "-A", "-o", "wide").pipe("grep", host),
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.name),
                ),
                fix=Fix(
                    text="Give each Ingress its own host or path, or merge them into one Ingress."
                ),
            )

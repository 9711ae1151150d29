"""MESH904: a VirtualService or DestinationRule host matches no Service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.facts.cluster_domain import cluster_domain
from netsleuth.facts.ingress_refs import covers
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import CustomObject


def resolve_host(host: str, namespace: str, domain: str) -> tuple[str, str] | None:
    """``(service, namespace)`` an Istio host names, or ``None`` when it is not a
    cluster Service name (external FQDNs, wildcards).

    Istio expands a short name (no dot) in the namespace of the rule that
    uses it; ``name.ns.svc`` and ``name.ns.svc.<domain>`` are explicit.

    >>> resolve_host("reviews", "bookinfo", "cluster.local")
    ('reviews', 'bookinfo')
    >>> resolve_host("reviews.prod.svc.cluster.local", "bookinfo", "cluster.local")
    ('reviews', 'prod')
    >>> resolve_host("api.example.com", "bookinfo", "cluster.local") is None
    True
    """
    h = host.strip().rstrip(".")
    if not h or "*" in h:
        return None
    if "." not in h:
        return h, namespace
    for suffix in (f".svc.{domain}", ".svc"):
        if h.endswith(suffix):
            parts = h[: -len(suffix)].split(".")
            if len(parts) == 2 and all(parts):
                return parts[0], parts[1]
    return None


def _destinations(spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for proto in ("http", "tcp", "tls"):
        routes = spec.get(proto)
        if not isinstance(routes, list):
            continue
        for i, r in enumerate(routes):
            for j, d in enumerate((r or {}).get("route") or [] if isinstance(r, dict) else []):
                dest = d.get("destination") if isinstance(d, dict) else None
                if isinstance(dest, dict) and isinstance(dest.get("host"), str):
                    yield f"spec.{proto}[{i}].route[{j}].destination.host", dest["host"]
            mirror = r.get("mirror") if isinstance(r, dict) else None
            if isinstance(mirror, dict) and isinstance(mirror.get("host"), str):
                yield f"spec.{proto}[{i}].mirror.host", mirror["host"]


def _service_entry_hosts(model: ClusterModel) -> set[str]:
    out: set[str] = set()
    for se in model.custom_of_kind("ServiceEntry"):
        hosts = se.spec.get("hosts")
        if isinstance(hosts, list):
            out.update(str(h) for h in hosts)
    return out


@register(
    id="MESH904",
    layer=Layer.MESH,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service",)),
    config=True,
)
def mesh_host_matches_no_service(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """A VirtualService or DestinationRule host matches no Service.

    What it checks:
        Istio hosts that name a cluster Service — a short name (expanded in
        the rule's own namespace) or ``name.ns.svc[.<cluster domain>]`` —
        in VirtualService route destinations and mirrors (error), in
        VirtualService ``hosts`` for mesh traffic (not gateway-only rules,
        whose hosts are external names) and in DestinationRule ``host``
        (warning), against the Services (and ServiceEntry hosts). External
        FQDNs and wildcards are not judged; offline, a namespace is judged
        only when the input holds its Services.

    Why it breaks traffic:
        A route to a host that resolves to no Service is a black hole: the
        sidecar has no cluster for it and answers 503 with ``NR`` / "no
        healthy upstream". A VirtualService or DestinationRule whose host
        matches nothing silently does not apply, so the retries, timeouts,
        subsets or TLS settings it was written for are missing.

    Example:
        VirtualService ``shop/reviews`` routes to ``reviews-v2`` while the
        Service is named ``reviews``.

    Fix:
        Use the Service's name (better, its FQDN
        ``name.ns.svc.cluster.local``) as the host, or create the Service /
        a ServiceEntry for it.

    Confirm live:
        ``istioctl analyze -n <ns>``;
        ``kubectl get svc -n <ns>``;
        ``istioctl proxy-config cluster <pod>.<ns> | grep <host>``.

    References:
        https://istio.io/latest/docs/reference/config/networking/virtual-service/ ;
        https://istio.io/latest/docs/reference/config/networking/destination-rule/ ;
        https://istio.io/latest/docs/ops/best-practices/traffic-management/
    """
    domain = cluster_domain(model, config.cluster_domain)
    entries = _service_entry_hosts(model)
    rules: list[CustomObject] = model.custom_of_kind("VirtualService", "DestinationRule")
    for obj in rules:
        ns = obj.meta.namespace or "default"
        checks: list[tuple[str, str, Severity]] = []
        if obj.kind == "DestinationRule":
            if isinstance(obj.spec.get("host"), str):
                checks.append(("spec.host", obj.spec["host"], Severity.WARNING))
        else:
            gateways = obj.spec.get("gateways")
            mesh_bound = not isinstance(gateways, list) or not gateways or "mesh" in gateways
            hosts = obj.spec.get("hosts")
            if mesh_bound and isinstance(hosts, list):
                checks += [
                    (f"spec.hosts[{i}]", str(h), Severity.WARNING) for i, h in enumerate(hosts)
                ]
            checks += [(f, h, Severity.ERROR) for f, h in _destinations(obj.spec)]
        seen: set[str] = set()
        for field, host, severity in checks:
            target = resolve_host(host, ns, domain)
            if target is None or host in entries or host in seen:
                continue
            name, tns = target
            if model.service(tns, name) is not None or f"{name}.{tns}.svc.{domain}" in entries:
                continue
            if not covers(model, "Service", tns):
                continue
            seen.add(host)
            fqdn = f"{name}.{tns}.svc.{domain}"
            what = "routes to" if severity == Severity.ERROR else "applies to"
            effect = (
                "requests get 503 NR (no route to a cluster)"
                if severity == Severity.ERROR
                else "the rule applies to nothing"
            )
            yield finding(
                "MESH904",
                model,
                kind=obj.kind,
                meta=obj.meta,
                severity=severity,
                message=f"{obj.kind} {ns}/{obj.meta.name} {what} host {host!r}"
                + (f" (= {fqdn})" if host.rstrip(".") != fqdn else "")
                + f", but namespace {tns} has no Service {name}: {effect}",
                evidence=[Evidence(f"{obj.kind}/{ns}/{obj.meta.name}", field, host)],
                confirm=(
                    cmd("istioctl", "analyze", "-n", ns),
                    kubectl("get", "svc", "-n", tns, name),
                ),
                fix=Fix(
                    text=f"Set {field} to an existing Service's FQDN (name.{tns}.svc.{domain}) or create Service {tns}/{name}."
                ),
            )

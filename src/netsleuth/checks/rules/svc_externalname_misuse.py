"""SVC210: an ExternalName Service is misused."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, ref, register
from netsleuth.facts.cluster_domain import cluster_domain
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


@register(
    id="SVC210",
    layer=Layer.SERVICE,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Service",)),
    config=True,
)
def externalname_misuse(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """An ExternalName Service points at an IP address or an in-cluster name, or sets ports or a selector.

    What it checks: Services of type ExternalName whose `externalName` is an
    IP address (error), a name inside the cluster domain (warning), or that
    set a `selector` or `ports` (info: ignored for ExternalName).

    Why it breaks traffic: cluster DNS answers an ExternalName Service with a
    CNAME to `externalName`. An IP address becomes a CNAME to a hostname like
    "10.0.0.5", which resolvers do not turn into an A record, so lookups fail
    (use a selector-less Service with an EndpointSlice for IPs). A CNAME to
    `other.ns.svc.cluster.local` works only while that Service exists and adds
    a lookup; HTTP clients and TLS then see the alias name, not the target's,
    so Host-based routing and certificate checks break. `ports` and `selector`
    do nothing: no proxying or port mapping happens.

    Example:
      spec:
        type: ExternalName
        externalName: 10.20.30.40

    Fix: for an IP, use a Service without selector plus an EndpointSlice
    with that address; for an in-cluster target, call the target Service
    directly; remove `ports`/`selector` and use the real port in clients.

    Confirm live:
      kubectl run dnstest --rm -it --image=busybox:1.36 --restart=Never -- nslookup <svc>.<ns>.svc.cluster.local

    References:
      https://kubernetes.io/docs/concepts/services-networking/service/#externalname
    """
    domain = cluster_domain(model, config.cluster_domain)
    for svc in model.services:
        if svc.type != "ExternalName":
            continue
        target = (svc.external_name or "").rstrip(".")
        ev = [Evidence(ref("Service", svc.meta), "spec.externalName", target or "<empty>")]
        fix_ip = Fix(
            text="Use a Service without selector and an EndpointSlice holding the address."
        )
        if target and _is_ip(target):
            yield finding(
                "SVC210",
                model,
                kind="Service",
                meta=svc.meta,
                severity=Severity.ERROR,
                message=f"ExternalName Service {svc.namespace}/{svc.name} points at the IP {target}: DNS answers "
                "a CNAME to a name that does not resolve, so lookups fail.",
                evidence=ev,
                fix=fix_ip,
                confirm=(
                    kubectl(
                        "run",
                        "dnstest",
                        "--rm",
                        "-it",
                        "--image=busybox:1.36",
                        "--restart=Never",
                        "--",
                        "nslookup",
                        f"{svc.name}.{svc.namespace}.svc.{domain}",
                    ),
                ),
            )
            continue
        if target.endswith(f".svc.{domain}") or target.endswith(".svc"):
            parts = target.split(".")
            exists = len(parts) >= 2 and model.service(parts[1], parts[0]) is not None
            yield finding(
                "SVC210",
                model,
                kind="Service",
                meta=svc.meta,
                message=f"ExternalName Service {svc.namespace}/{svc.name} aliases the in-cluster name {target}"
                + ("" if exists else " (which is not in the input)")
                + ": clients see the alias in Host headers and TLS, and resolution depends on the target Service.",
                evidence=ev,
                fix=Fix(
                    text=f"Call {target} directly, or use a selector Service in this namespace."
                ),
                confirm=(
                    kubectl(
                        "get", "svc", "-n", parts[1] if len(parts) > 1 else svc.namespace, parts[0]
                    ),
                ),
            )
            continue
        extras = []
        if svc.selector:
            extras.append("selector")
        if svc.ports:
            extras.append("ports")
        if extras:
            yield finding(
                "SVC210",
                model,
                kind="Service",
                meta=svc.meta,
                severity=Severity.INFO,
                message=f"ExternalName Service {svc.namespace}/{svc.name} sets {' and '.join(extras)}, which "
                "ExternalName ignores: no port mapping or proxying happens, clients must use the real port.",
                evidence=[
                    *ev,
                    *(
                        Evidence(ref("Service", svc.meta), f"spec.{x}", "set (ignored)")
                        for x in extras
                    ),
                ],
                fix=Fix(text="Remove them and use the external service's real port in clients."),
                confirm=(kubectl("get", "svc", "-n", svc.namespace, svc.name, "-o", "yaml"),),
            )

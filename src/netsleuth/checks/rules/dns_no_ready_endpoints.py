"""DNS102: the kube-dns Service has no ready endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import dns_service
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="DNS102", layer=Layer.DNS, severity=Severity.ERROR, needs=Needs(kinds=("Service", "Pod"))
)
def dns_no_ready_endpoints(model: ClusterModel) -> Iterator[Finding]:
    """The kube-dns Service has no ready endpoints: cluster DNS is down.

    What it checks: the kube-dns Service's EndpointSlices hold no ready
    endpoint; when the input has no slices for it, that none of the pods its
    selector matches is Ready. Pods derived from manifests (no status) are
    not judged.

    Why it breaks traffic: kube-proxy programs only ready endpoints behind the
    kube-dns ClusterIP. With none, DNS queries to it are dropped or rejected,
    and every lookup in the cluster fails (5 s timeouts, then `SERVFAIL` or
    "no servers could be reached").

    Example:
      kubectl get endpointslices -n kube-system -l kubernetes.io/service-name=kube-dns
      NAME             ADDRESSTYPE   PORTS     ENDPOINTS   AGE
      kube-dns-7xk2p   IPv4          <unset>   <unset>     90d

    Fix: find why the CoreDNS pods are not Ready (`kubectl describe pod`,
    logs: a forward loop, an unreachable upstream, a Corefile syntax error,
    OOMKilled) and fix that; check the Service selector still matches
    `k8s-app=kube-dns`.

    Confirm live:
      kubectl get pods -n kube-system -l k8s-app=kube-dns -o wide
      kubectl logs -n kube-system -l k8s-app=kube-dns --tail=50

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/#are-dns-endpoints-exposed
    """
    svc = dns_service(model)
    if svc is None or not svc.has_selector:
        return
    slices = model.slices_for(svc)
    ready = model.ready_endpoints(svc)
    if slices:
        if ready:
            return
        total = sum(len(s.endpoints) for s in slices)
        evidence = [
            Evidence(
                ref("EndpointSlice", s.meta),
                "endpoints[*].conditions.ready",
                f"{sum(1 for e in s.endpoints if e.is_ready)}/{len(s.endpoints)} ready",
            )
            for s in slices
        ]
        detail = f"{total} endpoint(s), none ready"
    else:
        pods = [
            p for p in model.pods_matching(svc.namespace, svc.selector or {}) if not p.meta.derived
        ]
        if not pods or any(p.ready for p in pods):
            return
        evidence = [
            Evidence(ref("Pod", p.meta), "status.conditions[Ready]", "False") for p in pods[:5]
        ]
        detail = f"{len(pods)} selected pod(s), none Ready"
    yield finding(
        "DNS102",
        model,
        kind="Service",
        meta=svc.meta,
        message=f"Cluster DNS is down: Service {svc.namespace}/{svc.name} has no ready endpoint ({detail}).",
        evidence=evidence,
        confirm=(
            kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "wide"),
            kubectl(
                "get",
                "endpointslices",
                "-n",
                "kube-system",
                "-l",
                f"kubernetes.io/service-name={svc.name}",
            ),
        ),
        fix=Fix(
            text="Find why the CoreDNS pods are not Ready (describe, logs) and fix it; "
            "check the Service selector matches the CoreDNS pod labels."
        ),
    )

"""DNS102: the kube-dns Service has no ready endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import dns_no_ready_endpoints_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


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

    yield from findings_from("DNS102", model, dns_no_ready_endpoints_faults(model))

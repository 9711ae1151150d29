"""DNS106: CoreDNS memory limit below 256Mi."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import coredns_memory_limit_low_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="DNS106",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("Deployment", "Pod")),
)
def coredns_memory_limit_low(model: ClusterModel) -> Iterator[Finding]:
    """CoreDNS has a memory limit below 256Mi and risks OOMKills.

    What it checks: the memory limit of the CoreDNS containers is below
    256Mi. The message adds the CoreDNS scaling guide's estimate for this
    cluster ((pods + services) / 1000 + 54 MB with default cache settings).

    Why it breaks traffic: CoreDNS keeps every Service and endpoint in memory
    (the `kubernetes` plugin's informers) plus its cache; a spike in queries
    or objects pushes it over the limit, the kernel kills it (OOMKilled) and
    queries sent to it during the restart are lost.

    Example:
      resources:
        limits:
          memory: 170Mi

    Fix: set the memory limit to 256Mi or more (more for large clusters).

    Confirm live:
      kubectl top pods -n kube-system -l k8s-app=kube-dns
      kubectl get pods -n kube-system -l k8s-app=kube-dns -o jsonpath='{..lastState.terminated.reason}'

    References:
      https://github.com/coredns/deployment/blob/master/kubernetes/Scaling_CoreDNS.md
    """

    yield from findings_from("DNS106", model, coredns_memory_limit_low_faults(model))

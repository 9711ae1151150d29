"""DNS105: CoreDNS CPU limit at or below 100m."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import coredns_cpu_limit_low_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="DNS105",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("Deployment", "Pod")),
)
def coredns_cpu_limit_low(model: ClusterModel) -> Iterator[Finding]:
    """CoreDNS has a CPU limit of 100m or less and is throttled under load.

    What it checks: the CPU limit of the CoreDNS containers (Deployment
    template, else a CoreDNS pod) is at or below 100m.

    Why it breaks traffic: CFS throttling stops the process for the rest of
    each 100 ms period once the quota is used. A burst of queries (a
    deployment rollout, ndots:5 search-list amplification) uses 100m at once;
    queries then wait tens of milliseconds or time out, and clients retry
    after 5 seconds.

    Example:
      resources:
        limits:
          cpu: 100m

    Fix: raise the limit (500m is a common production value) or remove the
    CPU limit and keep the request; add replicas or NodeLocal DNSCache for load.

    Confirm live:
      kubectl top pods -n kube-system -l k8s-app=kube-dns
      kubectl describe deployment coredns -n kube-system | grep -A4 Limits

    References:
      https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#how-pods-with-resource-limits-are-run
      https://github.com/coredns/deployment/blob/master/kubernetes/Scaling_CoreDNS.md
    """

    yield from findings_from("DNS105", model, coredns_cpu_limit_low_faults(model))

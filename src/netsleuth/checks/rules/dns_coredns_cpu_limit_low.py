"""DNS105: CoreDNS CPU limit at or below 100m."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import coredns_containers
from netsleuth.facts.quantity import parse_quantity
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

CPU_LIMIT_FLOOR = 0.1  # cores: a limit at or below 100m throttles under load


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
    found = coredns_containers(model)
    if found is None:
        return
    kind, meta, containers = found
    for c in containers:
        limit = parse_quantity(c.cpu_limit)
        if limit is None or limit > CPU_LIMIT_FLOOR + 1e-9:
            continue
        yield finding(
            "DNS105",
            model,
            kind=kind,
            meta=meta,
            message=f"CoreDNS container {c.name} has CPU limit {c.cpu_limit} (<= 100m): "
            "it is throttled during query bursts and lookups stall.",
            evidence=[
                Evidence(
                    ref(kind, meta),
                    f"spec.containers[{c.name}].resources.limits.cpu",
                    str(c.cpu_limit),
                )
            ],
            confirm=(kubectl("top", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"),),
            fix=Fix(
                text="Raise the CoreDNS CPU limit (e.g. 500m) or drop the limit and keep the request.",
                command=kubectl(
                    "-n",
                    meta.namespace or "kube-system",
                    "set",
                    "resources",
                    f"deploy/{meta.name}",
                    "-c",
                    c.name,
                    "--limits=cpu=500m",
                )
                if kind == "Deployment"
                else None,
            ),
        )

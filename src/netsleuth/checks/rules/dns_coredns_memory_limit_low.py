"""DNS106: CoreDNS memory limit below 256Mi."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import coredns_containers
from netsleuth.facts.quantity import parse_quantity
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

MEMORY_LIMIT_FLOOR = 256 * 2**20  # bytes


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
    found = coredns_containers(model)
    if found is None:
        return
    kind, meta, containers = found
    estimate_mb = (len(model.pods) + len(model.services)) / 1000 + 54
    for c in containers:
        limit = parse_quantity(c.memory_limit)
        if limit is None or limit >= MEMORY_LIMIT_FLOOR:
            continue
        yield finding(
            "DNS106",
            model,
            kind=kind,
            meta=meta,
            message=f"CoreDNS container {c.name} has memory limit {c.memory_limit} (< 256Mi): "
            f"OOMKills drop queries (scaling guide estimate for {len(model.pods)} pods and "
            f"{len(model.services)} services: {estimate_mb:.0f} MB before query bursts).",
            evidence=[
                Evidence(
                    ref(kind, meta),
                    f"spec.containers[{c.name}].resources.limits.memory",
                    str(c.memory_limit),
                )
            ],
            confirm=(kubectl("top", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"),),
            fix=Fix(
                text="Set the CoreDNS memory limit to 256Mi or more.",
                command=kubectl(
                    "-n",
                    meta.namespace or "kube-system",
                    "set",
                    "resources",
                    f"deploy/{meta.name}",
                    "-c",
                    c.name,
                    "--limits=memory=256Mi",
                )
                if kind == "Deployment"
                else None,
            ),
        )

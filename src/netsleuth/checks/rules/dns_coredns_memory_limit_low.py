"""DNS106: CoreDNS memory limit below the cluster's estimate, or CoreDNS OOMKilled."""

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
    """CoreDNS's memory limit is below what this cluster needs, or CoreDNS was OOMKilled.

    What it checks: the memory limit of the CoreDNS containers against the
    CoreDNS scaling guide's estimate for this cluster
    ((pods + services) / 1000 + 54 MB with default cache settings), and
    whether a CoreDNS container's last termination was ``OOMKilled``. It
    fires only when the limit is below the estimate or CoreDNS was
    OOMKilled: the upstream default (kubeadm, kind, k3s, EKS: 170Mi) is well
    above the estimate of any cluster under ~100,000 objects and is not an
    alarm by itself.

    Why it breaks traffic: CoreDNS keeps every Service and endpoint in memory
    (the `kubernetes` plugin's informers) plus its cache; past the limit the
    kernel kills it (OOMKilled) and queries sent to it during the restart are
    lost, which clients see as 5-second timeouts.

    Example:
      resources:
        limits:
          memory: 64Mi     # a 30,000-pod cluster needs about 84 MB
      lastState: {terminated: {reason: OOMKilled}}

    Fix: raise the memory limit with headroom over the estimate (twice it),
    and at least double it after an OOMKill.

    Confirm live:
      kubectl top pods -n kube-system -l k8s-app=kube-dns
      kubectl get pods -n kube-system -l k8s-app=kube-dns -o jsonpath='{..lastState.terminated.reason}'

    References:
      https://github.com/coredns/deployment/blob/master/kubernetes/Scaling_CoreDNS.md
      https://github.com/kubernetes/kubernetes/blob/master/cluster/addons/dns/coredns/coredns.yaml.base
    """

    yield from findings_from("DNS106", model, coredns_memory_limit_low_faults(model))

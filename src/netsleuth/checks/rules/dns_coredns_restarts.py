"""DNS104: CoreDNS pods restart or were OOMKilled."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, findings_from, register
from netsleuth.facts.coredns_health import coredns_restarts_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="DNS104",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Pod",)),
    config=True,
)
def coredns_restarts(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """CoreDNS pods restart repeatedly or were OOMKilled.

    What it checks: CoreDNS pods (`k8s-app=kube-dns` in kube-system) whose
    containers restarted at least `restart_threshold` times (5 by default),
    whose last termination was `OOMKilled`, or that wait in `CrashLoopBackOff`.

    Why it breaks traffic: while a CoreDNS pod restarts, the queries
    kube-proxy sends to it are lost until its endpoint is removed, which
    clients see as 5-second timeouts and intermittent `SERVFAIL`. OOMKilled
    means the memory limit is too low for the cluster's size or query load;
    a crash loop usually means a forward loop or a broken Corefile.

    Example:
      kubectl get pods -n kube-system -l k8s-app=kube-dns
      NAME                       READY   STATUS    RESTARTS       AGE
      coredns-5d78c9869d-4x7k2   1/1     Running   14 (2m ago)    45d

    Fix: for OOMKilled raise the memory limit (at least double it, see DNS106);
    for a crash loop read the previous logs (`Loop ... detected` means
    `forward` points back at CoreDNS, see DNS110).

    Confirm live:
      kubectl get pods -n kube-system -l k8s-app=kube-dns
      kubectl logs -n kube-system <coredns-pod> --previous
      kubectl describe pod -n kube-system <coredns-pod> | grep -A3 'Last State'

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
      https://coredns.io/plugins/loop/#troubleshooting
    """

    yield from findings_from(
        "DNS104", model, coredns_restarts_faults(model, config.restart_threshold)
    )

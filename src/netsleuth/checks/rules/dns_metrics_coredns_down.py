"""DNS144: Prometheus shows the CoreDNS Deployment with no available replica."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, query_cmd
from netsleuth.facts.metric_breaches import breaches, coredns_deployment
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="DNS144",
    layer=Layer.DNS,
    severity=Severity.ERROR,
    needs=Needs(observed="metrics", signals=("coredns_down",)),
    config=True,
)
def metrics_coredns_down(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows the CoreDNS Deployment with no available replica.

    What it checks:
        kube-state-metrics' ``kube_deployment_status_replicas_available``
        for the CoreDNS Deployment in kube-system (``coredns`` or
        ``kube-dns``), asked of Prometheus: below 1 (the CoreDNSDown
        alert). DNS103 reads the same status from the Deployment in the
        input; this is the value Prometheus sees now. Not checked without
        kube-state-metrics' series for that Deployment.

    Why it breaks traffic:
        With no CoreDNS pod available the kube-dns Service has no endpoint:
        every lookup of a Service name times out, and so does every call by
        name, cluster-wide.

    Example:
        ``kube_deployment_status_replicas_available{namespace="kube-system",deployment=~"coredns|kube-dns"} < 1``
        returns ``{deployment="coredns", namespace="kube-system"} 0``.

    Fix:
        Find why the CoreDNS pods are not available (``kubectl -n kube-system
        describe deploy coredns``, the pods' events: scheduling, image pull,
        crash loop, failing readiness) and fix that; a Corefile error shows in
        the pods' logs.

    Confirm live:
        ``kubectl -n kube-system get deploy coredns`` ;
        ``kubectl -n kube-system get pods -l k8s-app=kube-dns -o wide``.

    References:
        https://github.com/kubernetes/kube-state-metrics/blob/main/docs/metrics/workload/deployment-metrics.md ;
        https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
    """
    snap = config.metrics
    if snap is None:
        return
    found = breaches(model, snap, "coredns_down")
    if not found:
        return
    kind, meta = coredns_deployment(model)
    names = sorted({b.sample.get("deployment") or meta.name for b in found})
    if meta.name not in names and names:
        kind_meta = model.workload("Deployment", "kube-system", names[0])
        if kind_meta is not None:
            kind, meta = kind_meta.kind, kind_meta.meta
    yield finding(
        "DNS144",
        model,
        kind=kind,
        meta=meta,
        confidence=confidence(snap),
        message=f"{kind} {meta.namespace}/{meta.name} has "
        f"{min(b.value for b in found):g} available replicas (Prometheus, now): cluster DNS is "
        "down, every lookup of a Service name fails",
        evidence=metric_evidence(snap, found),
        confirm=(
            query_cmd(snap, found[0].query),
            kubectl("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns", "-o", "wide"),
            kubectl("-n", "kube-system", "describe", "deployment", meta.name),
        ),
        fix=Fix(
            text=f"Find why the pods of {kind} {meta.namespace}/{meta.name} are not available "
            "(their events and logs: scheduling, image, crash loop, readiness) and fix that."
        ),
    )

"""DNS143: Prometheus shows CoreDNS's p99 answer latency above the threshold."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, query_cmd, seconds
from netsleuth.facts.metric_breaches import breaches, coredns_deployment
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="DNS143",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("coredns_latency",)),
    config=True,
)
def metrics_coredns_latency(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows CoreDNS's p99 answer latency above 100 ms.

    What it checks:
        The 99th percentile of ``coredns_dns_request_duration_seconds``
        (a histogram of the ``prometheus`` plugin) over the window, per
        server block, asked of Prometheus: above 100 ms (the
        CoreDNSLatencyHigh alert).

    Why it breaks traffic:
        Every connection by name waits for DNS first, and with ndots:5 a
        single lookup is several queries. Slow answers are CoreDNS starved of
        CPU (a low limit throttles it, see DNS105), too few replicas for the
        query rate, or a slow upstream.

    Example:
        ``histogram_quantile(0.99, sum by (server, le)
        (rate(coredns_dns_request_duration_seconds_bucket[5m]))) > 0.1``
        returns ``{server="dns://:53"} 0.4``.

    Fix:
        Give the CoreDNS Deployment CPU (raise or drop the limit), more
        replicas (or the dns-autoscaler), and a ``cache``; deploy NodeLocal
        DNSCache to cut the query rate; check the upstream when external
        names are the slow ones.

    Confirm live:
        ``kubectl -n kube-system top pods -l k8s-app=kube-dns`` ;
        ``kubectl -n kube-system get deploy coredns -o jsonpath='{.spec.template.spec.containers[0].resources}'``.

    References:
        https://coredns.io/plugins/metrics/ ;
        https://kubernetes.io/docs/tasks/administer-cluster/dns-horizontal-autoscaling/
    """
    snap = config.metrics
    if snap is None:
        return
    found = breaches(model, snap, "coredns_latency")
    if not found:
        return
    kind, meta = coredns_deployment(model)
    worst = max(b.value for b in found)
    yield finding(
        "DNS143",
        model,
        kind=kind,
        meta=meta,
        confidence=confidence(snap),
        message=f"CoreDNS answers 1 % of queries in {seconds(worst)} or more over the last "
        f"{snap.thresholds.window} (p99 > {seconds(snap.thresholds.coredns_p99_seconds)}): "
        "every lookup by name waits",
        evidence=metric_evidence(snap, found),
        confirm=(
            query_cmd(snap, found[0].query),
            kubectl("-n", "kube-system", "top", "pods", "-l", "k8s-app=kube-dns"),
        ),
        fix=Fix(
            text=f"Give {kind} {meta.namespace}/{meta.name} CPU (raise or remove the limit) and "
            "replicas for the query rate; keep the cache plugin; consider NodeLocal DNSCache."
        ),
    )

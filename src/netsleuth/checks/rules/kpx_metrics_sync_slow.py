"""KPX631: Prometheus shows kube-proxy taking long to sync its rules."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import (
    confidence,
    metric_evidence,
    places,
    query_cmd,
    seconds,
)
from netsleuth.facts.metric_breaches import breaches, kube_proxy_daemonset
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="KPX631",
    layer=Layer.KUBE_PROXY,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("kube_proxy_sync_latency",)),
    config=True,
)
def metrics_kube_proxy_sync_slow(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows kube-proxy taking 10 s or more to sync its rules (p99).

    What it checks:
        The 99th percentile of
        ``kubeproxy_sync_proxy_rules_duration_seconds`` per node over the
        window, asked of Prometheus: 10 s or more (the KubeProxySyncSlow
        alert). KPX602 predicts this from the number of Services in
        iptables mode; this is the measured time.

    Why it breaks traffic:
        kube-proxy rewrites the node's Service rules on every change. While
        a sync runs, endpoints that left still get traffic (connection
        refused, timeouts) and new ones get none; a rollout's pods are reached
        late.

    Example:
        ``histogram_quantile(0.99, sum by (instance, node, le)
        (rate(kubeproxy_sync_proxy_rules_duration_seconds_bucket[5m]))) > 10``
        returns ``{instance="10.0.0.11:10249", node="node-a"} 14.2``.

    Fix:
        Change kube-proxy's mode in its configuration (the ``kube-proxy``
        ConfigMap, ``mode: ipvs`` or ``nftables``), whose syncs do not grow
        with the rule count as iptables does; or cut the Services and
        endpoints it programs; raise ``iptables.minSyncPeriod`` to batch
        changes.

    Confirm live:
        ``kubectl -n kube-system logs ds/kube-proxy | grep -i 'sync'`` ;
        ``iptables-save | wc -l`` on the node.

    References:
        https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/ ;
        https://kubernetes.io/blog/2023/12/15/kubernetes-1-29-iptables-performance/
    """
    snap = config.metrics
    if snap is None:
        return
    found = breaches(model, snap, "kube_proxy_sync_latency")
    if not found:
        return
    kind, meta = kube_proxy_daemonset(model)
    worst = max(b.value for b in found)
    yield finding(
        "KPX631",
        model,
        kind=kind,
        meta=meta,
        confidence=confidence(snap),
        message=f"kube-proxy takes {seconds(worst)} (p99) to sync its rules over the last "
        f"{snap.thresholds.window} on {places(found)}: Service changes reach the nodes late",
        evidence=metric_evidence(snap, found),
        confirm=(
            query_cmd(snap, found[0].query),
            kubectl("-n", "kube-system", "logs", "ds/kube-proxy", "--tail=200"),
        ),
        fix=Fix(
            text="Move kube-proxy to ipvs or nftables mode (the kube-proxy ConfigMap's mode), "
            "or cut the rules it programs; raise iptables.minSyncPeriod to batch changes."
        ),
    )

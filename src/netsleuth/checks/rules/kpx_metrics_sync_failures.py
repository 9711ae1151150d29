"""KPX632: Prometheus shows kube-proxy failing to restore its iptables rules on a node."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, query_cmd, rate
from netsleuth.facts.metric_breaches import Breach, breaches, kube_proxy_daemonset, node_meta
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="KPX632",
    layer=Layer.KUBE_PROXY,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("kube_proxy_sync_failures",)),
    config=True,
)
def metrics_kube_proxy_sync_failures(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows kube-proxy failing to restore its iptables rules on a node.

    What it checks:
        The rate of ``kubeproxy_sync_proxy_rules_iptables_restore_failures_total``
        per node over the window, asked of Prometheus: any failure (the
        KubeProxySyncFailing alert). A failure on some nodes is put on those
        nodes; when the series cannot be placed on a node, on kube-proxy's
        DaemonSet.

    Why it breaks traffic:
        A failed ``iptables-restore`` leaves the node's Service rules as
        they were: new endpoints get no traffic and removed ones still do
        (KPX603 shows the stale rules from ``iptables-save``). Causes are the
        xtables lock held by another agent, a missing kernel module, or an
        iptables backend (legacy/nft) different from the one in use on the
        node.

    Example:
        ``sum by (instance, node) (rate(kubeproxy_sync_proxy_rules_iptables_restore_failures_total[5m])) > 0``
        returns ``{instance="10.0.0.12:10249", node="node-b"} 0.05``.

    Fix:
        Read kube-proxy's log on that node for the iptables-restore error
        and fix its cause there (the agent holding the xtables lock, the
        kernel module, the iptables backend of the node image).

    Confirm live:
        ``kubectl -n kube-system logs ds/kube-proxy | grep -i 'iptables-restore'`` ;
        ``iptables --version`` and ``lsmod | grep -e ip_tables -e nf_tables`` on the node.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/ ;
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/metrics/metrics.go
    """
    snap = config.metrics
    if snap is None:
        return
    by_node: dict[str, list[Breach]] = {}
    unplaced: list[Breach] = []
    for b in breaches(model, snap, "kube_proxy_sync_failures"):
        if b.node:
            by_node.setdefault(b.node, []).append(b)
        else:
            unplaced.append(b)
    for node, found in sorted(by_node.items()):
        pod = next((b.pod for b in found if b.pod is not None), None)
        logs = (
            kubectl("-n", "kube-system", "logs", pod.name, "--tail=200")
            if pod is not None and pod.namespace == "kube-system"
            else kubectl("-n", "kube-system", "logs", "ds/kube-proxy", "--tail=200")
        )
        yield finding(
            "KPX632",
            model,
            kind="Node",
            meta=node_meta(model, node),
            confidence=confidence(snap),
            message=f"kube-proxy on {node} fails to restore its iptables rules "
            f"({rate(max(b.value for b in found))} over the last {snap.thresholds.window}): "
            "the node's Service rules are stale while it lasts",
            evidence=metric_evidence(snap, found),
            confirm=(query_cmd(snap, found[0].query), logs.pipe("grep", "-i", "iptables-restore")),
            fix=Fix(
                text=f"On {node}: read kube-proxy's iptables-restore error and fix its cause "
                "(xtables lock holder, kernel module, iptables backend)."
            ),
        )
    if unplaced:
        kind, meta = kube_proxy_daemonset(model)
        where = ", ".join(sorted({b.where for b in unplaced}))
        yield finding(
            "KPX632",
            model,
            kind=kind,
            meta=meta,
            confidence=confidence(snap),
            message=f"kube-proxy fails to restore its iptables rules on {where} (not a node of "
            "the input): Service rules there are stale while it lasts",
            evidence=metric_evidence(snap, unplaced),
            confirm=(
                query_cmd(snap, unplaced[0].query),
                kubectl("-n", "kube-system", "logs", "ds/kube-proxy", "--tail=200").pipe(
                    "grep", "-i", "iptables-restore"
                ),
            ),
            fix=Fix(
                text="Read kube-proxy's iptables-restore error on those nodes and fix its cause "
                "(xtables lock holder, kernel module, iptables backend)."
            ),
        )

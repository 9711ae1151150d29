"""CT731: Prometheus shows a node's conntrack table filling up."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, pct, query_cmd
from netsleuth.facts.conntrack import TUNING
from netsleuth.facts.metric_breaches import Breach, breaches, node_meta
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="CT731",
    layer=Layer.CONNTRACK,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("conntrack_fill",)),
    config=True,
)
def metrics_conntrack_fill(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows a node's conntrack table 80 % full or more.

    What it checks:
        node_exporter's ``node_nf_conntrack_entries`` over
        ``node_nf_conntrack_entries_limit`` per node, asked of Prometheus
        at one instant (``scan --prometheus URL``): a warning at 80 %, an
        error at 95 % (the ConntrackTableNearFull / ConntrackTableCritical
        alerts of ``netsleuth alerts``). The same fault as CT701, measured
        now instead of read from node files. Without those series in
        Prometheus the check is listed as not checked.

    Why it breaks traffic:
        Every NATed or stateful-filtered flow (all ClusterIP and NodePort
        traffic under kube-proxy) needs a conntrack entry. A full table drops
        the first packet of new flows ("nf_conntrack: table full, dropping
        packet"): timeouts that come and go with load.

    Example:
        ``node_nf_conntrack_entries / node_nf_conntrack_entries_limit > 0.8``
        returns ``{instance="10.0.0.12:9100", node="node-b"} 0.93``.

    Fix:
        Raise ``net.netfilter.nf_conntrack_max`` on the node (kube-proxy's
        ``conntrack.maxPerCore`` sets it at start) and shorten the idle
        timeouts; find the client that opens connections without reuse.
        See CT701.

    Confirm live:
        ``conntrack -C`` and ``sysctl net.netfilter.nf_conntrack_max`` on the
        node; ``dmesg | grep 'table full'``.

    References:
        https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html ;
        https://github.com/prometheus/node_exporter/blob/master/collector/conntrack_linux.go
    """
    snap = config.metrics
    if snap is None:
        return
    critical = snap.thresholds.conntrack_critical
    by_place: dict[str, list[Breach]] = {}
    for b in breaches(model, snap, "conntrack_fill"):
        by_place.setdefault(b.where, []).append(b)
    for where, found in sorted(by_place.items()):
        worst = max(b.value for b in found)
        node = found[0].node
        severe = worst >= critical
        yield finding(
            "CT731",
            model,
            kind="Node",
            meta=node_meta(model, node or where),
            severity=Severity.ERROR if severe else None,
            confidence=confidence(snap),
            message=f"node {where}: conntrack table {pct(worst)} full (Prometheus, now)"
            + ("; new connections are about to be dropped" if severe else ""),
            evidence=metric_evidence(snap, found),
            confirm=(
                query_cmd(snap, found[0].query),
                cmd("conntrack", "-C").note(f"on {where}"),
                cmd("sysctl", "net.netfilter.nf_conntrack_max").note(f"on {where}"),
            ),
            fix=Fix(
                text=f"On {where}: raise nf_conntrack_max (kube-proxy conntrack.maxPerCore) "
                "and shorten the idle timeouts; find the client opening connections without reuse.",
                command=TUNING,
            ),
        )

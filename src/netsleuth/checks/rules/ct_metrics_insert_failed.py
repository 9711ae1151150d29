"""CT732: Prometheus shows conntrack inserts failing on a node."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, query_cmd, rate
from netsleuth.facts.metric_breaches import Breach, breaches, node_meta
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="CT732",
    layer=Layer.CONNTRACK,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("conntrack_insert_failed",)),
    config=True,
)
def metrics_conntrack_insert_failed(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows conntrack inserts failing on a node now.

    What it checks:
        The rate of node_exporter's ``node_nf_conntrack_stat_insert_failed``
        over the window (``--prometheus-window``, 5m) per node, asked of
        Prometheus: any failure per second above zero (the
        ConntrackInsertFailed alert). CT702 reads the same counter from
        ``conntrack -S`` files, where it counts since boot; the rate says it
        is happening now.

    Why it breaks traffic:
        A failed insert drops the packet. The usual cause is the DNS race: a
        pod's parallel A and AAAA queries share one UDP 5-tuple, the second
        loses the race to create the entry and is dropped, and the lookup
        waits 5 seconds for the resolver's retry.

    Example:
        ``sum by (instance, node) (rate(node_nf_conntrack_stat_insert_failed[5m])) > 0``
        returns ``{instance="10.0.0.11:9100", node="node-a"} 0.4``.

    Fix:
        Add ``options: [{name: single-request-reopen}]`` to the dnsConfig of
        the pods on that node (glibc), or deploy NodeLocal DNSCache, which
        keeps DNS off conntrack. When the table is also full, see CT731.

    Confirm live:
        ``conntrack -S`` on the node twice, a minute apart: ``insert_failed``
        rising.

    References:
        https://www.weave.works/blog/racy-conntrack-and-dns-lookup-timeouts ;
        https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/
    """
    snap = config.metrics
    if snap is None:
        return
    by_place: dict[str, list[Breach]] = {}
    for b in breaches(model, snap, "conntrack_insert_failed"):
        by_place.setdefault(b.where, []).append(b)
    for where, found in sorted(by_place.items()):
        worst = max(b.value for b in found)
        yield finding(
            "CT732",
            model,
            kind="Node",
            meta=node_meta(model, found[0].node or where),
            confidence=confidence(snap),
            message=f"node {where}: conntrack inserts fail at {rate(worst)} over the last "
            f"{snap.thresholds.window} (Prometheus): packets dropped, the 5-second DNS delay",
            evidence=metric_evidence(snap, found),
            confirm=(
                query_cmd(snap, found[0].query),
                cmd("conntrack", "-S").note(f"twice, a minute apart, on {where}"),
            ),
            fix=Fix(
                text=f"For the pods on {where}: single-request-reopen in their dnsConfig, or "
                "deploy NodeLocal DNSCache; if the table is also full, raise nf_conntrack_max (CT731)."
            ),
        )

"""CNI431: Prometheus shows a node's network interface dropping packets or counting errors."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, query_cmd, rate
from netsleuth.facts.metric_breaches import Breach, breaches, node_meta
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="CNI431",
    layer=Layer.NODE,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("node_network_drops", "node_network_errors")),
    config=True,
)
def metrics_node_nic_drops(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows a node's network interface dropping packets or counting errors.

    What it checks:
        node_exporter's ``node_network_{receive,transmit}_drop_total`` (100
        packets/s or more) and ``node_network_{receive,transmit}_errs_total``
        (10/s or more) per node and physical interface over the window,
        asked of Prometheus (the NodeNetworkDropsHigh and
        NodeNetworkErrorsHigh alerts). Pod veths, bridges and tunnel devices
        are left out: their drops are the CNI's (see CNI411, CNI432).

    Why it breaks traffic:
        Every pod on the node sends and receives through that interface.
        Drops mean full queues (a burst larger than the ring, a CPU that
        cannot keep up with softirqs) or the driver discarding frames;
        errors mean bad frames (cabling, NIC firmware) or frames over the
        MTU. TCP slows down with retransmissions; UDP (DNS) just loses.

    Example:
        ``rate(node_network_transmit_drop_total{device!~"lo|veth.*|…"}[5m]) +
        rate(node_network_receive_drop_total{device!~"lo|veth.*|…"}[5m]) > 100``
        returns ``{device="eth0", instance="10.0.0.12:9100", node="node-b"} 350``.

    Fix:
        On the node: ``ethtool -S DEV`` names the counter that grows; raise
        the ring sizes (``ethtool -G``) for queue drops, spread interrupts
        (RPS/irqbalance) when one CPU is saturated, fix the MTU mismatch or
        replace the link/NIC for errors.

    Confirm live:
        ``ip -s link show DEV`` twice, a minute apart, on the node ;
        ``ethtool -S DEV | grep -i -e drop -e err``.

    References:
        https://github.com/prometheus/node_exporter/blob/master/collector/netdev_linux.go ;
        https://www.kernel.org/doc/html/latest/networking/statistics.html
    """
    snap = config.metrics
    if snap is None:
        return
    per: dict[str, dict[str, list[Breach]]] = {}
    for name in ("node_network_drops", "node_network_errors"):
        for b in breaches(model, snap, name):
            per.setdefault(b.where, {}).setdefault(name, []).append(b)
    for where, signals in sorted(per.items()):
        found = [b for name in sorted(signals) for b in signals[name]]
        parts = []
        for name, what in (("node_network_drops", "drops"), ("node_network_errors", "errors")):
            for b in signals.get(name, ()):
                parts.append(f"{b.sample.get('device') or '?'} {rate(b.value)} {what}")
        device = found[0].sample.get("device") or "DEV"
        evidence = []
        for name in sorted(signals):
            evidence.extend(metric_evidence(snap, signals[name]))
        yield finding(
            "CNI431",
            model,
            kind="Node",
            meta=node_meta(model, found[0].node or where),
            confidence=confidence(snap),
            message=f"node {where}: the network interface loses packets over the last "
            f"{snap.thresholds.window} ({', '.join(parts)}): every pod on the node shares it",
            evidence=evidence,
            confirm=(
                *(query_cmd(snap, signals[name][0].query) for name in sorted(signals)),
                cmd("ip", "-s", "link", "show", device).note(f"twice, a minute apart, on {where}"),
                cmd("ethtool", "-S", device).note(f"on {where}"),
            ),
            fix=Fix(
                text=f"On {where}: read ethtool -S {device} for the counter that grows; raise the "
                "ring sizes for queue drops, spread interrupts when one CPU saturates, fix the MTU "
                "or the link/NIC for errors."
            ),
        )

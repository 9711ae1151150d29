"""Prometheus alert rules for the signals the field guides name, each mapped to a check.

:func:`alert_rules` builds the rules from :class:`Thresholds`; each rule
carries ``labels.check_id`` (the check whose page is its runbook),
``labels.layer`` and ``labels.severity``, and ``annotations.runbook`` —
the check's Fix and Confirm live sections — so an alert and a scan finding
speak of the same problem. :func:`rules_file` is the plain ``groups:`` file
Prometheus loads (``promtool check rules``); :func:`prometheus_rule` wraps
the same groups in a prometheus-operator ``PrometheusRule``.

Metrics (their exporters): ``node_nf_conntrack_*`` and ``node_network_*``
(node_exporter), ``coredns_*`` (CoreDNS ``prometheus`` plugin),
``kubeproxy_*`` (kube-proxy ``/metrics``), ``kube_deployment_*``
(kube-state-metrics), ``hubble_drop_total`` (Hubble metrics, ``drop``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from netsleuth.checks.base import Check
from netsleuth.model.metrics import (
    DEFAULTS,
    POLICY_DROP_REASONS,
    SIGNALS,
    Thresholds,
    num,
    signal_queries,
)

__all__ = [
    "AlertRule",
    "Thresholds",
    "alert_rules",
    "prometheus_rule",
    "rule_groups",
    "rules_file",
]


@dataclass(frozen=True, slots=True)
class AlertRule:
    name: str
    expr: str
    for_: str
    severity: str  # warning | critical
    check_id: str
    summary: str
    description: str


def alert_rules(t: Thresholds = DEFAULTS) -> list[AlertRule]:
    """Every alert, thresholds filled in.

    The expressions are the signals' own queries (:func:`signal_queries`),
    the ones ``scan --prometheus`` asks, so an alert and a finding fire on the
    same numbers; each alert carries that signal's check ID.
    """
    w = t.window
    q = signal_queries(t)
    check = {s.name: s.check_id for s in SIGNALS}
    ratio = "node_nf_conntrack_entries / node_nf_conntrack_entries_limit"
    return [
        AlertRule(
            "ConntrackTableNearFull",
            q["conntrack_fill"],
            "5m",
            "warning",
            check["conntrack_fill"],
            "Conntrack table {{ $value | humanizePercentage }} full on {{ $labels.instance }}",
            "New connections are dropped when the table fills (nf_conntrack: table full).",
        ),
        AlertRule(
            "ConntrackTableCritical",
            f"{ratio} > {num(t.conntrack_critical)}",
            "1m",
            "critical",
            check["conntrack_fill"],
            "Conntrack table {{ $value | humanizePercentage }} full on {{ $labels.instance }}: "
            "new connections may be dropped",
            "Raise nf_conntrack_max now and find the client opening connections without reuse.",
        ),
        AlertRule(
            "ConntrackInsertFailed",
            q["conntrack_insert_failed"],
            "5m",
            "warning",
            check["conntrack_insert_failed"],
            "Conntrack inserts failing on {{ $labels.instance }} ({{ $value | humanize }}/s)",
            "insert_failed counts packets dropped because their conntrack entry could not be "
            "inserted (a full table or the parallel A/AAAA DNS race).",
        ),
        AlertRule(
            "CoreDNSDown",
            q["coredns_down"],
            "1m",
            "critical",
            check["coredns_down"],
            "CoreDNS has no available replicas: cluster DNS is down",
            "Every lookup of a Service name fails.",
        ),
        AlertRule(
            "CoreDNSServfailHigh",
            q["coredns_servfail"],
            "5m",
            "warning",
            check["coredns_servfail"],
            "CoreDNS answers SERVFAIL to {{ $value | humanizePercentage }} of queries",
            "SERVFAIL for external names usually means the forward upstream fails.",
        ),
        AlertRule(
            "CoreDNSForwardFailing",
            q["coredns_forward_failures"],
            "5m",
            "warning",
            check["coredns_forward_failures"],
            "CoreDNS upstream {{ $labels.to }} fails its health checks",
            "The forward plugin's upstream is unreachable or unhealthy.",
        ),
        AlertRule(
            "CoreDNSLatencyHigh",
            q["coredns_latency"],
            "10m",
            "warning",
            check["coredns_latency"],
            "CoreDNS p99 latency {{ $value | humanizeDuration }}",
            "Slow answers: CPU throttling of the CoreDNS pods, or a slow upstream.",
        ),
        AlertRule(
            "KubeProxySyncSlow",
            q["kube_proxy_sync_latency"],
            "15m",
            "warning",
            check["kube_proxy_sync_latency"],
            "kube-proxy on {{ $labels.instance }} takes {{ $value | humanizeDuration }} to sync rules",
            "Service changes reach the node late: endpoints that left still get traffic.",
        ),
        AlertRule(
            "KubeProxySyncFailing",
            q["kube_proxy_sync_failures"],
            "10m",
            "warning",
            check["kube_proxy_sync_failures"],
            "kube-proxy on {{ $labels.instance }} fails to restore its iptables rules",
            "The node's Service rules go stale while the failures last.",
        ),
        AlertRule(
            "NodeNetworkDropsHigh",
            q["node_network_drops"],
            "5m",
            "warning",
            check["node_network_drops"],
            "{{ $labels.instance }} drops {{ $value | humanize }} packets/s on {{ $labels.device }}",
            "The node's interface drops packets (queues full, driver or MTU trouble).",
        ),
        AlertRule(
            "NodeNetworkErrorsHigh",
            q["node_network_errors"],
            "5m",
            "warning",
            check["node_network_errors"],
            "{{ $labels.instance }} has {{ $value | humanize }} interface errors/s on {{ $labels.device }}",
            "Interface errors: cabling, driver or NIC firmware, or frames over the MTU.",
        ),
        AlertRule(
            "HubblePolicyDropsHigh",
            f'sum by (reason) (rate(hubble_drop_total{{reason=~"{POLICY_DROP_REASONS}"}}'
            f"[{w}])) > {num(t.hubble_policy_drops_rate)}",
            "5m",
            "warning",
            "POL309",
            "{{ $value | humanize }} policy drops/s ({{ $labels.reason }})",
            "Run `hubble observe --verdict DROPPED` and `netsleuth flows` to name the policy.",
        ),
        AlertRule(
            "HubbleDatapathDropsHigh",
            q["hubble_datapath_drops"],
            "5m",
            "warning",
            check["hubble_datapath_drops"],
            "Cilium drops {{ $value | humanize }} packets/s for {{ $labels.reason }} "
            "on {{ $labels.instance }}",
            "Datapath drops by reason: routing, CT map, stale IPs (see CNI432, CNI411).",
        ),
    ]


def _runbook(check: Check | None) -> str:
    if check is None:
        return ""
    fix = " ".join(check.section("Fix").split()).replace("``", "`")
    confirm = check.section("Confirm live").strip()
    text = f"{check.id}: {check.summary}\nFix: {fix}"
    if confirm:
        text += f"\nConfirm live:\n{confirm}"
    return text


def rule_groups(
    registry: Mapping[str, Check],
    thresholds: Thresholds = DEFAULTS,
    *,
    docs_url: str | None = None,
) -> list[dict[str, Any]]:
    """The ``groups`` list: one group per layer of the mapped checks."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for a in alert_rules(thresholds):
        check = registry.get(a.check_id)
        layer = str(check.layer) if check else "unknown"
        annotations = {"summary": a.summary, "description": a.description}
        runbook = _runbook(check)
        if runbook:
            annotations["runbook"] = runbook
        if docs_url:
            annotations["runbook_url"] = f"{docs_url.rstrip('/')}/{a.check_id}.md"
        groups.setdefault(layer, []).append(
            {
                "alert": a.name,
                "expr": a.expr,
                "for": a.for_,
                "labels": {"severity": a.severity, "check_id": a.check_id, "layer": layer},
                "annotations": annotations,
            }
        )
    return [{"name": f"netsleuth.{layer}", "rules": rules} for layer, rules in groups.items()]


def rules_file(
    registry: Mapping[str, Check],
    thresholds: Thresholds = DEFAULTS,
    *,
    docs_url: str | None = None,
) -> dict[str, Any]:
    """The plain rules file Prometheus loads (``rule_files:``)."""
    return {"groups": rule_groups(registry, thresholds, docs_url=docs_url)}


def prometheus_rule(
    registry: Mapping[str, Check],
    thresholds: Thresholds = DEFAULTS,
    *,
    name: str = "netsleuth-network",
    namespace: str = "monitoring",
    labels: Iterable[tuple[str, str]] = (),
    docs_url: str | None = None,
) -> dict[str, Any]:
    """The same groups as a prometheus-operator ``PrometheusRule``."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    extra = dict(labels)
    if extra:
        meta["labels"] = extra
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": meta,
        "spec": {"groups": rule_groups(registry, thresholds, docs_url=docs_url)},
    }

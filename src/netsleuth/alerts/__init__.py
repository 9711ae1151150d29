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


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Alert thresholds (the CLI's flags). Ratios are 0–1; rates are per second."""

    window: str = "5m"
    conntrack_warning: float = 0.80
    conntrack_critical: float = 0.95
    conntrack_insert_failed_rate: float = 0.0
    coredns_servfail_ratio: float = 0.01
    coredns_p99_seconds: float = 0.1
    coredns_forward_failure_ratio: float = 0.05
    kube_proxy_sync_p99_seconds: float = 10.0
    node_network_drops_rate: float = 100.0
    node_network_errors_rate: float = 10.0
    hubble_policy_drops_rate: float = 10.0
    hubble_other_drops_rate: float = 1.0


@dataclass(frozen=True, slots=True)
class AlertRule:
    name: str
    expr: str
    for_: str
    severity: str  # warning | critical
    check_id: str
    summary: str
    description: str


def _num(x: float) -> str:
    return f"{x:g}"


def alert_rules(t: Thresholds = Thresholds()) -> list[AlertRule]:
    """Every alert, thresholds filled in."""
    w = t.window
    ratio = "node_nf_conntrack_entries / node_nf_conntrack_entries_limit"
    nic = 'device!~"lo|veth.*|lxc.*|cali.*|cilium.*|flannel.*|cni.*|docker.*|vxlan.*|tunl.*"'
    return [
        AlertRule(
            "ConntrackTableNearFull",
            f"{ratio} > {_num(t.conntrack_warning)}",
            "5m",
            "warning",
            "CT701",
            "Conntrack table {{ $value | humanizePercentage }} full on {{ $labels.instance }}",
            "New connections are dropped when the table fills (nf_conntrack: table full).",
        ),
        AlertRule(
            "ConntrackTableCritical",
            f"{ratio} > {_num(t.conntrack_critical)}",
            "1m",
            "critical",
            "CT701",
            "Conntrack table {{ $value | humanizePercentage }} full on {{ $labels.instance }}: "
            "new connections may be dropped",
            "Raise nf_conntrack_max now and find the client opening connections without reuse.",
        ),
        AlertRule(
            "ConntrackInsertFailed",
            f"rate(node_nf_conntrack_stat_insert_failed[{w}]) > {_num(t.conntrack_insert_failed_rate)}",
            "5m",
            "warning",
            "CT702",
            "Conntrack inserts failing on {{ $labels.instance }} ({{ $value | humanize }}/s)",
            "insert_failed counts packets dropped because their conntrack entry could not be "
            "inserted (a full table or the parallel A/AAAA DNS race).",
        ),
        AlertRule(
            "CoreDNSDown",
            'kube_deployment_status_replicas_available{namespace="kube-system",deployment="coredns"} < 1',
            "1m",
            "critical",
            "DNS102",
            "CoreDNS has no available replicas: cluster DNS is down",
            "Every lookup of a Service name fails.",
        ),
        AlertRule(
            "CoreDNSServfailHigh",
            f'sum by (server) (rate(coredns_dns_responses_total{{rcode="SERVFAIL"}}[{w}])) / '
            f"sum by (server) (rate(coredns_dns_responses_total[{w}])) > "
            f"{_num(t.coredns_servfail_ratio)}",
            "5m",
            "warning",
            "DNS109",
            "CoreDNS answers SERVFAIL to {{ $value | humanizePercentage }} of queries",
            "SERVFAIL for external names usually means the forward upstream fails.",
        ),
        AlertRule(
            "CoreDNSForwardFailing",
            f"sum by (to) (rate(coredns_forward_healthcheck_failures_total[{w}])) / "
            f"clamp_min(sum by (to) (rate(coredns_forward_requests_total[{w}])), 1) > "
            f"{_num(t.coredns_forward_failure_ratio)}",
            "5m",
            "warning",
            "DNS109",
            "CoreDNS upstream {{ $labels.to }} fails its health checks",
            "The forward plugin's upstream is unreachable or unhealthy.",
        ),
        AlertRule(
            "CoreDNSLatencyHigh",
            "histogram_quantile(0.99, sum by (server, le) "
            f"(rate(coredns_dns_request_duration_seconds_bucket[{w}]))) > "
            f"{_num(t.coredns_p99_seconds)}",
            "10m",
            "warning",
            "DNS105",
            "CoreDNS p99 latency {{ $value | humanizeDuration }}",
            "Slow answers: CPU throttling of the CoreDNS pods, or a slow upstream.",
        ),
        AlertRule(
            "KubeProxySyncSlow",
            "histogram_quantile(0.99, sum by (instance, le) "
            f"(rate(kubeproxy_sync_proxy_rules_duration_seconds_bucket[{w}]))) > "
            f"{_num(t.kube_proxy_sync_p99_seconds)}",
            "15m",
            "warning",
            "KPX602",
            "kube-proxy on {{ $labels.instance }} takes {{ $value | humanizeDuration }} to sync rules",
            "Service changes reach the node late: endpoints that left still get traffic.",
        ),
        AlertRule(
            "KubeProxySyncFailing",
            f"rate(kubeproxy_sync_proxy_rules_iptables_restore_failures_total[{w}]) > 0",
            "10m",
            "warning",
            "KPX603",
            "kube-proxy on {{ $labels.instance }} fails to restore its iptables rules",
            "The node's Service rules go stale while the failures last.",
        ),
        AlertRule(
            "NodeNetworkDropsHigh",
            f"rate(node_network_transmit_drop_total{{{nic}}}[{w}]) + "
            f"rate(node_network_receive_drop_total{{{nic}}}[{w}]) > "
            f"{_num(t.node_network_drops_rate)}",
            "5m",
            "warning",
            "CNI411",
            "{{ $labels.instance }} drops {{ $value | humanize }} packets/s on {{ $labels.device }}",
            "The node's interface drops packets (queues full, driver or MTU trouble).",
        ),
        AlertRule(
            "NodeNetworkErrorsHigh",
            f"rate(node_network_transmit_errs_total{{{nic}}}[{w}]) + "
            f"rate(node_network_receive_errs_total{{{nic}}}[{w}]) > "
            f"{_num(t.node_network_errors_rate)}",
            "5m",
            "warning",
            "CNI411",
            "{{ $labels.instance }} has {{ $value | humanize }} interface errors/s on {{ $labels.device }}",
            "Interface errors: cabling, driver or NIC firmware, or frames over the MTU.",
        ),
        AlertRule(
            "HubblePolicyDropsHigh",
            'sum by (namespace) (rate(hubble_drop_total{reason=~"POLICY_DENIED|POLICY_DENY|AUTH_REQUIRED"}'
            f"[{w}])) > {_num(t.hubble_policy_drops_rate)}",
            "5m",
            "warning",
            "POL309",
            "{{ $value | humanize }} policy drops/s in namespace {{ $labels.namespace }}",
            "Run `hubble observe --verdict DROPPED` and `netsleuth flows` to name the policy.",
        ),
        AlertRule(
            "HubbleDatapathDropsHigh",
            'sum by (reason) (rate(hubble_drop_total{reason!~"POLICY_DENIED|POLICY_DENY|AUTH_REQUIRED"}'
            f"[{w}])) > {_num(t.hubble_other_drops_rate)}",
            "5m",
            "warning",
            "CNI411",
            "Cilium drops {{ $value | humanize }} packets/s for {{ $labels.reason }}",
            "Datapath drops by reason: routing, CT map, stale IPs (see CNI411).",
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
    thresholds: Thresholds = Thresholds(),
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
    thresholds: Thresholds = Thresholds(),
    *,
    docs_url: str | None = None,
) -> dict[str, Any]:
    """The plain rules file Prometheus loads (``rule_files:``)."""
    return {"groups": rule_groups(registry, thresholds, docs_url=docs_url)}


def prometheus_rule(
    registry: Mapping[str, Check],
    thresholds: Thresholds = Thresholds(),
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

"""Observed signals from Prometheus: what is asked, and what came back.

One table, :data:`SIGNALS`, names each signal the field guides watch
(conntrack fill and insert failures, CoreDNS SERVFAIL ratio, upstream
failures, p99 latency and availability, kube-proxy sync latency and
failures, node interface drops and errors, Hubble datapath drops), the
check that reports it, the series whose presence says the signal is
measured at all, and its PromQL. ``netsleuth alerts`` writes the same
expressions as alert rules, so an alert and a ``scan --prometheus`` finding
fire on the same numbers.

Every query keeps the labels that say where (``instance``, ``node``,
``device``, ``server``, ``to``, ``reason``), so a breach can be put on a
node or an object of the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netsleuth.model.problems import LoadProblem


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Breach thresholds (``netsleuth alerts`` flags). Ratios are 0–1; rates are per second."""

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


DEFAULTS = Thresholds()


def num(x: float) -> str:
    """A threshold as PromQL prints it (``0.8``, ``100``)."""
    return f"{x:g}"


POLICY_DROP_REASONS = "POLICY_DENIED|POLICY_DENY|AUTH_REQUIRED"
NIC_FILTER = 'device!~"lo|veth.*|lxc.*|cali.*|cilium.*|flannel.*|cni.*|docker.*|vxlan.*|tunl.*"'
"""Physical interfaces only: pod veths, bridges and tunnels are not the node's NIC."""
COREDNS_DEPLOYMENT = 'namespace="kube-system",deployment=~"coredns|kube-dns"'


@dataclass(frozen=True, slots=True)
class Signal:
    """One observed signal: its check, the series that must exist, and a unit for text."""

    name: str
    check_id: str
    presence: tuple[str, ...]
    """Series selectors that must each have data for the signal to be measured at all."""
    what: str
    unit: str  # ratio | seconds | per-second | replicas


SIGNALS: tuple[Signal, ...] = (
    Signal(
        "conntrack_fill",
        "CT731",
        ("node_nf_conntrack_entries", "node_nf_conntrack_entries_limit"),
        "conntrack table fill (entries / limit)",
        "ratio",
    ),
    Signal(
        "conntrack_insert_failed",
        "CT732",
        ("node_nf_conntrack_stat_insert_failed",),
        "conntrack insert failures",
        "per-second",
    ),
    Signal(
        "coredns_servfail",
        "DNS141",
        ("coredns_dns_responses_total",),
        "CoreDNS SERVFAIL ratio",
        "ratio",
    ),
    Signal(
        "coredns_forward_failures",
        "DNS142",
        ("coredns_forward_requests_total",),
        "CoreDNS upstream health-check failures per forwarded request",
        "ratio",
    ),
    Signal(
        "coredns_latency",
        "DNS143",
        ("coredns_dns_request_duration_seconds_bucket",),
        "CoreDNS p99 answer latency",
        "seconds",
    ),
    Signal(
        "coredns_down",
        "DNS144",
        (f"kube_deployment_status_replicas_available{{{COREDNS_DEPLOYMENT}}}",),
        "CoreDNS available replicas",
        "replicas",
    ),
    Signal(
        "kube_proxy_sync_latency",
        "KPX631",
        ("kubeproxy_sync_proxy_rules_duration_seconds_bucket",),
        "kube-proxy rule sync p99",
        "seconds",
    ),
    Signal(
        "kube_proxy_sync_failures",
        "KPX632",
        ("kubeproxy_sync_proxy_rules_iptables_restore_failures_total",),
        "kube-proxy iptables-restore failures",
        "per-second",
    ),
    Signal(
        "node_network_drops",
        "CNI431",
        ("node_network_receive_drop_total", "node_network_transmit_drop_total"),
        "node interface drops (receive + transmit)",
        "per-second",
    ),
    Signal(
        "node_network_errors",
        "CNI431",
        ("node_network_receive_errs_total", "node_network_transmit_errs_total"),
        "node interface errors (receive + transmit)",
        "per-second",
    ),
    Signal(
        "hubble_datapath_drops",
        "CNI432",
        ("hubble_drop_total",),
        "Hubble drops for reasons other than policy",
        "per-second",
    ),
)
SIGNAL_BY_NAME: Mapping[str, Signal] = {s.name: s for s in SIGNALS}


def signal_queries(t: Thresholds = DEFAULTS) -> dict[str, str]:
    """The PromQL of every signal, its threshold filled in: a series comes back only on a breach.

    ``conntrack_fill`` uses the warning threshold; the value grades critical.
    """
    w = t.window
    nic = NIC_FILTER
    by_node = "instance, node"
    return {
        "conntrack_fill": "node_nf_conntrack_entries / node_nf_conntrack_entries_limit > "
        f"{num(t.conntrack_warning)}",
        "conntrack_insert_failed": f"sum by ({by_node}) "
        f"(rate(node_nf_conntrack_stat_insert_failed[{w}])) > {num(t.conntrack_insert_failed_rate)}",
        "coredns_servfail": f'sum by (server) (rate(coredns_dns_responses_total{{rcode="SERVFAIL"}}[{w}])) / '
        f"sum by (server) (rate(coredns_dns_responses_total[{w}])) > "
        f"{num(t.coredns_servfail_ratio)}",
        "coredns_forward_failures": "sum by (to) "
        f"(rate(coredns_forward_healthcheck_failures_total[{w}])) / "
        f"clamp_min(sum by (to) (rate(coredns_forward_requests_total[{w}])), 1) > "
        f"{num(t.coredns_forward_failure_ratio)}",
        "coredns_latency": "histogram_quantile(0.99, sum by (server, le) "
        f"(rate(coredns_dns_request_duration_seconds_bucket[{w}]))) > "
        f"{num(t.coredns_p99_seconds)}",
        "coredns_down": f"kube_deployment_status_replicas_available{{{COREDNS_DEPLOYMENT}}} < 1",
        "kube_proxy_sync_latency": f"histogram_quantile(0.99, sum by ({by_node}, le) "
        f"(rate(kubeproxy_sync_proxy_rules_duration_seconds_bucket[{w}]))) > "
        f"{num(t.kube_proxy_sync_p99_seconds)}",
        "kube_proxy_sync_failures": f"sum by ({by_node}) "
        f"(rate(kubeproxy_sync_proxy_rules_iptables_restore_failures_total[{w}])) > 0",
        "node_network_drops": f"rate(node_network_transmit_drop_total{{{nic}}}[{w}]) + "
        f"rate(node_network_receive_drop_total{{{nic}}}[{w}]) > "
        f"{num(t.node_network_drops_rate)}",
        "node_network_errors": f"rate(node_network_transmit_errs_total{{{nic}}}[{w}]) + "
        f"rate(node_network_receive_errs_total{{{nic}}}[{w}]) > "
        f"{num(t.node_network_errors_rate)}",
        "hubble_datapath_drops": f"sum by ({by_node}, reason) "
        f'(rate(hubble_drop_total{{reason!~"{POLICY_DROP_REASONS}"}}[{w}])) > '
        f"{num(t.hubble_other_drops_rate)}",
    }


def presence_query(selector: str) -> str:
    """How many series a selector has now (an empty answer: the metric is not there)."""
    return f"count({selector})"


# --------------------------------------------------------------------------- answers


@dataclass(frozen=True, slots=True)
class Sample:
    """One series of an instant-vector answer: its labels (untrusted text) and value."""

    labels: tuple[tuple[str, str], ...]
    value: float

    def get(self, key: str) -> str | None:
        for k, v in self.labels:
            if k == key:
                return v
        return None

    def text(self) -> str:
        """``{instance="10.0.1.5:9100", node="worker-1"} 0.93`` (labels as Prometheus prints them)."""
        inner = ", ".join(f'{k}="{v}"' for k, v in self.labels if k != "__name__")
        return f"{{{inner}}} {self.value:g}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalResult:
    """What Prometheus answered for one signal."""

    name: str
    query: str
    samples: tuple[Sample, ...] = ()
    """The breaching series (empty: measured, no breach)."""
    missing: tuple[str, ...] = ()
    """Presence selectors with no series: the signal is not measured."""
    present: tuple[tuple[str, int], ...] = ()
    """Presence selectors with the number of series each has."""
    error: str | None = None
    truncated: int = 0
    """Breaching series beyond the kept ones."""

    @property
    def measured(self) -> bool:
        return self.error is None and not self.missing


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsSnapshot:
    """Instant answers from one Prometheus at one evaluation time."""

    url: str
    time: float
    thresholds: Thresholds
    signals: Mapping[str, SignalResult] = field(default_factory=dict)
    error: str | None = None
    """The server as a whole could not be asked (unreachable, not Prometheus): nothing measured."""
    problems: tuple[LoadProblem, ...] = ()
    recorded: bool = False
    """Answers replayed from a recording (test fixtures), not asked of a live server."""

    def failed(self) -> tuple[str, ...]:
        """The signals the server did not answer for (all of them when it could not be asked):
        not checked because of the server, not because a metric is absent."""
        if self.error is not None:
            return tuple(s.name for s in SIGNALS)
        return tuple(s.name for s in SIGNALS if (r := self.signals.get(s.name)) and r.error)

    def failure(self) -> str | None:
        """One line naming the server, what went wrong and the signals (with their checks)
        left unchecked; ``None`` when every query was answered."""
        names = self.failed()
        if not names:
            return None
        if self.error is not None:
            why = self.error.removeprefix(f"Prometheus at {self.url}: ")
        else:
            errors = [r.error for n in names if (r := self.signals.get(n)) and r.error]
            why = f"{len(names)} of {len(SIGNALS)} queries failed ({errors[0]}"
            why += f"; and {len(set(errors)) - 1} other errors)" if len(set(errors)) > 1 else ")"
        if len(names) == len(SIGNALS):
            ids = ", ".join(dict.fromkeys(s.check_id for s in SIGNALS))
            return (
                f"Prometheus at {self.url}: {why}; none of its {len(names)} queries checked ({ids})"
            )
        listed = ", ".join(f"{n} ({SIGNAL_BY_NAME[n].check_id})" for n in names)
        return f"Prometheus at {self.url}: {why}; not checked: {listed}"

    def not_measured(self, name: str) -> str | None:
        """Why a signal was not checked, or ``None`` when Prometheus measured it."""
        if self.error is not None:
            return f"not queried: {self.error}"
        res = self.signals.get(name)
        if res is None:
            return f"{name} was not asked"
        if res.error is not None:
            return f"query for {name} failed: {res.error}"
        if res.missing:
            return f"Prometheus at {self.url} has no series for " + ", ".join(res.missing)
        return None

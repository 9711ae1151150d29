"""`scan --prometheus` against a real Prometheus (Debian's binary) scraping an exporter on loopback.

The exporter (``promlab.Exporter``) plays two nodes of ``tests/data/metrics/cluster.yaml``
(node-a 10.0.0.11, node-b 10.0.0.12; CoreDNS pods 10.244.0.2 and 10.244.1.2) with
values chosen from the thresholds of ``netsleuth alerts`` (``Thresholds()``):

==========================  ===========================================  =========================
signal                      node-a / CoreDNS pod 10.244.0.2              node-b
==========================  ===========================================  =========================
conntrack fill              97,000 of 100,000 entries: 97 % > 95 %       10 %: fine
conntrack insert_failed     2/s > 0                                      0/s: fine
NIC drops (eth0)            300 rx + 50 tx = 350/s > 100/s               1/s: fine
NIC errors (eth0)           0                                            20/s rx > 10/s
lxc* veth drops             5,000/s: a pod interface, left out           —
kube-proxy sync p99         buckets 0.1/0.5/1.0 per s at 1/10/30 s:      all under 1 s: p99 0.99 s
                            p99 = 10 + (0.99-0.5)/0.5 × 20 = 29.6 s
iptables-restore failures   0                                            0.5/s > 0
Hubble drops                CT_MAP_INSERTION_FAILED 12/s > 1/s;          STALE_OR_UNROUTABLE_IP
                            POLICY_DENIED 50/s (policy: not this check)  0.2/s: under 1/s
CoreDNS SERVFAIL            4 of 100 answers/s: 4 % > 1 %
CoreDNS forward failures    10.0.0.2:53 5 of 10/s: 50 % > 5 %;           —
                            10.0.0.3:53 0 of 10/s: fine
CoreDNS p99 latency         99.5 % under 25 ms: p99 ≈ 24.9 ms: fine
kube-state-metrics          not scraped: CoreDNS availability is *not checked*
==========================  ===========================================  =========================
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsleuth.checks.base import ScanConfig, load_all, run_checks
from netsleuth.cli import app
from netsleuth.model.metrics import DEFAULTS, MetricsSnapshot
from netsleuth.sources.load import load_offline
from netsleuth.sources.prometheus import query_prometheus
from prometheus.promlab import (
    Counter,
    Gauge,
    Histogram,
    Prometheus,
    running_exporter,
    running_prometheus,
)

CLUSTER = Path(__file__).resolve().parents[1] / "data" / "metrics" / "cluster.yaml"
WINDOW = "3s"  # six scrapes at 0.5 s: rate() sees a full window once they are stored
A_NODE, B_NODE = "10.0.0.11:9100", "node-b:9100"  # an address and a node name, as relabelled
A_PROXY, B_PROXY = "10.0.0.11:10249", "10.0.0.12:10249"
A_HUBBLE, B_HUBBLE = "10.0.0.11:9965", "10.0.0.12:9965"
DNS_A = "10.244.0.2:9153"

SERIES = [
    Gauge("node_nf_conntrack_entries", {"instance": A_NODE}, 97_000),
    Gauge("node_nf_conntrack_entries_limit", {"instance": A_NODE}, 100_000),
    Gauge("node_nf_conntrack_entries", {"instance": B_NODE}, 10_000),
    Gauge("node_nf_conntrack_entries_limit", {"instance": B_NODE}, 100_000),
    Counter("node_nf_conntrack_stat_insert_failed", {"instance": A_NODE}, 2.0),
    Counter("node_nf_conntrack_stat_insert_failed", {"instance": B_NODE}, 0.0, start=17),
    Counter("node_network_receive_drop_total", {"instance": A_NODE, "device": "eth0"}, 300.0),
    Counter("node_network_transmit_drop_total", {"instance": A_NODE, "device": "eth0"}, 50.0),
    Counter("node_network_receive_drop_total", {"instance": A_NODE, "device": "lxc1a2b"}, 5000.0),
    Counter("node_network_transmit_drop_total", {"instance": A_NODE, "device": "lxc1a2b"}, 0.0),
    Counter("node_network_receive_errs_total", {"instance": A_NODE, "device": "eth0"}, 0.0),
    Counter("node_network_transmit_errs_total", {"instance": A_NODE, "device": "eth0"}, 0.0),
    Counter("node_network_receive_drop_total", {"instance": B_NODE, "device": "eth0"}, 1.0),
    Counter("node_network_transmit_drop_total", {"instance": B_NODE, "device": "eth0"}, 0.0),
    Counter("node_network_receive_errs_total", {"instance": B_NODE, "device": "eth0"}, 20.0),
    Counter("node_network_transmit_errs_total", {"instance": B_NODE, "device": "eth0"}, 0.0),
    Histogram(
        "kubeproxy_sync_proxy_rules_duration_seconds",
        {"instance": A_PROXY},
        (("1", 0.1), ("10", 0.5), ("30", 1.0), ("+Inf", 1.0)),
    ),
    Histogram(
        "kubeproxy_sync_proxy_rules_duration_seconds",
        {"instance": B_PROXY},
        (("1", 1.0), ("10", 1.0), ("30", 1.0), ("+Inf", 1.0)),
    ),
    Counter("kubeproxy_sync_proxy_rules_iptables_restore_failures_total", {"instance": A_PROXY}, 0),
    Counter(
        "kubeproxy_sync_proxy_rules_iptables_restore_failures_total", {"instance": B_PROXY}, 0.5
    ),
    Counter(
        "hubble_drop_total",
        {"instance": A_HUBBLE, "reason": "CT_MAP_INSERTION_FAILED", "protocol": "TCP"},
        12.0,
    ),
    Counter(
        "hubble_drop_total",
        {"instance": A_HUBBLE, "reason": "POLICY_DENIED", "protocol": "TCP"},
        50.0,
    ),
    Counter(
        "hubble_drop_total",
        {"instance": B_HUBBLE, "reason": "STALE_OR_UNROUTABLE_IP", "protocol": "TCP"},
        0.2,
    ),
    Counter(
        "coredns_dns_responses_total",
        {"instance": DNS_A, "server": "dns://:53", "zone": ".", "rcode": "NOERROR"},
        96.0,
    ),
    Counter(
        "coredns_dns_responses_total",
        {"instance": DNS_A, "server": "dns://:53", "zone": ".", "rcode": "SERVFAIL"},
        4.0,
    ),
    Counter("coredns_forward_requests_total", {"instance": DNS_A, "to": "10.0.0.2:53"}, 10.0),
    Counter(
        "coredns_forward_healthcheck_failures_total", {"instance": DNS_A, "to": "10.0.0.2:53"}, 5.0
    ),
    Counter("coredns_forward_requests_total", {"instance": DNS_A, "to": "10.0.0.3:53"}, 10.0),
    Counter(
        "coredns_forward_healthcheck_failures_total", {"instance": DNS_A, "to": "10.0.0.3:53"}, 0.0
    ),
    Histogram(
        "coredns_dns_request_duration_seconds",
        {"instance": DNS_A, "server": "dns://:53", "zone": ".", "type": "A"},
        (("0.025", 99.5), ("0.1", 100.0), ("+Inf", 100.0)),
    ),
]


@pytest.fixture(scope="module")
def prometheus() -> Iterator[Prometheus]:
    with running_exporter(SERIES) as exporter, running_prometheus(exporter.port, scrapes=8) as prom:
        yield prom


@pytest.fixture(scope="module")
def snapshot(prometheus: Prometheus) -> MetricsSnapshot:
    return query_prometheus(prometheus.url, replace(DEFAULTS, window=WINDOW), timeout=10)


def _labels(snap: MetricsSnapshot, name: str) -> list[tuple[dict[str, str], float]]:
    return [(dict(s.labels), s.value) for s in snap.signals[name].samples]


def test_snapshot_has_the_breaches_and_only_them(snapshot: MetricsSnapshot) -> None:
    assert snapshot.error is None and not snapshot.problems
    # conntrack: a gauge ratio, exact
    (fill,) = _labels(snapshot, "conntrack_fill")
    assert fill[0]["instance"] == A_NODE and fill[1] == pytest.approx(0.97)
    # counters: Prometheus extrapolates rate() at the window's edges; the rates are constant
    (ins,) = _labels(snapshot, "conntrack_insert_failed")
    assert ins[0]["instance"] == A_NODE and ins[1] == pytest.approx(2.0, rel=0.2)
    (drops,) = _labels(snapshot, "node_network_drops")
    assert (drops[0]["instance"], drops[0]["device"]) == (A_NODE, "eth0")  # lxc* left out
    assert drops[1] == pytest.approx(350, rel=0.2)
    (errs,) = _labels(snapshot, "node_network_errors")
    assert errs[0]["instance"] == B_NODE and errs[1] == pytest.approx(20, rel=0.2)
    (sync,) = _labels(snapshot, "kube_proxy_sync_latency")
    assert sync[0]["instance"] == A_PROXY and sync[1] == pytest.approx(29.6, rel=0.05)
    (fails,) = _labels(snapshot, "kube_proxy_sync_failures")
    assert fails[0]["instance"] == B_PROXY
    (hub,) = _labels(snapshot, "hubble_datapath_drops")
    assert hub[0]["reason"] == "CT_MAP_INSERTION_FAILED" and hub[1] == pytest.approx(12, rel=0.2)
    (servfail,) = _labels(snapshot, "coredns_servfail")
    assert servfail[0] == {"server": "dns://:53"} and servfail[1] == pytest.approx(0.04, rel=0.05)
    (fwd,) = _labels(snapshot, "coredns_forward_failures")
    assert fwd[0] == {"to": "10.0.0.2:53"} and fwd[1] == pytest.approx(0.5, rel=0.05)
    # measured and under the threshold: no series, but measured (checked)
    assert snapshot.signals["coredns_latency"].samples == ()
    assert snapshot.signals["coredns_latency"].measured
    # kube-state-metrics is not scraped: not measured, and said so
    down = snapshot.signals["coredns_down"]
    assert not down.measured and down.missing
    reason = snapshot.not_measured("coredns_down")
    assert reason is not None and "kube_deployment_status_replicas_available" in reason


def test_checks_attribute_each_breach_to_the_object_to_change(snapshot: MetricsSnapshot) -> None:
    model = load_offline([str(CLUSTER)])
    metric_checks = [c for c in load_all().values() if c.needs.observed == "metrics"]
    result = run_checks(model, metric_checks, ScanConfig(metrics=snapshot))
    assert not result.errors
    got = {(f.rule_id, f.subject.ref(), str(f.severity)) for f in result.findings}
    assert got == {
        ("CT731", "Node/node-a", "error"),  # 97 % >= the 95 % critical mark
        ("CT732", "Node/node-a", "warning"),
        ("CNI431", "Node/node-a", "warning"),
        ("CNI431", "Node/node-b", "warning"),
        ("KPX631", "DaemonSet/kube-system/kube-proxy", "warning"),
        ("KPX632", "Node/node-b", "warning"),
        ("CNI432", "ConfigMap/kube-system/cilium-config", "error"),
        ("DNS141", "ConfigMap/kube-system/coredns", "warning"),
        ("DNS142", "ConfigMap/kube-system/coredns", "warning"),
    }
    skipped = {s.check_id: s.reason for s in result.skipped}
    assert set(skipped) == {"DNS144"}
    assert "kube_deployment_status_replicas_available" in skipped["DNS144"]
    for f in result.findings:
        assert f.confidence == "observed"
        assert f.evidence[0].field.startswith("query at ")
        assert any(e.field == "series" for e in f.evidence)
        assert str(f.confirm[0]).startswith("curl -sG ")
    kpx = next(f for f in result.findings if f.rule_id == "KPX631")
    assert "node-a" in kpx.message and "node-b" not in kpx.message
    dns117 = next(f for f in result.findings if f.rule_id == "DNS142")
    assert "10.0.0.2:53" in dns117.message and "10.0.0.3:53" not in dns117.message


def test_scan_cli_json(prometheus: Prometheus) -> None:
    res = CliRunner().invoke(
        app,
        [
            "scan",
            "-f",
            str(CLUSTER),
            "--prometheus",
            prometheus.url + "/",
            "--prometheus-window",
            WINDOW,
            "-o",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    ids = sorted(f["rule_id"] for f in doc["findings"])
    assert ids == [
        "CNI431",
        "CNI431",
        "CNI432",
        "CT731",
        "CT732",
        "DNS141",
        "DNS142",
        "KPX631",
        "KPX632",
    ]
    assert {"check_id": "DNS144", "reason": doc_reason(doc, "DNS144")} in doc["skipped"]
    ct = next(f for f in doc["findings"] if f["rule_id"] == "CT731")
    assert ct["evidence"][0]["value"] == (
        "node_nf_conntrack_entries / node_nf_conntrack_entries_limit > 0.8"
    )
    assert ct["evidence"][1]["value"] == '{instance="10.0.0.11:9100", job="exporter"} 0.97'


def doc_reason(doc: dict[str, list[dict[str, str]]], check_id: str) -> str:
    return next(s["reason"] for s in doc["skipped"] if s["check_id"] == check_id)


def test_scan_without_prometheus_leaves_the_metric_checks_out() -> None:
    res = CliRunner().invoke(app, ["scan", "-f", str(CLUSTER), "-o", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    metric_ids = {c.id for c in load_all().values() if c.needs.observed == "metrics"}
    assert not metric_ids & {f["rule_id"] for f in doc["findings"]}
    assert not metric_ids & {s["check_id"] for s in doc["skipped"]}


def test_trace_shows_the_breaches_on_its_path(prometheus: Prometheus) -> None:
    # coredns-…-ax7k2 (node-a) asks kube-dns (backends on node-a and node-b) by name:
    # the path's nodes are node-a and node-b, and the path asks DNS
    res = CliRunner().invoke(
        app,
        [
            "trace",
            "kube-system/coredns-5d78c9869d-ax7k2",
            "kube-dns.kube-system",
            "--port",
            "53",
            "--protocol",
            "udp",
            "-f",
            str(CLUSTER),
            "--prometheus",
            prometheus.url,
            "--prometheus-window",
            WINDOW,
            "-o",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    observed = [
        h
        for h in doc["hops"]
        if h["summary"].startswith("observed (Prometheus") and h["status"] != "not-checked"
    ]
    got = sorted((h["summary"].split(",")[1].split(")")[0].strip(), h["status"]) for h in observed)
    assert got == [
        ("CNI431", "warning"),  # node-a eth0 drops
        ("CNI431", "warning"),  # node-b eth0 errors
        ("CNI432", "warning"),  # node-a CT_MAP_INSERTION_FAILED
        ("CT731", "warning"),
        ("CT732", "warning"),
        ("DNS141", "warning"),
        ("DNS142", "warning"),
        ("KPX631", "warning"),
        ("KPX632", "warning"),
    ]
    changes = {h["summary"].split(",")[1].split(")")[0].strip(): h["change"] for h in observed}
    assert changes["DNS141"] == {
        "kind": "ConfigMap",
        "namespace": "kube-system",
        "name": "coredns",
        "field": "data.Corefile (forward)",
    }
    assert changes["KPX632"] == {"kind": "Node", "namespace": None, "name": "node-b", "field": None}
    (unmeasured,) = [
        h
        for h in doc["hops"]
        if h["status"] == "not-checked" and h["summary"].startswith("observed (Prometheus)")
    ]
    assert unmeasured["layer"] == "dns"
    assert "CoreDNS available replicas" in unmeasured["summary"]
    assert "kube_deployment_status_replicas_available" in unmeasured["summary"]

"""Flows put on the model: grouping, transients, predicted vs observed, findings, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsleuth.checks.base import ScanConfig, load_all, run_checks
from netsleuth.cli import app
from netsleuth.flows import summarize
from netsleuth.model.findings import Layer, Severity
from netsleuth.sources.hubble import read_flows
from netsleuth.sources.load import load_offline

DATA = Path(__file__).parents[1] / "data" / "flows"
MODEL = load_offline([str(DATA / "cluster")])
FLOW_CHECKS = [c for c in load_all().values() if c.needs.observed == "flows"]


@pytest.fixture(scope="module", params=["hubble-observe.json", "hubble-observe-compact.txt"])
def summary(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return summarize(MODEL, read_flows([str(DATA / request.param)]))


def test_counts(summary) -> None:  # type: ignore[no-untyped-def]
    assert summary.counts.as_dict() == {
        "total": 29,
        "forwarded": 12,
        "dropped": 16,
        "redirected": 1,
        "other": 0,
    }


def test_drops_are_grouped_by_reason_and_workloads(summary) -> None:  # type: ignore[no-untyped-def]
    by = {(g.reason, g.src.key, g.dst.key): g for g in summary.drops}
    rep = by["POLICY_DENIED", "deployment/reports/report-job", "deployment/payments/payments-api"]
    # two connections, each SYN sent three times: six drops, one group
    assert rep.count == 6 and rep.ports == {8080: 6}
    assert rep.first_text < rep.last_text
    # the egress-side FORWARDED at worker-1 does not make an ingress drop transient
    assert not rep.transient and rep.identity_unknown == 0
    stale = by["STALE_OR_UNROUTABLE_IP", "deployment/checkout/checkout-web", "world"]
    assert stale.count == 4 and stale.dst_ips == ["10.244.2.9"]
    assert {g.reason for g in summary.drops} == {
        "POLICY_DENIED",
        "STALE_OR_UNROUTABLE_IP",
        "CT_MAP_INSERTION_FAILED",
        "FIB_LOOKUP_FAILED",
        "TTL_EXCEEDED",
    }


def test_identity_lag_drop_is_transient(summary) -> None:  # type: ignore[no-untyped-def]
    (g,) = [
        g
        for g in summary.drops
        if g.reason == "POLICY_DENIED" and g.src.key == "deployment/checkout/checkout-web"
    ]
    # shown as 10.244.1.2 (world) at worker-2, and 10.244.1.2 is checkout-web's pod IP
    assert g.identity_unknown == 1 and g.src.via_ip
    assert g.transient  # forwarded one second later


def test_forwarded_but_denied(summary) -> None:  # type: ignore[no-untyped-def]
    (g,) = summary.forwarded_denied
    assert (g.src.key, g.dst.key, g.ports) == (
        "deployment/checkout/checkout-web",
        "deployment/payments/payments-api",
        {9090: 2},
    )


def test_findings() -> None:
    s = summarize(MODEL, read_flows([str(DATA / "hubble-observe.json")]))
    result = run_checks(MODEL, FLOW_CHECKS, ScanConfig(flows=s))
    assert not result.errors and not result.skipped
    pol = [f for f in result.findings if f.rule_id == "POL309"]
    denied = next(f for f in pol if f.severity is Severity.WARNING)
    # the object to change: the policy whose rule came closest, with its manifest line
    assert (denied.subject.kind, denied.subject.namespace, denied.subject.name) == (
        "NetworkPolicy",
        "payments",
        "allow-from-checkout",
    )
    assert denied.origin_file and denied.origin_line
    assert "namespaceSelector kubernetes.io/metadata.name=checkout" in denied.message
    assert denied.fix is not None and denied.fix.snippet is not None
    patch = str(denied.fix.snippet)
    assert "kubernetes.io/metadata.name: reports" in patch and "port: 8080" in patch
    assert "pod-template-hash" not in patch
    transient = next(f for f in pol if f.severity is Severity.INFO)
    assert "transient" in transient.message and "10.244.1.2" in transient.message
    (fwd,) = [f for f in result.findings if f.rule_id == "POL310"]
    assert "9090" in fwd.message and fwd.severity is Severity.ERROR
    cni = {f.evidence[0].field.split("=")[-1]: f for f in result.findings if f.rule_id == "CNI411"}
    assert cni["FIB_LOOKUP_FAILED"].layer is Layer.NODE
    assert cni["FIB_LOOKUP_FAILED"].subject.ref() == "Node/worker-1"
    assert cni["CT_MAP_INSERTION_FAILED"].layer is Layer.CONNTRACK
    assert cni["CT_MAP_INSERTION_FAILED"].subject.ref() == "ConfigMap/kube-system/cilium-config"
    assert cni["STALE_OR_UNROUTABLE_IP"].subject.ref() == "Deployment/checkout/checkout-web"
    hub = str(denied.confirm[0])
    assert hub.startswith(
        "hubble observe --verdict DROPPED --from-namespace reports --from-workload report-job "
        "--to-namespace payments --to-workload payments-api --to-port 8080"
    )


def test_engine_allows_but_cluster_dropped_is_an_error(tmp_path: Path) -> None:
    # checkout-web -> payments-api:8080 is allowed by the policies; a POLICY_DENIED drop
    # of it that never clears means the cluster runs policies the model does not hold.
    lines = (DATA / "hubble-observe.json").read_text().splitlines()
    drop = next(json.loads(x) for x in lines if '"drop_reason_desc":"POLICY_DENIED"' in x)
    f = drop["flow"]
    f["source"] = next(
        json.loads(x)["flow"]["source"] for x in lines if '"pod_name":"checkout-web' in x
    )
    f["IP"]["source"] = "10.244.1.2"
    (tmp_path / "f.json").write_text(json.dumps(drop) + "\n")
    s = summarize(MODEL, read_flows([str(tmp_path / "f.json")]))
    (finding,) = run_checks(MODEL, FLOW_CHECKS, ScanConfig(flows=s)).findings
    assert (
        finding.severity is Severity.ERROR
        and "the policies in the model allow it" in finding.message
    )


def test_cli_json_has_scan_shape_plus_flows() -> None:
    res = CliRunner().invoke(
        app,
        ["flows", str(DATA / "hubble-observe.json"), "-f", str(DATA / "cluster"), "-o", "json"],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"findings", "skipped", "problems", "flows"}
    assert doc["flows"] == {
        "total": 29,
        "forwarded": 12,
        "dropped": 16,
        "redirected": 1,
        "other": 0,
    }
    assert doc["lost_events"] == 12
    scan = CliRunner().invoke(app, ["scan", "-f", str(DATA / "cluster"), "-o", "json"])
    one = json.loads(scan.stdout)["findings"][0]
    assert set(doc["findings"][0]) == set(one)
    assert {f["rule_id"] for f in doc["findings"]} == {"POL309", "POL310", "CNI411"}


def test_cli_table_and_sarif() -> None:
    res = CliRunner().invoke(
        app, ["flows", str(DATA / "hubble-observe-compact.txt"), "-f", str(DATA / "cluster")]
    )
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("29 flows: 12 forwarded, 16 dropped, 1 redirected")
    assert "POL309" in res.stdout and "NetworkPolicy/payments/allow-from-checkout" in res.stdout
    sarif = CliRunner().invoke(
        app,
        ["flows", str(DATA / "hubble-observe.json"), "-f", str(DATA / "cluster"), "-o", "sarif"],
    )
    doc = json.loads(sarif.stdout)
    rules = {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    assert rules == {"POL309", "POL310", "CNI411"}
    assert doc["runs"][0]["results"]


def test_cli_missing_file_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from netsleuth.cli.errors import run_app

    missing = str(tmp_path / "nope.json")
    monkeypatch.setattr(sys, "argv", ["netsleuth", "flows", missing, "-f", str(DATA / "cluster")])
    assert run_app(app) == 2
    assert "cannot read" in capsys.readouterr().err

"""`netsleuth alerts`: the rules load in Prometheus (`promtool check rules`) and fire as
meant on synthetic series (`promtool test rules`). promtool comes from Debian's
`prometheus` package (.ci/run installs it); outside CI the tests skip without it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from netsleuth.alerts import Thresholds, alert_rules, rules_file
from netsleuth.checks.base import load_all
from netsleuth.cli import app
from netsleuth.model.metrics import SIGNALS, signal_queries

REGISTRY = load_all()


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI: .ci/run installs the Debian package prometheus")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return path


def test_every_alert_maps_to_a_registered_check() -> None:
    for rule in alert_rules():
        assert rule.check_id in REGISTRY, rule.name
    doc = rules_file(REGISTRY)
    for group in doc["groups"]:
        for r in group["rules"]:
            check = REGISTRY[r["labels"]["check_id"]]
            assert r["labels"]["layer"] == str(check.layer)
            assert r["annotations"]["runbook"].startswith(f"{check.id}: {check.summary}")
            assert "Fix:" in r["annotations"]["runbook"]


def test_alert_check_ids_name_the_check_that_reports_the_same_signal() -> None:
    """An alert's check_id is the check that `scan --prometheus` raises for the same
    query: a metric check reading that signal (POL309 for policy drops, the flows check
    that reports the same drops from `hubble observe`)."""
    by_query = {q: name for name, q in signal_queries().items()}
    for rule in alert_rules():
        check = REGISTRY[rule.check_id]
        signal = by_query.get(rule.expr)
        if signal is not None:
            assert check.needs.observed == "metrics", rule.name
            assert signal in check.needs.signals, (rule.name, signal, check.needs.signals)
        elif rule.check_id == "POL309":
            assert check.needs.observed == "flows", rule.name
            assert "POLICY_DENIED" in rule.expr, rule.expr
        else:
            # Same signal at another threshold (ConntrackTableCritical): the check's
            # signals still include the metric the expression reads.
            assert check.needs.observed == "metrics", rule.name
            sigs = {s.name: s for s in SIGNALS}
            metrics = {sel for n in check.needs.signals for sel in sigs[n].presence}
            assert any(m.split("{")[0] in rule.expr for m in metrics), (rule.name, metrics)
    # Every metric check is pointed at by the signals it reads, and by an alert.
    alerted = {r.check_id for r in alert_rules()}
    for sig in SIGNALS:
        assert sig.name in REGISTRY[sig.check_id].needs.signals, sig.name
        assert sig.check_id in alerted, sig.name


def test_cli_prometheusrule_and_thresholds() -> None:
    res = CliRunner().invoke(app, ["alerts", "--conntrack-warning", "0.7", "--window", "2m"])
    assert res.exit_code == 0, res.output
    doc = yaml.safe_load(res.stdout)
    assert doc["kind"] == "PrometheusRule" and doc["metadata"]["namespace"] == "monitoring"
    rules = {r["alert"]: r for g in doc["spec"]["groups"] for r in g["rules"]}
    assert rules["ConntrackTableNearFull"]["expr"].endswith("> 0.7")
    assert "[2m]" in rules["CoreDNSServfailHigh"]["expr"]
    bad = CliRunner().invoke(app, ["alerts", "--window", "5 minutes"])
    assert bad.exit_code == 2


def test_promtool_check_rules(tmp_path: Path) -> None:
    tool = promtool()
    f = tmp_path / "rules.yml"
    f.write_text(yaml.safe_dump(rules_file(REGISTRY, docs_url="https://example.com/checks")))
    out = subprocess.run([tool, "check", "rules", str(f)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in out.stdout


def _annotations(name: str, summary: str) -> dict[str, str]:
    (rule,) = [r for g in rules_file(REGISTRY)["groups"] for r in g["rules"] if r["alert"] == name]
    return {**rule["annotations"], "summary": summary}


def test_promtool_unit_tests(tmp_path: Path) -> None:
    tool = promtool()
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules_file(REGISTRY, Thresholds())))
    w1, w2 = "worker-1:9100", "worker-2:9100"
    tests = {
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    # worker-1 at 85 % of its conntrack table, worker-2 nearly empty
                    {
                        "series": f'node_nf_conntrack_entries{{instance="{w1}"}}',
                        "values": "85000+0x20",
                    },
                    {
                        "series": f'node_nf_conntrack_entries_limit{{instance="{w1}"}}',
                        "values": "100000+0x20",
                    },
                    {
                        "series": f'node_nf_conntrack_entries{{instance="{w2}"}}',
                        "values": "900+0x20",
                    },
                    {
                        "series": f'node_nf_conntrack_entries_limit{{instance="{w2}"}}',
                        "values": "100000+0x20",
                    },
                    # 6 SERVFAIL and 294 NOERROR answers a minute: 2 % SERVFAIL
                    {
                        "series": 'coredns_dns_responses_total{server="dns://:53",rcode="SERVFAIL"}',
                        "values": "0+6x20",
                    },
                    {
                        "series": 'coredns_dns_responses_total{server="dns://:53",rcode="NOERROR"}',
                        "values": "0+294x20",
                    },
                    {
                        "series": 'kube_deployment_status_replicas_available{namespace="kube-system",deployment="coredns"}',
                        "values": "2+0x20",
                    },
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "10m",
                        "alertname": "ConntrackTableNearFull",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "check_id": "CT731",
                                    "layer": "conntrack",
                                    "instance": w1,
                                },
                                "exp_annotations": _annotations(
                                    "ConntrackTableNearFull",
                                    f"Conntrack table 85% full on {w1}",
                                ),
                            }
                        ],
                    },
                    {"eval_time": "10m", "alertname": "ConntrackTableCritical", "exp_alerts": []},
                    {
                        "eval_time": "10m",
                        "alertname": "CoreDNSServfailHigh",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "check_id": "DNS141",
                                    "layer": "dns",
                                    "server": "dns://:53",
                                },
                                "exp_annotations": _annotations(
                                    "CoreDNSServfailHigh",
                                    "CoreDNS answers SERVFAIL to 2% of queries",
                                ),
                            }
                        ],
                    },
                    {"eval_time": "10m", "alertname": "CoreDNSDown", "exp_alerts": []},
                    # before `for: 5m` has passed the alert is pending, not firing
                    {"eval_time": "3m", "alertname": "ConntrackTableNearFull", "exp_alerts": []},
                ],
            }
        ],
    }
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    out = subprocess.run(
        [tool, "test", "rules", "tests.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout

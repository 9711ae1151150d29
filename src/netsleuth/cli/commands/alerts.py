"""``netsleuth alerts``: Prometheus alert rules for the network signals, mapped to checks."""

from __future__ import annotations

import enum
from typing import Annotated

import typer


class AlertsFormat(enum.StrEnum):
    PROMETHEUSRULE = "prometheusrule"
    RULES = "rules"


def register(app: typer.Typer) -> None:
    @app.command("alerts")
    def alerts_cmd(
        output: Annotated[
            AlertsFormat,
            typer.Option(
                "-o",
                "--output",
                help="prometheusrule (a prometheus-operator PrometheusRule) or rules "
                "(a plain rules file for rule_files / promtool).",
            ),
        ] = AlertsFormat.PROMETHEUSRULE,
        window: Annotated[str, typer.Option("--window", help="rate() window.")] = "5m",
        conntrack_warning: Annotated[
            float, typer.Option("--conntrack-warning", help="Conntrack fill ratio (warning).")
        ] = 0.80,
        conntrack_critical: Annotated[
            float, typer.Option("--conntrack-critical", help="Conntrack fill ratio (critical).")
        ] = 0.95,
        coredns_servfail: Annotated[
            float, typer.Option("--coredns-servfail", help="CoreDNS SERVFAIL ratio.")
        ] = 0.01,
        coredns_p99: Annotated[
            float, typer.Option("--coredns-p99", help="CoreDNS p99 latency, seconds.")
        ] = 0.1,
        coredns_forward_failures: Annotated[
            float,
            typer.Option("--coredns-forward-failures", help="Upstream health-check failure ratio."),
        ] = 0.05,
        kube_proxy_sync_p99: Annotated[
            float, typer.Option("--kube-proxy-sync-p99", help="kube-proxy sync p99, seconds.")
        ] = 10.0,
        node_drops: Annotated[
            float, typer.Option("--node-drops", help="Interface drops per second.")
        ] = 100.0,
        node_errors: Annotated[
            float, typer.Option("--node-errors", help="Interface errors per second.")
        ] = 10.0,
        policy_drops: Annotated[
            float, typer.Option("--policy-drops", help="Hubble policy drops per second.")
        ] = 10.0,
        datapath_drops: Annotated[
            float, typer.Option("--datapath-drops", help="Hubble non-policy drops per second.")
        ] = 1.0,
        name: Annotated[
            str, typer.Option("--name", help="PrometheusRule name.")
        ] = "netsleuth-network",
        rule_namespace: Annotated[
            str, typer.Option("--rule-namespace", help="PrometheusRule namespace.")
        ] = "monitoring",
        docs_url: Annotated[
            str | None,
            typer.Option("--docs-url", help="Base URL of docs/checks: sets runbook_url."),
        ] = None,
    ) -> None:
        """Print Prometheus alert rules (conntrack, CoreDNS, kube-proxy, node NICs, Hubble drops),
        each labelled with the check whose page is its runbook."""
        import re

        import yaml

        if not re.fullmatch(r"[1-9][0-9]*(ms|s|m|h|d|w)", window):
            raise typer.BadParameter(f"not a Prometheus duration: {window!r} (e.g. 5m, 30s, 1h)")
        from netsleuth.alerts import Thresholds, prometheus_rule, rules_file
        from netsleuth.checks.base import load_all

        t = Thresholds(
            window=window,
            conntrack_warning=conntrack_warning,
            conntrack_critical=conntrack_critical,
            coredns_servfail_ratio=coredns_servfail,
            coredns_p99_seconds=coredns_p99,
            coredns_forward_failure_ratio=coredns_forward_failures,
            kube_proxy_sync_p99_seconds=kube_proxy_sync_p99,
            node_network_drops_rate=node_drops,
            node_network_errors_rate=node_errors,
            hubble_policy_drops_rate=policy_drops,
            hubble_other_drops_rate=datapath_drops,
        )
        registry = load_all()
        if output == AlertsFormat.RULES:
            doc = rules_file(registry, t, docs_url=docs_url)
        else:
            doc = prometheus_rule(
                registry, t, name=name, namespace=rule_namespace, docs_url=docs_url
            )
        typer.echo(yaml.safe_dump(doc, sort_keys=False, width=100), nl=False)

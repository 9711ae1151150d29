"""``netsleuth report``: one self-contained HTML page with the scan, the map and traces."""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ClusterDomainOpt,
    ContextOpt,
    FileOpt,
    HostNetworkOpt,
    KubeconfigOpt,
    MaxFileSizeOpt,
    MinSeverityOpt,
    NamespaceOpt,
    RequestTimeoutOpt,
    SeverityChoice,
    input_options,
    load_model,
    progress_enabled,
    source_text,
)
from netsleuth.cli.observed import (
    PrometheusOpt,
    PrometheusTimeoutOpt,
    PrometheusWindowOpt,
    ask_prometheus,
)
from netsleuth.cli.scan_options import (
    ExtraCidrsOpt,
    IgnoreOpt,
    SelectOpt,
    ServiceCidrOpt,
    scan_config,
)
from netsleuth.errors import QueryError
from netsleuth.policy.host_network import HostNetworkMode


def write_output(html: str, output: str) -> None:
    """``-`` writes to stdout, anything else is a file path."""
    if output == "-":
        sys.stdout.write(html)
        return
    path = Path(output)
    if path.is_dir():
        raise QueryError(
            f"-o {output}: is a directory", tip="give a file name, e.g. -o report.html"
        )
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise QueryError(f"cannot write {output}: {exc.strerror}") from exc


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        trace_dsts: Annotated[
            list[str] | None,
            typer.Argument(
                metavar="",
                help="The DST of each --trace (click reads `--trace SRC DST` as an option and an "
                "argument; they are paired in order).",
                show_default=False,
                hidden=True,
            ),
        ] = None,
        trace_srcs: Annotated[
            list[str] | None,
            typer.Option(
                "--trace",
                metavar="SRC DST",
                help="Also trace SRC to DST (as `netsleuth trace`; DST may be NAME:PORT). Repeatable.",
            ),
        ] = None,
        aggregate_above: Annotated[
            int,
            typer.Option(
                "--aggregate-above",
                min=0,
                help="Above this many workloads the map starts with namespaces collapsed.",
            ),
        ] = 300,
        select: SelectOpt = None,
        ignore: IgnoreOpt = None,
        min_severity: MinSeverityOpt = SeverityChoice.INFO,
        extra_cidrs: ExtraCidrsOpt = None,
        service_cidr: ServiceCidrOpt = None,
        cluster_domain: ClusterDomainOpt = None,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        output: Annotated[
            str, typer.Option("-o", "--output", help="The HTML file to write ('-': stdout).")
        ] = "report.html",
        prometheus: PrometheusOpt = None,
        prometheus_window: PrometheusWindowOpt = "5m",
        prometheus_timeout: PrometheusTimeoutOpt = 10.0,
    ) -> None:
        """Write an HTML report: summary, service map, findings, traces (one self-contained file)."""
        from netsleuth.checks.base import load_all
        from netsleuth.checks.scan import choose_checks, split_ids
        from netsleuth.cli.commands.scan import scan_with_progress
        from netsleuth.model.findings import Severity
        from netsleuth.policy.coverage import unreadable_policies
        from netsleuth.policy.host_network import policy_view
        from netsleuth.render.html.compose import trace_request
        from netsleuth.render.html.report import ReportInput, render_report

        srcs, dsts = list(trace_srcs or ()), list(trace_dsts or ())
        if len(srcs) != len(dsts):
            raise QueryError(
                "each --trace takes two values: SRC and DST",
                tip="e.g. --trace shop/storefront shop/cart:8080 --trace legacy/cron payments/api",
            )
        config = scan_config(
            extra_cidrs, service_cidr, cluster_domain
        )  # bad CIDRs: exit 2 before loading
        sel, ign = split_ids(select), split_ids(ignore)
        choose_checks(load_all().values(), sel, ign)  # unknown IDs: exit 2 before loading
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        metrics = ask_prometheus(prometheus, prometheus_window, prometheus_timeout)
        model = load_model(opts)
        # The findings `netsleuth scan` shows with the same options.
        scanned = scan_with_progress(
            model,
            select=sel,
            ignore=ign,
            config=replace(config, metrics=metrics),
            namespace=opts.namespace,
            min_severity=Severity(min_severity.value),
            docs_base_uri=None,
            progress=progress_enabled(opts.quiet),
        )
        requests = [trace_request(model, src, dst) for src, dst in zip(srcs, dsts, strict=True)]
        html = render_report(
            ReportInput(
                title="netsleuth report",
                command=shlex.join(["netsleuth", *sys.argv[1:]]),
                source=source_text(opts.files, context),
                model=policy_view(model, host_network),
                scan=scanned.result,
                findings=scanned.findings,
                traces=requests,
                problems=(*model.problems, *(metrics.problems if metrics is not None else ())),
                unreadable_policies=unreadable_policies(model),
                aggregate_above=aggregate_above,
            )
        )
        write_output(html, output)
        if output != "-" and progress_enabled(False):
            typer.echo(f"wrote {output} ({len(html.encode()):,} bytes)", err=True)

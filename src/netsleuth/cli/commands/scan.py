"""``netsleuth scan``: run the registered checks over a cluster and report findings."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ClusterDomainOpt,
    ContextOpt,
    FileOpt,
    KubeconfigOpt,
    MaxFileSizeOpt,
    MinSeverityOpt,
    NamespaceOpt,
    RequestTimeoutOpt,
    SeverityChoice,
    emit,
    input_options,
    load_model,
    machine_output,
    output_choices,
    output_option,
    progress_enabled,
    render_context,
    unread_input,
    warn,
)
from netsleuth.cli.exit_codes import ExitCode
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
from netsleuth.model.untrusted import visible

if TYPE_CHECKING:
    from netsleuth.checks.base import Check, ScanConfig
    from netsleuth.checks.scan import ScanReport
    from netsleuth.model.cluster import ClusterModel
    from netsleuth.model.findings import Severity

    ScanOutput = str
else:
    ScanOutput = output_choices("scan")


class FailOn(enum.StrEnum):
    WARNING = "warning"
    ERROR = "error"


def scan_with_progress(
    model: ClusterModel,
    *,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config: ScanConfig,
    namespace: str | None,
    min_severity: Severity,
    docs_base_uri: str | None,
    progress: bool,
) -> ScanReport:
    """:func:`netsleuth.checks.scan.scan`, with a progress bar on stderr when asked."""
    from netsleuth.checks.scan import scan

    def run(on_check: Callable[[Check, int, int], None] | None) -> ScanReport:
        return scan(
            model,
            select=select,
            ignore=ignore,
            config=config,
            namespace=namespace,
            min_severity=min_severity,
            docs_base_uri=docs_base_uri,
            progress=on_check,
        )

    if not progress:
        return run(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task("checks", total=None)

        def on_check(check: Check, index: int, total: int) -> None:
            prog.update(task, total=total, completed=index, description=f"{check.id} {check.name}")

        return run(on_check)


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        select: SelectOpt = None,
        ignore: IgnoreOpt = None,
        min_severity: MinSeverityOpt = SeverityChoice.INFO,
        fail_on: Annotated[
            FailOn | None,
            typer.Option(
                "--fail-on",
                help="Exit 4 when a finding at or above this severity exists; exit 2 (6 live) "
                "when part of the input could not be read; exit 6 when the --prometheus "
                "server did not answer every query.",
            ),
        ] = None,
        extra_cidrs: ExtraCidrsOpt = None,
        service_cidr: ServiceCidrOpt = None,
        cluster_domain: ClusterDomainOpt = None,
        docs_url: Annotated[
            str | None,
            typer.Option(
                "--docs-url",
                help="SARIF: base URL where docs/checks is published (sets each rule's helpUri).",
            ),
        ] = None,
        verbose: Annotated[
            bool, typer.Option("-v", "--verbose", help="List every skipped check with its reason.")
        ] = False,
        output: Annotated[ScanOutput, output_option("scan")] = "table",
        prometheus: PrometheusOpt = None,
        prometheus_window: PrometheusWindowOpt = "5m",
        prometheus_timeout: PrometheusTimeoutOpt = 10.0,
    ) -> None:
        """Scan the cluster for network misconfigurations (see `netsleuth checks`)."""
        from netsleuth.checks.base import load_all
        from netsleuth.checks.scan import choose_checks, split_ids
        from netsleuth.model.findings import Severity

        config = scan_config(extra_cidrs, service_cidr, cluster_domain)
        sel, ign = split_ids(select), split_ids(ignore)
        choose_checks(load_all().values(), sel, ign)  # unknown IDs: exit 2 before loading
        machine = machine_output("scan", output)
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine,
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        metrics = ask_prometheus(prometheus, prometheus_window, prometheus_timeout)
        model = load_model(opts)
        report = scan_with_progress(
            model,
            select=sel,
            ignore=ign,
            config=replace(config, metrics=metrics),
            namespace=opts.namespace,
            min_severity=Severity(min_severity.value),
            docs_base_uri=docs_url,
            progress=not machine and progress_enabled(opts.quiet),
        )
        if metrics is not None and metrics.problems:
            report = replace(report, problems=(*report.problems, *metrics.problems))
        emit("scan", output, report, verbose=verbose, context=render_context(opts, model))
        if fail_on is not None:
            unread = unread_input(model)
            if unread:
                # A gate must not pass on input it could not read.
                warn(
                    f"--fail-on: {len(unread)} part(s) of the input could not be read: "
                    + "; ".join(visible(u) for u in unread[:3])
                )
                raise typer.Exit(ExitCode.SOURCE if opts.live else ExitCode.USAGE)
            if metrics is not None and metrics.failed():
                # nor on a live source (the Prometheus) that did not answer every query
                warn(
                    f"--fail-on: the Prometheus at {visible(metrics.url)} did not answer "
                    f"{len(metrics.failed())} of its queries (see above)"
                )
                raise typer.Exit(ExitCode.SOURCE)
            if report.at_or_above(Severity(fail_on.value)):
                raise typer.Exit(ExitCode.FINDINGS)

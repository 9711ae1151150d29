"""``netsleuth flows FILE…``: explain what Hubble observed against the cluster model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
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
)

if TYPE_CHECKING:
    from netsleuth.flows import FlowSummary
    from netsleuth.model.cluster import ClusterModel

    FlowsOutput = str
else:
    FlowsOutput = output_choices("flows")


def summarize_files(
    model: ClusterModel, paths: list[str], *, window: float, progress: bool
) -> FlowSummary:
    """Stream ``paths`` into a :class:`~netsleuth.flows.FlowSummary` (a counter on a terminal)."""
    from netsleuth.flows import summarize
    from netsleuth.sources.hubble import read_flows

    records = read_flows(paths, brief=True)  # summarize only counts replies
    if not progress:
        return summarize(model, records, window=window, files=tuple(paths))
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task("reading flows…", total=None)

        def on_count(n: int) -> None:
            prog.update(task, description=f"read {n:,} flows")

        return summarize(model, records, window=window, files=tuple(paths), progress=on_count)


def register(app: typer.Typer) -> None:
    @app.command("flows")
    def flows_cmd(
        flow_files: Annotated[
            list[str],
            typer.Argument(
                help="`hubble observe -o json|compact` output or the flow exporter's file "
                "('-' for stdin; .gz read as gzip).",
            ),
        ],
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        window: Annotated[
            float,
            typer.Option(
                "--window",
                min=0.0,
                help="Seconds within which a forwarded retry makes a drop transient.",
            ),
        ] = 10.0,
        min_severity: MinSeverityOpt = SeverityChoice.INFO,
        output: Annotated[FlowsOutput, output_option("flows")] = "table",
    ) -> None:
        """Explain Hubble flows: drops by reason and layer, each policy drop by the engine,
        transient drops, and connections forwarded that the policies deny."""
        from netsleuth.checks.base import ScanConfig, load_all, run_checks
        from netsleuth.model.findings import Severity

        if "-" in flow_files and "-" in (files or []):
            raise typer.BadParameter("stdin can feed either the flows or -f, not both")
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine_output("flows", output),
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        model = load_model(opts)
        summary = summarize_files(
            model, flow_files, window=window, progress=progress_enabled(opts.quiet)
        )
        checks = [c for c in load_all().values() if c.needs.observed == "flows"]
        result = run_checks(model, checks, ScanConfig(flows=summary))
        shown = [
            f
            for f in result.findings
            if f.severity.rank >= Severity(min_severity.value).rank
            and (opts.namespace is None or f.subject.namespace in (None, opts.namespace))
        ]
        from netsleuth.render.flows_table import FlowsReport

        report = FlowsReport(
            summary=summary,
            result=result,
            findings=tuple(shown),
            checks=tuple(checks),
            problems=(*model.problems, *summary.problems),
        )
        emit("flows", output, report)

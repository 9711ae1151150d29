"""``netsleuth scan``: run the registered checks over a cluster and report findings."""

from __future__ import annotations

import enum
import ipaddress
from typing import Annotated

import typer

from netsleuth.checks.base import Check, ScanConfig, ScanResult, load_all, run_checks, select_checks
from netsleuth.cli.common import (
    AllNamespacesOpt,
    ContextOpt,
    FileOpt,
    KubeconfigOpt,
    NamespaceOpt,
    in_scope,
    input_options,
    load_model,
    problems_json,
    progress_enabled,
)
from netsleuth.cli.errors import EXIT_FINDINGS
from netsleuth.errors import QueryError
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Severity
from netsleuth.render.console import stdout_console
from netsleuth.render.jsonout import dumps_json


class ScanFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    SARIF = "sarif"


class FailOn(enum.StrEnum):
    WARNING = "warning"
    ERROR = "error"


def _split(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or ():
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return tuple(out)


def parse_extra_cidrs(value: str | None) -> tuple[str, ...]:
    """``--extra-cidrs 10.8.0.0/16,192.168.0.0/24`` -> canonical CIDR strings (bad ones are usage errors)."""
    cidrs: list[str] = []
    for part in _split([value] if value else None):
        try:
            cidrs.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError as exc:
            raise QueryError(
                f"not a CIDR: {part!r}",
                tip="give comma-separated CIDRs, e.g. --extra-cidrs 10.8.0.0/16,192.168.50.0/24",
            ) from exc
    return tuple(cidrs)


def scan_model(
    model: ClusterModel,
    *,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    config: ScanConfig | None = None,
    progress: bool = False,
) -> tuple[ScanResult, list[Check]]:
    """Select and run checks; with ``progress`` a bar is drawn on stderr."""
    checks = select_checks(load_all().values(), select, ignore)
    if not progress:
        return run_checks(model, checks, config), checks
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task("checks", total=len(checks))

        def on_check(check: Check, index: int, total: int) -> None:
            prog.update(task, completed=index, description=f"{check.id} {check.name}")

        return run_checks(model, checks, config, progress=on_check), checks


def visible_findings(
    result: ScanResult, namespace: str | None, min_severity: Severity
) -> list[Finding]:
    return [
        f
        for f in result.findings
        if (namespace is None or f.subject.namespace is None or f.subject.namespace == namespace)
        and f.severity.rank >= min_severity.rank
    ]


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        select: Annotated[
            list[str] | None,
            typer.Option(
                "--select",
                help="Only these checks: IDs or prefixes (DNS, SVC2), comma-separated or repeated.",
            ),
        ] = None,
        ignore: Annotated[
            list[str] | None, typer.Option("--ignore", help="Skip these checks: IDs or prefixes.")
        ] = None,
        min_severity: Annotated[
            Severity, typer.Option("--min-severity", help="Hide findings below this severity.")
        ] = Severity.INFO,
        fail_on: Annotated[
            FailOn | None,
            typer.Option(
                "--fail-on", help="Exit 4 when a finding at or above this severity exists."
            ),
        ] = None,
        extra_cidrs: Annotated[
            str | None,
            typer.Option(
                "--extra-cidrs",
                help="Comma-separated ranges outside the cluster (VPN, peered VPCs) "
                "that must not overlap pod or service CIDRs.",
            ),
        ] = None,
        service_cidr: Annotated[
            str | None, typer.Option("--service-cidr", help="The cluster's Service CIDR, if known.")
        ] = None,
        docs_url: Annotated[
            str | None,
            typer.Option(
                "--docs-url",
                help="SARIF: base URL where docs/checks is published (sets each rule's helpUri).",
            ),
        ] = None,
        output: Annotated[
            ScanFormat, typer.Option("-o", "--output", help="table, json or sarif.")
        ] = ScanFormat.TABLE,
    ) -> None:
        """Scan the cluster for network misconfigurations (see `netsleuth checks`)."""
        cidrs = parse_extra_cidrs(extra_cidrs)
        svc_cidr = parse_extra_cidrs(service_cidr)[0] if service_cidr else None  # same validation
        opts = input_options(
            files, kubeconfig, context, namespace, all_namespaces, quiet=output != ScanFormat.TABLE
        )
        model = load_model(opts)
        config = ScanConfig(extra_cidrs=cidrs, service_cidr=svc_cidr)
        result, checks = scan_model(
            model,
            select=_split(select),
            ignore=_split(ignore),
            config=config,
            progress=output == ScanFormat.TABLE and progress_enabled(opts.quiet),
        )
        shown = visible_findings(result, opts.namespace, min_severity)
        if output == ScanFormat.JSON:
            from netsleuth.render.findings_json import findings_document

            typer.echo(
                dumps_json(findings_document(result, shown, problems_json(model.problems))),
                nl=False,
            )
        elif output == ScanFormat.SARIF:
            from netsleuth.render.sarif import sarif_document

            typer.echo(
                dumps_json(sarif_document(result, shown, checks, docs_base_uri=docs_url)), nl=False
            )
        else:
            from netsleuth.render.findings_table import render_findings

            console = stdout_console()
            render_findings(result, shown, console)
            if model.problems:
                console.print(
                    f"{len(model.problems)} input problem(s); see `netsleuth inventory` for details."
                )
        if fail_on is not None:
            threshold = Severity(fail_on.value).rank
            if any(
                f.severity.rank >= threshold
                for f in result.findings
                if in_scope(opts, f.subject.namespace)
            ):
                raise typer.Exit(EXIT_FINDINGS)

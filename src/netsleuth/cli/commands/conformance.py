"""``netsleuth conformance --lab NAME``: the policy engine's verdicts checked with real packets."""

from __future__ import annotations

from typing import Annotated

import typer

from netsleuth.render.console import OutputFormat, stdout_console
from netsleuth.render.jsonout import dumps_json

EXIT_DISAGREE = 5


def register(app: typer.Typer) -> None:
    @app.command("conformance")
    def conformance(
        lab: Annotated[str, typer.Option("--lab", help="The lab to probe (`lab up`).")],
        files: Annotated[
            list[str] | None,
            typer.Option(
                "-f", "--filename", help="Cluster files (default: the ones the lab was built from)."
            ),
        ] = None,
        timeout: Annotated[
            float,
            typer.Option("--timeout", min=0.05, help="Seconds before a connect counts as dropped."),
        ] = 1.0,
        concurrency: Annotated[
            int, typer.Option("--concurrency", min=1, max=64, help="Source pods probing at once.")
        ] = 4,
        all_pairs: Annotated[bool, typer.Option("--all", help="List agreeing pairs too.")] = False,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table, json or sarif.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Probe every pod pair and served port of a lab and compare with the policy engine.
        JSON: {"pairs", "agree", "disagree", "findings"}. Exit 5 on any disagreement."""
        from netsleuth.cli.commands.lab import lab_model
        from netsleuth.probe.in_lab import conformance_in_lab
        from netsleuth.render.conformance_out import (
            conformance_document,
            conformance_sarif,
            render_conformance,
        )

        if output not in (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.SARIF):
            raise typer.BadParameter("conformance supports -o table, json or sarif")
        model = lab_model(lab, files)
        rep = conformance_in_lab(model, lab, timeout=timeout, concurrency=concurrency)
        if output == OutputFormat.JSON:
            typer.echo(dumps_json(conformance_document(rep, all_pairs=all_pairs)), nl=False)
        elif output == OutputFormat.SARIF:
            typer.echo(dumps_json(conformance_sarif(rep)), nl=False)
        else:
            render_conformance(rep, stdout_console(), all_pairs=all_pairs)
        if rep.disagree:
            raise typer.Exit(EXIT_DISAGREE)

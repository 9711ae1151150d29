"""``netsleuth conformance --lab NAME``: the policy engine's verdicts checked with real packets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import emit, output_choices, output_option

if TYPE_CHECKING:
    ConformanceOutput = str
else:
    ConformanceOutput = output_choices("conformance")

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
        output: Annotated[ConformanceOutput, output_option("conformance")] = "table",
    ) -> None:
        """Probe every pod pair and served port of a lab and compare with the policy engine.
        JSON: {"pairs", "agree", "disagree", "findings"}. Exit 5 on any disagreement."""
        from netsleuth.cli.commands.lab import lab_model
        from netsleuth.probe.in_lab import conformance_in_lab
        from netsleuth.render.conformance_out import ConformanceView

        model = lab_model(lab, files)
        rep = conformance_in_lab(model, lab, timeout=timeout, concurrency=concurrency)
        emit("conformance", output, ConformanceView(rep, all_pairs))
        if rep.disagree:
            raise typer.Exit(EXIT_DISAGREE)

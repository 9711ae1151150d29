"""``netsleuth probe SRC DST``: real packets from a pod, hop by hop."""

from __future__ import annotations

from typing import Annotated

import typer

from netsleuth.render.console import OutputFormat, stdout_console
from netsleuth.render.jsonout import dumps_json

EXIT_BROKEN = 5


def register(app: typer.Typer) -> None:
    @app.command("probe")
    def probe(
        src: Annotated[
            str, typer.Argument(help="Source: ns/pod or ns/workload (one of its pods).")
        ],
        dst: Annotated[
            str, typer.Argument(help="Destination: ns/service, ns/pod, a DNS name, an IP.")
        ],
        lab: Annotated[str, typer.Option("--lab", help="Probe inside this lab (`lab up`).")],
        port: Annotated[
            int | None, typer.Option("--port", min=1, max=65535, help="Destination port.")
        ] = None,
        protocol: Annotated[str | None, typer.Option("--protocol", help="TCP or UDP.")] = None,
        files: Annotated[
            list[str] | None,
            typer.Option(
                "-f", "--filename", help="Cluster files (default: the ones the lab was built from)."
            ),
        ] = None,
        timeout: Annotated[
            float, typer.Option("--timeout", min=0.05, help="Seconds per connect.")
        ] = 1.0,
        dns_timeout: Annotated[
            float | None,
            typer.Option(
                "--dns-timeout",
                min=0.05,
                help="Override the resolver's timeout (resolv.conf's, default 5 s).",
            ),
        ] = None,
        verbose: Annotated[
            bool, typer.Option("-v", "--verbose", help="Every query and attempt.")
        ] = False,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table or json.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Send real traffic from SRC: DNS as the pod's resolver does it, TCP/UDP to the
        Service and to each endpoint, and a DF ping sweep for the path MTU. Exit 5 when broken."""
        from netsleuth.cli.commands.lab import lab_model
        from netsleuth.model.findings import Verdict
        from netsleuth.probe.in_lab import probe_in_lab
        from netsleuth.render.probe_table import probe_document, render_probe

        proto = protocol.upper() if protocol else None
        if proto not in (None, "TCP", "UDP"):
            raise typer.BadParameter("--protocol is TCP or UDP")
        model = lab_model(lab, files)
        report = probe_in_lab(
            model,
            lab,
            src,
            dst,
            port=port,
            protocol=proto,
            timeout=timeout,
            dns_timeout=dns_timeout,
        )
        if output == OutputFormat.JSON:
            typer.echo(dumps_json(probe_document(report)), nl=False)
        else:
            render_probe(report, stdout_console(), verbose=verbose)
        if report.verdict is Verdict.BROKEN:
            raise typer.Exit(EXIT_BROKEN)

"""``netsleuth trace SRC DST``: walk the packet path hop by hop."""

from __future__ import annotations

from typing import Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ContextOpt,
    FileOpt,
    KubeconfigOpt,
    NamespaceOpt,
    input_options,
    load_model,
    problems_json,
)
from netsleuth.cli.errors import EXIT_TRACE_BROKEN
from netsleuth.model.findings import Verdict
from netsleuth.render.console import OutputFormat, stdout_console
from netsleuth.render.jsonout import dumps_json


def register(app: typer.Typer) -> None:
    @app.command("trace")
    def trace_cmd(
        src: Annotated[
            str, typer.Argument(help="ns/pod, ns/workload, kind/ns/name, an IP, or 'external'.")
        ],
        dst: Annotated[
            str,
            typer.Argument(
                help="ns/service, ns/pod, a DNS name as the app uses it, an IP, or a URL; NAME:PORT allowed."
            ),
        ],
        port: Annotated[
            str | None, typer.Option("--port", "-p", help="Destination port (number or name).")
        ] = None,
        protocol: Annotated[str, typer.Option("--protocol", help="tcp, udp or sctp.")] = "tcp",
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table or json.")
        ] = OutputFormat.TABLE,
    ) -> int:
        """Follow the packet path from SRC to DST and name the first hop that breaks.

        Exit code 5 when the verdict is broken.
        """
        from netsleuth.trace import trace

        if output not in (OutputFormat.TABLE, OutputFormat.JSON):
            raise typer.BadParameter("trace supports -o table or json")
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = load_model(opts)
        port_value: int | str | None = int(port) if port is not None and port.isdigit() else port
        result = trace(model, src, dst, port=port_value, protocol=protocol)
        if output == OutputFormat.JSON:
            from netsleuth.render.trace_json import trace_document

            typer.echo(dumps_json(trace_document(result, problems_json(result.problems))), nl=False)
        else:
            from netsleuth.render.trace_table import render_trace

            render_trace(result, stdout_console())
        return EXIT_TRACE_BROKEN if result.verdict is Verdict.BROKEN else 0

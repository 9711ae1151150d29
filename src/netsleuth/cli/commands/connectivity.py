"""``netsleuth connectivity``: every connection NetworkPolicy allows, at workload level."""

from __future__ import annotations

from typing import Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ContextOpt,
    FileOpt,
    HostNetworkOpt,
    KubeconfigOpt,
    NamespaceOpt,
    input_options,
    load_model,
    problems_json,
)
from netsleuth.errors import QueryError
from netsleuth.policy.coverage import known_connections, unreadable_policies
from netsleuth.policy.host_network import HostNetworkMode, policy_view
from netsleuth.render.console import OutputFormat, stdout_console

FORMATS = (
    OutputFormat.TABLE,
    OutputFormat.JSON,
    OutputFormat.CSV,
    OutputFormat.MD,
    OutputFormat.DOT,
)


def parse_port(text: str | None) -> tuple[str, int] | None:
    """``tcp/8080`` (or ``8080``, meaning TCP) -> ``("TCP", 8080)``."""
    if text is None:
        return None
    proto, _, num = text.partition("/")
    if not num:
        proto, num = "tcp", proto
    if (
        not num.isdigit()
        or not 1 <= int(num) <= 65535
        or proto.upper() not in ("TCP", "UDP", "SCTP")
    ):
        raise QueryError(
            f"bad --port {text!r}", tip="Use PROTO/PORT with a port 1-65535, e.g. tcp/8080."
        )
    return proto.upper(), int(num)


def register(app: typer.Typer) -> None:
    @app.command("connectivity")
    def connectivity_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        focus: Annotated[
            str | None,
            typer.Option("--focus", help="Only connections of this workload (ns/name or name)."),
        ] = None,
        port: Annotated[
            str | None,
            typer.Option("--port", help="Only connections allowing PROTO/PORT (tcp/8080)."),
        ] = None,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table, json, csv, md or dot.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Every connection NetworkPolicy allows, at workload level.

        Peers are workloads (a pod's top-level owner, or the bare pod), the
        address ranges the ipBlocks induce, and the ingress-controller
        pseudo-peer. A workload's connections to itself are not listed.
        """
        from netsleuth.policy.connlist import connectivity
        from netsleuth.render import connectivity_table as r

        if output not in FORMATS:
            raise QueryError("connectivity supports -o table, json, csv, md or dot")
        probe = parse_port(port)
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = policy_view(load_model(opts), host_network)
        conns = connectivity(model, focus=focus, port=probe)
        if opts.namespace:
            conns = [c for c in conns if opts.namespace in (c.src.namespace, c.dst.namespace)]
        # never list as allowed what a left-out (invalid) policy could deny
        conns, held = known_connections(model, conns)
        notes = (held,) if held else ()
        if output == OutputFormat.JSON:
            typer.echo(
                r.render_json(
                    conns, problems_json(model.problems), unreadable_policies(model), notes
                ),
                nl=False,
            )
        elif output == OutputFormat.CSV:
            typer.echo(r.render_csv(conns), nl=False)
        elif output == OutputFormat.MD:
            typer.echo(r.render_md(conns), nl=False)
        elif output == OutputFormat.DOT:
            typer.echo(r.render_dot(conns), nl=False)
        else:
            r.render_table(
                conns, model.problems, stdout_console(), unreadable_policies(model), notes
            )

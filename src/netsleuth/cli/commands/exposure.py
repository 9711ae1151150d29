"""``netsleuth exposure``: what reaches each workload from other namespaces and from outside."""

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
from netsleuth.policy.coverage import unknown_namespaces, unreadable_policies
from netsleuth.policy.host_network import HostNetworkMode, policy_view
from netsleuth.render.console import OutputFormat, stdout_console


def register(app: typer.Typer) -> None:
    @app.command("exposure")
    def exposure_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table or json.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Per workload: who reaches it from other namespaces and from outside the cluster,
        and which directions no NetworkPolicy protects."""
        from netsleuth.policy.exposure import exposure
        from netsleuth.render import exposure_table as r

        if output not in (OutputFormat.TABLE, OutputFormat.JSON):
            raise QueryError("exposure supports -o table or json")
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = policy_view(load_model(opts), host_network)
        rows = [x for x in exposure(model) if opts.namespace in (None, x.namespace)]
        gaps = unknown_namespaces(model)
        if gaps is None or gaps:
            # a left-out (invalid) policy could change what reaches these workloads
            rows = [] if gaps is None else [x for x in rows if x.namespace not in gaps]
        if output == OutputFormat.JSON:
            typer.echo(
                r.render_json(rows, problems_json(model.problems), unreadable_policies(model)),
                nl=False,
            )
        else:
            r.render_table(rows, model.problems, stdout_console(), unreadable_policies(model))

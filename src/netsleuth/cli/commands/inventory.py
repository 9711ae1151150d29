"""``netsleuth inventory``: what was loaded."""

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
from netsleuth.inventory import Inventory, build_inventory
from netsleuth.render.console import OutputFormat, stdout_console
from netsleuth.render.jsonout import dumps_json, dumps_yaml, to_jsonable


def inventory_document(inv: Inventory) -> dict[str, object]:
    doc = to_jsonable(inv)
    assert isinstance(doc, dict)
    doc["problems"] = problems_json(inv.problems)
    return doc


def register(app: typer.Typer) -> None:
    @app.command("inventory")
    def inventory(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table, json or yaml.")
        ] = OutputFormat.TABLE,
    ) -> None:
        """Show what was loaded: counts by kind and namespace, nodes, CNI, kube-proxy mode, CoreDNS, problems."""
        if output not in (OutputFormat.TABLE, OutputFormat.JSON, OutputFormat.YAML):
            raise typer.BadParameter("inventory supports -o table, json or yaml")
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = load_model(opts)
        inv = build_inventory(model, opts.namespace)
        if output == OutputFormat.JSON:
            typer.echo(dumps_json(inventory_document(inv)), nl=False)
        elif output == OutputFormat.YAML:
            typer.echo(dumps_yaml(inventory_document(inv)), nl=False)
        else:
            from netsleuth.render.inventory_table import render_inventory

            render_inventory(inv, stdout_console())

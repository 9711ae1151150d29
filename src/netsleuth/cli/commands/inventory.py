"""``netsleuth inventory``: what was loaded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ContextOpt,
    FileOpt,
    KubeconfigOpt,
    MaxFileSizeOpt,
    NamespaceOpt,
    RequestTimeoutOpt,
    emit,
    input_options,
    load_model,
    machine_output,
    output_choices,
    output_option,
)

if TYPE_CHECKING:
    InventoryOutput = str
else:
    InventoryOutput = output_choices("inventory")


def register(app: typer.Typer) -> None:
    @app.command("inventory")
    def inventory(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        output: Annotated[InventoryOutput, output_option("inventory")] = "table",
    ) -> None:
        """Show what was loaded: counts by kind and namespace, nodes, CNI, kube-proxy mode, CoreDNS, problems."""
        from netsleuth.inventory import build_inventory

        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine_output("inventory", output),
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        model = load_model(opts)
        emit("inventory", output, build_inventory(model, opts.namespace))

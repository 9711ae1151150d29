"""``netsleuth connectivity``: every connection NetworkPolicy allows, at workload level."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ContextOpt,
    FileOpt,
    HostNetworkOpt,
    KubeconfigOpt,
    MaxFileSizeOpt,
    NamespaceOpt,
    PortOpt,
    RequestTimeoutOpt,
    emit,
    gc_paused,
    input_options,
    load_model,
    machine_output,
    output_choices,
    output_option,
    port_spec,
    render_context,
)
from netsleuth.policy.host_network import HostNetworkMode

if TYPE_CHECKING:
    ConnectivityOutput = str
else:
    ConnectivityOutput = output_choices("connectivity")


def register(app: typer.Typer) -> None:
    @app.command("connectivity")
    def connectivity_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        focus: Annotated[
            str | None,
            typer.Option("--focus", help="Only connections of this workload (ns/name or name)."),
        ] = None,
        port: PortOpt = None,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        output: Annotated[ConnectivityOutput, output_option("connectivity")] = "table",
    ) -> None:
        """Every connection NetworkPolicy allows, at workload level.

        Peers are workloads (a pod's top-level owner, or the bare pod), the
        address ranges the ipBlocks induce, and the ingress-controller
        pseudo-peer. A workload's connections to itself are not listed.
        With --port, only connections that allow it (a port name is looked up
        on the destination's pods).
        """
        from netsleuth.policy.host_network import policy_view
        from netsleuth.policy.reports import connectivity_report

        spec = port_spec(port)
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine_output("connectivity", output),
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        model = policy_view(load_model(opts), host_network)
        with gc_paused():
            emit(
                "connectivity",
                output,
                connectivity_report(model, focus=focus, port=spec, namespace=opts.namespace),
                context=render_context(opts, model),
            )

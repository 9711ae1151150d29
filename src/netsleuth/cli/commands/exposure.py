"""``netsleuth exposure``: what reaches each workload from other namespaces and from outside."""

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
    RequestTimeoutOpt,
    emit,
    input_options,
    load_model,
    machine_output,
    output_choices,
    output_option,
)
from netsleuth.policy.host_network import HostNetworkMode

if TYPE_CHECKING:
    ExposureOutput = str
else:
    ExposureOutput = output_choices("exposure")


def register(app: typer.Typer) -> None:
    @app.command("exposure")
    def exposure_cmd(
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        output: Annotated[ExposureOutput, output_option("exposure")] = "table",
    ) -> None:
        """Per workload: who reaches it from other namespaces and from outside the cluster,
        and which directions no NetworkPolicy protects."""
        from netsleuth.policy.host_network import policy_view
        from netsleuth.policy.reports import exposure_report

        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine_output("exposure", output),
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        model = policy_view(load_model(opts), host_network)
        emit("exposure", output, exposure_report(model, namespace=opts.namespace))

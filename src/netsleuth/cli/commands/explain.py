"""``netsleuth explain SRC DST [--port tcp/5432]``: the policy verdict and why."""

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
    input_options,
    load_model,
    machine_output,
    output_choices,
    output_option,
    port_spec,
)
from netsleuth.policy.host_network import HostNetworkMode

if TYPE_CHECKING:
    ExplainOutput = str
else:
    ExplainOutput = output_choices("explain")


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_cmd(
        src: Annotated[
            str,
            typer.Argument(
                help="ns/pod, ns/workload, kind/ns/name, an IP, 'external' or "
                "'ingress-controller' (a bare name is in the -n namespace)."
            ),
        ],
        dst: Annotated[
            str,
            typer.Argument(
                help="ns/pod, ns/workload, ns/service, kind/ns/name, an IP or 'external' "
                "(a bare name is in the -n namespace)."
            ),
        ],
        port: PortOpt = None,
        external_ip: Annotated[
            str | None,
            typer.Option(
                "--external-ip",
                help="The address 'external' stands for. Without it, the answer is worked "
                "out for every public address (by the ranges the policies name).",
            ),
        ] = None,
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        host_network: HostNetworkOpt = HostNetworkMode.NODE,
        output: Annotated[ExplainOutput, output_option("explain")] = "table",
    ) -> None:
        """Say whether policies let SRC reach DST, and which rules decide it.

        NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy are
        evaluated; the port is the destination pod's port (a Service port is
        translated to its targetPort). Without --port, every port is reported.
        """
        from netsleuth.policy.explain import build_report
        from netsleuth.policy.host_network import policy_view

        spec = port_spec(port)
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine_output("explain", output),
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        model = policy_view(load_model(opts), host_network)
        report = build_report(
            model, src, dst, port=spec, external_ip=external_ip, namespace=opts.namespace
        )
        emit("explain", output, report)

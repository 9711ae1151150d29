"""``netsleuth trace SRC DST``: walk the packet path hop by hop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import (
    AllNamespacesOpt,
    ClusterDomainOpt,
    ContextOpt,
    FileOpt,
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
    render_context,
)
from netsleuth.cli.exit_codes import ExitCode
from netsleuth.cli.observed import (
    FlowFilesOpt,
    PrometheusOpt,
    PrometheusTimeoutOpt,
    PrometheusWindowOpt,
    add_observed,
    ask_prometheus,
)

if TYPE_CHECKING:
    TraceOutput = str
else:
    TraceOutput = output_choices("trace")


def register(app: typer.Typer) -> None:
    @app.command("trace")
    def trace_cmd(
        src: Annotated[
            str,
            typer.Argument(
                help="ns/pod, ns/workload, kind/ns/name, an IP, or 'external' "
                "(a bare name is in the -n namespace)."
            ),
        ],
        dst: Annotated[
            str,
            typer.Argument(
                help="ns/service, ns/pod, a DNS name as the app uses it, an IP, or a URL; "
                "NAME:PORT allowed (a bare name is in the -n namespace when it exists there)."
            ),
        ],
        port: PortOpt = None,
        protocol: Annotated[
            str | None,
            typer.Option("--protocol", help="tcp, udp or sctp (or write it in --port: udp/53)."),
        ] = None,
        files: FileOpt = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        namespace: NamespaceOpt = None,
        all_namespaces: AllNamespacesOpt = False,
        request_timeout: RequestTimeoutOpt = None,
        max_file_size: MaxFileSizeOpt = None,
        output: Annotated[TraceOutput, output_option("trace")] = "table",
        cluster_domain: ClusterDomainOpt = None,
        flows: FlowFilesOpt = None,
        prometheus: PrometheusOpt = None,
        prometheus_window: PrometheusWindowOpt = "5m",
        prometheus_timeout: PrometheusTimeoutOpt = 10.0,
    ) -> int:
        """Follow the packet path from SRC to DST and name the first hop that breaks.

        Exit code 5 when the verdict is broken.
        """
        from netsleuth.model.findings import Verdict
        from netsleuth.trace import trace

        spec = port_spec(port)
        if spec is not None:
            spec = spec.with_protocol(protocol)
            proto = spec.protocol
        else:
            from netsleuth.model.ports import parse_protocol

            proto = parse_protocol(protocol) if protocol is not None else "TCP"
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=machine_output("trace", output),
            request_timeout=request_timeout,
            max_file_size=max_file_size,
        )
        metrics = ask_prometheus(prometheus, prometheus_window, prometheus_timeout)
        model = load_model(opts)
        result = trace(
            model,
            src,
            dst,
            port=spec.port if spec is not None else None,
            protocol=proto,
            domain=cluster_domain,
            namespace=opts.namespace,
        )
        result = add_observed(
            model, result, flows, metrics, quiet=opts.quiet, namespace=opts.namespace
        )
        emit("trace", output, result, context=render_context(opts, model))
        return ExitCode.TRACE_BROKEN if result.verdict is Verdict.BROKEN else ExitCode.OK

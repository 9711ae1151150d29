"""``netsleuth explain SRC DST [--port tcp/5432]``: the policy verdict and why."""

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
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Service
from netsleuth.policy import (
    Endpoint,
    IPEndpoint,
    PodEndpoint,
    endpoint_for_ip,
    ingress_controller_endpoints,
    resolve_named_port,
)
from netsleuth.policy.coverage import unreadable_note, unreadable_policies
from netsleuth.policy.explain import ExplainReport, explain, model_for_explain
from netsleuth.policy.host_network import HostNetworkMode, policy_view
from netsleuth.render.console import OutputFormat, stdout_console
from netsleuth.render.jsonout import dumps_json

DEFAULT_EXTERNAL_IP = "203.0.113.10"
"""TEST-NET-3 (RFC 5737): an address outside every pod and node of any real cluster."""


def parse_port(text: str) -> tuple[str, int | str]:
    """``tcp/5432``, ``5432/tcp``, ``5432`` (TCP), ``udp/dns`` -> (PROTOCOL, port or name)."""
    raw = text.strip()
    proto, port = "TCP", raw
    if "/" in raw:
        a, b = raw.split("/", 1)
        if a.upper() in ("TCP", "UDP", "SCTP"):
            proto, port = a.upper(), b
        elif b.upper() in ("TCP", "UDP", "SCTP"):
            proto, port = b.upper(), a
        else:
            raise QueryError(
                f"cannot parse port {text!r}", tip="Use PROTO/PORT, e.g. --port tcp/5432."
            )
    if port.isdigit():
        number = int(port)
        if not 1 <= number <= 65535:
            raise QueryError(f"port {number} is outside 1-65535")
        return proto, number
    if not port:
        raise QueryError(f"cannot parse port {text!r}", tip="Use PROTO/PORT, e.g. --port tcp/5432.")
    return proto, port


def resolve_endpoint(
    model: ClusterModel, text: str, *, role: str, external_ip: str
) -> tuple[Endpoint, list[str], Service | None]:
    """SRC/DST text -> an endpoint, notes, and the Service when DST names one."""
    from netsleuth.trace.query import parse_target

    raw = text.strip()
    if raw == "external":
        return IPEndpoint(external_ip), [f"{role} 'external' is the address {external_ip}"], None
    if raw in ("ingress-controller", "ingress"):
        eps = ingress_controller_endpoints(model)
        ep = eps[0]
        return ep, [f"{role} is the ingress controller: {ep.describe()}"], None
    target = parse_target(model, raw, role=role)
    notes: list[str] = []
    if target.form == "ip":
        assert target.ip is not None
        return endpoint_for_ip(model, target.ip), notes, None
    if target.form == "pod":
        return PodEndpoint(target.pods[0]), notes, None
    if target.form == "workload":
        if not target.pods:
            raise QueryError(
                f"{target.describe()} has no pods in the input",
                tip="Give a pod (ns/pod) or load manifests that include the pods or the template.",
            )
        pod = target.pods[0]
        notes.append(
            f"{role} {target.describe()} has {len(target.pods)} pod(s); using {pod.namespace}/{pod.name}"
            + (" (derived from the template)" if pod.meta.derived else "")
        )
        return PodEndpoint(pod), notes, None
    if target.form == "service" and target.service is not None:
        svc = target.service
        pods = model.pods_matching(svc.namespace, svc.selector) if svc.selector else []
        if not pods:
            raise QueryError(
                f"service {svc.namespace}/{svc.name} selects no pods in the input",
                tip="explain works on pods; give one of the backend pods as ns/pod.",
            )
        pod = pods[0]
        notes.append(
            f"{role} service {svc.namespace}/{svc.name} has {len(pods)} backend pod(s); "
            f"using {pod.namespace}/{pod.name}"
        )
        return PodEndpoint(pod), notes, svc
    raise QueryError(
        f"explain takes pods, workloads, services, IPs or 'external', not {target.describe()}",
        tip="e.g. netsleuth explain shop/frontend shop/db --port tcp/5432",
    )


def _target_port(
    dst: Endpoint, svc: Service | None, proto: str, port: int | str, notes: list[str]
) -> int:
    """The destination pod port: Service port -> targetPort, names resolved on the pod."""
    pod = dst.pod if isinstance(dst, PodEndpoint) else None
    if svc is not None:
        for sp in svc.ports:
            if sp.protocol.upper() == proto and (sp.port == port or sp.name == port):
                tp = sp.effective_target_port
                if isinstance(tp, str) and not tp.isdigit():
                    number = resolve_named_port(pod, tp, proto) if pod is not None else None
                    if number is None:
                        raise QueryError(
                            f"service port {sp.port} targets port name {tp!r}, which the pod does not define"
                        )
                    tp = number
                notes.append(f"service port {sp.port}/{proto} targets pod port {tp}")
                return int(tp)
    if isinstance(port, int):
        return port
    if pod is None:
        raise QueryError(f"named port {port!r} needs a pod destination")
    number = resolve_named_port(pod, port, proto)
    if number is None:
        raise QueryError(
            f"pod {pod.namespace}/{pod.name} has no {proto} port named {port!r}",
            tip="Ports it defines: "
            + (
                ", ".join(
                    f"{p.name or '-'}={p.container_port}/{p.protocol}" for p in pod.spec.all_ports()
                )
                or "none"
            ),
        )
    notes.append(f"port {port}/{proto} is {number} on pod {pod.namespace}/{pod.name}")
    return number


def build_report(
    model: ClusterModel,
    src_text: str,
    dst_text: str,
    *,
    port: str | None,
    external_ip: str = DEFAULT_EXTERNAL_IP,
) -> ExplainReport:
    """Resolve SRC/DST and evaluate (library entry point of the command)."""
    model, dns_notes = model_for_explain(model)
    src, notes, _ = resolve_endpoint(model, src_text, role="source", external_ip=external_ip)
    dst, dst_notes, svc = resolve_endpoint(
        model, dst_text, role="destination", external_ip=external_ip
    )
    unreadable = unreadable_policies(
        model, tuple(getattr(getattr(e, "pod", None), "namespace", None) for e in (src, dst))
    )
    if unreadable:
        dns_notes = (unreadable_note(unreadable), *dns_notes)
    notes += dst_notes
    if port is None:
        return explain(model, src, dst, notes=(*dns_notes, *notes))
    proto, p = parse_port(port)
    number = _target_port(dst, svc, proto, p, notes)
    return explain(model, src, dst, protocol=proto, port=number, notes=(*dns_notes, *notes))


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain_cmd(
        src: Annotated[
            str,
            typer.Argument(
                help="ns/pod, ns/workload, kind/ns/name, an IP, 'external' or 'ingress-controller'."
            ),
        ],
        dst: Annotated[
            str,
            typer.Argument(
                help="ns/pod, ns/workload, ns/service, kind/ns/name, an IP or 'external'."
            ),
        ],
        port: Annotated[
            str | None,
            typer.Option(
                "--port",
                "-p",
                help="PROTO/PORT (tcp/5432, udp/53, tcp/http). Without it, every port is reported.",
            ),
        ] = None,
        external_ip: Annotated[
            str,
            typer.Option("--external-ip", help="Address used for 'external'."),
        ] = DEFAULT_EXTERNAL_IP,
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
        """Say whether policies let SRC reach DST, and which rules decide it.

        NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy are
        evaluated; the port is the destination pod's port (a Service port is
        translated to its targetPort).
        """
        if output not in (OutputFormat.TABLE, OutputFormat.JSON):
            raise typer.BadParameter("explain supports -o table or json")
        opts = input_options(
            files,
            kubeconfig,
            context,
            namespace,
            all_namespaces,
            quiet=output != OutputFormat.TABLE,
        )
        model = policy_view(load_model(opts), host_network)
        report = build_report(model, src, dst, port=port, external_ip=external_ip)
        if output == OutputFormat.JSON:
            from netsleuth.render.explain_json import explain_document

            typer.echo(
                dumps_json(explain_document(report, problems_json(model.problems))), nl=False
            )
        else:
            from netsleuth.render.explain_table import render_explain

            render_explain(report, stdout_console(), model.problems)

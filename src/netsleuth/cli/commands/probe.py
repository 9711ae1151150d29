"""``netsleuth probe SRC DST``: real packets from a pod, hop by hop."""

from __future__ import annotations

import enum
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import (
    ClusterDomainOpt,
    ContextOpt,
    KubeconfigOpt,
    input_options,
    load_model,
)
from netsleuth.render.formats import OutputFormat
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.output import stdout_console

if TYPE_CHECKING:
    from netsleuth.probe.live import LiveRunner
    from netsleuth.probe.report import ProbeReport

EXIT_BROKEN = 5


class Via(enum.StrEnum):
    EPHEMERAL = "ephemeral"
    POD = "pod"
    DAEMONSET = "daemonset"


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    @app.command("probe")
    def probe(
        src: Annotated[
            str, typer.Argument(help="Source: ns/pod or ns/workload (one of its pods).")
        ],
        dst: Annotated[
            str, typer.Argument(help="Destination: ns/service, ns/pod, a DNS name, an IP.")
        ],
        port: Annotated[
            int | None, typer.Option("--port", min=1, max=65535, help="Destination port.")
        ] = None,
        protocol: Annotated[str | None, typer.Option("--protocol", help="TCP or UDP.")] = None,
        lab: Annotated[
            str | None,
            typer.Option("--lab", help="Probe inside this lab (`lab up`); live otherwise."),
        ] = None,
        files: Annotated[
            list[str] | None,
            typer.Option(
                "-f",
                "--filename",
                help="Cluster files (with --lab; default: the ones it was built from).",
            ),
        ] = None,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        via: Annotated[
            Via,
            typer.Option(
                "--via",
                help="Live: an ephemeral container in SRC, a probe pod on --node, or a DaemonSet (every node).",
            ),
        ] = Via.EPHEMERAL,
        image: Annotated[
            str, typer.Option("--image", help="Live: an image with python3 for the agent.")
        ] = "python:3.12-alpine",
        node: Annotated[
            str | None, typer.Option("--node", help="Live --via pod: the node (default: SRC's).")
        ] = None,
        concurrency: Annotated[
            int,
            typer.Option(
                "--concurrency", min=1, max=64, help="Live --via daemonset: nodes probed at once."
            ),
        ] = 4,
        wait: Annotated[
            float,
            typer.Option(
                "--wait", min=1, help="Live: seconds to wait for the probe to start and finish."
            ),
        ] = 120,
        dry_run: Annotated[
            bool,
            typer.Option("--dry-run", help="Live: print what would be created; change nothing."),
        ] = False,
        timeout: Annotated[
            float, typer.Option("--timeout", min=0.05, help="Seconds per connect.")
        ] = 1.0,
        dns_timeout: Annotated[
            float | None,
            typer.Option(
                "--dns-timeout",
                min=0.05,
                help="Override the resolver's timeout (resolv.conf's, default 5 s).",
            ),
        ] = None,
        verbose: Annotated[
            bool, typer.Option("-v", "--verbose", help="Every query and attempt.")
        ] = False,
        output: Annotated[
            OutputFormat, typer.Option("-o", "--output", help="table or json.")
        ] = OutputFormat.TABLE,
        cluster_domain: ClusterDomainOpt = None,
    ) -> None:
        """Send real traffic from SRC: DNS as the pod's resolver does it, TCP/UDP to the
        Service and to each endpoint, and a DF ping sweep for the path MTU. In a lab
        (--lab) or live: from SRC itself (ephemeral debug container), a probe pod, or a
        DaemonSet; what it creates is labelled and removed on exit and Ctrl-C. Exit 5 when broken."""
        from netsleuth.model.findings import Verdict
        from netsleuth.render.probe_table import probe_document, render_probe

        proto = protocol.upper() if protocol else None
        if proto not in (None, "TCP", "UDP"):
            raise typer.BadParameter("--protocol is TCP or UDP")
        if output not in (OutputFormat.TABLE, OutputFormat.JSON):
            raise typer.BadParameter("probe supports -o table or json")
        if lab is not None:
            from netsleuth.cli.commands.lab import lab_model
            from netsleuth.probe.in_lab import probe_in_lab

            model = lab_model(lab, files)
            reports = [
                probe_in_lab(
                    model,
                    lab,
                    src,
                    dst,
                    port=port,
                    protocol=proto,
                    timeout=timeout,
                    dns_timeout=dns_timeout,
                )
            ]
        else:
            live_reports = _live(
                src, dst, port, proto, kubeconfig, context, via, image, node, concurrency, wait,
                dry_run, timeout, dns_timeout, output, cluster_domain,
            )  # fmt: skip
            if live_reports is None:
                return
            reports = live_reports
        if output == OutputFormat.JSON:
            docs = [probe_document(r) for r in reports]
            typer.echo(dumps_json(docs[0] if len(docs) == 1 else docs), nl=False)
        else:
            console = stdout_console()
            for i, r in enumerate(reports):
                if i:
                    console.print()
                render_probe(r, console, verbose=verbose)
        if any(r.verdict is Verdict.BROKEN for r in reports):
            raise typer.Exit(EXIT_BROKEN)


def _live(
    src: str,
    dst: str,
    port: int | None,
    proto: str | None,
    kubeconfig: str | None,
    context: str | None,
    via: Via,
    image: str,
    node: str | None,
    concurrency: int,
    wait: float,
    dry_run: bool,
    timeout: float,
    dns_timeout: float | None,
    output: OutputFormat,
    cluster_domain: str | None = None,
) -> list[ProbeReport] | None:
    import sys

    from netsleuth.probe.live import LiveRunner, api_client
    from netsleuth.probe.plan import plan_probe
    from netsleuth.probe.report import read_result

    model = load_model(
        input_options(None, kubeconfig, context, None, True, quiet=output != OutputFormat.TABLE)
    )
    req = plan_probe(
        model,
        src,
        dst,
        port=port,
        protocol=proto,
        usable=lambda p: bool(p.ip) and not p.host_network and p.phase == "Running",
        domain=cluster_domain,
    )
    plan = req.agent_plan(timeout=timeout, dns_timeout=dns_timeout, mtu_max=None)

    def progress(msg: str) -> None:
        if output == OutputFormat.TABLE and sys.stderr.isatty():
            sys.stderr.write(msg + "\n")

    api = api_client(kubeconfig, context)
    runner = LiveRunner(
        api,
        image=image,
        timeout=wait,
        concurrency=concurrency,
        dry_run=dry_run,
        progress=progress,
    )
    ns, pod = req.src.namespace, req.src.name
    old = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if via is Via.EPHEMERAL:
            results = {"": runner.ephemeral(ns, pod, plan)}
        elif via is Via.POD:
            results = {"": runner.probe_pod(ns, node or req.src.node_name, plan)}
        else:
            results = runner.daemonset(ns, lambda _node: plan, nodes=len(model.nodes))
    finally:
        try:
            runner.cleanup()
        finally:
            if runner.left_behind:
                _left_behind(runner, kubeconfig, context)
            api.close()  # its connection pool; on success, error and Ctrl-C alike
            signal.signal(signal.SIGTERM, old)
    if dry_run:
        typer.echo(dumps_json({"dry_run": True, "would_create": runner.planned}), nl=False)
        return None
    backend = {
        Via.EPHEMERAL: f"live, ephemeral container in {ns}/{pod}",
        Via.POD: f"live, probe pod in {ns}",
    }
    reports: list[ProbeReport] = []
    for where, raw in sorted(results.items()):
        name = backend.get(via, f"live, DaemonSet pod on node {where}")
        reports.append(read_result(req, raw, backend=name))
    return reports


def _left_behind(runner: LiveRunner, kubeconfig: str | None, context: str | None) -> None:
    """What the cleanup could not make sure of, and the (quoted) command that removes it."""
    import shlex
    import sys

    from netsleuth.model.untrusted import visible
    from netsleuth.probe.live import RUN_LABEL

    where = (["--kubeconfig", kubeconfig] if kubeconfig else []) + (
        ["--context", context] if context else []
    )
    label = f"{RUN_LABEL}={runner.run_id}"
    fix = shlex.join(["kubectl", *where, "delete", "daemonsets,pods", "-A", "-l", label])
    sys.stderr.write(
        "warning: "
        + visible("; ".join(runner.left_behind))
        + f": objects labelled {label} may be left; remove them with: "
        + visible(fix)
        + "\n"
    )

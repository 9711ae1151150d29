"""``netsleuth collect``: save a live cluster (and, on request, its nodes' state) as files."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from netsleuth.cli.common import ContextOpt, KubeconfigOpt, parse_duration, progress_enabled, warn

if TYPE_CHECKING:
    from netsleuth.errors import ForbiddenError


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    @app.command("collect")
    def collect(
        output_directory: Annotated[
            Path | None,
            typer.Option(
                "--output-directory",
                "-d",
                help="Where to write (created; must be empty). Default: netsleuth-collect-<run id>.",
            ),
        ] = None,
        nodes: Annotated[
            list[str] | None,
            typer.Option(
                "--nodes", help="Collect node files on these nodes (comma-separated, repeatable)."
            ),
        ] = None,
        selector: Annotated[
            str | None,
            typer.Option(
                "--selector",
                "-l",
                help="Collect node files on the nodes this label selector matches.",
            ),
        ] = None,
        all_nodes: Annotated[
            bool, typer.Option("--all-nodes", help="Collect node files on every node.")
        ] = False,
        path: Annotated[
            tuple[str, str] | None,
            typer.Option(
                "--path",
                metavar="SRC DST",
                help="Collect node files on the nodes `trace SRC DST` goes through (the "
                "source's, the destination's, any node a hop names).",
            ),
        ] = None,
        no_logs: Annotated[
            bool,
            typer.Option(
                "--no-logs",
                help="Do not save the logs of kube-proxy, CoreDNS and the CNI agents' pods.",
            ),
        ] = False,
        no_manifests: Annotated[
            bool,
            typer.Option("--no-manifests", help="Write only node files, not cluster.yaml."),
        ] = False,
        image: Annotated[
            str,
            typer.Option(
                "--image",
                help="Collector image: needs iproute2, iptables, nftables, conntrack, ipvsadm.",
            ),
        ] = "",
        pod_namespace: Annotated[
            str,
            typer.Option(
                "--pod-namespace",
                help="Namespace of the collector pods (Pod Security must allow privileged).",
            ),
        ] = "default",
        timeout: Annotated[
            str, typer.Option("--timeout", help="Per node, from pod creation to the last command.")
        ] = "2m",
        parallel: Annotated[
            int, typer.Option("--parallel", min=1, max=32, help="Nodes collected at once.")
        ] = 4,
        dry_run: Annotated[
            bool,
            typer.Option(
                "--dry-run", help="Print the pods it would create and the commands; change nothing."
            ),
        ] = False,
        cleanup: Annotated[
            bool,
            typer.Option(
                "--cleanup", help="Only delete collector pods left by earlier runs, then exit."
            ),
        ] = False,
        kubeconfig: KubeconfigOpt = None,
        context: ContextOpt = None,
        quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No progress.")] = False,
    ) -> None:
        """Save the live cluster as files for -f: the objects netsleuth reads (Secrets as
        names only) in cluster.yaml and, only with --nodes/--selector/--all-nodes/--path,
        each node's network state (iptables, nft, IPVS, conntrack, routes, links,
        sysctl, lsmod, dmesg, CNI config) through one short-lived privileged pod per node,
        labelled netsleuth.io/run=<id> and deleted when done, on error and on Ctrl-C.
        Read-only: the commands only read the node. Exit 6 if a node could not be read."""
        from netsleuth.errors import ForbiddenError
        from netsleuth.model.untrusted import visible
        from netsleuth.sources.collect import DEFAULT_IMAGE, Collector, new_run_id
        from netsleuth.sources.live import LiveSource

        signal.signal(signal.SIGTERM, _interrupt)
        wanted = [n.strip() for item in nodes or () for n in item.split(",") if n.strip()]
        want_nodes = bool(wanted or selector or all_nodes or path)
        seconds = parse_duration(timeout)
        if seconds <= 0:
            raise typer.BadParameter("--timeout must be more than 0", param_hint="--timeout")
        run_id = new_run_id()
        source = LiveSource(kubeconfig=kubeconfig, context=context)
        if dry_run and not selector and not all_nodes and not path and wanted:
            api: Any = None  # nothing to ask the cluster
        else:
            api = source.api_client()
        collector: Collector | None = None
        try:
            collector = Collector(
                api,
                namespace=pod_namespace,
                image=image or DEFAULT_IMAGE,
                run_id=run_id,
                timeout=seconds,
                parallel=parallel,
            )
            if cleanup:
                try:
                    gone = collector.cleanup()
                except ForbiddenError as exc:
                    _refused(exc, "no collector pod deleted")
                for name in gone:
                    typer.echo(f"deleted pod {name}")
                if not gone:
                    typer.echo("no collector pods found")
                return
            if dry_run:
                _dry_run(collector, wanted, selector, all_nodes, path)
                return
            out = output_directory or Path(f"netsleuth-collect-{run_id}")
            if out.exists() and (not out.is_dir() or any(out.iterdir())):
                raise typer.BadParameter(
                    f"{out} exists and is not an empty directory", param_hint="--output-directory"
                )
            out.mkdir(parents=True, exist_ok=True)
            chosen: list[str] = []
            if not no_manifests or path:
                count, problems = Collector.write_manifests(_listed(source, quiet), out)
                for p in problems:
                    warn(p.describe())
                if not no_manifests:
                    typer.echo(f"wrote {count} objects to {out / 'cluster.yaml'}")
            if not no_manifests and not no_logs:
                from netsleuth.sources.live import NETWORK_CONFIG_NAMESPACES

                logged, unread = collector.logs(out, NETWORK_CONFIG_NAMESPACES)
                for why in unread:
                    warn(why)
                if logged:
                    typer.echo(
                        f"wrote the logs of {len(logged)} network pods (kube-proxy, CoreDNS, CNI)"
                    )
            if path:
                chosen = _path_nodes(out, path)
            refused: ForbiddenError | None = None
            if want_nodes:
                try:
                    if wanted or selector or all_nodes:
                        chosen += [
                            n for n in collector.select_nodes(wanted, selector) if n not in chosen
                        ]
                    if not chosen:
                        warn("no node to collect on")
                    else:
                        _run_nodes(collector, chosen, out, quiet)
                except ForbiddenError as exc:
                    refused = exc
            if no_manifests and (out / "cluster.yaml").exists():
                (out / "cluster.yaml").unlink()
            if refused is not None:
                nodes_text = ", ".join(visible(n) for n in chosen[:5]) + (
                    f" and {len(chosen) - 5} more" if len(chosen) > 5 else ""
                )
                kept = "nothing else was asked" if no_manifests else f"the rest is in {out}"
                _refused(
                    refused,
                    f"node files not collected{' on ' + nodes_text if nodes_text else ''}; {kept}",
                    read=None if no_manifests else out,
                )
            typer.echo(f"read with: netsleuth scan -f {out}")
        finally:
            if collector is not None and collector.left_behind:
                _left_behind(collector, kubeconfig, context)
            # The client's connection pool (and its thread pool, once used) is ours to
            # close: on success, on every error, on exit codes and on Ctrl-C/SIGTERM.
            if api is not None:
                api.close()


def _left_behind(collector: Any, kubeconfig: str | None, context: str | None) -> None:
    """Pods of this run the cleanup could not make sure of (an unanswered create, a second
    Ctrl-C): what may be left and the commands that remove it, quoted."""
    import shlex

    from netsleuth.model.untrusted import visible
    from netsleuth.sources.collect import RUN_LABEL

    where = (["--kubeconfig", kubeconfig] if kubeconfig else []) + (
        ["--context", context] if context else []
    )
    again = shlex.join(["netsleuth", "collect", "--cleanup", *where])
    kubectl = shlex.join(
        ["kubectl", *where, "delete", "pods", "-n", collector.namespace, "-l",
         f"{RUN_LABEL}={collector.run_id}"]
    )  # fmt: skip
    warn(
        visible("; ".join(collector.left_behind))
        + f": pods labelled {RUN_LABEL}={collector.run_id} may be left in namespace "
        + visible(collector.namespace)
        + f"; remove them with: {again} (or: {kubectl})"
    )


def _refused(exc: ForbiddenError, skipped: str, read: Path | None = None) -> NoReturn:
    """A 403 as one line on stderr: what RBAC refused, what was skipped because of it, the
    verbs collect needs; exit 6 (what could be collected was written)."""
    from netsleuth.cli.exit_codes import ExitCode
    from netsleuth.model.untrusted import visible

    needs = f" ({exc.tip.rstrip('.')})" if exc.tip else ""
    sys.stderr.write(f"error: {visible(str(exc))}: {skipped}{needs}\n")
    if read is not None:
        typer.echo(f"read with: netsleuth scan -f {read}")
    raise typer.Exit(int(ExitCode.SOURCE))


def _listed(source: Any, quiet: bool) -> Any:
    if not progress_enabled(quiet):
        yield from source.collect()
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        task = prog.add_task("connecting to the API server…", total=None)

        def on_progress(resource: str, count: int, total: int | None) -> None:
            of = f"/{total}" if total else ""
            prog.update(task, description=f"listing {resource}: {count}{of}")

        source.progress = on_progress
        yield from source.collect()


def _run_nodes(collector: Any, chosen: list[str], out: Path, quiet: bool) -> None:
    from netsleuth.model.untrusted import visible

    def report(results: list[Any]) -> None:
        bad = 0
        for r in results:
            if r.error:
                bad += 1
                warn(f"node {visible(r.node)}: {visible(r.error)}")
            else:
                failed = f", {len(r.failed)} failed (noted in the files)" if r.failed else ""
                typer.echo(
                    f"node {visible(r.node)}: {len(r.files)} outputs in "
                    f"{out / 'nodes' / r.node}{failed}"
                )
        if bad:
            raise typer.Exit(6)

    if not progress_enabled(quiet):
        report(collector.nodes(chosen, out))
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        tasks = {n: prog.add_task(f"node {visible(n)}", total=None) for n in chosen}

        def on_progress(node: str, done: int, total: int) -> None:
            prog.update(tasks[node], completed=done, total=total)

        collector.progress = on_progress
        results = collector.nodes(chosen, out)
    report(results)


def _path_nodes(out: Path, path: tuple[str, str]) -> list[str]:
    """The nodes ``trace SRC DST`` goes through on the manifests just written (the source
    pod's node, the destination's, and any node a hop names: :attr:`TraceResult.nodes`)."""
    from netsleuth.sources.load import load_offline
    from netsleuth.trace import trace

    model = load_offline([str(out / "cluster.yaml")])
    return list(trace(model, path[0], path[1]).nodes)


def _dry_run(
    collector: Any,
    wanted: list[str],
    selector: str | None,
    all_nodes: bool,
    path: tuple[str, str] | None,
) -> None:
    import shlex

    import yaml

    from netsleuth.sources.collect import HOST_ROOT

    chosen = list(wanted)
    if selector or all_nodes:
        chosen = collector.select_nodes(wanted, selector)
    if path:
        sys.stderr.write("--dry-run with --path: the path's nodes are known only after listing\n")
    lines = ["# netsleuth collect --dry-run: nothing is created."]
    lines.append(f"# Run id {collector.run_id}; the commands run in each pod, in order:")
    lines += [f"#   {shlex.join(c.resolved(HOST_ROOT))}" for c in collector.commands]
    lines.append("#   ethtool -S <the default route's device>")
    docs = collector.planned_pods(chosen)
    typer.echo("\n".join(lines))
    if docs:
        typer.echo("---\n" + yaml.safe_dump_all(docs, sort_keys=False).rstrip("\n"))

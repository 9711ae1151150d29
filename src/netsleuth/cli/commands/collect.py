"""``netsleuth collect``: save a live cluster (and, on request, its nodes' state) as files."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from netsleuth.cli.common import ContextOpt, KubeconfigOpt, parse_duration, progress_enabled, warn


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
                help="Collect node files on the nodes of this path (SRC's and DST's pods, "
                "a Service's endpoints), as `trace SRC DST` names them.",
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
            api = source._api_client()
        collector = Collector(
            api,
            namespace=pod_namespace,
            image=image or DEFAULT_IMAGE,
            run_id=run_id,
            timeout=seconds,
            parallel=parallel,
        )
        if cleanup:
            gone = collector.cleanup()
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
        if want_nodes:
            if wanted or selector or all_nodes:
                chosen += [n for n in collector.select_nodes(wanted, selector) if n not in chosen]
            if not chosen:
                warn("no node to collect on")
            else:
                _run_nodes(collector, chosen, out, quiet)
        if no_manifests and (out / "cluster.yaml").exists():
            (out / "cluster.yaml").unlink()
        typer.echo(f"read with: netsleuth scan -f {out}")


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
    """The nodes of SRC's and DST's pods (a Service's: its endpoints'), from the
    manifests just written."""
    from netsleuth.model.targets import parse_target
    from netsleuth.sources.load import load_offline

    model = load_offline([str(out / "cluster.yaml")])
    found: list[str] = []
    for text, role in ((path[0], "src"), (path[1], "dst")):
        target = parse_target(model, text, role=role)
        names = [p.node_name for p in target.pods]
        if target.service is not None:
            for sl in model.slices_for(target.service):
                names += [e.node_name for e in sl.endpoints]
        found += [n for n in names if n and n not in found]
    return found


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

"""``netsleuth lab up|down|status|inject|capture``: a cluster's dataplane in network namespaces."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netsleuth.cli.common import input_options, load_model, progress_enabled
from netsleuth.render.formats import OutputFormat
from netsleuth.render.jsonout import dumps_json
from netsleuth.render.output import stdout_console

if TYPE_CHECKING:
    from netsleuth.model.cluster import ClusterModel

lab_app = typer.Typer(
    name="lab",
    help="Build a cluster's dataplane from network namespaces on this machine (root, Linux): "
    "nodes, pods, bridges, VXLAN, kube-proxy DNAT, NetworkPolicy as iptables, dnsmasq DNS.",
    no_args_is_help=True,
)

LabNameArg = Annotated[str, typer.Argument(help="The lab's name (lower-case letters and digits).")]


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[object]:
    if not enabled:
        yield lambda _msg: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status("building the lab…") as status:
        yield lambda msg: status.update(msg)


def raw_lab_model(lab: str, files: list[str] | None) -> ClusterModel:
    """The model a lab was built from (its saved paths, or ``-f``), without faults."""
    from netsleuth.probe.in_lab import running_lab

    state = running_lab(lab)
    paths = list(files or []) or state.paths
    if not paths:
        raise typer.BadParameter(f"lab {lab} has no saved input paths: give -f")
    return load_model(input_options(paths, None, None, None, True, quiet=True))


def lab_model(lab: str, files: list[str] | None) -> ClusterModel:
    """The model as the lab runs it: the input with the lab's faults applied."""
    from netsleuth.lab.faults import apply_model_faults
    from netsleuth.probe.in_lab import running_lab

    return apply_model_faults(raw_lab_model(lab, files), running_lab(lab).faults)


@lab_app.command("up")
def up(
    files: Annotated[
        list[str], typer.Option("-f", "--filename", help="Cluster files or directory (repeatable).")
    ],
    name: Annotated[
        str, typer.Option("--name", help="The lab's name (1-16 lower-case letters/digits).")
    ] = "lab",
    max_pods: Annotated[
        int, typer.Option("--max-pods", min=1, help="Pods built per node at most.")
    ] = 20,
    output: Annotated[
        OutputFormat, typer.Option("-o", "--output", help="table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """Build the lab: one namespace per node and per pod, the underlay, VXLAN, rules, DNS."""
    from netsleuth.lab import build

    model = load_model(input_options(files, None, None, None, True, quiet=True))
    paths = [str(Path(f).resolve()) if f != "-" else f for f in files]
    if "-" in paths:
        raise typer.BadParameter("lab up needs files, not stdin (later commands reload them)")
    with _progress(progress_enabled(output != OutputFormat.TABLE)) as progress:
        state = build.up(model, name, paths=paths, max_pods=max_pods, progress=progress)  # type: ignore[arg-type]
    from netsleuth.render.lab_table import lab_document, render_lab_up

    if output == OutputFormat.JSON:
        typer.echo(dumps_json(lab_document(build.status(name))), nl=False)
    else:
        render_lab_up(state, stdout_console())


@lab_app.command("down")
def down(
    name: Annotated[str | None, typer.Argument(help="The lab to remove.")] = None,
    all_labs: Annotated[
        bool, typer.Option("--all", help="Remove every netsleuth lab on this machine.")
    ] = False,
) -> None:
    """Remove a lab (or all): its processes, namespaces (with every link and rule), files."""
    from netsleuth.lab import build

    if (name is None) == (not all_labs):
        raise typer.BadParameter("give a lab name or --all")
    reports = build.down_all() if all_labs else [build.down(str(name))]
    for r in reports:
        if r.found_anything:
            typer.echo(
                f"lab {r.lab}: removed {len(r.netns)} namespaces, stopped {len(r.processes)} processes, "
                f"removed {len(r.etc)} /etc/netns folders"
            )
        else:
            typer.echo(f"lab {r.lab}: nothing found")
    if all_labs and not reports:
        typer.echo("no labs found")


@lab_app.command("status")
def status(
    name: Annotated[str | None, typer.Argument(help="The lab (all labs when omitted).")] = None,
    output: Annotated[
        OutputFormat, typer.Option("-o", "--output", help="table or json.")
    ] = OutputFormat.TABLE,
) -> None:
    """What a lab holds and whether it is intact (namespaces present, processes alive)."""
    from netsleuth.lab import build
    from netsleuth.render.lab_table import lab_document, render_lab_status

    labs = [name] if name else build.all_labs()
    statuses = [build.status(lab) for lab in labs]
    if output == OutputFormat.JSON:
        typer.echo(dumps_json([lab_document(s) for s in statuses]), nl=False)
    else:
        console = stdout_console()
        if not statuses:
            console.print("no labs")
        for s in statuses:
            render_lab_status(s, console)
    if name and (statuses[0].state is None and not statuses[0].netns_present):
        raise typer.Exit(2)


@lab_app.command("inject")
def inject(
    name: LabNameArg,
    kind: Annotated[
        str | None,
        typer.Argument(
            help="mtu, dns-drop, dns-slow, stale-sep, no-route, conntrack-full, dns-policy, no-endpoints."
        ),
    ] = None,
    node: Annotated[str | None, typer.Option("--node", help="The node the fault is on.")] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="NAMESPACE/NAME of a Service.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", help="The namespace (dns-policy).")
    ] = None,
    to: Annotated[str | None, typer.Option("--to", help="The other node (no-route).")] = None,
    mtu: Annotated[
        int | None, typer.Option("--mtu", help="The underlay MTU (mtu; default 100 short).")
    ] = None,
    max_entries: Annotated[
        int | None,
        typer.Option("--max", min=16, help="Emulated nf_conntrack_max (conntrack-full)."),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option("-f", "--filename", help="Cluster files (default: the lab's)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove every fault.")] = False,
    list_faults: Annotated[bool, typer.Option("--list", help="List the fault catalogue.")] = False,
) -> None:
    """Inject a fault into a running lab (or --clear them all)."""
    from netsleuth.lab import faults as fault_mod
    from netsleuth.lab import inject as inject_mod
    from netsleuth.lab.faults import CATALOGUE, FaultError, describe
    from netsleuth.probe.in_lab import running_lab

    if list_faults:
        for k, v in CATALOGUE.items():
            typer.echo(f"{k:15} {v}")
        return
    state = running_lab(name)
    raw = raw_lab_model(name, files)
    if clear:
        removed = inject_mod.clear(raw, name)
        typer.echo(f"lab {name}: cleared {len(removed)} faults")
        return
    if kind is None:
        raise typer.BadParameter("give a fault kind (or --list, --clear)")
    assert state.plan is not None
    try:
        fault = fault_mod.make_fault(
            kind,
            fault_mod.apply_model_faults(raw, state.faults),
            state.plan,
            node=node,
            service=service,
            namespace=namespace,
            to=to,
            mtu=mtu,
            max_entries=max_entries,
        )
    except FaultError as e:
        raise typer.BadParameter(str(e)) from e
    inject_mod.inject(raw, name, fault)
    typer.echo(f"lab {name}: injected {describe(fault)}")


@lab_app.command("capture")
def capture(
    name: LabNameArg,
    out: Annotated[Path, typer.Argument(help="Folder to write nodes/<node>/... into.")],
    files: Annotated[
        list[str] | None,
        typer.Option("-f", "--filename", help="Cluster files (default: the lab's)."),
    ] = None,
) -> None:
    """Write each lab node's real iptables-save, ip -d link, ip route, conntrack -S,
    resolv.conf (and the objects faults changed) in the node-evidence layout."""
    from netsleuth.lab.capture import capture as do_capture
    from netsleuth.probe.in_lab import running_lab

    state = running_lab(name)
    written = do_capture(raw_lab_model(name, files), state, out)
    typer.echo(f"lab {name}: wrote {len(written)} files under {out}")
    typer.echo(
        f"  read them with: netsleuth scan -f CLUSTER-MANIFESTS -f {out}"
        " (the manifests without a nodes/ folder of their own: this is the node evidence)"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")

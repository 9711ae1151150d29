"""Options shared by every command that reads a cluster, and model loading."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Annotated

import typer

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.problems import LoadProblem
from netsleuth.policy.host_network import HostNetworkMode

FileOpt = Annotated[
    list[str] | None,
    typer.Option(
        "-f",
        "--filename",
        help="Manifest file or directory (repeatable; '-' for stdin). "
        "Without -f, the live cluster of the current kubeconfig context is read.",
    ),
]
HostNetworkOpt = Annotated[
    HostNetworkMode,
    typer.Option(
        "--host-network",
        help="How policies treat hostNetwork pods (Kubernetes leaves it to the plugin): "
        "'node' = they are the node, no policy selects them, only ipBlocks on the node IP "
        "match (most CNIs); 'pod' = selected and matched by labels like other pods.",
    ),
]
KubeconfigOpt = Annotated[
    str | None, typer.Option("--kubeconfig", help="Path to the kubeconfig file.")
]
ContextOpt = Annotated[str | None, typer.Option("--context", help="Kubeconfig context to use.")]
NamespaceOpt = Annotated[
    str | None, typer.Option("-n", "--namespace", help="Limit to this namespace.")
]
AllNamespacesOpt = Annotated[
    bool, typer.Option("-A", "--all-namespaces", help="All namespaces (the default).")
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InputOptions:
    files: tuple[str, ...] = ()
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = True
    quiet: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return not self.files


def input_options(
    files: list[str] | None,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    all_namespaces: bool,
    *,
    quiet: bool = False,
) -> InputOptions:
    return InputOptions(
        files=tuple(files or ()),
        kubeconfig=kubeconfig,
        context=context,
        namespace=None if all_namespaces else namespace,
        all_namespaces=all_namespaces or namespace is None,
        quiet=quiet,
    )


def progress_enabled(quiet: bool) -> bool:
    """Progress is drawn only on a terminal, and never for machine-readable output."""
    return not quiet and sys.stderr.isatty()


def load_model(opts: InputOptions) -> ClusterModel:
    """Load the model from files or the live API, with progress on a terminal."""
    from netsleuth import sources

    if opts.files:
        return sources.load_offline(list(opts.files))
    if not progress_enabled(opts.quiet):
        return sources.load_live(
            kubeconfig=opts.kubeconfig, context=opts.context, namespace=opts.namespace
        )
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn

    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=console, transient=True
    ) as prog:
        task = prog.add_task("connecting to the API server…", total=None)

        def on_progress(resource: str, count: int, total: int | None) -> None:
            of = f"/{total}" if total else ""
            prog.update(task, description=f"listing {resource}: {count}{of}")

        return sources.load_live(
            kubeconfig=opts.kubeconfig,
            context=opts.context,
            namespace=opts.namespace,
            progress=on_progress,
        )


def in_scope(opts: InputOptions, namespace: str | None) -> bool:
    """Whether an object of ``namespace`` is inside the -n filter (cluster-scoped always is)."""
    return opts.namespace is None or namespace is None or namespace == opts.namespace


def problems_json(problems: tuple[LoadProblem, ...] | list[LoadProblem]) -> list[dict[str, object]]:
    return [
        {
            "level": str(p.level),
            "message": p.message,
            "file": p.origin.file,
            "document": p.origin.document,
            "line": p.origin.line,
            "object": p.object,
            "skipped": p.skipped,
            "affects": list(p.affects),
        }
        for p in problems
    ]

"""Options shared by the commands, model loading, and writing a result in the chosen format.

Everything a command needs to parse its flags lives here, so every command
spells them the same way: the input options (``-f``, ``--kubeconfig``,
``--context``, ``-n``, ``-A``), ``-p/--port`` (one syntax,
:mod:`netsleuth.model.ports`), and ``-o/--output``, whose choices are the
formats registered for the command (:mod:`netsleuth.render.formats`).

This module is imported when the CLI starts (every command module imports
it), so it imports nothing heavy at module level: no model, no engine, no rich.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import typer

from netsleuth.errors import QueryError
from netsleuth.policy.host_network import HostNetworkMode
from netsleuth.render.formats import FORMATS

if TYPE_CHECKING:
    from netsleuth.model.cluster import ClusterModel
    from netsleuth.model.ports import PortSpec
    from netsleuth.model.problems import LoadProblem
    from netsleuth.render.output import RenderContext

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
    str | None,
    typer.Option(
        "-n",
        "--namespace",
        help="Limit to this namespace; bare names in SRC/DST are in it (web = NAMESPACE/web).",
    ),
]
AllNamespacesOpt = Annotated[
    bool, typer.Option("-A", "--all-namespaces", help="All namespaces (the default).")
]


RequestTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--request-timeout",
        help="Live: the longest one API request may take, all of it (connect, headers, body), "
        "as kubectl writes it: 30s, 1m, 90 (seconds); 0 for no limit. Default 30s.",
    ),
]


def parse_duration(text: str) -> float:
    """``30``, ``30s``, ``1m``, ``1h``, ``1m30s`` → seconds (``0`` means no limit)."""
    from netsleuth.model.numbers import parse_int

    s = text.strip().lower()
    n = parse_int(s, hi=86_400 * 365)
    if n is not None:
        return float(n)
    total = 0
    rest = s
    for unit, scale in (("h", 3600), ("m", 60), ("s", 1)):
        head, sep, tail = rest.partition(unit)
        if sep:
            value = parse_int(head, hi=86_400 * 365)
            if value is None:
                break
            total += value * scale
            rest = tail
    if rest or not s:
        raise QueryError(f"--request-timeout {text!r}: expected a duration such as 30s, 1m or 90")
    return float(total)


MaxFileSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--max-file-size",
        help="Files: the most read from one file (or stdin), e.g. 512M, 2G. Default 256M; "
        "a larger file is reported and not read.",
    ),
]


def parse_max_file_size(text: str) -> int:
    from netsleuth.model.numbers import NumberError
    from netsleuth.sources.bounded import parse_size

    try:
        return parse_size(text)
    except NumberError:
        raise QueryError(
            f"--max-file-size {text!r}: expected a size such as 512M, 2G or 300000000"
        ) from None


@dataclass(frozen=True, slots=True, kw_only=True)
class InputOptions:
    files: tuple[str, ...] = ()
    kubeconfig: str | None = None
    context: str | None = None
    namespace: str | None = None
    all_namespaces: bool = True
    quiet: bool = False
    request_timeout: float | None = None
    """Live: seconds for one API request as a whole (``None``: the source's default)."""
    max_file_bytes: int | None = None
    """Files: the most read from one file (``None``: the source's default)."""
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
    request_timeout: str | None = None,
    max_file_size: str | None = None,
) -> InputOptions:
    return InputOptions(
        files=tuple(files or ()),
        kubeconfig=kubeconfig,
        context=context,
        namespace=None if all_namespaces else namespace,
        all_namespaces=all_namespaces or namespace is None,
        quiet=quiet,
        request_timeout=None if request_timeout is None else parse_duration(request_timeout),
        max_file_bytes=None if max_file_size is None else parse_max_file_size(max_file_size),
    )


def progress_enabled(quiet: bool) -> bool:
    """Progress is drawn only on a terminal, and never for machine-readable output."""
    return not quiet and sys.stderr.isatty()


def warn(text: str) -> None:
    """A warning on stderr (stdout carries only the result)."""
    sys.stderr.write(f"warning: {text}\n")


def load_model(opts: InputOptions) -> ClusterModel:
    """Load the model from files or the live API (progress on a terminal), then check ``-n``.

    An input from which nothing could be loaded is an error (:func:`require_input`);
    a ``-n`` namespace the input does not have is an error naming the namespaces it has.
    """
    model = require_input(_load(opts))
    if opts.namespace is not None:
        check_namespace(model, opts.namespace)
    return model


def require_input(model: ClusterModel) -> ClusterModel:
    """``model``, unless nothing at all was loaded: then an error, not an empty (clean) cluster.

    A proxy login page instead of the API, a non-UTF-8 or unreadable file or a
    truncated List used to give an empty model that every check passed: exit 0.
    Offline this is an :class:`InputError` (exit 2), live a :class:`SourceError` (exit 6).
    """
    from netsleuth.errors import InputError, SourceError
    from netsleuth.model.cluster import SourceKind
    from netsleuth.model.problems import Level

    if model.kinds_present or model.node_artifacts:
        return model
    rank = {Level.FATAL: 0, Level.DEGRADED: 1, Level.WARNING: 2}
    problems = sorted(model.problems, key=lambda p: rank.get(p.level, 3))
    detail = problems[0].describe() if problems else "the input holds no Kubernetes object"
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more problem(s))"
    if model.source.kind == SourceKind.LIVE:
        raise SourceError(
            f"nothing could be loaded from the API server at {model.source.server}: {detail}",
            tip="Check the context and the credentials (`kubectl get ns` should work).",
        )
    raise InputError(
        f"nothing could be loaded from {', '.join(model.source.paths) or 'the input'}: {detail}",
        tip="Give `kubectl get -o yaml|json` output, a List, a `kubectl cluster-info dump`, "
        "or a directory of them.",
    )


def unread_input(model: ClusterModel) -> list[str]:
    """What of the input could not be read at all: unreadable or truncated files, failed lists.

    Resources forbidden by RBAC are not included: they are a deliberate scope, and
    the checks that need them are reported as skipped.
    """
    from netsleuth.model.problems import Level

    out = [p.describe() for p in model.problems if p.level == Level.FATAL]
    out += [f"live: {r} could not be listed" for r in model.source.failed]
    return out


def namespaces_seen(model: ClusterModel) -> set[str]:
    """Namespaces the input shows: Namespace objects and the namespaces of namespaced objects."""
    seen = set(model.namespaces)
    seen.update(model.pods_by_namespace)
    seen.update(s.namespace for s in model.services)
    seen.update(w.namespace for w in model.workloads)
    seen.update(model.policies_by_namespace)
    return seen


def check_namespace(model: ClusterModel, namespace: str) -> None:
    """``-n NS`` where the input has no NS is a typo until proven otherwise (exit 2)."""
    seen = namespaces_seen(model)
    if namespace in seen or not seen or model.is_forbidden("namespaces"):
        return
    import difflib

    close = difflib.get_close_matches(namespace, sorted(seen), n=3, cutoff=0.6)
    listed = ", ".join(sorted(seen)[:12]) + (" …" if len(seen) > 12 else "")
    raise QueryError(
        f"namespace {namespace!r} is not in the input",
        tip=(f"Did you mean: {', '.join(close)}? " if close else "") + f"Namespaces: {listed}",
    )


def _load(opts: InputOptions) -> ClusterModel:
    from netsleuth import sources

    if opts.files:
        return sources.load_offline(list(opts.files), max_file_bytes=opts.max_file_bytes)
    if not progress_enabled(opts.quiet):
        return sources.load_live(
            kubeconfig=opts.kubeconfig,
            context=opts.context,
            namespace=opts.namespace,
            **_live(opts),
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
            **_live(opts),
        )


def _live(opts: InputOptions) -> dict[str, Any]:
    return {} if opts.request_timeout is None else {"timeout": opts.request_timeout}


def in_scope(opts: InputOptions, namespace: str | None) -> bool:
    """Whether an object of ``namespace`` is inside the -n filter (cluster-scoped always is)."""
    return opts.namespace is None or namespace is None or namespace == opts.namespace


def problems_json(problems: tuple[LoadProblem, ...] | list[LoadProblem]) -> list[dict[str, object]]:
    """Load problems as JSON objects (see :func:`netsleuth.render.jsonout.problems_json`)."""
    from netsleuth.render.jsonout import problems_json as render

    return render(problems)


# --------------------------------------------------------------------------- --min-severity


class SeverityChoice(enum.StrEnum):
    """``--min-severity`` values: :class:`netsleuth.model.findings.Severity`'s, without
    importing the findings model at start-up (a test holds the two equal)."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


MinSeverityOpt = Annotated[
    SeverityChoice,
    typer.Option("--min-severity", help="Hide findings below this severity."),
]


# --------------------------------------------------------------------------- -p/--port

PortOpt = Annotated[
    str | None,
    typer.Option(
        "-p",
        "--port",
        help="Destination port: 80, tcp/80, 80/tcp, udp/53, or a port name (http, udp/dns).",
    ),
]


def port_spec(text: str | None) -> PortSpec | None:
    """``-p`` text -> :class:`~netsleuth.model.ports.PortSpec` (a bad one is exit 2 with a tip)."""
    if text is None:
        return None
    from netsleuth.model.ports import parse_port

    return parse_port(text)


# --------------------------------------------------------------------------- --cluster-domain


def _cluster_domain(value: str | None) -> str | None:
    if value is None:
        return None
    import re

    d = value.strip().rstrip(".").lower()
    label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    if len(d) > 253 or not re.fullmatch(rf"{label}(?:\.{label})*", d):
        raise typer.BadParameter(f"{value!r} is not a DNS domain (e.g. cluster.local)")
    return d


ClusterDomainOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster-domain",
        callback=_cluster_domain,
        help="The cluster DNS domain. Default: what the input shows (kubelet config, CoreDNS "
        "Corefile, kubeadm-config), else cluster.local.",
    ),
]


# --------------------------------------------------------------------------- -o/--output


def output_choices(command: str) -> type[enum.StrEnum]:
    """The ``-o`` values of ``command`` as an Enum (Typer makes it a choice list in the help).

    Built from the format registry when the command module is imported, so a
    format registered in :mod:`netsleuth.render.formats` appears in ``-o`` by itself.
    """
    names = FORMATS.names(command)
    if not names:
        raise ValueError(f"no output format registered for {command!r}")
    return enum.StrEnum(f"{command.title().replace('-', '')}Output", {n.upper(): n for n in names})  # type: ignore[return-value]


def output_option(command: str) -> Any:
    """``-o/--output`` for ``command``: lists what the command renders, and only that."""
    return typer.Option("-o", "--output", help=f"Output format ({FORMATS.help(command)}).")


def machine_output(command: str, fmt: str) -> bool:
    """Whether ``fmt`` is a document for programs (no progress, nothing else on stdout)."""
    return FORMATS.get(command, str(fmt)).machine


def source_text(files: tuple[str, ...], context: str | None) -> str:
    """What a command read, for a report's header: the files, or the live context."""
    if files:
        return "files: " + ", ".join(files)
    return "live cluster" + (f" (context {context})" if context else " (current context)")


def render_context(
    opts: InputOptions | None = None,
    model: ClusterModel | None = None,
    *,
    source: str | None = None,
    sides: tuple[str, str] = ("before", "after"),
) -> RenderContext:
    """The input behind a result, for formats that show it (``-o html`` draws ``model``)."""
    import shlex

    from netsleuth.render.output import RenderContext

    if source is None:
        source = source_text(opts.files, opts.context) if opts is not None else ""
    return RenderContext(
        model=model,
        command=shlex.join(["netsleuth", *sys.argv[1:]]),
        source=source,
        namespace=opts.namespace if opts is not None else None,
        sides=sides,
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused for a computation that makes many short-lived
    objects and no reference cycles (a connection list and its rendering: 0.07 s of
    collector passes at 90,000 connections), restored after it, as ``load_source`` does
    for the load."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def emit(
    command: str,
    fmt: str,
    report: object,
    *,
    verbose: bool = False,
    context: RenderContext | None = None,
) -> None:
    """Write ``report`` to stdout with the renderer registered for ``command`` and ``fmt``.

    ``context``: what the report was computed from (the HTML page draws its model).
    """
    from netsleuth.cli.errors import PipeClosed
    from netsleuth.render.output import Output

    render = FORMATS.get(command, str(fmt)).load()
    try:
        render(report, Output.stdout(verbose=verbose, context=context))
        sys.stdout.flush()
    except BrokenPipeError:
        # Typer would turn it into exit 1 (the internal-error code); see cli/errors.py.
        raise PipeClosed from None

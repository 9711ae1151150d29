"""The command line: a thin Typer app.

Each command lives in its own module in :mod:`netsleuth.cli.commands` and
exposes ``register(app)``; every module there is imported automatically.
Command modules import only light modules at the top (typer,
:mod:`netsleuth.cli.common`) and the library inside the command function, so
``netsleuth --help`` does not load the model, the engines or the Kubernetes
client (``tests/test_startup.py`` holds them to it).

Start-up is paid on every run, so :func:`main` answers ``--version`` before
Typer is imported, and registers only the command being run when a module of
that name registers it (``netsleuth scan …`` builds the ``scan`` command
alone). The top-level help, shell completion and anything it cannot tell
register every command, as ``from netsleuth.cli import app`` does.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from netsleuth import __version__

if TYPE_CHECKING:
    import typer

_app: typer.Typer | None = None
_registered: set[str] = set()


def _make_app() -> typer.Typer:
    global _app
    if _app is None:
        _app = _new_app()
    return _app


def _new_app() -> typer.Typer:
    import typer

    app = typer.Typer(
        name="netsleuth",
        help="Diagnose Kubernetes networking: trace the packet path, scan for misconfigurations, "
        "and compute NetworkPolicy connectivity. Offline (-f files) or live (kubeconfig).",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
        # Plain help: typer's rich help imports about 90 ms of rich, markdown and attrs.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    def _version(value: bool) -> None:
        if value:
            typer.echo(f"netsleuth {__version__}")
            raise typer.Exit(0)

    @app.callback()
    def _root(
        version: bool = typer.Option(
            False, "--version", callback=_version, is_eager=True, help="Print the version."
        ),
    ) -> None:
        """netsleuth."""

    return app


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


def root_help(prog: str | None) -> None:
    """The top-level help without building every command (their options are not listed there).

    Building all commands (every option of every command) is most of the
    cost of ``netsleuth --help``; the listing needs only names and summaries,
    read from the registrations. The layout is click's, as for any command.
    """
    from typer.main import get_command

    app = register_commands()
    listing = _new_app()  # the same root options, each command as a summary without options

    def summary_only() -> None:
        """Placeholder: only its name and help are shown."""

    for info in app.registered_commands:
        if not info.hidden:
            name = str(info.name or (info.callback.__name__ if info.callback else ""))
            doc = info.help or _first_paragraph(getattr(info.callback, "__doc__", ""))
            listing.command(name, help=doc, short_help=info.short_help)(summary_only)
    for g in app.registered_groups:
        sub = g.typer_instance
        group_doc = g.help or (sub.info.help if sub is not None else None)
        if g.name and not g.hidden:
            listing.command(g.name, help=_first_paragraph(str(group_doc or "")))(summary_only)
    group: Any = get_command(listing)
    group.main(args=["--help"], prog_name=prog, standalone_mode=False)


def command_modules() -> list[str]:
    """The modules of :mod:`netsleuth.cli.commands` (one command each, named alike).

    Listed from the package directory (pkgutil costs 10 ms to import).
    """
    from netsleuth.cli import commands

    names: set[str] = set()
    for folder in commands.__path__:
        for entry in os.listdir(folder):
            stem, dot, ext = entry.partition(".")
            if dot and ext in ("py", "pyc") and stem.isidentifier() and not stem.startswith("_"):
                names.add(stem)
    return sorted(names)


def _register(name: str) -> None:
    if name in _registered:
        return
    _registered.add(name)
    module = importlib.import_module(f"netsleuth.cli.commands.{name}")
    register = getattr(module, "register", None)
    if register is not None:
        register(_make_app())


def register_commands(only: str | None = None) -> typer.Typer:
    """Register every command, or only ``only`` when a module of that name exists."""
    app = _make_app()
    names = command_modules()
    if only is not None and only in names:
        _register(only)
    else:
        for name in names:
            _register(name)
    return app


def __getattr__(name: str) -> Any:
    """``netsleuth.cli.app``: the app with every command registered."""
    if name == "app":
        return register_commands()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _completing() -> bool:
    """A shell is asking for completions (``_NETSLEUTH_COMPLETE=…``)."""
    return any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ)


def _requested_command(argv: list[str]) -> str | None:
    """The subcommand ``argv`` runs, when it can be told without parsing (else ``None``)."""
    if _completing():
        return None  # shell completion walks every command
    for arg in argv:
        if arg in ("--help", "-h", "--install-completion", "--show-completion"):
            return None
        if not arg.startswith("-"):
            return arg
    return None


def prog_name(argv0: str) -> str | None:
    """The program name to print in usage lines, from how netsleuth was called.

    kubectl runs a plugin ``kubectl-foo_bar`` for ``kubectl foo-bar``, so the
    usage says ``kubectl netsleuth``. ``None`` lets click name it (it knows
    ``python -m netsleuth``).
    """
    base = os.path.basename(argv0)
    if base.startswith("kubectl-") and len(base) > len("kubectl-"):
        return "kubectl " + base[len("kubectl-") :].replace("_", "-")
    return None


def main() -> None:
    """Console entry point (``netsleuth``, ``python -m netsleuth`` and ``kubectl-netsleuth``)."""
    # numpy's OpenBLAS starts a thread per core when numpy is imported; netsleuth uses
    # numpy for bit masks and never calls BLAS, and that start costs 0.07-0.1 s of CPU per
    # command. One thread unless the user chose otherwise.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"netsleuth {__version__}\n")
        return
    from netsleuth.cli.errors import run_app

    if sys.argv[1:] in ([], ["--help"], ["-h"]) and not _completing():
        root_help(prog_name(sys.argv[0]))
        return
    app = register_commands(_requested_command(sys.argv[1:]))
    sys.exit(run_app(app, prog_name(sys.argv[0])))

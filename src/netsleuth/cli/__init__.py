"""The command line: a thin Typer app.

Each command lives in its own module in :mod:`netsleuth.cli.commands` and
exposes ``register(app)``; every module there is imported automatically.
Command modules import only light modules at the top (typer,
:mod:`netsleuth.cli.common`) and the library inside the command function, so
``netsleuth --help`` does not load the model, the engines or the Kubernetes
client.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys

import typer

from netsleuth import __version__

app = typer.Typer(
    name="netsleuth",
    help="Diagnose Kubernetes networking: trace the packet path, scan for misconfigurations, "
    "and compute NetworkPolicy connectivity. Offline (-f files) or live (kubeconfig).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
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


def _register_commands() -> None:
    from netsleuth.cli import commands

    for mod in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


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
    from netsleuth.cli.errors import run_app

    sys.exit(run_app(app, prog_name(sys.argv[0])))

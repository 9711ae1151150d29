"""``netsleuth completion SHELL``: print the shell completion script (as ``kubectl completion``)."""

from __future__ import annotations

import enum
from typing import Annotated

import typer


class Shell(enum.StrEnum):
    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"
    POWERSHELL = "powershell"


def completion_script(shell: str, prog_name: str = "netsleuth") -> str:
    """The script that makes ``shell`` complete ``prog_name``'s commands, options and -o values."""
    from typer._completion_shared import get_completion_script

    complete_var = "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())
    return get_completion_script(prog_name=prog_name, complete_var=complete_var, shell=shell)


def register(app: typer.Typer) -> None:
    @app.command("completion")
    def completion(
        shell: Annotated[Shell, typer.Argument(help="bash, zsh, fish or powershell.")],
    ) -> None:
        """Print the shell completion script.

        bash: `source <(netsleuth completion bash)` (add it to ~/.bashrc);
        zsh: `netsleuth completion zsh > "${fpath[1]}/_netsleuth"`;
        fish: `netsleuth completion fish > ~/.config/fish/completions/netsleuth.fish`.
        `netsleuth --install-completion` does this for the current shell.
        """
        typer.echo(completion_script(str(shell)))

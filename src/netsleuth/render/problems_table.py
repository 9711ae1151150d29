"""Load problems, printed at the end of every table output."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from netsleuth.model.problems import LoadProblem
from netsleuth.policy.coverage import unreadable_note
from netsleuth.render.console import status_mark

MAX_SHOWN = 50


def render_problems(problems: Sequence[LoadProblem], console: Console) -> None:
    if not problems:
        return
    console.print()
    console.print(
        f"[bold]Input problems[/bold] ({len(problems)}): the rest of the input was analysed."
    )
    for p in problems[:MAX_SHOWN]:
        console.print("  " + escape(p.describe()))
    if len(problems) > MAX_SHOWN:
        console.print(f"  … and {len(problems) - MAX_SHOWN} more (use -o json for all)")


def render_unreadable_policies(unreadable: Sequence[str], console: Console) -> None:
    """The warning that opens a policy table when policy kinds could not be read."""
    if unreadable:
        console.print(escape(f"{status_mark('unknown')} {unreadable_note(tuple(unreadable))}"))

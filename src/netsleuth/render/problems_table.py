"""Load problems, printed at the end of every table output (as text: names are escaped)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from netsleuth.model.problems import LoadProblem
from netsleuth.policy.coverage import unreadable_note
from netsleuth.render.console import plain, status_mark, styled

MAX_SHOWN = 50


def render_problems(problems: Sequence[LoadProblem], console: Console) -> None:
    if not problems:
        return
    console.print()
    console.print(
        styled(
            ("Input problems", "bold"), f" ({len(problems)}): the rest of the input was analysed."
        )
    )
    for p in problems[:MAX_SHOWN]:
        console.print(plain("  " + p.describe()))
    if len(problems) > MAX_SHOWN:
        console.print(plain(f"  … and {len(problems) - MAX_SHOWN} more (use -o json for all)"))


def render_unreadable_policies(unreadable: Sequence[str], console: Console) -> None:
    """The warning that opens a policy table when policy kinds could not be read."""
    if unreadable:
        console.print(plain(f"{status_mark('unknown')} {unreadable_note(tuple(unreadable))}"))

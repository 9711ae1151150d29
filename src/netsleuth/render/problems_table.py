"""Load problems, printed at the end of every table output."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from netsleuth.model.problems import LoadProblem

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

"""The rich console used by every table renderer.

Renderers take a ``Console`` and print to it; the CLI passes one bound to
stdout, tests pass :func:`capture_console` and compare the text to goldens.
"""

from __future__ import annotations

import enum
import io

from rich.console import Console


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    SARIF = "sarif"
    CSV = "csv"
    MD = "md"
    DOT = "dot"
    HTML = "html"


def stdout_console() -> Console:
    """Stdout; when piped, 120 columns (or $COLUMNS) rather than rich's 80, so tables stay readable."""
    import os
    import sys

    width = None
    if not sys.stdout.isatty():
        cols = os.environ.get("COLUMNS", "")
        width = int(cols) if cols.isdigit() else 120
    return Console(highlight=False, soft_wrap=False, width=width)


def capture_console(width: int = 120) -> tuple[Console, io.StringIO]:
    """A fixed-width, colourless console writing to a string (for tests and goldens)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        color_system=None,
        force_terminal=False,
        highlight=False,
        soft_wrap=False,
        legacy_windows=False,
        emoji=False,
    )
    return console, buf


def status_mark(status: str) -> str:
    """A mark that survives without colour: ok ✔, broken ✘, warning !, unknown ?, skipped -."""
    return {"ok": "✔", "broken": "✘", "warning": "!", "unknown": "?", "skipped": "-"}.get(
        status, "?"
    )


def status_style(status: str) -> str:
    return {
        "ok": "green",
        "broken": "bold red",
        "warning": "yellow",
        "unknown": "magenta",
        "skipped": "dim",
        "error": "bold red",
        "info": "cyan",
    }.get(status, "")

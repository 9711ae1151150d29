"""The rich console used by every table renderer.

Renderers take a ``Console`` and print to it; the CLI passes one bound to
stdout, tests pass :func:`capture_console` and compare the text to goldens.
"""

from __future__ import annotations

import enum
import io
from typing import Any

from rich.console import Console
from rich.text import Text

from netsleuth.model.untrusted import visible


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    SARIF = "sarif"
    CSV = "csv"
    MD = "md"
    DOT = "dot"
    HTML = "html"


class SafeConsole(Console):
    """A console that prints every plain string as text.

    Names, labels and messages come from dumps and clusters other people
    wrote: a pod named ``[/]`` crashed rich's markup parser, ``[link=…]``
    planted a hyperlink, ``:smile:`` became an emoji and ESC/OSC sequences
    reached the terminal. Here a ``str`` is never parsed as markup or emoji
    codes, and invisible characters are shown escaped (:func:`visible`).
    Styled output is built as :class:`~rich.text.Text` (see :func:`plain`
    and :func:`styled`), which renderers also use so that they are safe on
    any console.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("markup", False)
        kwargs.setdefault("emoji", False)
        kwargs.setdefault("highlight", False)
        super().__init__(*args, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        kwargs.update(markup=False, emoji=False, highlight=False)
        return super().render_str(visible(text), **kwargs)


def plain(text: str, style: str = "") -> Text:
    """Untrusted text as a rich ``Text``: never parsed as markup, invisible characters escaped."""
    return Text(visible(text), style=style)


def styled(*parts: str | tuple[str, str]) -> Text:
    """A line from parts: ``"text"`` (shown as is, escaped) or ``("text", "style")``.

    >>> styled(("trace", "bold"), " ", "[/]x").plain
    'trace [/]x'
    """
    out = Text()
    for part in parts:
        if isinstance(part, tuple):
            out.append(visible(part[0]), style=part[1])
        else:
            out.append(visible(part))
    return out


def cells(*values: str) -> list[Text]:
    """Table cells from untrusted strings (``table.add_row(*cells(a, b))``)."""
    return [plain(v) for v in values]


def stdout_console() -> Console:
    """Stdout; when piped, 120 columns (or $COLUMNS) rather than rich's 80, so tables stay readable."""
    import os
    import sys

    width = None
    if not sys.stdout.isatty():
        cols = os.environ.get("COLUMNS", "")
        width = int(cols) if cols.isdigit() else 120
    return SafeConsole(highlight=False, soft_wrap=False, width=width)


def capture_console(width: int = 120) -> tuple[Console, io.StringIO]:
    """A fixed-width, colourless console writing to a string (for tests and goldens)."""
    buf = io.StringIO()
    console = SafeConsole(
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

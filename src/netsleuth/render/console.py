"""The rich console used by every table renderer.

Renderers take a ``Console`` and print to it; the CLI passes one bound to
stdout, tests pass :func:`capture_console` and compare the text to goldens.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.text import Text

from netsleuth.model.untrusted import visible
from netsleuth.render.formats import OutputFormat  # noqa: F401 - its old home, still imported from here

if TYPE_CHECKING:
    from rich.table import Table


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


class _StdoutConsole(SafeConsole):
    """:class:`SafeConsole` for the CLI and the goldens: tables never cut, closed pipes quiet.

    - A :class:`~rich.table.Table` printed here never loses text: its columns
      fold rather than end in "…", and off a terminal it is printed as wide as
      it must be (see :func:`print_table`), whoever built it.
    - A closed pipe raises :class:`BrokenPipeError`; rich's default turns it
      into ``SystemExit(1)``, the internal-error exit code (see ``cli/errors.py``).
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        from rich.table import Table

        if len(objects) == 1 and isinstance(objects[0], Table) and not kwargs:
            print_table(self, objects[0])
            return
        super().print(*objects, **kwargs)

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError


def make_console(stream: TextIO, *, width: int | None, colour: bool) -> Console:
    """A safe console on ``stream`` (see :class:`SafeConsole`), in colour only when asked."""
    return _StdoutConsole(
        file=stream,
        width=width,
        color_system="auto" if colour else None,
        force_terminal=None if colour else False,
        highlight=False,
        soft_wrap=False,
        legacy_windows=False,
        emoji=False,
    )


def stdout_console() -> Console:
    """Stdout; when piped, 120 columns (or $COLUMNS) rather than rich's 80, so tables stay readable."""
    from netsleuth.render.output import Output

    return Output.stdout().console()


def capture_console(width: int = 120) -> tuple[Console, io.StringIO]:
    """A fixed-width, colourless console writing to a string (for tests and goldens)."""
    buf = io.StringIO()
    return make_console(buf, width=width, colour=False), buf


def print_table(console: Console, table: Table) -> None:
    """Print a rich table without ever cutting a cell.

    Columns that would end in "…" fold instead. On a terminal the table fits
    the terminal's width. Elsewhere (a pipe, a file, a golden test) the width
    grows, when it must, to the table's minimum: every ``no_wrap`` column
    (identifiers) at its widest cell and every other column at its longest
    word, so identifiers stay whole and free text wraps by words in its cell.
    """
    from rich.console import Console as RichConsole
    from rich.measure import Measurement

    for column in table.columns:
        if column.overflow == "ellipsis":
            column.overflow = "fold"
    width = console.width
    need = (
        0
        if console.is_terminal
        else Measurement.get(console, console.options.update(width=1 << 16), table).minimum
    )
    if need <= width:
        RichConsole.print(console, table)
        return
    console.width = need  # rich caps print(width=...) at the console's width
    try:
        RichConsole.print(console, table, crop=False)
    finally:
        console.width = width


def status_mark(status: str) -> str:
    """A mark that survives without colour: ok ✔, broken ✘, warning !, unknown ?,
    not-checked ·, skipped -."""
    return {
        "ok": "✔",
        "broken": "✘",
        "warning": "!",
        "unknown": "?",
        "not-checked": "·",
        "skipped": "-",
    }.get(status, "?")


def status_style(status: str) -> str:
    return {
        "ok": "green",
        "broken": "bold red",
        "warning": "yellow",
        "unknown": "magenta",
        "skipped": "dim",
        "not-checked": "dim",
        "error": "bold red",
        "info": "cyan",
    }.get(status, "")

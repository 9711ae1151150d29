"""Where a renderer writes: :class:`Output`, stdout (or a test buffer) with what it is.

Every renderer has the signature ``render(report, out: Output) -> None``
(see :mod:`netsleuth.render.formats`). ``Output`` tells it whether a person
is reading (a terminal: colours, tables fitted to the width) or a program
(a pipe or a file: no truncation, no colour, long lines kept whole), and
gives it a rich console only if it asks for one, so machine formats never
import rich.
"""

from __future__ import annotations

import io
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from netsleuth.model.cluster import ClusterModel

PIPE_WIDTH = 120
"""Width of rich-rendered text when stdout is not a terminal and $COLUMNS is unset."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderContext:
    """What a result was computed from, for the formats that show more than the result.

    The HTML page draws the service map of ``model`` and says in its header
    what made it (``command``, ``source``); the other formats ignore all of it.
    """

    model: ClusterModel | None = None
    """The cluster the command analysed (``diff``: the AFTER side; a policy view for
    ``connectivity`` and ``diff``)."""
    command: str = ""
    """The command line, shell-quoted."""
    source: str = ""
    """What was read: files, or the live context."""
    namespace: str | None = None
    """The ``-n`` namespace bare names were read in."""
    sides: tuple[str, str] = ("before", "after")
    """``diff``: what BEFORE and AFTER were."""


@dataclass(slots=True, kw_only=True)
class Output:
    """A text stream plus what the renderer needs to know about it."""

    stream: TextIO
    terminal: bool = False
    """A person reads it: colours, and tables may be fitted to ``width``."""
    width: int = PIPE_WIDTH
    """Columns for text that rich wraps (tables fold cells to it; identifiers are never cut)."""
    verbose: bool = False
    """``-v``: renderers show what they otherwise summarise (for example every skipped check)."""
    colour: bool | None = None
    """Force colour on or off; ``None``: on for a terminal (and not with $NO_COLOR)."""
    context: RenderContext = field(default_factory=RenderContext)
    """The input behind the result (the HTML page's map and header)."""
    _console: Console | None = field(default=None, repr=False)

    @classmethod
    def stdout(cls, *, verbose: bool = False, context: RenderContext | None = None) -> Output:
        terminal = sys.stdout.isatty()
        cols = os.environ.get("COLUMNS", "")
        width = int(cols) if cols.isascii() and cols.isdigit() and int(cols) > 0 else None
        if width is None:
            width = os.get_terminal_size(sys.stdout.fileno()).columns if terminal else PIPE_WIDTH
        return cls(
            stream=sys.stdout,
            terminal=terminal,
            width=width,
            verbose=verbose,
            context=context or RenderContext(),
        )

    @classmethod
    def buffer(
        cls,
        *,
        width: int = PIPE_WIDTH,
        verbose: bool = False,
        context: RenderContext | None = None,
    ) -> tuple[Output, io.StringIO]:
        """A colourless, non-terminal output into a string (tests and goldens)."""
        buf = io.StringIO()
        out = cls(
            stream=buf,
            width=width,
            verbose=verbose,
            colour=False,
            context=context or RenderContext(),
        )
        return out, buf

    def write(self, text: str) -> None:
        self.stream.write(text)

    def write_bytes(self, data: bytes) -> None:
        """UTF-8 bytes (orjson's output) straight to the underlying buffer when there is one."""
        buffer = getattr(self.stream, "buffer", None)
        if buffer is not None:
            self.stream.flush()
            buffer.write(data)
            buffer.flush()
        else:
            self.stream.write(data.decode())

    def console(self) -> Console:
        """A rich console on this stream (created on first use)."""
        if self._console is None:
            from netsleuth.render.console import make_console

            colour = self.colour if self.colour is not None else self.terminal
            self._console = make_console(
                self.stream, width=self.width, colour=colour and "NO_COLOR" not in os.environ
            )
        return self._console


def stdout_console() -> Console:
    """A rich console on stdout (see :meth:`Output.stdout`); rich is imported on first call."""
    return Output.stdout().console()

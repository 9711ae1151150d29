"""The one place that turns exceptions into a message, a tip and an exit code.

The exit codes are :class:`netsleuth.cli.exit_codes.ExitCode`; the README's
table is generated from the same module (a test compares them).
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

from netsleuth.cli.exit_codes import ExitCode
from netsleuth.errors import ForbiddenError, InputError, NetsleuthError, QueryError, SourceError

# Kept for the commands that import them by these names.
EXIT_OK = int(ExitCode.OK)
EXIT_INTERNAL = int(ExitCode.INTERNAL)
EXIT_USAGE = int(ExitCode.USAGE)
EXIT_DIFF_LOST = int(ExitCode.DIFF_LOST)
EXIT_FINDINGS = int(ExitCode.FINDINGS)
EXIT_TRACE_BROKEN = int(ExitCode.TRACE_BROKEN)
EXIT_SOURCE = int(ExitCode.SOURCE)


class PipeClosed(Exception):
    """The reader of stdout went away (``netsleuth … | head``).

    Raised in place of :class:`BrokenPipeError`, which click/Typer catch and turn
    into exit code 1.
    """


def _err(text: str) -> None:
    """One message to stderr; names in it come from the input, so invisible characters are escaped."""
    from netsleuth.model.untrusted import visible

    sys.stderr.write("\n".join(visible(line) for line in text.split("\n")) + "\n")


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, ForbiddenError | SourceError):
        return ExitCode.SOURCE
    if isinstance(exc, InputError | QueryError):
        return ExitCode.USAGE
    if isinstance(exc, NetsleuthError):
        return ExitCode.USAGE
    return ExitCode.INTERNAL


def report(exc: BaseException) -> int:
    code = exit_code_for(exc)
    if isinstance(exc, NetsleuthError):
        where = ""
        if isinstance(exc, InputError) and exc.file:
            where = f" ({exc.file}" + (
                f", document {exc.document}" if exc.document is not None else ""
            )
            where += (f", line {exc.line}" if exc.line is not None else "") + ")"
        _err(f"Error: {exc.message}{where}")
        if isinstance(exc, ForbiddenError):
            _err(
                f"  cannot {exc.verb} {exc.resource}"
                + (f" in namespace {exc.namespace}" if exc.namespace else "")
            )
        if exc.tip:
            _err(f"Tip: {exc.tip}")
    else:
        _err(f"Internal error: {type(exc).__name__}: {exc}")
        _err("".join(traceback.format_exception(exc)).rstrip())
        _err("Tip: this is a bug in netsleuth; please report it with the command you ran.")
    return code


def _is(exc: BaseException, name: str) -> bool:
    """``exc`` is click's ``name`` exception, from click or from the copy typer >= 0.29 vendors.

    Matched by class name and module so that neither click nor typer is
    imported to classify an exception.
    """
    return any(
        cls.__name__ == name and cls.__module__.startswith(("click.", "typer._click."))
        for cls in type(exc).__mro__
    )


def _stdout_gone() -> int:
    """The reader closed stdout: point stdout at /dev/null so the interpreter's final flush
    does not fail again, and exit as a process killed by SIGPIPE would (128 + 13)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    return ExitCode.PIPE_CLOSED


def run_app(app: Any, prog_name: str | None = None) -> int:
    """Run the Typer ``app``; every outcome becomes an exit code here."""
    try:
        result = app(standalone_mode=False, prog_name=prog_name)
        sys.stdout.flush()
    except KeyboardInterrupt:
        _err("Interrupted.")
        return ExitCode.INTERRUPTED
    except (BrokenPipeError, PipeClosed):
        return _stdout_gone()
    except Exception as exc:
        if _is(exc, "Exit"):
            return int(getattr(exc, "exit_code", 0))
        if _is(exc, "Abort"):
            _err("Aborted.")
            return ExitCode.INTERRUPTED
        if _is(exc, "ClickException"):
            exc.show()  # type: ignore[attr-defined]
            return ExitCode.USAGE
        if isinstance(exc, OSError) and exc.errno == 32:  # EPIPE wrapped by a library
            return _stdout_gone()
        return report(exc)
    return int(result) if isinstance(result, int) else ExitCode.OK

"""The one place that turns exceptions into a message, a tip and an exit code.

Exit codes (documented in the README):

== =========================================================
0  success
1  internal error (a bug: please report it)
2  usage or input error (bad flag, missing file, unknown object in a query)
3  ``diff``: at least one connection is lost
4  ``scan --fail-on``: a finding at or above the threshold
5  ``trace``: the verdict is broken
6  source unreachable or forbidden as a whole
== =========================================================
"""

from __future__ import annotations

import sys
import traceback

import click
import typer

from netsleuth.errors import ForbiddenError, InputError, NetsleuthError, QueryError, SourceError

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DIFF_LOST = 3
EXIT_FINDINGS = 4
EXIT_TRACE_BROKEN = 5
EXIT_SOURCE = 6


def _err(text: str) -> None:
    """One message to stderr; names in it come from the input, so invisible characters are escaped."""
    from netsleuth.model.untrusted import visible

    sys.stderr.write("\n".join(visible(line) for line in text.split("\n")) + "\n")


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, ForbiddenError | SourceError):
        return EXIT_SOURCE
    if isinstance(exc, InputError | QueryError):
        return EXIT_USAGE
    if isinstance(exc, NetsleuthError):
        return EXIT_USAGE
    return EXIT_INTERNAL


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


def _click_exception_modules() -> tuple[object, ...]:
    """click's exceptions, and the copy Typer vendors (typer 0.29+ ships its own click)."""
    mods: list[object] = [click.exceptions]
    try:
        import typer._click.exceptions as vendored  # type: ignore[import-not-found, unused-ignore]

        mods.append(vendored)
    except ImportError:
        pass
    return tuple(mods)


_CLICK = _click_exception_modules()


def _is(exc: BaseException, name: str) -> bool:
    return any(isinstance(exc, getattr(m, name)) for m in _CLICK if hasattr(m, name))


def run_app(app: typer.Typer) -> int:
    try:
        result = app(standalone_mode=False)
    except KeyboardInterrupt:
        _err("Interrupted.")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if _is(exc, "Exit"):
            return int(getattr(exc, "exit_code", 0))
        if _is(exc, "Abort"):
            _err("Aborted.")
            return 130
        if _is(exc, "ClickException"):
            exc.show()  # type: ignore[attr-defined]
            return EXIT_USAGE
        return report(exc)
    return int(result) if isinstance(result, int) else EXIT_OK

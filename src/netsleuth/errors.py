"""The exception tree, and the grading of load problems.

Exceptions are for conditions that stop one operation. Bad input that can be
skipped is not an exception: it becomes a :class:`~netsleuth.model.problems.LoadProblem`
value and the rest of the input is still analysed.

::

    NetsleuthError              anything netsleuth raises on purpose
    ├── SourceError             a source could not be read at all
    │   └── ForbiddenError      the API refused a verb on a resource (HTTP 403)
    ├── InputError              input that cannot be used (file, document, line)
    └── QueryError              a query that names something absent or malformed

The CLI maps them to exit codes in one place (``netsleuth.cli.errors``).
"""

from __future__ import annotations


class NetsleuthError(Exception):
    """Base of every error netsleuth raises on purpose."""

    tip: str | None = None

    def __init__(self, message: str, *, tip: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if tip is not None:
            self.tip = tip


class SourceError(NetsleuthError):
    """A source as a whole could not be read (no kubeconfig, unreachable API, missing path)."""


class ForbiddenError(SourceError):
    """The API server answered 403 for ``verb`` on ``resource``."""

    def __init__(
        self,
        message: str,
        *,
        verb: str,
        resource: str,
        namespace: str | None = None,
        tip: str | None = None,
    ) -> None:
        super().__init__(message, tip=tip)
        self.verb = verb
        self.resource = resource
        self.namespace = namespace


class InputError(NetsleuthError):
    """Input that cannot be used. Carries where it came from."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        document: int | None = None,
        line: int | None = None,
        tip: str | None = None,
    ) -> None:
        super().__init__(message, tip=tip)
        self.file = file
        self.document = document
        self.line = line


class QueryError(NetsleuthError):
    """A query names something that does not exist or cannot be parsed."""

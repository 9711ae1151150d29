"""Load problems: bad input recorded as values, not raised.

Grading follows netpol-analyzer: ``fatal`` means an input could not be used at
all (a file that is not YAML), ``degraded`` means part of the picture is
missing (a document skipped, a kind forbidden by RBAC) so some analyses are
less complete, ``warning`` means something odd was tolerated (an unknown kind
kept raw, a non-canonical CIDR).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Level(enum.StrEnum):
    FATAL = "fatal"
    DEGRADED = "degraded"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Origin:
    """Where an object or problem came from.

    ``file``/``document``/``line`` for offline input (document is 0-based,
    line is 1-based), ``live`` for the API server (``file`` then holds the
    API path that was listed).
    """

    file: str | None = None
    document: int | None = None
    line: int | None = None
    live: bool = False

    def describe(self) -> str:
        if self.live:
            return f"live {self.file}" if self.file else "live API"
        parts = []
        if self.file:
            parts.append(self.file)
        if self.document is not None:
            parts.append(f"document {self.document}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts) if parts else "unknown origin"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadProblem:
    """Something in the input that was skipped or tolerated.

    ``object`` names the object (``Kind/namespace/name``) when it is known,
    ``skipped`` says what was left out because of it, and ``affects`` lists
    the analyses that are less complete because of it.
    """

    level: Level
    message: str
    origin: Origin = Origin()
    object: str | None = None
    skipped: str | None = None
    affects: tuple[str, ...] = ()
    key: tuple[str, str | None, str] | None = None
    """``(kind, namespace, name)`` of the object as values, set when the object was
    dropped, so that analyses know what is missing (``policy.coverage``)."""

    def describe(self) -> str:
        where = self.origin.describe()
        text = f"[{self.level}] {where}: "
        if self.object:
            text += f"{self.object}: "
        text += self.message
        if self.skipped:
            text += f" (skipped: {self.skipped})"
        return text

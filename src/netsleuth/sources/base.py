"""The one tiny interface every source implements.

A source yields :class:`RawObject` (one Kubernetes object as parsed JSON,
with where it came from) and :class:`~netsleuth.model.problems.LoadProblem`
values, in any order. Raw dicts never leave ``netsleuth.sources``:
:mod:`netsleuth.sources.decode` turns them into model objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from netsleuth.model.cluster import SourceInfo
from netsleuth.model.logs import ContainerLog
from netsleuth.model.node_artifacts import NodeArtifacts
from netsleuth.model.problems import LoadProblem, Origin


@dataclass(frozen=True, slots=True)
class RawObject:
    data: dict[str, Any]
    origin: Origin = field(default_factory=Origin)


Collected = RawObject | LoadProblem | NodeArtifacts | ContainerLog
"""Node artifacts and container logs are parsed text, not API objects, so they arrive
already typed."""


class Source(Protocol):
    def collect(self) -> Iterator[Collected]:
        """Yield objects and problems. Never raises for bad input; may raise SourceError."""
        ...

    def info(self) -> SourceInfo:
        """What was read, and what was forbidden; complete once collect() is exhausted."""
        ...

"""Glue: run a source, decode what it yields, and build the frozen model."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from typing import Any

from netsleuth.model.cluster import ClusterModel, ModelObject, SourceInfo, build_model
from netsleuth.model.logs import ContainerLog
from netsleuth.model.node_artifacts import NodeArtifacts
from netsleuth.model.problems import LoadProblem
from netsleuth.sources.base import Collected, RawObject, Source
from netsleuth.sources.decode import decode
from netsleuth.sources.manifests import ManifestSource


def decode_all(collected: Iterable[Collected]) -> tuple[list[ModelObject], list[LoadProblem]]:
    objects: list[ModelObject] = []
    problems: list[LoadProblem] = []
    append = objects.append
    for item in collected:
        if isinstance(item, RawObject):
            obj, probs = decode(item)
            if obj is not None:
                append(obj)
            if probs:
                problems.extend(probs)
        elif isinstance(item, NodeArtifacts | ContainerLog):
            append(item)
        else:
            problems.append(item)
    return objects, problems


def load_source(source: Source, *, derive_pods: bool | None = None) -> ClusterModel:
    # Loading allocates millions of small objects and no reference cycles worth
    # collecting; the cyclic GC would rescan them again and again (a third of the
    # load time at 150k pods). Pause it for the load, then freeze the result so
    # later collections skip the model.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        objects, problems = decode_all(source.collect())
        info: SourceInfo = source.info()
        model = build_model(objects, problems, source=info, derive_pods=derive_pods)
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()
    return model


def load_offline(
    paths: list[str],
    *,
    derive_pods: bool | None = None,
    stdin_text: str | None = None,
    max_file_bytes: int | None = None,
) -> ClusterModel:
    """Load files/directories (``-`` for stdin) into a model.

    ``max_file_bytes``: the most read from one file (default 256 MiB, see
    :mod:`netsleuth.sources.bounded`).
    """
    extra = {} if max_file_bytes is None else {"max_file_bytes": max_file_bytes}
    return load_source(
        ManifestSource(paths, stdin_text=stdin_text, **extra), derive_pods=derive_pods
    )


def load_live(
    *, progress: Callable[[str, int, int | None], None] | None = None, **kwargs: Any
) -> ClusterModel:
    """Load from the API server the kubeconfig points at (see :class:`LiveSource`)."""
    from netsleuth.sources.live import LiveSource

    return load_source(LiveSource(progress=progress, **kwargs))

"""The frozen cluster model: typed objects, selectors, interval algebra, build_model().

The names below are imported on first use (PEP 562), so that importing one
submodule (``netsleuth.model.ports``) does not load the whole model: the CLI
starts without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netsleuth.model.cluster import (
        KIND_RESOURCE,
        WORKLOAD_KINDS,
        ClusterModel,
        ModelObject,
        SourceInfo,
        SourceKind,
        WorkloadRef,
        build_model,
        resource_of,
    )
    from netsleuth.model.intervals import ALL_PORTS, IntervalSet, IPSet
    from netsleuth.model.node_artifacts import NodeArtifacts
    from netsleuth.model.objects import *  # noqa: F403
    from netsleuth.model.problems import Level, LoadProblem, Origin
    from netsleuth.model.selectors import LabelSelector, Operator, Requirement

_HOME = {
    **dict.fromkeys(
        (
            "KIND_RESOURCE",
            "WORKLOAD_KINDS",
            "ClusterModel",
            "ModelObject",
            "SourceInfo",
            "SourceKind",
            "WorkloadRef",
            "build_model",
            "resource_of",
        ),
        "cluster",
    ),
    **dict.fromkeys(("ALL_PORTS", "IntervalSet", "IPSet"), "intervals"),
    "NodeArtifacts": "node_artifacts",
    **dict.fromkeys(("Level", "LoadProblem", "Origin"), "problems"),
    **dict.fromkeys(("LabelSelector", "Operator", "Requirement"), "selectors"),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name, "objects")  # everything else is re-exported from objects
    module = importlib.import_module(f"{__name__}.{home}")
    try:
        value = getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


__all__ = [
    "ALL_PORTS",
    "KIND_RESOURCE",
    "WORKLOAD_KINDS",
    "ClusterModel",
    "IPSet",
    "IntervalSet",
    "LabelSelector",
    "Level",
    "LoadProblem",
    "ModelObject",
    "NodeArtifacts",
    "Operator",
    "Origin",
    "Requirement",
    "SourceInfo",
    "SourceKind",
    "WorkloadRef",
    "build_model",
    "resource_of",
]

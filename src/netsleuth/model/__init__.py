"""The frozen cluster model: typed objects, selectors, interval algebra, build_model()."""

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

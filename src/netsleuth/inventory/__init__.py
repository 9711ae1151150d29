"""What was loaded: object counts, nodes, the CNI, kube-proxy mode, CoreDNS, problems.

The inventory is the first thing a user sees; it must say plainly what the
input contained and what could not be read, so every later verdict can be
weighed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.problems import LoadProblem


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRow:
    name: str
    ready: str  # "True" / "False" / "Unknown"
    pod_cidrs: tuple[str, ...]
    internal_ip: str | None
    kubelet_version: str
    pods: int
    max_pods: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeEvidenceRow:
    """One output recognised in a node's files (``inventory -o json``: ``node_evidence``)."""

    node: str
    file: str
    line: int
    kind: str
    """The evidence kind, lower-case with dashes (``iptables-save``, ``ip-route``…)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    source: str
    counts_by_kind: dict[str, int]
    counts_by_namespace: dict[str, dict[str, int]]
    nodes: tuple[NodeRow, ...]
    cni: tuple[str, ...]
    kube_proxy_mode: str | None
    kube_proxy_mode_source: str | None
    coredns_replicas: str | None
    unknown_kinds: dict[str, int]
    derived: dict[str, int]
    forbidden: tuple[str, ...]
    failed: tuple[str, ...]
    problems: tuple[LoadProblem, ...]
    node_evidence: tuple[NodeEvidenceRow, ...] = ()


def _kind_of(obj: object) -> str:
    return str(getattr(obj, "kind", type(obj).__name__))


def build_inventory(model: ClusterModel, namespace: str | None = None) -> Inventory:
    from netsleuth.inventory.detect import coredns_replicas, detect_cni, detect_kube_proxy_mode

    by_kind: Counter[str] = Counter()
    by_ns: dict[str, Counter[str]] = {}
    derived: Counter[str] = Counter()
    groups: list[tuple[object, ...]] = [
        tuple(model.namespaces.values()),
        tuple(model.nodes.values()),
        model.pods,
        model.workloads,
        model.services,
        model.endpoint_slices,
        model.endpoints,
        model.network_policies,
        model.ingresses,
        model.ingress_classes,
        model.gateway_classes,
        model.gateways,
        model.routes,
        model.config_maps,
        model.secrets,
        model.events,
        model.custom,
        model.unknown,
    ]
    for group in groups:
        for obj in group:
            meta = getattr(obj, "meta", None)
            ns = getattr(meta, "namespace", None)
            if namespace is not None and ns is not None and ns != namespace:
                continue
            kind = _kind_of(obj)
            if meta is not None and getattr(meta, "derived", False):
                derived[kind] += 1
                continue
            by_kind[kind] += 1
            if ns is not None:
                by_ns.setdefault(ns, Counter())[kind] += 1
    if model.node_artifacts:
        by_kind["NodeArtifacts"] = len(model.node_artifacts)
    if model.container_logs:
        by_kind["ContainerLog"] = len(model.container_logs)
    evidence = tuple(
        NodeEvidenceRow(node=e.node, file=e.file, line=e.line, kind=str(e.kind))
        for _, art in sorted(model.node_artifacts.items())
        for e in art.evidence
    )
    unknown = Counter(
        f"{u.api_version}/{u.kind}" if u.api_version else u.kind for u in model.unknown
    )

    nodes = []
    for n in sorted(model.nodes.values(), key=lambda n: n.name):
        ready = n.ready
        nodes.append(
            NodeRow(
                name=n.name,
                ready="Unknown" if ready is None else str(ready),
                pod_cidrs=n.pod_cidrs,
                internal_ip=n.internal_ip,
                kubelet_version=n.kubelet_version,
                pods=len(model.pods_by_node.get(n.name, ())),
                max_pods=n.allocatable_pods,
            )
        )
    mode, mode_src = detect_kube_proxy_mode(model)
    src = model.source
    where = (
        ", ".join(src.paths)
        if src.paths
        else (
            f"context {src.context}"
            if src.context
            # live without a kubeconfig context: the service account's in-cluster config
            else ("in-cluster" if src.kind == "live" else str(src.kind))
        )
    )
    return Inventory(
        source=f"{src.kind}: {where}" + (f" ({src.server})" if src.server else ""),
        counts_by_kind=dict(sorted(by_kind.items())),
        counts_by_namespace={ns: dict(sorted(c.items())) for ns, c in sorted(by_ns.items())},
        nodes=tuple(nodes),
        cni=tuple(detect_cni(model)),
        kube_proxy_mode=mode,
        kube_proxy_mode_source=mode_src,
        coredns_replicas=coredns_replicas(model),
        unknown_kinds=dict(sorted(unknown.items())),
        derived=dict(sorted(derived.items())),
        forbidden=src.forbidden,
        failed=src.failed,
        problems=model.problems,
        node_evidence=evidence,
    )

"""Put a Hubble endpoint on the model: by pod name, by labels, or by IP.

Hubble names a pod when the observing node knew its identity; otherwise it
shows an address with a reserved identity (``world``, ``unmanaged``). An
address that is a pod of the model is then itself a clue: the identity of
that pod was not yet known where the packet was judged (a policy drop that
clears once the identity propagates). :class:`Side` keeps that fact.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel, WorkloadRef
from netsleuth.model.flows import FlowEndpoint
from netsleuth.model.objects import Pod, Service

# Cilium label sources that are not the pod's own Kubernetes labels.
_NOT_POD_LABEL = ("io.kubernetes.pod.namespace", "io.cilium.", "io.kubernetes.pod.")
_IDENTITY_UNKNOWN = frozenset({"world", "world-ipv4", "world-ipv6", "unmanaged", "init"})
# Labels controllers stamp on pods (Cilium leaves them out of identities).
_CONTROLLER_LABELS = frozenset(
    {"pod-template-hash", "controller-revision-hash", "pod-template-generation", "controller-uid"}
)
_STAMPED = ("statefulset.kubernetes.io/", "apps.kubernetes.io/pod-index", "batch.kubernetes.io/")


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a flow, resolved.

    ``key`` groups flows (a workload ``deployment/ns/name``, ``service/ns/name``,
    ``node/name``, ``world``, ``address``…); ``pod`` is the model pod (the
    exact one when Hubble named it, else one of the workload's); ``via_ip`` is
    true when only the address matched a pod of the model.
    """

    key: str
    display: str
    kind: str  # pod | service | node | world | address | reserved | missing
    pod: Pod | None = None
    workload: WorkloadRef | None = None
    service: Service | None = None
    namespace: str | None = None
    via_ip: bool = False
    identity_unknown: bool = False
    """Hubble showed a reserved identity (world/unmanaged/init) for a pod of the model."""
    pod_key: tuple[str, str] | None = None
    """``pod.key`` once (the summary's policy cache is keyed by it, per flow)."""

    @property
    def in_model(self) -> bool:
        return self.kind in ("pod", "service", "node")


def _pod_side(
    model: ClusterModel, pod: Pod, *, via_ip: bool = False, unknown: bool = False
) -> Side:
    owner = model.owner(pod)
    return Side(
        key=owner.describe(),
        display=owner.describe(),
        kind="pod",
        pod=pod,
        workload=owner,
        namespace=pod.namespace,
        via_ip=via_ip,
        identity_unknown=unknown,
        pod_key=pod.key,
    )


def _labels(ep: FlowEndpoint) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in ep.labels:
        if not isinstance(raw, str):
            continue
        source, _, kv = raw.partition(":")
        if source != "k8s" or "=" not in kv:
            continue
        k, _, v = kv.partition("=")
        if k.startswith(_NOT_POD_LABEL):
            continue
        out[k] = v
    return out


def _node_by_ip(model: ClusterModel) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in model.nodes.values():
        for a in getattr(node, "addresses", ()):
            if a.type in ("InternalIP", "ExternalIP"):
                out[a.address] = node.meta.name
    return out


class Resolver:
    """Resolves endpoints against one model, memoising by what Hubble showed."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self._cache: dict[tuple[object, ...], Side] = {}
        self._nodes = _node_by_ip(model)

    def side(self, ep: FlowEndpoint) -> Side:
        key: tuple[object, ...] = (ep.namespace, ep.pod_name, ep.ip, ep.identity, ep.service)
        hit = self._cache.get(key)
        if hit is None:
            if not ep.pod_name and ep.namespace and ep.labels:
                key = (*key, ep.labels)
                hit = self._cache.get(key)
            if hit is None:
                hit = self._resolve(ep)
                if len(self._cache) < 200_000:
                    self._cache[key] = hit
        return hit

    def _by_labels(self, namespace: str, labels: dict[str, str]) -> Pod | None:
        """A pod of the one workload whose pods carry these labels and the fewest others.

        Hubble shows an endpoint's identity labels; every pod that has them all
        matches, so ``app=api`` also matches an ``api-canary`` Deployment's pods
        labelled ``app=api, track=canary``. The pods whose other labels are fewest
        (controller-stamped ones aside) are the endpoint's; when two workloads tie,
        the labels do not say which: ``None`` (the address decides, if any).
        """
        best: dict[WorkloadRef, Pod] = {}
        fewest = -1
        for pod in self.model.pods_matching(namespace, labels):
            extra = sum(
                1
                for k in pod.labels
                if k not in labels and k not in _CONTROLLER_LABELS and not k.startswith(_STAMPED)
            )
            if fewest == -1 or extra < fewest:
                best, fewest = {}, extra
            if extra == fewest:
                best.setdefault(self.model.owner(pod), pod)
        return next(iter(best.values())) if len(best) == 1 else None

    def _resolve(self, ep: FlowEndpoint) -> Side:
        model = self.model
        if ep.namespace and ep.pod_name:
            pod = model.pod(ep.namespace, ep.pod_name)
            if pod is not None:
                return _pod_side(model, pod)
        if ep.namespace:
            labels = _labels(ep)
            if labels:
                pod = self._by_labels(ep.namespace, labels)
                if pod is not None:
                    return _pod_side(model, pod)
        reserved = ep.reserved
        if ep.ip:
            for pod in model.pods_by_ip.get(ep.ip, ()):
                if not pod.host_network:
                    return _pod_side(
                        model,
                        pod,
                        via_ip=not ep.pod_name,
                        unknown=reserved in _IDENTITY_UNKNOWN or ep.identity == 0,
                    )
            svc = model.services_by_cluster_ip.get(ep.ip)
            if svc is not None:
                return Side(
                    key=f"service/{svc.namespace}/{svc.name}",
                    display=f"service/{svc.namespace}/{svc.name}",
                    kind="service",
                    service=svc,
                    namespace=svc.namespace,
                )
            node = self._nodes.get(ep.ip)
            if node is not None:
                return Side(key=f"node/{node}", display=f"node/{node}", kind="node")
        if ep.namespace and ep.pod_name:
            name = ep.workload or ep.pod_name
            kind = (ep.workload_kind or "pod").lower() if ep.workload else "pod"
            ref = f"{kind}/{ep.namespace}/{name}"
            return Side(
                key=ref,
                display=f"{ref} (not in the model)",
                kind="missing",
                namespace=ep.namespace,
            )
        if ep.service:
            ns, _, name = ep.service.partition("/")
            svc = model.service(ns, name)
            if svc is not None:
                return Side(
                    key=f"service/{ns}/{name}",
                    display=f"service/{ns}/{name}",
                    kind="service",
                    service=svc,
                    namespace=ns,
                )
        if reserved in ("world", "world-ipv4", "world-ipv6"):
            return Side(key="world", display="outside the cluster (world)", kind="world")
        if reserved is not None:
            return Side(key=f"reserved:{reserved}", display=f"reserved:{reserved}", kind="reserved")
        return Side(key="address", display="an address not in the model", kind="address")

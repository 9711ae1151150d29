"""Workload ownership: which object manages a pod, as far as the input shows it and a step
beyond when the pod's labels name it.

Kubernetes records ownership in ``metadata.ownerReferences``; the reference
with ``controller: true`` names the object that manages this one
(https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/).
Editing a managed object is undone by its controller, so a finding must name
the top of the chain: the Deployment, not its ReplicaSet or pod.

- Pod → ReplicaSet → Deployment (also an Argo Rollout or any other owner of
  the ReplicaSet).
- Pod → Job → CronJob.
- Pod → StatefulSet / DaemonSet / ReplicationController.
- Pod → operator custom resource (CloudNativePG ``Cluster``, Strimzi
  ``StrimziPodSet`` → ``Kafka``…): any owner kind is followed when the owner
  object is in the input, and named (marked absent) when it is not.
- A mirror pod (static pod) is owned by its ``Node``: the pod itself is the
  top, its manifest lives on the node.

A dump often lacks the objects in the middle. The model's owner index
(:class:`netsleuth.model.cluster.ClusterModel`, ``owner()``) bridges a missing
ReplicaSet by the ``pod-template-hash`` label and a missing Job by the CronJob's
job name, when the Deployment or CronJob is in the input; the chain here
follows that bridge and says so in the link's ``via``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from netsleuth.model.cluster import WORKLOAD_KINDS, ClusterModel
from netsleuth.model.objects import Meta, OwnerRef, Pod

_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class OwnerLink:
    """One owner on the way from a pod to the object that manages it."""

    kind: str
    namespace: str | None
    """``None`` for a cluster-scoped owner."""
    name: str
    present: bool
    """The owner object is in the input (else only a reference names it)."""
    via: str
    """How the link is known: ``ownerReferences``, ``pod-template-hash label``,
    ``CronJob job name``."""
    api_version: str = ""

    def ref(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind}/{self.name}"
        )


@dataclass(frozen=True, slots=True)
class Ownership:
    """A pod's owner chain, nearest owner first. Empty for a bare or static pod."""

    pod: Pod
    chain: tuple[OwnerLink, ...]

    @property
    def top(self) -> OwnerLink | None:
        """The object that manages the pod (what a person changes), present in the input or not."""
        return self.chain[-1] if self.chain else None

    @property
    def top_present(self) -> OwnerLink | None:
        """The highest owner the input holds."""
        for link in reversed(self.chain):
            if link.present:
                return link
        return None

    def ref(self) -> str:
        """``Deployment/shop/cart``: the top owner, or the pod itself."""
        top = self.top
        return top.ref() if top is not None else f"Pod/{self.pod.namespace}/{self.pod.name}"


def _objects_by_key(model: ClusterModel) -> dict[tuple[str, str | None, str], Meta]:
    """Every object's metadata that can own a pod or a workload, by (kind, namespace, name)."""

    def build() -> dict[tuple[str, str | None, str], Meta]:
        out: dict[tuple[str, str | None, str], Meta] = {}
        for w in model.workloads:
            out[(w.kind, w.namespace, w.name)] = w.meta
        for c in model.custom:
            out[(c.kind, c.meta.namespace, c.meta.name)] = c.meta
        for u in model.unknown:
            out[(u.kind, u.meta.namespace, u.meta.name)] = u.meta
        return out

    return model.memoised("facts.owner_objects", build)


def _controller(refs: tuple[OwnerRef, ...]) -> OwnerRef | None:
    """The managing reference: ``controller: true``, else the only reference."""
    ctrl = next((o for o in refs if o.controller), None)
    if ctrl is None and len(refs) == 1:
        ctrl = refs[0]
    return ctrl


def _kind_by_name(model: ClusterModel, namespace: str, name: str) -> str:
    """The kind of an ownerReference that lacks one (hand-written manifests): the workload
    of that name in the namespace, as the model's owner index reads it."""
    for kind in WORKLOAD_KINDS:
        if model.workload(kind, namespace, name) is not None:
            return kind
    return "Owner"


def _lookup(
    objects: dict[tuple[str, str | None, str], Meta], kind: str, namespace: str, name: str
) -> tuple[Meta | None, str | None]:
    """The owner's metadata and namespace; an owner of a namespaced object is in the same
    namespace or cluster-scoped (ownerReferences cannot cross namespaces)."""
    meta = objects.get((kind, namespace, name))
    if meta is not None:
        return meta, namespace
    meta = objects.get((kind, None, name))
    if meta is not None:
        return meta, None
    # An absent owner: workload kinds and the usual operator CRs are namespaced.
    return None, namespace


def _walk_up(
    model: ClusterModel,
    objects: dict[tuple[str, str | None, str], Meta],
    first: OwnerRef,
    namespace: str,
) -> list[OwnerLink]:
    chain: list[OwnerLink] = []
    seen: set[tuple[str, str | None, str]] = set()
    ref: OwnerRef | None = first
    via = "ownerReferences"
    while ref is not None and len(chain) < _MAX_DEPTH:
        kind = ref.kind or _kind_by_name(model, namespace, ref.name)
        meta, ns = _lookup(objects, kind, namespace, ref.name)
        key = (kind, ns, ref.name)
        if key in seen:
            break
        seen.add(key)
        chain.append(OwnerLink(kind, ns, ref.name, meta is not None, via, ref.api_version))
        if meta is None:
            break
        ref = _controller(meta.owner_refs)
    return chain


def _bridge_missing(
    model: ClusterModel,
    objects: dict[tuple[str, str | None, str], Meta],
    pod: Pod,
    chain: list[OwnerLink],
) -> None:
    """Continue past an owner absent from the input when the model's owner index bridged it
    (a ReplicaSet by the pod-template-hash, a Job by the CronJob's job name: the
    conventions live in :class:`netsleuth.model.cluster.ClusterModel`'s owner walk)."""
    if chain[-1].present:
        return
    top = model.owner(pod)
    if top.kind == "Pod" or any((o.kind, o.name) == (top.kind, top.name) for o in chain):
        return
    meta = objects.get((top.kind, top.namespace, top.name))
    if meta is None:
        return
    via = {"Deployment": "pod-template-hash label", "CronJob": "CronJob job name"}.get(
        top.kind, "owner index"
    )
    chain.append(OwnerLink(top.kind, top.namespace, top.name, True, via))
    above = _controller(meta.owner_refs)
    if above is not None:
        chain.extend(_walk_up(model, objects, above, top.namespace)[: _MAX_DEPTH - len(chain)])


def pod_ownership(model: ClusterModel, pod: Pod) -> Ownership:
    """The owner chain of ``pod`` (computed once per pod and model)."""
    memo: dict[tuple[str, str], Ownership] = model.memoised("facts.pod_ownership", dict)
    hit = memo.get(pod.key)
    if hit is not None and hit.pod is pod:
        return hit
    chain: list[OwnerLink] = []
    refs = pod.meta.owner_refs
    # As the model's owner(): the controller reference, else the first one.
    first = _controller(refs) or (refs[0] if refs else None)
    if first is not None and first.kind != "Node":  # mirror pods are owned by their Node
        objects = _objects_by_key(model)
        chain = _walk_up(model, objects, first, pod.namespace)
        if chain:
            _bridge_missing(model, objects, pod, chain)
    result = Ownership(pod, tuple(chain))
    memo[pod.key] = result
    return result


def workload_ownership(
    model: ClusterModel, kind: str, namespace: str, name: str
) -> tuple[OwnerLink, ...]:
    """The owners above a workload (ReplicaSet → Deployment, Job → CronJob), nearest first."""
    objects = _objects_by_key(model)
    meta = objects.get((kind, namespace, name))
    if meta is None:
        return ()
    first = _controller(meta.owner_refs)
    if first is None:
        return ()
    return tuple(_walk_up(model, objects, first, namespace))


def managing_object(
    model: ClusterModel, pod: Pod, kinds: Collection[str] | None = None
) -> tuple[str, Meta]:
    """``(kind, meta)`` of the highest owner of ``pod`` that the input holds (of ``kinds``
    when given), else the pod itself.

    What a finding about a pod names: a person changes the Deployment, not
    the ReplicaSet or the pod.
    """
    objects = _objects_by_key(model)
    for link in reversed(pod_ownership(model, pod).chain):
        if not link.present or (kinds is not None and link.kind not in kinds):
            continue
        meta = objects.get((link.kind, link.namespace, link.name))
        if meta is not None:
            return link.kind, meta
    return "Pod", pod.meta


def workload_subject(model: ClusterModel, pod: Pod) -> tuple[str, Meta]:
    """``(kind, meta)`` of the pod's top-level workload (Deployment, StatefulSet, DaemonSet,
    CronJob…) in the input, else the pod itself."""
    return managing_object(model, pod, WORKLOAD_KINDS)


__all__ = [
    "OwnerLink",
    "Ownership",
    "managing_object",
    "pod_ownership",
    "workload_ownership",
    "workload_subject",
]

"""What a finding about a pod should name: its workload when the input has it.

A dump often holds Deployments and pods but not the ReplicaSets between them;
the pod's ``pod-template-hash`` label then links the ReplicaSet name back to
its Deployment (``<deployment>-<hash>``).
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Meta, Pod


def workload_subject(model: ClusterModel, pod: Pod) -> tuple[str, Meta]:
    """``(kind, meta)`` of the pod's top-level workload in the input, else the pod itself."""
    owner = model.owner(pod)
    if owner.kind == "Pod":
        return "Pod", pod.meta
    w = model.workload(owner.kind, owner.namespace, owner.name)
    if w is not None:
        return w.kind, w.meta
    if owner.kind == "ReplicaSet":
        h = pod.labels.get("pod-template-hash")
        if h and owner.name.endswith("-" + h):
            dep = model.workload("Deployment", owner.namespace, owner.name[: -len(h) - 1])
            if dep is not None:
                return "Deployment", dep.meta
    return "Pod", pod.meta

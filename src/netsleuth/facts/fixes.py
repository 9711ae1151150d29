"""Fixes that target the attributed object, are never a no-op on the input, and never widen
security beyond the pair in question.

Shared by checks and trace so both print the same remedy:

- a pod-template change goes to the managing object's template (the
  Deployment, the CronJob's ``jobTemplate``), which also rolls the pods;
- a Job's template and a bare pod's spec are immutable: the fix says
  "recreate";
- bringing a client into the Istio mesh injects *that workload* (its pod
  template label ``sidecar.istio.io/inject: "true"``), never relaxes the
  server's PeerAuthentication and never labels a whole namespace; when the
  namespace already asks for injection, the pods only need recreating.
"""

from __future__ import annotations

from typing import Any

from netsleuth.facts.attribution import Culprit, workload_of
from netsleuth.facts.mesh_membership import INJECT_KEY, injection
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, json_patch, kubectl, merge_patch
from netsleuth.model.findings import Fix
from netsleuth.model.objects import Pod

# kind -> (kubectl resource, path of the pod template in the object)
TEMPLATE_PATHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Deployment": ("deployment", ("spec", "template")),
    "StatefulSet": ("statefulset", ("spec", "template")),
    "DaemonSet": ("daemonset", ("spec", "template")),
    "ReplicaSet": ("replicaset", ("spec", "template")),
    "ReplicationController": ("replicationcontroller", ("spec", "template")),
    "CronJob": ("cronjob", ("spec", "jobTemplate", "spec", "template")),
}

ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def _nest(path: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = leaf
    for key in reversed(path):
        out = {key: out}
    return out


def template_patch(culprit: Culprit, template: dict[str, Any]) -> Command | None:
    """``kubectl patch`` merging ``template`` (``{"metadata": …, "spec": …}``) into the pod template
    of ``culprit``; ``None`` when its kind has no patchable template (a Job, a bare pod, an
    operator CR whose schema we do not model)."""
    entry = TEMPLATE_PATHS.get(culprit.kind)
    if entry is None:
        return None
    resource, path = entry
    return merge_patch(resource, culprit.namespace, culprit.name, _nest(path, template))


def template_path(culprit: Culprit) -> str:
    """Where the pod template lives in ``culprit`` (``spec.template``), for prose."""
    entry = TEMPLATE_PATHS.get(culprit.kind)
    return ".".join(entry[1]) if entry else "the pod spec"


def restart_command(culprit: Culprit) -> Command | None:
    """``kubectl rollout restart`` for a Deployment/StatefulSet/DaemonSet, else ``None``."""
    if culprit.kind not in ROLLOUT_KINDS:
        return None
    return kubectl(
        "-n",
        culprit.namespace or "default",
        "rollout",
        "restart",
        f"{culprit.kind.lower()}/{culprit.name}",
    )


def recreate_text(culprit: Culprit) -> str:
    """What to say when the field to change is immutable on the object."""
    if culprit.kind == "Job":
        return (
            f"A Job's pod template is immutable: delete and recreate {culprit.ref()} with the change "
            "(or change its CronJob, if one creates it)."
        )
    if culprit.kind == "Pod":
        return f"A pod's spec is immutable: recreate {culprit.ref()} with the change."
    return f"Change {culprit.ref()} (its operator recreates the pods)."


def join_mesh_fix(model: ClusterModel, pod: Pod) -> tuple[Culprit, Fix]:
    """Bring the workload of ``pod`` (a client outside the mesh) into the mesh, and nothing else.

    - opted out by ``sidecar.istio.io/inject: "false"`` on the template: the
      opt-out is what to remove;
    - its namespace already asks for injection: the pods predate it, recreate
      them (``rollout restart``);
    - otherwise: label this workload's pod template
      ``sidecar.istio.io/inject: "true"`` (Istio's injector honours the pod
      label without a namespace label), which also rolls the pods.
    """
    owner = workload_of(model, pod)
    inj = injection(model, pod)
    where = template_path(owner)
    if inj.expected is False and INJECT_KEY in inj.field:
        in_labels = INJECT_KEY in pod.labels
        entry = TEMPLATE_PATHS.get(owner.kind)
        cmd = None
        if entry is not None:
            key = INJECT_KEY.replace("/", "~1")
            section = "labels" if in_labels else "annotations"
            cmd = json_patch(
                entry[0],
                owner.namespace,
                owner.name,
                [{"op": "remove", "path": "/" + "/".join((*entry[1], "metadata", section, key))}],
            )
        return owner, Fix(
            text=f"Remove the opt-out {INJECT_KEY}=false from {owner.ref()}'s {where} so its pods get "
            "a sidecar (the server keeps requiring mTLS).",
            command=cmd,
        )
    if inj.expected is True:
        restart = restart_command(owner)
        return owner, Fix(
            text=f"{inj.reason[0].upper() + inj.reason[1:]} already; the pods of {owner.ref()} predate "
            "injection: recreate them so the injector adds the sidecar"
            + ("." if restart is not None else f". {recreate_text(owner)}"),
            command=restart,
        )
    # A ReplicaSet's template change reaches only the pods it creates next: no command then.
    cmd = (
        template_patch(owner, {"metadata": {"labels": {INJECT_KEY: "true"}}})
        if owner.kind != "ReplicaSet" and owner.present
        else None
    )
    return owner, Fix(
        text=f"Inject a sidecar into {owner.ref()} only: label its {where} {INJECT_KEY}=true (this rolls "
        "its pods); the server keeps requiring mTLS and no other workload changes."
        + ("" if cmd is not None else f" {recreate_text(owner)}"),
        command=cmd,
    )


__all__ = [
    "TEMPLATE_PATHS",
    "join_mesh_fix",
    "recreate_text",
    "restart_command",
    "template_patch",
    "template_path",
]

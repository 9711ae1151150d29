"""Fields the API server refuses to change on an existing object.

A printed fix that patches one of them is rejected (``field is immutable``,
``Forbidden: updates to statefulset spec for fields other than …``): such a
fix must say *recreate* instead. Checks and the tracer build their fixes
through :func:`guard_fix`, and ``tests/checks/test_immutable_fixes.py`` holds
every printed fix to it.

The fields, from the API server's validation (``pkg/apis/*/validation``) and the
API reference:

- every object: ``metadata.name``, ``metadata.namespace``, ``metadata.uid``;
- Service: ``spec.clusterIP``/``spec.clusterIPs`` (only a change of ``type``
  to or from ExternalName may touch them), the primary IP family
  ``spec.ipFamilies[0]`` (a secondary family may be added or removed),
  ``spec.loadBalancerClass``
  (https://kubernetes.io/docs/concepts/services-networking/service/#load-balancer-class);
- Deployment, ReplicaSet, DaemonSet: ``spec.selector`` (apps/v1);
- StatefulSet: everything in ``spec`` but ``replicas``, ``ordinals``,
  ``template``, ``updateStrategy``, ``revisionHistoryLimit``,
  ``persistentVolumeClaimRetentionPolicy`` and ``minReadySeconds``;
- Job: ``spec.selector``, ``spec.template``, ``spec.completionMode``;
- Pod: ``spec`` but the container images, ``activeDeadlineSeconds``,
  ``tolerations`` (additions), ``terminationGracePeriodSeconds`` and
  ``schedulingGates``;
- PersistentVolumeClaim: ``spec`` but ``resources.requests`` (expansion) and
  ``volumeAttributesClassName``;
- Node: ``spec.podCIDR``/``spec.podCIDRs`` and ``spec.providerID`` once set;
- EndpointSlice ``addressType``; IngressClass ``spec.controller``;
  GatewayClass ``spec.controllerName``.

A merge patch replaces a list whole, so setting ``spec.ipFamilies`` counts as
changing the primary family; a JSON patch that appends a second family does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from netsleuth.model.commands import Command, Snippet
from netsleuth.model.findings import Fix

Path = tuple[str | int, ...]

RESOURCE_KINDS: dict[str, str] = {
    "svc": "Service",
    "service": "Service",
    "services": "Service",
    "deploy": "Deployment",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "rs": "ReplicaSet",
    "replicaset": "ReplicaSet",
    "replicasets": "ReplicaSet",
    "ds": "DaemonSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "sts": "StatefulSet",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "job": "Job",
    "jobs": "Job",
    "po": "Pod",
    "pod": "Pod",
    "pods": "Pod",
    "pvc": "PersistentVolumeClaim",
    "persistentvolumeclaim": "PersistentVolumeClaim",
    "persistentvolumeclaims": "PersistentVolumeClaim",
    "no": "Node",
    "node": "Node",
    "nodes": "Node",
    "endpointslice": "EndpointSlice",
    "endpointslices": "EndpointSlice",
    "ingressclass": "IngressClass",
    "ingressclasses": "IngressClass",
    "gatewayclass": "GatewayClass",
    "gatewayclasses": "GatewayClass",
}

_EVERY_KIND: tuple[Path, ...] = (
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("metadata", "uid"),
)

IMMUTABLE: dict[str, tuple[Path, ...]] = {
    "Service": (
        ("spec", "clusterIP"),
        ("spec", "clusterIPs"),
        ("spec", "ipFamilies", 0),
        ("spec", "loadBalancerClass"),
    ),
    "Deployment": (("spec", "selector"),),
    "ReplicaSet": (("spec", "selector"),),
    "DaemonSet": (("spec", "selector"),),
    "Job": (("spec", "selector"), ("spec", "template"), ("spec", "completionMode")),
    "Node": (("spec", "podCIDR"), ("spec", "podCIDRs"), ("spec", "providerID")),
    "EndpointSlice": (("addressType",),),
    "IngressClass": (("spec", "controller"),),
    "GatewayClass": (("spec", "controllerName"),),
}
"""Per kind, the paths that cannot change (a list index is an int)."""

SPEC_MUTABLE_ONLY: dict[str, tuple[Path, ...]] = {
    "StatefulSet": (
        ("spec", "replicas"),
        ("spec", "ordinals"),
        ("spec", "template"),
        ("spec", "updateStrategy"),
        ("spec", "revisionHistoryLimit"),
        ("spec", "persistentVolumeClaimRetentionPolicy"),
        ("spec", "minReadySeconds"),
    ),
    "Pod": (
        ("spec", "containers", "*", "image"),
        ("spec", "initContainers", "*", "image"),
        ("spec", "activeDeadlineSeconds"),
        ("spec", "tolerations"),
        ("spec", "terminationGracePeriodSeconds"),
        ("spec", "schedulingGates"),
    ),
    "PersistentVolumeClaim": (
        ("spec", "resources", "requests"),
        ("spec", "volumeAttributesClassName"),
    ),
}
"""Kinds whose ``spec`` is immutable except these paths (``*`` is any list index)."""


def _leaves(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """The paths a merge patch sets: mappings are merged key by key, anything else (lists
    included, RFC 7386) replaces the value at its path."""
    if isinstance(value, Mapping) and value:
        for k, v in value.items():
            yield from _leaves(v, (*prefix, str(k)))
    else:
        yield prefix


def _pointer(path: str) -> Path:
    out: list[str | int] = []
    for part in path.lstrip("/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        out.append(int(part) if part.isdigit() else part)
    return tuple(out)


def _prefix(a: Path, b: Path) -> bool:
    """``a`` is a prefix of ``b`` (``*`` in ``a`` matches any index)."""
    return len(a) <= len(b) and all(x == "*" or x == y for x, y in zip(a, b, strict=False))


def _text(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def immutable_paths(kind: str, touched: list[Path]) -> list[str]:
    """The immutable fields of ``kind`` that a change touching ``touched`` would change."""
    rules = (*_EVERY_KIND, *IMMUTABLE.get(kind, ()))
    hit: list[str] = []
    for t in touched:
        for r in rules:
            # the change sets the field itself, something inside it, or a whole object above it
            if _prefix(r, t) or _prefix(t, r):
                hit.append(_text(r))
        allowed = SPEC_MUTABLE_ONLY.get(kind)
        if allowed is not None and t[:1] == ("spec",) and not any(_prefix(a, t) for a in allowed):
            hit.append(_text(t))
    return list(dict.fromkeys(hit))


def patch_paths(patch_type: str, body: Any) -> list[Path]:
    """The paths a ``kubectl patch --type TYPE -p BODY`` changes."""
    if patch_type == "json":
        return [
            _pointer(str(op.get("path", "")))
            for op in body
            if isinstance(op, Mapping) and op.get("op") not in ("test",)
        ]
    return list(_leaves(body))


def command_target(command: Command) -> tuple[str, list[Path]] | None:
    """``(kind, paths)`` for a ``kubectl patch`` command; ``None`` for anything else."""
    argv = list(command.argv)
    if not argv or argv[0] != "kubectl" or "patch" not in argv:
        return None
    for flag in ("-n", "--namespace"):
        if flag in argv:
            i = argv.index(flag)
            del argv[i : i + 2]
    i = argv.index("patch")
    if i + 1 >= len(argv):
        return None
    res = argv[i + 1].split("/", 1)[0].lower()
    kind = RESOURCE_KINDS.get(res) or RESOURCE_KINDS.get(res.split(".", 1)[0])
    if kind is None or "-p" not in argv:
        return None
    patch_type = argv[argv.index("--type") + 1] if "--type" in argv else "strategic"
    try:
        body = json.loads(argv[argv.index("-p") + 1])
    except (ValueError, IndexError):
        return None
    return kind, patch_paths(patch_type, body)


def command_changes_immutable(command: Command) -> list[str]:
    """The immutable fields a ``kubectl patch`` command would change (empty: it may apply)."""
    found = command_target(command)
    if found is None:
        return []
    kind, paths = found
    return immutable_paths(kind, paths)


def snippet_changes_immutable(kind: str, snippet: Snippet) -> list[str]:
    """The immutable fields of ``kind`` that merging ``snippet`` into the manifest changes."""
    return immutable_paths(kind, list(_leaves(snippet.data)))


def recreate_note(kind: str, ref: str, fields: list[str]) -> str:
    what = ", ".join(fields)
    return (
        f"{what} of a {kind} is immutable (the API server rejects a patch): recreate {ref} with the "
        "change (kubectl get -o yaml, edit, kubectl replace --force -f; this deletes it first)."
    )


def guard_fix(fix: Fix | None, kind: str, ref: str) -> Fix | None:
    """``fix`` unless it patches an immutable field: then its command is dropped and its text
    says to recreate the object. A snippet on an immutable field stays (it is what the new
    object holds) and the text says recreate."""
    if fix is None:
        return None
    if fix.command is not None:
        fields = command_changes_immutable(fix.command)
        if fields:
            target = command_target(fix.command)
            tkind = target[0] if target else kind
            return replace(
                fix, command=None, text=f"{fix.text} {recreate_note(tkind, ref, fields)}".strip()
            )
    if fix.snippet is not None and "recreate" not in fix.text.lower():
        fields = snippet_changes_immutable(kind, fix.snippet)
        if fields:
            return replace(fix, text=f"{fix.text} {recreate_note(kind, ref, fields)}".strip())
    return fix


__all__ = [
    "IMMUTABLE",
    "SPEC_MUTABLE_ONLY",
    "command_changes_immutable",
    "command_target",
    "guard_fix",
    "immutable_paths",
    "patch_paths",
    "snippet_changes_immutable",
]

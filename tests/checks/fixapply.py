"""Apply a printed fix to the input, the way the API server would, and rebuild the model.

Used by ``test_fix_discipline.py`` to hold fixes to their promise: applied to
the objects they name, the finding goes away. Supports what netsleuth prints:

- ``kubectl [-n NS] patch RES NAME --type merge|json -p JSON`` (RFC 7386 merge,
  RFC 6902 operations including ``test``);
- ``kubectl [-n NS] set resources KIND/NAME -c C --limits=k=v[,k=v]``;
- ``kubectl [-n NS] annotate RES NAME k=v [--overwrite]``;
- ``kubectl set env KIND NAME -n NS K=V``;
- a :class:`Snippet` merged into the subject: lists of policy rules appended
  (``ingress``/``egress`` go under ``spec``), mappings merged.

Commands whose effect is outside the objects (restart or delete pods,
``sysctl`` on a node, ``kubectl edit``) raise :class:`NotSimulated`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from netsleuth.model.cluster import ClusterModel, build_model
from netsleuth.model.commands import Command, Snippet
from netsleuth.model.findings import Subject
from netsleuth.sources.base import Collected, RawObject
from netsleuth.sources.load import decode_all
from netsleuth.sources.manifests import ManifestSource

RESOURCE_KIND = {
    "svc": "Service",
    "service": "Service",
    "deploy": "Deployment",
    "deployment": "Deployment",
    "ds": "DaemonSet",
    "daemonset": "DaemonSet",
    "sts": "StatefulSet",
    "statefulset": "StatefulSet",
    "rs": "ReplicaSet",
    "replicaset": "ReplicaSet",
    "cronjob": "CronJob",
    "networkpolicy": "NetworkPolicy",
    "netpol": "NetworkPolicy",
    "ingress": "Ingress",
    "configmap": "ConfigMap",
    "cm": "ConfigMap",
    "peerauthentication": "PeerAuthentication",
    "node": "Node",
}


class NotSimulated(Exception):
    """The command acts on running processes or nodes, not on the objects."""


def collect(paths: list[str]) -> list[Collected]:
    return list(ManifestSource(paths).collect())


def build(collected: Iterable[Collected]) -> ClusterModel:
    objects, problems = decode_all(collected)
    return build_model(objects, problems)


def _find(items: list[Collected], kind: str, ns: str | None, name: str) -> dict[str, Any]:
    for it in items:
        if not isinstance(it, RawObject):
            continue
        d = it.data
        m = d.get("metadata") or {}
        if (
            d.get("kind") == kind
            and m.get("name") == name
            and (ns is None or m.get("namespace", "default") == ns or kind == "Node")
        ):
            return d
    raise LookupError(f"{kind}/{ns}/{name} is not in the input")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]


def json_patch(doc: dict[str, Any], ops: list[dict[str, Any]]) -> dict[str, Any]:
    """RFC 6902 add/remove/replace/test."""
    doc = copy.deepcopy(doc)
    for op in ops:
        parts = _pointer(op["path"])
        parent: Any = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        key: Any = int(last) if isinstance(parent, list) and last != "-" else last
        if op["op"] == "test":
            assert parent[key] == op["value"], f"json patch test failed at {op['path']}"
        elif op["op"] == "remove":
            del parent[key]
        elif op["op"] == "replace":
            assert (key in parent) if isinstance(parent, dict) else key < len(parent)
            parent[key] = op["value"]
        elif op["op"] == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if last == "-" else key, op["value"])
            else:
                parent[key] = op["value"]
        else:
            raise NotSimulated(f"json patch op {op['op']}")
    return doc


def target_of(command: Command) -> Subject | None:
    """The object a kubectl command changes (``None`` for commands on processes or nodes)."""
    argv = list(command.argv)
    if argv[0] != "kubectl":
        return None
    ns = None
    if "-n" in argv:
        i = argv.index("-n")
        ns = argv[i + 1]
        del argv[i : i + 2]
    verb = argv[1]
    if verb in ("patch", "annotate", "label"):
        res, name = argv[2], argv[3]
        if "/" in res:
            res, name = res.split("/", 1)
        kind = RESOURCE_KIND.get(res.lower())
        return Subject(kind, ns, name) if kind else None
    if verb == "set" and argv[2] == "resources":
        res, name = argv[3].split("/", 1)
        return Subject(RESOURCE_KIND[res.lower()], ns, name)
    if verb == "set" and argv[2] == "env":
        return Subject(RESOURCE_KIND[argv[3].lower()], ns, argv[4])
    return None


def apply_command(items: list[Collected], command: Command) -> list[Collected]:
    """``items`` with ``command`` applied to the object it names (a deep copy)."""
    target = target_of(command)
    if target is None:
        raise NotSimulated(str(command))
    out = copy.deepcopy(items)
    obj = _find(out, target.kind, target.namespace, target.name)
    argv = list(command.argv)
    if "-n" in argv:
        i = argv.index("-n")
        del argv[i : i + 2]
    verb = argv[1]
    if verb == "patch":
        kind = argv[argv.index("--type") + 1]
        body = json.loads(argv[argv.index("-p") + 1])
        new = merge_patch(obj, body) if kind == "merge" else json_patch(obj, body)
        obj.clear()
        obj.update(new)
    elif verb in ("annotate", "label"):
        section = "annotations" if verb == "annotate" else "labels"
        for a in argv[4:]:
            if "=" in a and not a.startswith("-"):
                k, v = a.split("=", 1)
                obj.setdefault("metadata", {}).setdefault(section, {})[k] = v
    elif verb == "set" and argv[2] == "resources":
        cname = argv[argv.index("-c") + 1] if "-c" in argv else None
        limits = next(a for a in argv if a.startswith("--limits=")).split("=", 1)[1]
        for c in obj["spec"]["template"]["spec"]["containers"]:
            if cname is None or c["name"] == cname:
                res = c.setdefault("resources", {}).setdefault("limits", {})
                for kv in limits.split(","):
                    k, v = kv.split("=", 1)
                    res[k] = v
    elif verb == "set" and argv[2] == "env":
        pairs = [a for a in argv[5:] if "=" in a and not a.startswith("-")]
        for c in obj["spec"]["template"]["spec"]["containers"]:
            env = c.setdefault("env", [])
            for kv in pairs:
                k, v = kv.split("=", 1)
                env[:] = [e for e in env if e.get("name") != k] + [{"name": k, "value": v}]
    else:
        raise NotSimulated(str(command))
    # the pods of a changed template follow it, as the controller rolls them
    _roll(out, target, obj)
    return out


def _roll(items: list[Collected], target: Subject, obj: dict[str, Any]) -> None:
    """Pods (and ReplicaSets) of a workload whose template changed take the new template."""
    tmpl = (obj.get("spec") or {}).get("template")
    if target.kind not in ("Deployment", "DaemonSet", "StatefulSet", "ReplicaSet") or not tmpl:
        return
    owners = {target.name}
    for it in items:
        if isinstance(it, RawObject) and it.data.get("kind") == "ReplicaSet":
            refs = (it.data.get("metadata") or {}).get("ownerReferences") or []
            if any(r.get("name") == target.name and r.get("kind") == target.kind for r in refs):
                owners.add(it.data["metadata"]["name"])
                it.data["spec"]["template"] = merge_patch(it.data["spec"]["template"], tmpl)
    for it in items:
        if not isinstance(it, RawObject) or it.data.get("kind") != "Pod":
            continue
        m = it.data.get("metadata") or {}
        if m.get("namespace", "default") != target.namespace:
            continue
        if any(r.get("name") in owners for r in m.get("ownerReferences") or []):
            _recreate(it.data, tmpl)


def _recreate(pod: dict[str, Any], tmpl: dict[str, Any]) -> None:
    """What the controller's replacement pod looks like: the template's labels and spec,
    fresh container statuses, and Istio's injector adding its sidecar when asked to."""
    m = pod.setdefault("metadata", {})
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    m.setdefault("labels", {}).update(labels)
    spec = pod.setdefault("spec", {})
    tspec = tmpl.get("spec") or {}
    for k, v in tspec.items():
        if k != "containers":
            spec[k] = copy.deepcopy(v)
    for c in tspec.get("containers") or []:
        for pc in spec.get("containers") or []:
            if pc.get("name") == c.get("name"):
                pc.update({k: v for k, v in c.items() if k != "name"})
    if m["labels"].get("sidecar.istio.io/inject") == "true" and not any(
        c.get("name") == "istio-proxy" for c in spec.get("containers") or []
    ):
        spec.setdefault("containers", []).append(
            {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.23.2"}
        )
    status = pod.get("status") or {}
    for cs in status.get("containerStatuses") or []:
        cs["restartCount"] = 0
        cs["lastState"] = {}


def apply_snippet(items: list[Collected], subject: Subject, snippet: Snippet) -> list[Collected]:
    """``items`` with ``snippet`` merged into ``subject``: policy rules appended under spec."""
    out = copy.deepcopy(items)
    obj = _find(out, subject.kind, subject.namespace, subject.name)
    data = json.loads(json.dumps(snippet.data))
    if subject.kind == "NetworkPolicy":
        spec = obj.setdefault("spec", {})
        for key in ("ingress", "egress"):
            if key in data:
                spec.setdefault(key, [])
                spec[key] = list(spec[key] or []) + data.pop(key)
        if data:
            obj.update(merge_patch(obj, data))
    else:
        new = merge_patch(obj, data)
        obj.clear()
        obj.update(new)
        _roll(out, subject, obj)
    return out


__all__ = [
    "NotSimulated",
    "apply_command",
    "apply_snippet",
    "build",
    "collect",
    "json_patch",
    "merge_patch",
    "target_of",
]

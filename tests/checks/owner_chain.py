"""Complete a fixture dump the way ``kubectl get -A -o yaml`` would show it.

``python tests/checks/owner_chain.py tests/checks/fixtures/<ID>/<bad|good> …`` rewrites each
folder's ``cluster.yaml`` in place (and is idempotent):

- a pod owned by a ReplicaSet missing from the dump gets it (the pod's labels and
  spec as template); when the ReplicaSet's name is ``<deployment>-<pod-template-hash>``
  its Deployment is added too (the Deployment controller's naming), owning it;
- a pod owned by a missing DaemonSet, StatefulSet or Job gets that owner;
- every ownerReference carries the owner's real uid;
- a Service with a selector and no EndpointSlice gets the slice the EndpointSlice
  controller would write (ready pods ready, others not; named target ports resolved);
- each pod with no Event gets the scheduler's ``Scheduled`` event.

``test_fixtures_are_owner_chained`` holds every fixture to these rules.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

WORKLOAD_API = {
    "ReplicaSet": "apps/v1",
    "Deployment": "apps/v1",
    "DaemonSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
}


def uid_for(kind: str, ns: str | None, name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"netsleuth-fixture/{kind}/{ns or ''}/{name}"))


def _key(o: Obj) -> tuple[str, str | None, str]:
    m = o.get("metadata") or {}
    return (o.get("kind", ""), m.get("namespace"), m.get("name", ""))


def _ready(p: Obj) -> bool:
    for c in (p.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True")
    return False


def _template(p: Obj, extra_labels: dict[str, str] | None = None) -> Obj:
    labels = dict((p.get("metadata") or {}).get("labels") or {})
    labels.update(extra_labels or {})
    spec = {k: v for k, v in (p.get("spec") or {}).items() if k not in ("nodeName",)}
    return {"metadata": {"labels": labels}, "spec": spec}


def _owner_ref(kind: str, ns: str | None, name: str) -> Obj:
    return {
        "apiVersion": WORKLOAD_API.get(kind, "apps/v1"),
        "kind": kind,
        "name": name,
        "uid": uid_for(kind, ns, name),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _workload(kind: str, ns: str, name: str, pods: list[Obj], owner: Obj | None) -> Obj:
    p = pods[0]
    labels = {
        k: v
        for k, v in ((p.get("metadata") or {}).get("labels") or {}).items()
        if k
        not in (
            "controller-revision-hash",
            "pod-template-generation",
            "statefulset.kubernetes.io/pod-name",
        )
        and (kind == "ReplicaSet" or k != "pod-template-hash")
    }
    ready = sum(1 for q in pods if _ready(q))
    meta: Obj = {
        "name": name,
        "namespace": ns,
        "uid": uid_for(kind, ns, name),
        "labels": dict(labels),
        "generation": 1,
    }
    if owner is not None:
        meta["ownerReferences"] = [owner]
    obj: Obj = {
        "apiVersion": WORKLOAD_API.get(kind, "apps/v1"),
        "kind": kind,
        "metadata": meta,
        "spec": {"selector": {"matchLabels": dict(labels)}, "template": _template(p)},
    }
    obj["spec"]["template"]["metadata"]["labels"] = dict(labels)
    if kind in ("ReplicaSet", "Deployment", "StatefulSet"):
        obj["spec"]["replicas"] = len(pods)
        obj["status"] = {
            "replicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": 1,
        }
        if kind == "Deployment":
            obj["status"]["updatedReplicas"] = len(pods)
    elif kind == "DaemonSet":
        obj["status"] = {
            "desiredNumberScheduled": len(pods),
            "currentNumberScheduled": len(pods),
            "numberReady": ready,
            "numberAvailable": ready,
            "updatedNumberScheduled": len(pods),
            "numberMisscheduled": 0,
        }
    elif kind == "Job":
        obj["spec"].pop("selector")
        obj["status"] = {"active": len(pods)}
    return obj


def _slice(svc: Obj, pods: list[Obj]) -> Obj:
    m = svc["metadata"]
    ports = []
    for sp in (svc.get("spec") or {}).get("ports") or []:
        tp = sp.get("targetPort", sp.get("port"))
        if isinstance(tp, str) and not tp.isdigit():
            number = next(
                (
                    cp["containerPort"]
                    for p in pods
                    for c in (p.get("spec") or {}).get("containers") or []
                    for cp in c.get("ports") or []
                    if cp.get("name") == tp
                ),
                None,
            )
        else:
            number = int(tp)
        entry: Obj = {"port": number, "protocol": sp.get("protocol", "TCP")}
        if sp.get("name"):
            entry["name"] = sp["name"]
        ports.append(entry)
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "addressType": "IPv4",
        "metadata": {
            "name": f"{m['name']}-x7k2p",
            "namespace": m.get("namespace", "default"),
            "labels": {
                "kubernetes.io/service-name": m["name"],
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        },
        "endpoints": [
            {
                "addresses": [(p.get("status") or {}).get("podIP")],
                "conditions": {"ready": _ready(p), "serving": _ready(p), "terminating": False},
                "nodeName": (p.get("spec") or {}).get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "name": p["metadata"]["name"],
                    "namespace": m.get("namespace", "default"),
                },
            }
            for p in pods
            if (p.get("status") or {}).get("podIP")
        ]
        or None,
        "ports": ports,
    }


def complete(objs: list[Obj]) -> list[Obj]:
    """``objs`` with owner chains, slices and scheduler events completed."""
    have = {_key(o) for o in objs}
    added: list[Obj] = []
    pods = [o for o in objs if o.get("kind") == "Pod"]
    by_owner: dict[tuple[str, str, str], list[Obj]] = {}
    for p in pods:
        m = p.setdefault("metadata", {})
        ns = m.get("namespace", "default")
        for ref in m.get("ownerReferences") or []:
            if ref.get("kind") in WORKLOAD_API:
                ref["uid"] = uid_for(ref["kind"], ns, ref["name"])
                by_owner.setdefault((ref["kind"], ns, ref["name"]), []).append(p)
    for (kind, ns, name), owned in sorted(by_owner.items()):
        if (kind, ns, name) in have:
            continue
        owner = None
        if kind == "ReplicaSet":
            h = ((owned[0].get("metadata") or {}).get("labels") or {}).get("pod-template-hash")
            if h and name.endswith("-" + h):
                dep = name[: -len(h) - 1]
                owner = _owner_ref("Deployment", ns, dep)
                if ("Deployment", ns, dep) not in have:
                    d = _workload("Deployment", ns, dep, owned, None)
                    added.append(d)
                    have.add(("Deployment", ns, dep))
        added.append(_workload(kind, ns, name, owned, owner))
        have.add((kind, ns, name))
    # existing owners: give their uid, and an RS named after an existing Deployment its owner
    for o in objs:
        k, ns, name = _key(o)
        if k in WORKLOAD_API:
            o["metadata"]["uid"] = uid_for(k, ns, name)
        for ref in (o.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("kind") in WORKLOAD_API:
                ref["uid"] = uid_for(ref["kind"], ns, ref["name"])
    out = objs + added
    # EndpointSlices for selector Services that have none
    sliced = {
        (
            (o.get("metadata") or {}).get("namespace"),
            ((o.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name"),
        )
        for o in out
        if o.get("kind") == "EndpointSlice"
    }
    for svc in [o for o in out if o.get("kind") == "Service"]:
        spec = svc.get("spec") or {}
        sel = spec.get("selector")
        ns = svc["metadata"].get("namespace", "default")
        if not sel or spec.get("type") == "ExternalName" or (ns, svc["metadata"]["name"]) in sliced:
            continue
        chosen = [
            p
            for p in pods
            if (p.get("metadata") or {}).get("namespace", "default") == ns
            and all(
                ((p.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in sel.items()
            )
        ]
        out.append(_slice(svc, chosen))
    # the scheduler's event for pods no event mentions
    mentioned = {
        (
            (o.get("involvedObject") or {}).get("namespace"),
            (o.get("involvedObject") or {}).get("name"),
        )
        for o in out
        if o.get("kind") == "Event"
    }
    for p in pods:
        m = p["metadata"]
        ns = m.get("namespace", "default")
        node = (p.get("spec") or {}).get("nodeName")
        if (ns, m["name"]) in mentioned or not node:
            continue
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{m['name']}.17f3a9c2d4e5b6a0", "namespace": ns},
                "involvedObject": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": m["name"],
                    "namespace": ns,
                },
                "reason": "Scheduled",
                "message": f"Successfully assigned {ns}/{m['name']} to {node}",
                "type": "Normal",
                "count": 1,
                "source": {"component": "default-scheduler"},
            }
        )
    return out


def _load(path: Path) -> tuple[list[Obj], bool]:
    docs = [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
    if len(docs) == 1 and docs[0].get("kind") == "List":
        return list(docs[0].get("items") or []), True
    return docs, False


def rewrite(folder: Path) -> None:
    path = folder / "cluster.yaml"
    if not path.is_file():
        return
    objs, as_list = _load(path)
    out = complete(objs)
    if as_list:
        text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": out}, sort_keys=False)
    else:
        text = "---\n".join(yaml.safe_dump(o, sort_keys=False) for o in out)
    path.write_text(text)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        rewrite(Path(arg))

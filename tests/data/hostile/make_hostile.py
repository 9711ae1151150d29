"""Write ``cluster.yaml``: the label-drift scenario with hostile names planted in it.

Run from the repository root: ``.venv/bin/python tests/data/hostile/make_hostile.py``.
Deterministic; the output is committed. See README.md for what each name attacks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
BASE = HERE.parents[1] / "scenarios" / "label-drift" / "cluster.yaml"

# Shell payloads: each would create ./canary (or run a program no stub provides) if a
# printed command interpolated it unquoted. Builtins only where PATH is empty.
NS = "pay$(echo >canary)"  # namespace: command substitution
SVC = "api`touch canary`"  # Service: backticks
LABEL = "web'; echo >canary; echo '"  # label value: breaks out of single quotes
NODE = "worker-2;echo >canary"  # node name: command separator
VS_HOST = "reviews$(touch canary)"  # VirtualService host (free text, any writer of a VS)
ING_CLASS = "nginx|touch canary"  # ingressClassName: pipe
ING_NAME = "shop&&echo >canary"  # Ingress name: and-list
# Terminal and markup payloads (table cells, not commands).
MARKUP_DEPLOY = "[/]web[link=http://evil.example]x"  # rich markup: [/] crashed tables
ESC_NS = "ops\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\x1b[2J"  # OSC 8 link + clear screen
CSV_DEPLOY = '=HYPERLINK("http://evil.example","x")'  # spreadsheet formula
MD_DEPLOY = "a|b\nc"  # Markdown cell separator and a newline

RENAME = {"payments": NS, "payments-api": SVC, "worker-2": NODE}


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {_walk(k) if isinstance(k, str) else k: _walk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    if isinstance(value, str):
        return RENAME.get(value, value)
    return value


def _deployment(ns: str, name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.example.com/app:1.0",
                            "ports": [{"containerPort": 8080, "name": "http"}],
                        }
                    ]
                },
            },
        },
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
    }


def _workload(ns: str, name: str, labels: dict[str, str], ip: str) -> list[dict[str, Any]]:
    """A Deployment with its ReplicaSet and one Running pod on worker-1 (as kubectl get -A shows them)."""
    deploy = _deployment(ns, name, labels)
    rs_name = f"{name}-5d8f7c9b6"
    owner = {"apiVersion": "apps/v1", "controller": True, "blockOwnerDeletion": True}
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": rs_name,
            "namespace": ns,
            "labels": {**labels, "pod-template-hash": "5d8f7c9b6"},
            "ownerReferences": [
                {**owner, "kind": "Deployment", "name": name, "uid": f"uid-d-{ip}"}
            ],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {**labels, "pod-template-hash": "5d8f7c9b6"}},
            "template": deploy["spec"]["template"],
        },
        "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
    }
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs_name}-x7k2p",
            "namespace": ns,
            "labels": {**labels, "pod-template-hash": "5d8f7c9b6"},
            "ownerReferences": [
                {**owner, "kind": "ReplicaSet", "name": rs_name, "uid": f"uid-r-{ip}"}
            ],
        },
        "spec": {"nodeName": "worker-1", **deploy["spec"]["template"]["spec"]},
        "status": {
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "hostIP": "192.168.10.11",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}
            ],
        },
    }
    return [deploy, rs, pod]


def build() -> dict[str, Any]:
    doc = yaml.safe_load(BASE.read_text())
    items = [_walk(o) for o in doc["items"]]
    for o in items:
        md = o["metadata"]
        if md.get("namespace") == NS and o["kind"] in ("Pod", "Deployment", "ReplicaSet"):
            if "labels" in md and "app" in md["labels"]:
                md["labels"]["app"] = LABEL
            tmpl = o.get("spec", {}).get("template", {}).get("metadata", {})
            if "app" in tmpl.get("labels", {}):
                tmpl["labels"]["app"] = LABEL
            sel = o.get("spec", {}).get("selector", {}).get("matchLabels", {})
            if "app" in sel:
                sel["app"] = LABEL
        if o["kind"] == "Node" and md["name"] == NODE:
            for c in o["status"]["conditions"]:
                if c["type"] == "Ready":
                    c.update(
                        status="False",
                        reason="KubeletNotReady",
                        message="container runtime network not ready: NetworkReady=false "
                        "reason:NetworkPluginNotReady message:Network plugin returns error: "
                        "cni plugin not initialized",
                    )
    items += [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {"name": "nginx"},
            "spec": {"controller": "k8s.io/ingress-nginx"},
        },
        {
            "apiVersion": "networking.istio.io/v1beta1",
            "kind": "VirtualService",
            "metadata": {"name": "reviews", "namespace": "checkout"},
            "spec": {
                "hosts": [VS_HOST],
                "http": [{"route": [{"destination": {"host": VS_HOST}}]}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": ING_NAME, "namespace": "checkout"},
            "spec": {
                "ingressClassName": ING_CLASS,
                "rules": [
                    {
                        "host": "shop.example.com",
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {
                                            "name": "checkout-web",
                                            "port": {"number": 80},
                                        }
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": ESC_NS, "labels": {"kubernetes.io/metadata.name": ESC_NS}},
        },
        *_workload(ESC_NS, "tool", {"app": "tool"}, "10.244.1.201"),
        *_workload("checkout", MARKUP_DEPLOY, {"app": "markup"}, "10.244.1.202"),
        *_workload("checkout", CSV_DEPLOY, {"app": "csv"}, "10.244.1.203"),
        *_workload("checkout", MD_DEPLOY, {"app": "md"}, "10.244.1.204"),
    ]
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items}


def main() -> None:
    text = yaml.safe_dump(build(), sort_keys=False, allow_unicode=False, width=1000)
    (HERE / "cluster.yaml").write_text(
        "# Generated by make_hostile.py from tests/scenarios/label-drift: hostile names planted.\n"
        + text
    )


if __name__ == "__main__":
    main()

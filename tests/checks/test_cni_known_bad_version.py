"""CNI410 beyond its fixtures: agent pods mid-rollout, the Kubernetes floor, tags that are
not versions, and CNIs the table does not name."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from netsleuth.checks.base import load_all
from netsleuth.sources.load import load_offline

sys.path.insert(0, str(Path(__file__).parent))
from fixture_builders import Obj, container, daemonset, node, pod


def _run(tmp_path: Path, objs: list[Obj]) -> list[str]:
    f = tmp_path / "cluster.yaml"
    f.write_text("---\n".join(yaml.safe_dump(o) for o in objs))
    model = load_offline([str(f)])
    return [x.message for x in load_all()["CNI410"].execute(model)]


def _nodes(kubelet: str) -> list[Obj]:
    out = []
    for i, name in enumerate(("node-a", "node-b")):
        n = node(name, f"10.0.0.{11 + i}", f"10.244.{i}.0/24")
        n["status"]["nodeInfo"]["kubeletVersion"] = kubelet
        out.append(n)
    return out


def _agent(name: str, labels: dict[str, str], image: str, pods: dict[str, str]) -> list[Obj]:
    ds = daemonset(name, "kube-system", labels, [container(name, image)], desired=len(pods))
    out = [ds]
    for i, (node_name, pod_image) in enumerate(sorted(pods.items())):
        p = pod(
            f"{name}-{i}",
            "kube-system",
            labels,
            [container(name, pod_image)],
            node_name=node_name,
            ip=f"10.0.0.{11 + i}",
            owner=("DaemonSet", name),
        )
        out.append(p)
    return out


def test_flannel_pods_still_on_the_bad_release_mid_rollout(tmp_path: Path) -> None:
    # The template was already upgraded; one node's agent still runs v0.15.1.
    objs = _nodes("v1.29.4") + _agent(
        "kube-flannel-ds",
        {"app": "flannel"},
        "docker.io/flannel/flannel:v0.24.2",
        {
            "node-a": "docker.io/flannel/flannel:v0.24.2",
            "node-b": "docker.io/flannel/flannel:v0.15.1",
        },
    )
    [msg] = _run(tmp_path, objs)
    assert msg.startswith("flannel v0.15.1 on node-b:") and "routing table" in msg


def test_calico_ahead_of_kubernetes(tmp_path: Path) -> None:
    calico = _agent("calico-node", {"k8s-app": "calico-node"}, "docker.io/calico/node:v3.21.5", {})
    [msg] = _run(tmp_path, _nodes("v1.18.20") + calico)
    assert "older than 1.19: node-a, node-b" in msg
    # the same Calico on Kubernetes 1.19 is supported
    assert _run(tmp_path, _nodes("v1.19.16") + calico) == []


def test_tags_that_are_not_versions_and_other_cnis_are_not_judged(tmp_path: Path) -> None:
    latest = _agent("calico-node", {"k8s-app": "calico-node"}, "calico/node:latest", {})
    assert _run(tmp_path, _nodes("v1.29.4") + latest) == []
    # a digest-pinned image of a good release
    pinned = _agent(
        "calico-node",
        {"k8s-app": "calico-node"},
        "calico/node:v3.27.2@sha256:" + "0" * 64,
        {},
    )
    assert _run(tmp_path, _nodes("v1.29.4") + pinned) == []
    # Cilium 0.15.1 does not exist, but the flannel entry must not leak onto another CNI
    cilium = _agent("cilium", {"k8s-app": "cilium"}, "quay.io/cilium/cilium:v0.15.1", {})
    assert _run(tmp_path, _nodes("v1.29.4") + cilium) == []

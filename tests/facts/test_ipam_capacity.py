"""IPAM capacity net of what the IPAM plugin reserves, against maxPods and the pods on the
node (CNI405, CNI406), on owner-chained kube-system dumps (``make_fixtures.system``).

The plugin facts (``facts/ipam_capacity.py``): host-local keeps the network, the gateway
(.1) and the IPv4 broadcast address; Cilium ``ipam: kubernetes`` keeps the network and
broadcast addresses and takes one for its router (cilium_host) and one for its health
endpoint; Calico's own IPAM does not allocate from the node podCIDR (nothing computed).
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from fixture_builders import config_map, container, daemon_pods, daemonset
from make_fixtures import NODES, app, system
from owner_chain import complete

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.ipam_capacity import node_capacities, reservation
from netsleuth.model.cluster import ClusterModel
from netsleuth.sources.load import load_offline

Obj = dict[str, Any]


def _cluster(cni: str, cidr_prefix: int = 24, max_pods: int | None = 110) -> list[Obj]:
    objs = [
        o
        for o in system()
        if not (
            o["kind"] in ("DaemonSet", "Pod") and o["metadata"]["name"].startswith("calico-node")
        )
    ]
    if cni == "cilium":
        ds = daemonset(
            "cilium",
            "kube-system",
            {"k8s-app": "cilium"},
            [container("cilium-agent", "quay.io/cilium/cilium:v1.15.6")],
            desired=len(NODES),
        )
        objs += [ds, *daemon_pods(ds, list(NODES))]
        objs.append(config_map("cilium-config", "kube-system", {"ipam": "kubernetes"}))
    elif cni == "flannel":
        ds = daemonset(
            "kube-flannel-ds",
            "kube-system",
            {"app": "flannel"},
            [container("kube-flannel", "docker.io/flannel/flannel:v0.25.1")],
            desired=len(NODES),
        )
        objs += [ds, *daemon_pods(ds, list(NODES))]
    else:  # calico with its own IPAM (no usePodCidr)
        ds = daemonset(
            "calico-node",
            "kube-system",
            {"k8s-app": "calico-node"},
            [container("calico-node", "docker.io/calico/node:v3.27.2")],
            desired=len(NODES),
        )
        objs += [ds, *daemon_pods(ds, list(NODES))]
    objs += app("web", "shop", on_nodes=(0, 0), nodes=False)
    for o in objs:
        if o["kind"] == "Node":
            i = [n for n, _, _ in NODES].index(o["metadata"]["name"])
            net = f"10.244.{i}.0/{cidr_prefix}"
            o["spec"] = {"podCIDR": net, "podCIDRs": [net]}
            if max_pods is None:
                del o["status"]["capacity"], o["status"]["allocatable"]
            else:
                o["status"]["capacity"]["pods"] = str(max_pods)
                o["status"]["allocatable"]["pods"] = str(max_pods)
    return objs


def _load(tmp_path: Path, objs: list[Obj]) -> ClusterModel:
    (tmp_path / "cluster.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": complete(objs)})
    )
    return load_offline([str(tmp_path)])


def _findings(model: ClusterModel, rule: str) -> list[Any]:
    return [f for f in run_checks(model, [load_all()[rule]]).findings if f.rule_id == rule]


@pytest.mark.parametrize(
    ("cni", "cidr", "pods"),
    [
        ("flannel", "10.244.0.0/24", 253),  # network, gateway .1, broadcast
        ("flannel", "10.244.0.0/26", 61),
        ("cilium", "10.244.0.0/24", 252),  # network, broadcast, cilium_host, health
        ("cilium", "10.244.0.0/26", 60),
        ("flannel", "fd00:10:244::/120", 254),  # IPv6: no broadcast
        ("cilium", "fd00:10:244::/120", 253),
    ],
)
def test_pod_addresses_per_plugin(tmp_path: Path, cni: str, cidr: str, pods: int) -> None:
    res = reservation(_load(tmp_path, _cluster(cni)))
    assert res is not None
    assert res.pod_addresses(ipaddress.ip_network(cidr)) == pods


def test_the_plugin_reservation_decides(tmp_path: Path) -> None:
    # A /25 holds 125 pods with host-local but 124 with Cilium: maxPods 125 fits only the first.
    (tmp_path / "f").mkdir()
    (tmp_path / "c").mkdir()
    flannel = _load(tmp_path / "f", _cluster("flannel", 25, max_pods=125))
    assert not _findings(flannel, "CNI405")
    cilium = _load(tmp_path / "c", _cluster("cilium", 25, max_pods=125))
    [f] = _findings(cilium, "CNI405")
    assert "124 pod addresses" in f.message and "cilium_host router" in f.message
    assert f.subject.ref().startswith("Pod/kube-system/kube-controller-manager")
    assert any(e.field == "status.capacity.pods" and e.value == "125" for e in f.evidence)


def test_pods_on_the_node_are_counted(tmp_path: Path) -> None:
    # /27 with host-local: 29 pod addresses; node-a runs web's 2 pods, CoreDNS and others.
    model = _load(tmp_path, _cluster("flannel", 27))
    caps = {c.node: c for c in node_capacities(model)}
    assert caps["node-a"].usable == 29 and caps["node-a"].max_pods == 110
    # hostNetwork agents hold no address of the range; web x2 and CoreDNS do
    assert caps["node-a"].pods == 3
    [f] = _findings(model, "CNI405")
    assert "node-a already runs 3 pod(s)" in f.message
    assert "Node/node-a" in {e.object for e in f.evidence}


def test_max_pods_from_kubelet_config_or_the_default(tmp_path: Path) -> None:
    objs = _cluster("flannel", 26, max_pods=None)
    (tmp_path / "default").mkdir()
    [f] = _findings(_load(tmp_path / "default", objs), "CNI405")
    assert any("kubelet default 110 is assumed" in e.field for e in f.evidence)
    objs.append(
        config_map(
            "kubelet-config",
            "kube-system",
            {"kubelet": "kind: KubeletConfiguration\nmaxPods: 50\n"},
        )
    )
    (tmp_path / "kubeadm").mkdir()
    assert not _findings(_load(tmp_path / "kubeadm", objs), "CNI405")  # 61 >= 50


def test_calico_own_ipam_is_not_checked(tmp_path: Path) -> None:
    model = _load(tmp_path, _cluster("calico", 28))
    assert reservation(model) is None and node_capacities(model) == ()
    assert not _findings(model, "CNI405") and not _findings(model, "CNI406")

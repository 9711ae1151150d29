"""Node-local agents: kube-proxy or the CNI agent with no ready pod on the source or the
destination node breaks that node's hops in ``trace``, naming the DaemonSet (the pod is
the evidence), and ``scan`` reports the same fact once (KPX605, CNI401).

The fixtures are the owner-chained kube-system of ``make_fixtures.system`` (kube-proxy
and calico-node DaemonSets with one pod per node, CoreDNS Deployment → ReplicaSet →
pods) and two Deployments in ``shop``: web on node-a (the client), cart on node-b.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "checks"))
from make_fixtures import app, system
from owner_chain import complete

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.node_agents import node_agent_gaps
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Layer, Verdict
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

Obj = dict[str, Any]


def _cluster() -> list[Obj]:
    objs = system()
    objs += app("web", "shop", on_nodes=(0, 0), nodes=False, cluster_ip="10.96.10.10")
    objs += app(
        "cart", "shop", on_nodes=(1, 1), nodes=False, with_namespace=False, cluster_ip="10.96.10.11"
    )
    return objs


def _agent_pod(objs: list[Obj], ds: str, node: str) -> Obj:
    return next(
        o
        for o in objs
        if o["kind"] == "Pod"
        and o["metadata"]["name"].startswith(ds + "-")
        and o["spec"]["nodeName"] == node
    )


def _crash(pod: Obj) -> None:
    pod["status"]["conditions"] = [
        {**c, "status": "False"} if c["type"] in ("Ready", "ContainersReady") else c
        for c in pod["status"]["conditions"]
    ]
    for st in pod["status"]["containerStatuses"]:
        st.update(
            ready=False,
            started=False,
            restartCount=14,
            state={"waiting": {"reason": "CrashLoopBackOff"}},
            lastState={"terminated": {"reason": "Error", "exitCode": 1}},
        )


def _load(tmp_path: Path, objs: list[Obj]) -> ClusterModel:
    (tmp_path / "cluster.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": complete(objs)})
    )
    return load_offline([str(tmp_path)])


def _scan(model: ClusterModel, rule: str) -> list[Any]:
    return [f for f in run_checks(model, [load_all()[rule]]).findings if f.rule_id == rule]


def test_healthy_agents_leave_every_hop_ok(tmp_path: Path) -> None:
    model = _load(tmp_path, _cluster())
    assert node_agent_gaps(model) == ()
    res = trace(model, "shop/web", "shop/cart", port=80)
    assert res.verdict is not Verdict.BROKEN, [(h.layer, h.summary) for h in res.hops]
    assert not _scan(model, "KPX605") and not _scan(model, "CNI401")


def test_kube_proxy_crashlooping_on_the_client_node(tmp_path: Path) -> None:
    objs = _cluster()
    _crash(_agent_pod(objs, "kube-proxy", "node-a"))
    model = _load(tmp_path, objs)
    res = trace(model, "shop/web", "shop/cart", port=80)
    [hop] = [h for h in res.hops if h.layer is Layer.KUBE_PROXY]
    assert hop.status is Verdict.BROKEN
    assert hop.change is not None and hop.change.ref() == "DaemonSet/kube-system/kube-proxy"
    assert "node-a" in hop.summary and "CrashLoopBackOff" in hop.summary
    pod = _agent_pod(objs, "kube-proxy", "node-a")["metadata"]["name"]
    assert any(e.object == f"Pod/kube-system/{pod}" for e in hop.evidence)
    # the scan says the same, once, about the DaemonSet
    [f] = _scan(model, "KPX605")
    assert f.subject.ref() == "DaemonSet/kube-system/kube-proxy"
    assert "node-a" in f.message and pod in f.message
    # kube-proxy on the destination node does not take part in a ClusterIP path
    back = trace(model, "shop/cart", "shop/web", port=80)
    assert all(h.status is not Verdict.BROKEN for h in back.hops if h.layer is Layer.KUBE_PROXY)


def test_cni_agent_not_ready_on_the_destination_node(tmp_path: Path) -> None:
    objs = _cluster()
    _crash(_agent_pod(objs, "calico-node", "node-b"))
    model = _load(tmp_path, objs)
    res = trace(model, "shop/web", "shop/cart", port=80)
    broken = [h for h in res.hops if h.status is Verdict.BROKEN]
    [hop] = [h for h in broken if h.layer is Layer.CNI]
    assert hop.change is not None and hop.change.ref() == "DaemonSet/kube-system/calico-node"
    assert "node-b" in hop.summary
    pod = _agent_pod(objs, "calico-node", "node-b")["metadata"]["name"]
    assert any(e.object == f"Pod/kube-system/{pod}" for e in hop.evidence)
    [f] = _scan(model, "CNI401")
    assert f.subject.ref() == "DaemonSet/kube-system/calico-node" and "node-b" in f.message
    # a path whose nodes both have a ready agent is not blamed
    own = trace(model, "shop/web", "shop/web", port=80)
    assert not any(h.layer is Layer.CNI and h.status is Verdict.BROKEN for h in own.hops)


def test_missing_agent_pod_and_tainted_nodes(tmp_path: Path) -> None:
    objs = _cluster()
    gone = _agent_pod(objs, "kube-proxy", "node-a")
    objs.remove(gone)
    (tmp_path / "missing").mkdir()
    model = _load(tmp_path / "missing", objs)
    [f] = _scan(model, "KPX605")
    assert "node-a (no pod scheduled there)" in f.message
    # A node tainted with a key the DaemonSet may not tolerate, and a DaemonSet whose own
    # count leaves it out: not a gap (tolerations are not in the model).
    node_a = next(o for o in objs if o["kind"] == "Node" and o["metadata"]["name"] == "node-a")
    node_a["spec"]["taints"] = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    ds = next(o for o in objs if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "kube-proxy")
    ds["status"].update(
        desiredNumberScheduled=1,
        currentNumberScheduled=1,
        numberReady=1,
        numberAvailable=1,
        updatedNumberScheduled=1,
    )
    (tmp_path / "tainted").mkdir()
    assert not _scan(_load(tmp_path / "tainted", objs), "KPX605")


@pytest.mark.parametrize("rule", ["KPX605", "CNI401"])
def test_agent_pods_absent_from_the_input_say_nothing_per_node(tmp_path: Path, rule: str) -> None:
    objs = [
        o
        for o in _cluster()
        if not (
            o["kind"] == "Pod" and o["metadata"]["name"].startswith(("kube-proxy-", "calico-node-"))
        )
    ]
    model = _load(tmp_path, objs)
    assert node_agent_gaps(model) == ()
    assert not _scan(model, rule)


def test_a_not_ready_node_is_not_blamed_on_its_agents(tmp_path: Path) -> None:
    # The kubelet marks every pod of a NotReady node not Ready while their containers keep
    # running: the node's condition is the fault (CNI402), not kube-proxy's.
    objs = _cluster()
    pod = _agent_pod(objs, "kube-proxy", "node-b")
    for c in pod["status"]["conditions"]:
        if c["type"] == "Ready":
            c["status"] = "False"
    model = _load(tmp_path, objs)
    assert node_agent_gaps(model) == ()
    assert not _scan(model, "KPX605")


def test_loadbalancer_path_checks_the_backend_node_agent(tmp_path: Path) -> None:
    objs = _cluster()
    svc = next(o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "cart")
    svc["spec"]["type"] = "LoadBalancer"
    for p in svc["spec"]["ports"]:
        p["nodePort"] = 31080
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.20"}]}}
    _crash(_agent_pod(objs, "calico-node", "node-b"))
    res = trace(_load(tmp_path, objs), "external", "shop/cart", port=80)
    [hop] = [h for h in res.hops if h.layer is Layer.CNI]
    assert hop.status is Verdict.BROKEN and "node-b" in hop.summary
    assert hop.change is not None and hop.change.ref() == "DaemonSet/kube-system/calico-node"


def _loadbalancer(objs: list[Obj], local: bool = False) -> None:
    svc = next(o for o in objs if o["kind"] == "Service" and o["metadata"]["name"] == "cart")
    svc["spec"]["type"] = "LoadBalancer"
    if local:
        svc["spec"]["externalTrafficPolicy"] = "Local"
    for p in svc["spec"]["ports"]:
        p["nodePort"] = 31080
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.20"}]}}


def _entry_hops(res: Any) -> list[Any]:
    return [h for h in res.hops if h.layer is Layer.KUBE_PROXY]


def test_kube_proxy_down_on_some_entry_nodes_is_a_warning(tmp_path: Path) -> None:
    # the load balancer may send to node-a or node-b; kube-proxy is down on node-a only
    objs = _cluster()
    _loadbalancer(objs)
    _crash(_agent_pod(objs, "kube-proxy", "node-a"))
    res = trace(_load(tmp_path, objs), "external", "shop/cart", port=80)
    [hop] = _entry_hops(res)
    assert hop.status is Verdict.WARNING
    assert "1 of the 2 nodes" in hop.summary and "node-a" in hop.summary
    assert "load balancer's choice" in hop.summary
    assert hop.change is not None and hop.change.ref() == "DaemonSet/kube-system/kube-proxy"
    assert res.verdict is Verdict.WARNING


def test_kube_proxy_down_on_every_entry_node_is_broken(tmp_path: Path) -> None:
    objs = _cluster()
    _loadbalancer(objs)
    for n in ("node-a", "node-b"):
        _crash(_agent_pod(objs, "kube-proxy", n))
    res = trace(_load(tmp_path, objs), "external", "shop/cart", port=80)
    [hop] = _entry_hops(res)
    assert hop.status is Verdict.BROKEN and "any node this traffic can enter" in hop.summary
    assert hop.change is not None and hop.change.ref() == "DaemonSet/kube-system/kube-proxy"
    assert hop.fix is not None and "node-a, node-b" in hop.fix.text


def test_local_policy_entry_nodes_are_the_endpoint_nodes(tmp_path: Path) -> None:
    # externalTrafficPolicy Local: only node-b (cart's pods) takes this traffic, so a
    # kube-proxy down on node-a is not on this path; down on node-b, every entry is
    objs = _cluster()
    _loadbalancer(objs, local=True)
    _crash(_agent_pod(objs, "kube-proxy", "node-a"))
    assert _entry_hops(trace(_load(tmp_path, objs), "external", "shop/cart", port=80)) == []
    objs = _cluster()
    _loadbalancer(objs, local=True)
    _crash(_agent_pod(objs, "kube-proxy", "node-b"))
    (tmp_path / "b").mkdir()
    [hop] = _entry_hops(trace(_load(tmp_path / "b", objs), "external", "shop/cart", port=80))
    assert hop.status is Verdict.BROKEN


def test_healthy_entry_nodes_add_no_hop(tmp_path: Path) -> None:
    objs = _cluster()
    _loadbalancer(objs)
    res = trace(_load(tmp_path, objs), "external", "shop/cart", port=80)
    assert _entry_hops(res) == [] and res.verdict is Verdict.OK

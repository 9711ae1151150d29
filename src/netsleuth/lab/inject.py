"""Apply and clear faults on a running lab (the host side of :mod:`netsleuth.lab.faults`)."""

from __future__ import annotations

from netsleuth.lab import host
from netsleuth.lab.build import LabError, node_rules_text
from netsleuth.lab.faults import Fault, apply_model_faults
from netsleuth.lab.state import LabState, load, save
from netsleuth.model.cluster import ClusterModel


def _running(lab: str) -> LabState:
    state = load(lab)
    if state is None or state.plan is None or state.status != "up":
        raise LabError(f"no running lab named {lab}", tip="netsleuth lab up -f CLUSTER --name NAME")
    return state


def _rerender(model: ClusterModel, state: LabState) -> None:
    plan = state.plan
    assert plan is not None
    faulted = apply_model_faults(model, state.faults)
    for node in plan.nodes:
        host.iptables_restore(
            state.lab, node.netns, node_rules_text(faulted, plan, node.name, state.faults)
        )


def _apply_host(state: LabState, f: Fault) -> None:
    plan = state.plan
    assert plan is not None
    lab = state.lab
    if f["kind"] == "mtu":
        n = plan.node(f["node"])
        assert n is not None
        host.ip_batch(lab, n.netns, [f"link set eth0 mtu {f['mtu']}"])
        host.ip_batch(lab, plan.wan_netns, [f"link set {n.wan_port} mtu {f['mtu']}"])
    elif f["kind"] == "no-route":
        n = plan.node(f["node"])
        assert n is not None
        host.ip_batch(lab, n.netns, [f"route del {f['cidr']}"])
    elif f["kind"] == "conntrack-full":
        n = plan.node(f["node"])
        assert n is not None
        count = int(f["max"])
        # real entries in the node's own table (TEST-NET-2 addresses, UDP, 1 h)
        script = (
            f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); "
            "conntrack -I -p udp -s 198.18.$((i/250)).$((i%250+1)) -d 198.18.255.1 "
            "--sport 40000 --dport 9 -t 3600 >/dev/null 2>&1; done"
        )
        host.netns_exec(lab, n.netns, ["sh", "-c", script])


def _clear_host(state: LabState, f: Fault) -> None:
    plan = state.plan
    assert plan is not None
    lab = state.lab
    if f["kind"] == "mtu":
        n = plan.node(f["node"])
        assert n is not None
        host.ip_batch(lab, n.netns, [f"link set eth0 mtu {f['was']}"])
        host.ip_batch(lab, plan.wan_netns, [f"link set {n.wan_port} mtu {f['was']}"])
    elif f["kind"] == "no-route":
        n = plan.node(f["node"])
        assert n is not None
        host.ip_batch(
            lab, n.netns, [f"route replace {f['cidr']} via {f['via']} dev flannel.1 onlink"]
        )
    elif f["kind"] == "conntrack-full":
        n = plan.node(f["node"])
        assert n is not None
        host.netns_exec(lab, n.netns, ["conntrack", "-F"], check=False)


def inject(model: ClusterModel, lab: str, fault: Fault) -> LabState:
    """Add ``fault`` to the lab: rules re-rendered from the faulted model, links changed."""
    state = _running(lab)
    if any(f == fault for f in state.faults):
        raise LabError(f"lab {lab} already has this fault")
    state.faults = [*state.faults, fault]
    save(state)
    _apply_host(state, fault)
    _rerender(model, state)
    # conntrack entries of flows the fault should now affect would let them pass
    for node in state.plan.nodes if state.plan else ():
        host.netns_exec(lab, node.netns, ["conntrack", "-D", "-p", "tcp"], check=False)
    return state


def clear(model: ClusterModel, lab: str) -> list[Fault]:
    """Remove every fault: links and routes restored, rules re-rendered."""
    state = _running(lab)
    removed = list(state.faults)
    for f in reversed(removed):
        _clear_host(state, f)
    state.faults = []
    save(state)
    _rerender(model, state)
    return removed

"""Build, inspect and remove a lab: the sequence of host changes.

``up`` writes the state file first, then creates the namespaces, links,
addresses and routes (``ip -batch`` per namespace), the iptables rules
(``iptables-restore`` per node), the pods' resolv.conf, dnsmasq and the
responder. ``down`` stops the lab's processes (by the pids it recorded and
by a scan of ``/proc`` for command lines naming its state folder), deletes
its namespaces (which removes every link, route and rule inside them) and its
``/etc/netns`` folders, and removes the state folder. It needs nothing but
the lab's name, so it also cleans a lab whose ``up`` crashed half way.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from netsleuth.errors import NetsleuthError
from netsleuth.lab import dnsmasq, host, names
from netsleuth.lab.kube_proxy import NodeRules, kube_proxy_rules, restore_text
from netsleuth.lab.netpol import networkpolicy_rules
from netsleuth.lab.plan import DEFAULT_MAX_PODS, LabPlan, NodePlan, make_plan
from netsleuth.lab.state import LabState, load, save
from netsleuth.model.cluster import ClusterModel

Progress = Callable[[str], None]


class LabError(NetsleuthError):
    """A lab cannot be built, found or removed; the message says why and what to do."""


def _quiet(_: str) -> None:
    return None


def preflight() -> None:
    if sys.platform != "linux":
        raise LabError("the lab needs Linux network namespaces")
    if not host.is_root():
        raise LabError("the lab needs root (network namespaces, iptables): run it with sudo")
    missing = host.missing_tools()
    if missing:
        raise LabError(
            "missing commands: " + ", ".join(missing) + " (Debian: apt-get install iproute2 "
            "iptables dnsmasq-base conntrack iputils-ping)"
        )


def lab_netns_present(lab: str) -> list[str]:
    return [ns for ns in host.list_netns() if names.owns_netns(lab, ns)]


# --------------------------------------------------------------------------- rules


def node_rules_text(
    model: ClusterModel, plan: LabPlan, node: str, faults: list[dict[str, object]] | None = None
) -> str:
    """The node's whole iptables ruleset (NetworkPolicy, kube-proxy, faults)."""
    from netsleuth.lab.faults import node_rule_changes

    changes = node_rule_changes(model, plan, node, faults or [])
    rules = NodeRules()
    for table, rule in changes.first:
        rules.add(table, rule)
    for table, chain in changes.chains:
        rules.chain(table, chain)
    networkpolicy_rules(model, plan, node, rules)
    kube_proxy_rules(model, plan, node, rules, stale=changes.stale)
    for table, rule in changes.last:
        rules.add(table, rule)
    return restore_text(rules)


# --------------------------------------------------------------------------- up


def _node_lines(plan: LabPlan, node: NodePlan) -> tuple[list[str], list[str]]:
    ip_lines = [
        "link set lo up",
        f"link set eth0 mtu {node.underlay_mtu}",
        f"addr add {node.ip}/{node.prefixlen} dev eth0",
        "link set eth0 up",
        # a node's uplink carries its default route (no router answers there: the lab
        # has no way out, by design)
        f"route add default via {plan.wan_gateway} dev eth0 onlink",
        "link add cni0 type bridge",
        f"link set cni0 mtu {node.pod_mtu}",
        f"addr add {node.gateway}/{plan_prefix(node)} dev cni0",
        "link set cni0 up",
        f"link add flannel.1 type vxlan id 1 local {node.ip} dev eth0 dstport 8472 nolearning",
        f"link set flannel.1 address {node.vtep_mac} mtu {node.vxlan_mtu}",
        f"addr add {node.vtep}/32 dev flannel.1",
        "link set flannel.1 up",
    ]
    bridge_lines: list[str] = []
    for other in plan.nodes:
        if other.name == node.name:
            continue
        ip_lines.append(
            f"neigh add {other.vtep} lladdr {other.vtep_mac} dev flannel.1 nud permanent"
        )
        ip_lines.append(f"route add {other.pod_cidr} via {other.vtep} dev flannel.1 onlink")
        bridge_lines.append(
            f"fdb append {other.vtep_mac} dev flannel.1 dst {other.ip} self permanent"
        )
    for pod in plan.pods:
        if pod.node != node.name:
            continue
        ip_lines += [
            f"link add {pod.host_veth} type veth peer name eth0 netns {pod.netns}",
            f"link set {pod.host_veth} mtu {pod.mtu} master cni0 up",
        ]
        bridge_lines.append(f"link set dev {pod.host_veth} hairpin on")
    return ip_lines, bridge_lines


def plan_prefix(node: NodePlan) -> int:
    return int(node.pod_cidr.split("/")[1])


def up(
    model: ClusterModel,
    lab: str,
    *,
    paths: list[str] | None = None,
    max_pods: int = DEFAULT_MAX_PODS,
    progress: Progress = _quiet,
) -> LabState:
    """Build lab ``lab`` from ``model``. Raises :class:`LabError` if it exists."""
    names.check_lab_name(lab)
    preflight()
    existing = lab_netns_present(lab)
    if load(lab) is not None or existing:
        raise LabError(f"lab {lab} already exists; remove it with `netsleuth lab down {lab}`")
    t0 = time.perf_counter()
    plan = make_plan(model, lab, max_pods=max_pods)
    if not plan.nodes:
        raise LabError("nothing to build: no node has a podCIDR or pods with IPs")
    state = LabState(
        lab=lab,
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        paths=list(paths or []),
        max_pods=max_pods,
        netns=[plan.wan_netns, *(n.netns for n in plan.nodes), *(p.netns for p in plan.pods)],
        plan=plan,
    )
    save(state)  # before anything exists: a crash from here on leaves a record
    try:
        _build(model, plan, state, progress)
    except BaseException:
        state.status = "failed"
        save(state)
        raise
    state.status = "up"
    state.timings["up_s"] = round(time.perf_counter() - t0, 3)
    save(state)
    return state


def _build(model: ClusterModel, plan: LabPlan, state: LabState, progress: Progress) -> None:
    lab = plan.lab
    t = state.timings
    with host.timer() as tm:
        progress(f"creating {len(state.netns)} network namespaces")
        host.add_netns(lab, state.netns)
    t["netns_s"] = round(tm[0], 3)
    with host.timer() as tm:
        progress("wiring the underlay, nodes and pods")
        wan = ["link set lo up", "link add br0 type bridge", "link set br0 up"]
        for node in plan.nodes:
            wan += [
                f"link add {node.wan_port} type veth peer name eth0 netns {node.netns}",
                f"link set {node.wan_port} mtu {node.underlay_mtu} master br0 up",
            ]
        host.ip_batch(lab, plan.wan_netns, wan)
        for node in plan.nodes:
            ip_lines, bridge_lines = _node_lines(plan, node)
            host.ip_batch(lab, node.netns, ip_lines)
            host.ip_batch(lab, node.netns, bridge_lines, tool="bridge")
        for pod in plan.pods:
            host.ip_batch(
                lab,
                pod.netns,
                [
                    "link set lo up",
                    f"link set eth0 mtu {pod.mtu}",
                    f"addr add {pod.ip}/{pod.prefixlen} dev eth0",
                    "link set eth0 up",
                    f"route add default via {pod.gateway} dev eth0",
                ],
            )
        if host.missing_tools(("ethtool",)) == []:
            # Without segmentation offload a pod's TCP sends MTU-sized packets, as a
            # real NIC puts them on the wire; with it, veths pass 64 KB GSO packets
            # that no MTU check stops, and an underlay MTU fault would not bite.
            for pod in plan.pods:
                host.netns_exec(
                    lab,
                    pod.netns,
                    ["ethtool", "-K", "eth0", "tso", "off", "gso", "off"],
                    check=False,
                )
    t["links_s"] = round(tm[0], 3)
    with host.timer() as tm:
        progress("node sysctls and iptables rules")
        # The underlay switch forwards frames as a switch does: no iptables on the
        # bridge, which would refragment oversized VXLAN packets (their outer header
        # has no DF) where a real underlay drops them.
        host.sysctl(
            lab,
            plan.wan_netns,
            {
                "net.bridge.bridge-nf-call-iptables": "0",
                "net.bridge.bridge-nf-call-ip6tables": "0",
                "net.bridge.bridge-nf-call-arptables": "0",
            },
        )
        for node in plan.nodes:
            host.sysctl(
                lab,
                node.netns,
                {
                    "net.ipv4.ip_forward": "1",
                    "net.bridge.bridge-nf-call-iptables": "1",
                    "net.ipv4.conf.all.rp_filter": "0",
                    "net.ipv4.conf.default.rp_filter": "0",
                },
            )
            host.iptables_restore(
                lab, node.netns, node_rules_text(model, plan, node.name, state.faults)
            )
    t["rules_s"] = round(tm[0], 3)
    with host.timer() as tm:
        progress("resolv.conf, dnsmasq and the responder")
        for node in plan.nodes:
            art = model.node_artifacts.get(node.name)
            if art is not None and art.resolv_conf is not None and art.resolv_conf.nameservers:
                text = "".join(f"nameserver {n}\n" for n in art.resolv_conf.nameservers)
                if art.resolv_conf.search:
                    text = "search " + " ".join(art.resolv_conf.search) + "\n" + text
            else:
                text = "# netsleuth lab node: no upstream resolver\n"
            host.write_netns_etc(lab, node.netns, "resolv.conf", text)
        for pod in plan.pods:
            host.write_netns_etc(lab, pod.netns, "resolv.conf", pod.resolv_conf)
        start_services(plan, state)
    t["services_s"] = round(tm[0], 3)


def start_services(plan: LabPlan, state: LabState) -> None:
    lab = plan.lab
    d = state.dir
    (d / "hosts").write_text(dnsmasq.hosts_text(plan))
    state.pids["dnsmasq"] = []
    for i, pod in enumerate(p for p in plan.pods if p.dns_server):
        conf = d / f"dnsmasq-{i}.conf"
        conf.write_text(
            dnsmasq.conf_text(pod, d / "hosts", d / f"dnsmasq-{i}.log", plan.cluster_domain)
        )
        pid = host.start_dnsmasq(lab, pod.netns, conf, d / f"dnsmasq-{i}.pid")
        state.pids["dnsmasq"].append(pid)
        save(state)
    responder = {
        "pods": [
            {"netns": p.netns, "ip": p.ip, "key": p.key, "listen": [list(x) for x in p.listen]}
            for p in plan.pods
            if p.listen
        ]
    }
    (d / "responder.json").write_text(json.dumps(responder))
    ready = d / "responder.ready"
    ready.unlink(missing_ok=True)
    pid = host.start_detached(
        [sys.executable, "-m", "netsleuth.lab.responder", str(d) + "/"], d / "responder.log"
    )
    state.pids["responder"] = [pid]
    save(state)
    for _ in range(500):
        if ready.exists():
            return
        if not Path(f"/proc/{pid}").exists() or host._zombie(pid):
            break
        time.sleep(0.01)
    log = (d / "responder.log").read_text(errors="replace")[-2000:]
    raise LabError(f"the responder did not start: {log.strip() or 'no output'}")


def stop_services(state: LabState) -> None:
    for pids in state.pids.values():
        for pid in pids:
            host.kill_owned(state.lab, pid)
    state.pids = {}


# --------------------------------------------------------------------------- down


@dataclass(slots=True)
class DownReport:
    lab: str
    processes: list[int] = field(default_factory=list)
    netns: list[str] = field(default_factory=list)
    etc: list[str] = field(default_factory=list)
    state_removed: bool = False

    @property
    def found_anything(self) -> bool:
        return bool(self.processes or self.netns or self.etc or self.state_removed)


def down(lab: str) -> DownReport:
    """Remove everything of lab ``lab``: by its state file and by prefix."""
    names.check_lab_name(lab)
    preflight()
    report = DownReport(lab=lab)
    state = load(lab)
    pids: set[int] = set()
    if state is not None:
        for lst in state.pids.values():
            pids.update(lst)
    pids.update(host.owned_pids(lab))
    present = lab_netns_present(lab)
    for ns in present:
        # anything still running inside the lab's namespaces is the lab's
        for pid in host.netns_pids(lab, ns):
            if pid not in pids and host.kill_owned(lab, pid):
                report.processes.append(pid)
    for pid in sorted(pids):
        if host.kill_owned(lab, pid):
            report.processes.append(pid)
    for ns in present:
        host.del_netns(lab, ns)
        report.netns.append(ns)
    report.etc = host.remove_netns_etc(lab)
    d = Path(names.state_dir(lab))
    if d.exists():
        shutil.rmtree(d, ignore_errors=True)
        report.state_removed = True
    return report


def all_labs() -> list[str]:
    """Every lab with a state file or a namespace on this host."""
    from netsleuth.lab.state import known_labs

    labs = set(known_labs())
    for ns in host.list_netns():
        lab = names.lab_of_netns(ns)
        if lab is not None:
            labs.add(lab)
    return sorted(labs)


def down_all() -> list[DownReport]:
    return [down(lab) for lab in all_labs()]


# --------------------------------------------------------------------------- status


@dataclass(slots=True)
class LabStatus:
    lab: str
    state: LabState | None
    netns_present: list[str]
    netns_missing: list[str]
    processes_alive: dict[str, list[int]]
    processes_dead: dict[str, list[int]]

    @property
    def healthy(self) -> bool:
        return (
            self.state is not None
            and self.state.status == "up"
            and not self.netns_missing
            and not self.processes_dead
        )


def status(lab: str) -> LabStatus:
    names.check_lab_name(lab)
    state = load(lab)
    present = lab_netns_present(lab)
    expected = state.netns if state is not None else []
    alive: dict[str, list[int]] = {}
    dead: dict[str, list[int]] = {}
    marker = names.state_dir(lab) + "/"
    for kind, pids in (state.pids if state else {}).items():
        for pid in pids:
            ok = marker in host._cmdline(pid) and not host._zombie(pid)
            (alive if ok else dead).setdefault(kind, []).append(pid)
    return LabStatus(
        lab=lab,
        state=state,
        netns_present=present,
        netns_missing=[ns for ns in expected if ns not in present],
        processes_alive=alive,
        processes_dead=dead,
    )

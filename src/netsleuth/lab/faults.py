"""Faults a lab can carry (``lab inject``): the field guides' catalogue.

Each fault is a small JSON record kept in the lab's state, so every later
command (``probe``, ``conformance``, ``capture``, a re-inject) sees the lab
as it is. Three ways a fault acts:

- on the **model** (:func:`apply_model_faults`): objects a person changed —
  a NetworkPolicy that blocks DNS, a Service whose selector no longer
  matches (no endpoints). The lab's rules are rendered from the faulted
  model, and ``lab capture`` writes the changed objects beside the node
  files, so ``scan``/``trace`` see what the lab runs;
- on a **node's rules** (:func:`node_rule_changes`): kube-proxy left stale
  SEP rules, DNS packets dropped or lost, a full conntrack table;
- on **links and routes**: an underlay MTU below what the overlay needs, a
  missing route to another node's podCIDR.

``nf_conntrack_max`` is one global value that a network namespace can read
but not write (the kernel rejects the write outside the initial namespace),
and filling the host's real table would break the host. So ``conntrack-full``
is emulated per node: the node namespace's own table is filled with
``--max`` real entries (``conntrack -I``; its ``nf_conntrack_count`` is
real), new connections through the node are dropped the way a full table
drops them (``-m conntrack --ctstate NEW -j DROP`` first in FORWARD), and
``lab capture`` writes ``--max`` as the node's ``nf_conntrack_max``. Its
``conntrack -S`` is the kernel's own and shows no ``drop`` (the kernel did
not drop: the rule did).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from typing import Any

from netsleuth.lab.plan import VXLAN_OVERHEAD, LabPlan, service_endpoints
from netsleuth.model.cluster import ClusterModel, build_model
from netsleuth.model.objects import (
    EndpointSlice,
    Meta,
    NetworkPolicy,
    PolicyRule,
    Service,
)
from netsleuth.model.selectors import LabelSelector

Fault = dict[str, Any]

FAULT_LABEL = "netsleuth.lab/fault"

CATALOGUE: dict[str, str] = {
    "mtu": "the underlay under --node carries less than the overlay needs (black hole for big packets)",
    "dns-drop": "DNS packets to the CoreDNS pods are dropped on their nodes",
    "dns-slow": "the first DNS query of each client every 10 s is lost: lookups wait a resolver timeout",
    "stale-sep": "kube-proxy on --node still DNATs --service to an old pod IP instead of a current endpoint",
    "no-route": "--node has no route to --to's podCIDR",
    "conntrack-full": "--node's conntrack table is full (emulated: see the module docs)",
    "dns-policy": "--namespace's DNS egress rules select kube-system by `name: kube-system` (or a default-deny egress is added)",
    "no-endpoints": "--service's selector no longer matches its pods: no endpoints",
}


class FaultError(ValueError):
    """A fault that cannot be applied to this lab (unknown kind, node or Service)."""


@dataclass(slots=True)
class RuleChanges:
    first: list[tuple[str, str]] = field(default_factory=list)
    chains: list[tuple[str, str]] = field(default_factory=list)
    stale: dict[str, list[tuple[str, int, str | None]]] = field(default_factory=dict)
    last: list[tuple[str, str]] = field(default_factory=list)


# --------------------------------------------------------------------------- making a fault


def _node(plan: LabPlan, name: str | None, what: str) -> str:
    if not name:
        raise FaultError(f"{what} needs --node (one of {', '.join(n.name for n in plan.nodes)})")
    if plan.node(name) is None:
        raise FaultError(f"no node {name!r} in the lab ({', '.join(n.name for n in plan.nodes)})")
    return name


def _service(model: ClusterModel, text: str | None, what: str) -> Service:
    if not text or "/" not in text:
        raise FaultError(f"{what} needs --service NAMESPACE/NAME")
    ns, name = text.split("/", 1)
    svc = model.service(ns, name)
    if svc is None or svc.type == "ExternalName" or not svc.cluster_ip or svc.cluster_ip == "None":
        raise FaultError(f"no Service with a ClusterIP named {text}")
    return svc


def make_fault(
    kind: str,
    model: ClusterModel,
    plan: LabPlan,
    *,
    node: str | None = None,
    service: str | None = None,
    namespace: str | None = None,
    to: str | None = None,
    mtu: int | None = None,
    max_entries: int | None = None,
) -> Fault:
    """Validate and resolve a fault's parameters into its state record."""
    if kind not in CATALOGUE:
        raise FaultError(f"unknown fault {kind!r}; known: {', '.join(CATALOGUE)}")
    if kind == "mtu":
        n = plan.node(_node(plan, node, kind))
        assert n is not None
        value = mtu if mtu is not None else n.vxlan_mtu + VXLAN_OVERHEAD - 100
        if value >= n.vxlan_mtu + VXLAN_OVERHEAD:
            raise FaultError(
                f"--mtu {value} carries the overlay ({n.vxlan_mtu} + {VXLAN_OVERHEAD}): not a fault"
            )
        if value < 576:
            raise FaultError("--mtu below 576 is not an underlay MTU")
        return {"kind": kind, "node": n.name, "mtu": value, "was": n.underlay_mtu}
    if kind in ("dns-drop", "dns-slow"):
        dns = [p for p in plan.pods if p.dns_server]
        if not dns:
            raise FaultError("the lab has no DNS pod (no ready kube-dns endpoint)")
        return {"kind": kind, "targets": [[p.node, p.ip] for p in dns]}
    if kind == "stale-sep":
        svc = _service(model, service, kind)
        nname = _node(plan, node, kind) if node else None
        ports = [sp for sp in svc.ports if service_endpoints(model, svc, sp.name, sp.protocol)]
        if not ports:
            raise FaultError(f"Service {service} has no ready endpoint to go stale")
        sp = ports[0]
        eps = service_endpoints(model, svc, sp.name, sp.protocol)
        old_ip = eps[0][0]
        stale_ip = _unused_ip(model, plan, old_ip)
        spn = f"{svc.namespace}/{svc.name}" + (f":{sp.name}" if sp.name else "")
        return {
            "kind": kind,
            "service": f"{svc.namespace}/{svc.name}",
            "port_name": spn,
            "nodes": [nname] if nname else [n.name for n in plan.nodes],
            "current": old_ip,
            "stale": stale_ip,
        }
    if kind == "no-route":
        a = _node(plan, node, kind)
        b = _node(plan, to, kind + " --to")
        if a == b:
            raise FaultError("--node and --to are the same node")
        nb = plan.node(b)
        assert nb is not None
        return {"kind": kind, "node": a, "to": b, "cidr": nb.pod_cidr, "via": nb.vtep}
    if kind == "conntrack-full":
        return {"kind": kind, "node": _node(plan, node, kind), "max": max_entries or 256}
    if kind == "dns-policy":
        if not namespace:
            raise FaultError("dns-policy needs --namespace")
        if not any(p.namespace == namespace for p in plan.pods):
            raise FaultError(f"no lab pod in namespace {namespace!r}")
        return {"kind": kind, "namespace": namespace, "name": "netsleuth-fault-deny-egress"}
    if kind == "no-endpoints":
        svc = _service(model, service, kind)
        if not svc.selector:
            raise FaultError(f"Service {service} has no selector")
        return {"kind": kind, "service": f"{svc.namespace}/{svc.name}"}
    raise FaultError(kind)  # pragma: no cover - CATALOGUE and the branches agree


def _unused_ip(model: ClusterModel, plan: LabPlan, near: str) -> str:
    """An address in ``near``'s podCIDR that no pod, gateway or VTEP uses: a deleted pod's."""
    for n in plan.nodes:
        net = ipaddress.ip_network(n.pod_cidr)
        if ipaddress.ip_address(near) in net:
            used = {p.ip for p in model.pods if p.ip} | {n.gateway, n.vtep}
            for h in reversed(list(net.hosts())):
                if str(h) not in used:
                    return str(h)
    raise FaultError(f"no free address near {near}")


# --------------------------------------------------------------------------- model faults


def fault_objects(
    model: ClusterModel, faults: list[Fault]
) -> list[Service | EndpointSlice | NetworkPolicy]:
    """The objects the model-level faults change or add (later ones replace earlier)."""
    out: list[Service | EndpointSlice | NetworkPolicy] = []
    for f in faults:
        if f["kind"] == "dns-policy":
            out.extend(_dns_policy_objects(model, f))
        elif f["kind"] == "no-endpoints":
            ns, name = f["service"].split("/", 1)
            svc = model.service(ns, name)
            if svc is None or not svc.selector:
                continue
            selector = {**svc.selector, FAULT_LABEL: "no-endpoints"}
            out.append(replace(svc, selector=selector, meta=replace(svc.meta, derived=False)))
            for sl in model.slices_for(svc):
                out.append(replace(sl, endpoints=()))
    return out


KUBE_SYSTEM_BY_NAME = LabelSelector.from_match_labels({"name": "kube-system"})


def _allows_dns(rule: PolicyRule) -> bool:
    return any(p.port in (53, "53", "dns", "dns-tcp") for p in rule.ports)


def _dns_policy_objects(model: ClusterModel, f: Fault) -> list[NetworkPolicy]:
    """The classic: the namespace's DNS egress rules pick kube-system by ``name:
    kube-system``, a label kubeadm never sets (``kubernetes.io/metadata.name`` is);
    where no egress rule is meant for DNS, a default-deny egress policy with no DNS
    rule is added (the other classic)."""
    changed: list[NetworkPolicy] = []
    for pol in model.policies_in(f["namespace"]):
        if not pol.affects_egress or not any(_allows_dns(r) for r in pol.egress):
            continue
        rules = []
        for r in pol.egress:
            if _allows_dns(r) and r.peers:
                peers = tuple(
                    replace(peer, namespace_selector=KUBE_SYSTEM_BY_NAME)
                    if peer.namespace_selector is not None
                    else replace(
                        peer,
                        namespace_selector=KUBE_SYSTEM_BY_NAME,
                        pod_selector=peer.pod_selector or LabelSelector(),
                    )
                    if peer.ip_block is None
                    else peer
                    for peer in r.peers
                )
                rules.append(replace(r, peers=peers))
            else:
                rules.append(r)
        labels = {**pol.meta.labels, FAULT_LABEL: "dns-policy"}
        changed.append(replace(pol, egress=tuple(rules), meta=replace(pol.meta, labels=labels)))
    if changed:
        return changed
    return [
        NetworkPolicy(
            meta=Meta(name=f["name"], namespace=f["namespace"], labels={FAULT_LABEL: "dns-policy"}),
            pod_selector=LabelSelector(),
            policy_types=("Egress",),
            declared_policy_types=("Egress",),
        )
    ]


def apply_model_faults(model: ClusterModel, faults: list[Fault]) -> ClusterModel:
    objs = fault_objects(model, faults)
    if not objs:
        return model
    from netsleuth.model.cluster import all_objects

    return build_model(
        [*all_objects(model), *objs],
        [p for p in model.problems],
        source=model.source,
        derive_pods=False,
    )


# --------------------------------------------------------------------------- rule faults


def node_rule_changes(
    model: ClusterModel, plan: LabPlan, node: str, faults: list[Fault]
) -> RuleChanges:
    ch = RuleChanges()
    for f in faults:
        kind = f["kind"]
        if kind == "dns-drop":
            for n, ip in f["targets"]:
                if n == node:
                    for proto in ("udp", "tcp"):
                        ch.first.append(
                            (
                                "filter",
                                f'-A FORWARD -d {ip}/32 -p {proto} -m {proto} --dport 53 -m comment --comment "netsleuth lab fault: dns-drop" -j DROP',
                            )
                        )
        elif kind == "dns-slow":
            for n, ip in f["targets"]:
                if n == node:
                    ch.first.append(
                        (
                            "filter",
                            f'-A FORWARD -d {ip}/32 -p udp -m udp --dport 53 -m recent --rcheck --seconds 10 --name netsleuth-dns-slow --mask 255.255.255.255 --rsource -m comment --comment "netsleuth lab fault: dns-slow" -j ACCEPT',
                        )
                    )
                    ch.first.append(
                        (
                            "filter",
                            f'-A FORWARD -d {ip}/32 -p udp -m udp --dport 53 -m recent --set --name netsleuth-dns-slow --mask 255.255.255.255 --rsource -m comment --comment "netsleuth lab fault: dns-slow (first query lost)" -j DROP',
                        )
                    )
        elif kind == "conntrack-full" and f["node"] == node:
            ch.first.append(
                (
                    "filter",
                    f'-A FORWARD -m conntrack --ctstate NEW -m comment --comment "netsleuth lab fault: conntrack table full (emulated nf_conntrack_max {f["max"]})" -j DROP',
                )
            )
        elif kind == "stale-sep" and node in f["nodes"]:
            ns, name = f["service"].split("/", 1)
            svc = model.service(ns, name)
            if svc is None:
                continue
            for sp in svc.ports:
                spn = f"{svc.namespace}/{svc.name}" + (f":{sp.name}" if sp.name else "")
                eps = service_endpoints(model, svc, sp.name, sp.protocol)
                ch.stale[spn] = [
                    ((f["stale"] if ip == f["current"] else ip), port, n) for ip, port, n in eps
                ]
    return ch


def emulated_conntrack_max(faults: list[Fault], node: str) -> int | None:
    for f in faults:
        if f["kind"] == "conntrack-full" and f["node"] == node:
            return int(f["max"])
    return None


def describe(f: Fault) -> str:
    k = f["kind"]
    if k == "mtu":
        return f"mtu: node {f['node']} underlay MTU {f['was']} -> {f['mtu']}"
    if k in ("dns-drop", "dns-slow"):
        return f"{k}: DNS pods " + ", ".join(str(ip) for _, ip in f["targets"])
    if k == "stale-sep":
        return (
            f"stale-sep: {f['service']} on {', '.join(f['nodes'])}: {f['current']} -> {f['stale']}"
        )
    if k == "no-route":
        return f"no-route: node {f['node']} has no route to {f['to']} ({f['cidr']})"
    if k == "conntrack-full":
        return f"conntrack-full: node {f['node']}, emulated nf_conntrack_max {f['max']}"
    if k == "dns-policy":
        return f"dns-policy: NetworkPolicy {f['namespace']}/{f['name']} (default-deny egress)"
    if k == "no-endpoints":
        return f"no-endpoints: Service {f['service']} selector no longer matches"
    return str(k)

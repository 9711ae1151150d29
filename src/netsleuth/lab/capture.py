"""``lab capture``: each lab node's real command output in the node-evidence layout.

``DIR/nodes/<node>/`` gets what the node's own tools print, run inside the
node's namespace: ``iptables-save``, ``ip -d link``, ``ip route``,
``conntrack -S``, ``nf_conntrack_count``, ``nf_conntrack_max``,
``sysctl.txt`` and ``resolv.conf`` — the files ``-f`` reads as node
artifacts. ``nf_conntrack_max`` is the host's global value, or the emulated
limit of a ``conntrack-full`` fault (see :mod:`netsleuth.lab.faults`).
Faults that change Kubernetes objects (a policy, a Service's selector) are
written as ``DIR/lab-faults.yaml`` (a ``kind: List``), so
``netsleuth scan -f CLUSTER -f DIR`` reads the cluster as the lab runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from netsleuth.lab import host
from netsleuth.lab.faults import describe, emulated_conntrack_max, fault_objects
from netsleuth.lab.state import LabState
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import EndpointSlice, NetworkPolicy, PolicyRule, Service
from netsleuth.model.selectors import LabelSelector

SYSCTLS = (
    "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.tcp_mtu_probing",
    "net.netfilter.nf_conntrack_max",
    "net.netfilter.nf_conntrack_buckets",
    "net.netfilter.nf_conntrack_tcp_timeout_established",
    "net.netfilter.nf_conntrack_udp_timeout",
)


def capture(model: ClusterModel, state: LabState, out: Path) -> list[Path]:
    plan = state.plan
    assert plan is not None
    lab = state.lab
    written: list[Path] = []
    for node in plan.nodes:
        d = out / "nodes" / node.name
        d.mkdir(parents=True, exist_ok=True)

        def run(*argv: str, netns: str = node.netns) -> str:
            return host.netns_exec(lab, netns, list(argv), check=False).stdout

        files = {
            "iptables-save.txt": run("iptables-save"),
            "ip-d-link.txt": run("ip", "-d", "link"),
            "ip-route.txt": run("ip", "route"),
            "conntrack-S.txt": run("conntrack", "-S"),
            "nf_conntrack_count": run("cat", "/proc/sys/net/netfilter/nf_conntrack_count"),
            "resolv.conf": run("cat", "/etc/resolv.conf"),
        }
        emulated = emulated_conntrack_max(state.faults, node.name)
        real_max = run("cat", "/proc/sys/net/netfilter/nf_conntrack_max")
        files["nf_conntrack_max"] = f"{emulated}\n" if emulated is not None else real_max
        sysctl = run("sysctl", *SYSCTLS)
        if emulated is not None:
            sysctl = (
                "\n".join(
                    f"net.netfilter.nf_conntrack_max = {emulated}"
                    if line.startswith("net.netfilter.nf_conntrack_max ")
                    else line
                    for line in sysctl.splitlines()
                )
                + "\n"
            )
        files["sysctl.txt"] = sysctl
        for name, text in files.items():
            (d / name).write_text(text)
            written.append(d / name)
    objs = fault_objects(model, state.faults)
    if objs:
        doc = {
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": ""},
            "items": [_to_manifest(o) for o in objs],
        }
        p = out / "lab-faults.yaml"
        header = "# objects changed by the lab's faults:\n" + "".join(
            f"#   {describe(f)}\n" for f in state.faults
        )
        p.write_text(header + yaml.safe_dump(doc, sort_keys=False))
        written.append(p)
    return written


def _selector(sel: LabelSelector) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if sel.labels:
        out["matchLabels"] = dict(sel.labels)
    if sel.expressions:
        out["matchExpressions"] = [
            {
                "key": e.key,
                "operator": str(e.operator),
                **({"values": sorted(e.values)} if e.values else {}),
            }
            for e in sel.expressions
        ]
    return out


def _rule(r: PolicyRule, peers_key: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.peers:
        peers = []
        for p in r.peers:
            peer: dict[str, Any] = {}
            if p.pod_selector is not None:
                peer["podSelector"] = _selector(p.pod_selector)
            if p.namespace_selector is not None:
                peer["namespaceSelector"] = _selector(p.namespace_selector)
            if p.ip_block is not None:
                peer["ipBlock"] = {
                    "cidr": p.ip_block.cidr,
                    **({"except": list(p.ip_block.except_)} if p.ip_block.except_ else {}),
                }
            peers.append(peer)
        out[peers_key] = peers
    if r.ports:
        ports = []
        for pp in r.ports:
            port: dict[str, Any] = {"protocol": pp.protocol}
            if pp.port is not None:
                port["port"] = pp.port
            if pp.end_port is not None:
                port["endPort"] = pp.end_port
            ports.append(port)
        out["ports"] = ports
    return out


def _meta(o: Service | EndpointSlice | NetworkPolicy) -> dict[str, Any]:
    m: dict[str, Any] = {"name": o.meta.name, "namespace": o.meta.namespace}
    if o.meta.labels:
        m["labels"] = dict(o.meta.labels)
    if o.meta.uid:
        m["uid"] = o.meta.uid
    return m


def _to_manifest(o: Service | EndpointSlice | NetworkPolicy) -> dict[str, Any]:
    if isinstance(o, NetworkPolicy):
        spec: dict[str, Any] = {
            "podSelector": _selector(o.pod_selector),
            "policyTypes": list(o.policy_types),
        }
        if o.ingress:
            spec["ingress"] = [_rule(r, "from") for r in o.ingress]
        if o.egress:
            spec["egress"] = [_rule(r, "to") for r in o.egress]
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(o),
            "spec": spec,
        }
    if isinstance(o, Service):
        ports = []
        for p in o.ports:
            port: dict[str, Any] = {"port": p.port, "protocol": p.protocol}
            if p.name:
                port["name"] = p.name
            if p.target_port is not None:
                port["targetPort"] = p.target_port
            ports.append(port)
        svc_spec: dict[str, Any] = {
            "type": o.type,
            "clusterIP": o.cluster_ip,
            "selector": dict(o.selector or {}),
            "ports": ports,
        }
        if o.cluster_ips:
            svc_spec["clusterIPs"] = list(o.cluster_ips)
        return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(o), "spec": svc_spec}
    meta = _meta(o)
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": meta,
        "addressType": o.address_type,
        "endpoints": [],
        "ports": [
            {
                k: v
                for k, v in (("name", p.name), ("port", p.port), ("protocol", p.protocol))
                if v is not None
            }
            for p in o.ports
        ],
    }

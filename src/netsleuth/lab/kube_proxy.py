"""Service rules as kube-proxy's iptables mode writes them, for one lab node.

Chain names and comments follow kube-proxy (pkg/proxy/iptables/proxier.go):
``KUBE-SVC-`` + base32(sha256(servicePortName + protocol))[:16] and
``KUBE-SEP-`` + base32(sha256(servicePortName + protocol + "ip:port"))[:16],
where servicePortName is ``ns/name:port-name`` and the protocol lower-case;
endpoints are picked with ``-m statistic --mode random --probability 1/n``;
a Service port with no ready endpoint gets a REJECT in the filter table's
KUBE-SERVICES; ``internalTrafficPolicy: Local`` uses a ``KUBE-SVL-`` chain of
the node's own endpoints (DROP when there is none). So ``iptables-save`` in a
lab node reads like a real node's, and the node-evidence parsers and KPX603
read it as they read one.

NodePorts, external IPs and load-balancer IPs are not written: the lab has
no traffic from outside the cluster.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from netsleuth.lab.plan import LabPlan, service_endpoints
from netsleuth.model.cluster import ClusterModel

Endpoint = tuple[str, int, str | None]


def port_proto_hash(text: str) -> str:
    """kube-proxy's portProtoHash: base32(sha256(text))[:16]."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


@dataclass(slots=True)
class NodeRules:
    """iptables rules for one node, per table: chain declarations and rules."""

    chains: dict[str, list[str]] = field(default_factory=dict)
    rules: dict[str, list[str]] = field(default_factory=dict)

    def chain(self, table: str, name: str) -> None:
        lst = self.chains.setdefault(table, [])
        if name not in lst:
            lst.append(name)

    def add(self, table: str, rule: str) -> None:
        self.rules.setdefault(table, []).append(rule)


BUILTIN = {
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
}


def _q(text: str) -> str:
    """A comment argument for iptables-restore (double-quoted; names are DNS names,
    anything else was hashed by the plan, but quote characters are dropped anyway)."""
    return '"' + text.replace('"', "").replace("\\", "") + '"'


def kube_proxy_rules(
    model: ClusterModel,
    plan: LabPlan,
    node: str,
    out: NodeRules,
    *,
    stale: dict[str, list[Endpoint]] | None = None,
) -> None:
    """Append kube-proxy's rules for ``node`` to ``out``.

    ``stale`` maps a servicePortName (``ns/name:port``) to the endpoints this
    node's kube-proxy still has programmed instead of the slice's (the
    stale-rules fault)."""
    stale = stale or {}
    cc = plan.cluster_cidr
    for ch in ("KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY", "KUBE-PROXY-CANARY"):
        out.chain("mangle", ch)
    for ch in (
        "KUBE-EXTERNAL-SERVICES",
        "KUBE-FIREWALL",
        "KUBE-FORWARD",
        "KUBE-KUBELET-CANARY",
        "KUBE-NODEPORTS",
        "KUBE-PROXY-CANARY",
        "KUBE-PROXY-FIREWALL",
        "KUBE-SERVICES",
    ):
        out.chain("filter", ch)
    for ch in (
        "KUBE-KUBELET-CANARY",
        "KUBE-MARK-MASQ",
        "KUBE-NODEPORTS",
        "KUBE-POSTROUTING",
        "KUBE-PROXY-CANARY",
        "KUBE-SERVICES",
    ):
        out.chain("nat", ch)
    f = "filter"
    out.add(
        f,
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    )
    out.add(
        f, '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS'
    )
    out.add(
        f,
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    )
    out.add(f, "-A INPUT -j KUBE-FIREWALL")
    out.add(
        f,
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    )
    out.add(f, '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD')
    out.add(
        f,
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    )
    out.add(
        f,
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    )
    out.add(
        f,
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    )
    out.add(
        f,
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    )
    out.add(f, "-A OUTPUT -j KUBE-FIREWALL")
    out.add(
        f,
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    )
    out.add(f, "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP")
    out.add(
        f,
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    )
    out.add(
        f,
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    )
    n = "nat"
    out.add(n, '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    out.add(n, '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    out.add(
        n, '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
    )
    out.add(n, "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000")
    out.add(n, "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN")
    out.add(n, "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0")
    out.add(
        n,
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    )

    services_rules: list[str] = []
    chain_rules: list[str] = []
    for svc in sorted(model.services, key=lambda s: (s.namespace, s.name)):
        cip = svc.cluster_ip
        if svc.type == "ExternalName" or not cip or cip == "None" or ":" in cip:
            continue
        for sp in svc.ports:
            if sp.protocol not in ("TCP", "UDP", "SCTP"):
                continue
            spn = f"{svc.namespace}/{svc.name}" + (f":{sp.name}" if sp.name else "")
            proto = sp.protocol.lower()
            eps = (
                stale.get(spn)
                if spn in stale
                else service_endpoints(model, svc, sp.name, sp.protocol)
            )
            assert eps is not None
            svc_chain = "KUBE-SVC-" + port_proto_hash(spn + proto)
            svl_chain = "KUBE-SVL-" + port_proto_hash(spn + proto)
            local_int = svc.internal_traffic_policy == "Local"
            local_eps = [e for e in eps if e[2] == node]
            match = f"-d {cip}/32 -p {proto} -m comment --comment {_q(spn + ' cluster IP')} -m {proto} --dport {sp.port}"
            if not eps:
                out.add(
                    f,
                    f"-A KUBE-SERVICES -d {cip}/32 -p {proto} -m comment --comment {_q(spn + ' has no endpoints')} -m {proto} --dport {sp.port} -j REJECT --reject-with icmp-port-unreachable",
                )
                continue
            if local_int and not local_eps:
                out.add(
                    f,
                    f"-A KUBE-SERVICES -d {cip}/32 -p {proto} -m comment --comment {_q(spn + ' has no local endpoints')} -m {proto} --dport {sp.port} -j DROP",
                )
                continue
            target = svl_chain if local_int else svc_chain
            out.chain(n, target)
            services_rules.append(f"-A KUBE-SERVICES {match} -j {target}")
            seps = []
            for ip, port, _node in eps:
                sep = "KUBE-SEP-" + port_proto_hash(spn + proto + f"{ip}:{port}")
                seps.append((sep, ip, port))
                out.chain(n, sep)
            if not local_int:
                chain_rules.append(f"-A {svc_chain} ! -s {cc} {match} -j KUBE-MARK-MASQ")
                chain_rules += _balance(svc_chain, spn, seps)
            else:
                local = [s for s, e in zip(seps, eps, strict=True) if e[2] == node]
                chain_rules += _balance(svl_chain, spn, local)
            for sep, ip, port in seps:
                chain_rules.append(
                    f"-A {sep} -s {ip}/32 -m comment --comment {_q(spn)} -j KUBE-MARK-MASQ"
                )
                chain_rules.append(
                    f"-A {sep} -p {proto} -m comment --comment {_q(spn)} -m {proto} -j DNAT --to-destination {ip}:{port}"
                )
    services_rules.append(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
    )
    for r in services_rules + chain_rules:
        out.add(n, r)


def _balance(chain: str, spn: str, seps: list[tuple[str, str, int]]) -> list[str]:
    rules = []
    k = len(seps)
    for i, (sep, ip, port) in enumerate(seps):
        comment = _q(f"{spn} -> {ip}:{port}")
        if i < k - 1:
            rules.append(
                f"-A {chain} -m comment --comment {comment} -m statistic --mode random --probability {1.0 / (k - i):.11f} -j {sep}"
            )
        else:
            rules.append(f"-A {chain} -m comment --comment {comment} -j {sep}")
    return rules


def restore_text(rules: NodeRules) -> str:
    """The whole ruleset as ``iptables-restore`` input (tables replaced atomically)."""
    lines: list[str] = []
    for table in ("mangle", "filter", "nat"):
        if table not in rules.chains and table not in rules.rules:
            continue
        lines.append(f"*{table}")
        for ch in BUILTIN[table]:
            lines.append(f":{ch} ACCEPT [0:0]")
        for ch in sorted(rules.chains.get(table, [])):
            lines.append(f":{ch} - [0:0]")
        lines.extend(rules.rules.get(table, []))
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"

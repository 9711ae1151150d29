"""What kube-proxy programmed on a node, read back from ``iptables-save`` and ``ipvsadm -Ln``.

kube-proxy in iptables mode writes, per ClusterIP port
(https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/iptables/proxier.go)::

    -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" \\
        -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
    -A KUBE-SVC-TCOU7JCQXEZGVUNU ... -j KUBE-SEP-IT2ZTR26TO4XFPTO
    -A KUBE-SEP-IT2ZTR26TO4XFPTO -p udp ... -j DNAT --to-destination 10.244.0.2:53

and, for a port with no ready endpoint, a ``REJECT`` rule commented
``"ns/svc:port has no endpoints"`` in the filter table instead. The
parsed rule fields are used where the parser filled them, and the rule
text otherwise, so this works with any :class:`IptablesRule` producer.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.node_artifacts import IptablesDump, IptablesRule, IpvsService
from netsleuth.model.objects import Service, ServicePort

_D = re.compile(r"(?:^|\s)-d\s+(\S+)")
_P = re.compile(r"(?:^|\s)-p\s+(\S+)")
_DPORT = re.compile(r"--dport\s+(\d+)")
_J = re.compile(r"(?:^|\s)-j\s+(\S+)")
_TO = re.compile(r"--to-destination\s+(\S+)")
_COMMENT = re.compile(r'--comment\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _dest(rule: IptablesRule) -> str | None:
    d = rule.destination
    if d is None:
        m = _D.search(rule.spec)
        d = m.group(1) if m else None
    if d is None:
        return None
    return d.split("/", 1)[0] if d.endswith(("/32", "/128")) else d


def _proto(rule: IptablesRule) -> str | None:
    p = rule.protocol
    if p is None:
        m = _P.search(rule.spec)
        p = m.group(1) if m else None
    return p.upper() if p else None


def _dport(rule: IptablesRule) -> int | None:
    text = rule.dport
    if text is None:
        m = _DPORT.search(rule.spec)
        text = m.group(1) if m else None
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _target(rule: IptablesRule) -> str | None:
    if rule.target:
        return rule.target
    m = _J.search(rule.spec)
    return m.group(1) if m else None


def _to(rule: IptablesRule) -> str | None:
    if rule.to_destination:
        return rule.to_destination
    m = _TO.search(rule.spec)
    return m.group(1) if m else None


def _comment(rule: IptablesRule) -> str | None:
    if rule.comment is not None:
        return rule.comment
    m = _COMMENT.search(rule.spec)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceRule:
    """One ClusterIP:port as kube-proxy programmed it on a node."""

    cluster_ip: str
    protocol: str
    port: int
    chain: str | None
    """The KUBE-SVC-* chain jumped to, ``None`` when the port only has a REJECT rule."""
    comment: str | None
    destinations: frozenset[str]
    """``ip:port`` DNAT targets reachable through the chain's KUBE-SEP-* chains."""
    rejects: bool = False
    shares: tuple[tuple[str, float], ...] = ()
    """The share of new connections each endpoint gets from the chain's
    ``-m statistic --mode random --probability p`` jumps, in rule order: rule i takes
    p_i of what the rules before it left. kube-proxy writes p_i = 1/(n-i) (the last
    rule has none), so each of n endpoints gets 1/n."""
    fallthrough: float = 0.0
    """The share that matches no KUBE-SEP jump (the last jump has a probability below 1):
    those connections are not DNATed and go to the ClusterIP, which answers nothing."""
    malformed: tuple[str, ...] = ()
    """DNAT targets that are no ``ip:port`` (``:0``, no port, port 0, no address)."""


_DNAT_TO = re.compile(r"^(?:\[([0-9a-fA-F:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$")


def malformed_dnat(to: str) -> bool:
    """``True`` for a ``--to-destination`` kube-proxy would never write: it always writes
    ``ip:port`` with a real address and a port in 1..65535 (``:0`` appears when a rule was
    written from an endpoint without address or port)."""
    m = _DNAT_TO.match(to)
    if m is None:
        return True
    try:
        ipaddress.ip_address(m.group(1) or m.group(2))
    except ValueError:
        return True
    return not 1 <= int(m.group(3)) <= 65535


def _probability(rule: IptablesRule) -> float:
    if rule.probability is not None:
        return rule.probability
    m = re.search(r"--probability\s+([0-9.]+)", rule.spec)
    if m:
        try:
            return min(max(float(m.group(1)), 0.0), 1.0)
        except ValueError:
            return 1.0
    return 1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePortRule:
    """One ``KUBE-NODEPORTS`` jump: the node port kube-proxy opened and for which Service."""

    protocol: str
    port: int
    chain: str | None
    comment: str | None
    destinations: frozenset[str]


def iptables_service_rules(dump: IptablesDump) -> dict[tuple[str, str, int], ServiceRule]:
    """``(cluster IP, protocol, port) -> ServiceRule`` from a node's iptables-save."""
    by_chain: dict[str, list[IptablesRule]] = defaultdict(list)
    for r in dump.rules:
        if r.table == "nat":
            by_chain[r.chain].append(r)

    def endpoints_of(svc_chain: str) -> frozenset[str]:
        out: set[str] = set()
        seen: set[str] = set()
        todo = [svc_chain]
        while todo:
            ch = todo.pop()
            if ch in seen:
                continue
            seen.add(ch)
            for r in by_chain.get(ch, ()):
                tgt = _target(r)
                if tgt == "DNAT":
                    to = _to(r)
                    if to:
                        out.add(to)
                elif tgt and tgt.startswith(("KUBE-SEP-", "KUBE-SVL-", "KUBE-SVC-")):
                    todo.append(tgt)
        return frozenset(out)

    def split(svc_chain: str) -> tuple[tuple[tuple[str, float], ...], float]:
        shares: dict[str, float] = {}
        remaining = 1.0
        for r in by_chain.get(svc_chain, ()):
            tgt = _target(r)
            if not tgt or not tgt.startswith("KUBE-SEP-"):
                continue
            if "--rcheck" in r.spec:
                continue  # session affinity: returning clients, not the random split
            share = remaining * _probability(r)
            remaining -= share
            dnat = [_to(x) for x in by_chain.get(tgt, ()) if _target(x) == "DNAT"]
            dest = next((d for d in dnat if d), None) or f"{tgt} (no DNAT rule)"
            shares[dest] = shares.get(dest, 0.0) + share
        return tuple(shares.items()), max(remaining, 0.0)

    result: dict[tuple[str, str, int], ServiceRule] = {}
    for r in dump.rules:
        if r.chain != "KUBE-SERVICES":
            continue
        tgt = _target(r)
        ip, proto, port = _dest(r), _proto(r), _dport(r)
        if ip is None or proto is None or port is None or "/" in ip:
            continue
        key = (ip, proto, port)
        if r.table == "nat" and tgt and tgt.startswith("KUBE-SVC-"):
            dests = endpoints_of(tgt)
            shares, rest = split(tgt)
            result[key] = ServiceRule(
                cluster_ip=ip,
                protocol=proto,
                port=port,
                chain=tgt,
                comment=_comment(r),
                destinations=dests,
                shares=shares,
                fallthrough=rest if shares else 0.0,
                malformed=tuple(sorted(d for d in dests if malformed_dnat(d))),
            )
        elif tgt == "REJECT" and key not in result:
            result[key] = ServiceRule(
                cluster_ip=ip,
                protocol=proto,
                port=port,
                chain=None,
                comment=_comment(r),
                destinations=frozenset(),
                rejects=True,
            )
    return result


def iptables_nodeports(dump: IptablesDump) -> dict[tuple[str, int], NodePortRule]:
    """``(protocol, node port) -> NodePortRule`` from ``KUBE-NODEPORTS`` (nat table)."""
    out: dict[tuple[str, int], NodePortRule] = {}
    by_chain: dict[str, list[IptablesRule]] = defaultdict(list)
    for r in dump.rules:
        if r.table == "nat":
            by_chain[r.chain].append(r)
    for r in by_chain.get("KUBE-NODEPORTS", ()):
        proto, port = _proto(r), _dport(r)
        if proto is None or port is None:
            continue
        tgt = _target(r)
        dests: set[str] = set()
        todo = [tgt] if tgt else []
        seen: set[str] = set()
        while todo:
            ch = todo.pop()
            if ch in seen:
                continue
            seen.add(ch)
            for x in by_chain.get(ch, ()):
                t = _target(x)
                if t == "DNAT":
                    to = _to(x)
                    if to:
                        dests.add(to)
                elif t and t.startswith(("KUBE-SEP-", "KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-")):
                    todo.append(t)
        out[(proto, port)] = NodePortRule(
            protocol=proto, port=port, chain=tgt, comment=_comment(r), destinations=frozenset(dests)
        )
    return out


def comment_owner(comment: str | None) -> tuple[str, str, str] | None:
    """``(namespace, name, port name)`` from a kube-proxy rule comment
    (``"shop/web:http cluster IP"``, ``"shop/web:http"``, ``"shop/web cluster IP"``)."""
    head = (comment or "").split(" ", 1)[0]
    ns, sep, rest = head.partition("/")
    if not sep or not ns or not rest:
        return None
    name, _, port = rest.partition(":")
    return (ns, name, port) if name else None


def ipvs_virtual_servers(
    services: tuple[IpvsService, ...],
) -> dict[tuple[str, str, int], IpvsService]:
    """``(address, protocol, port) -> IpvsService``."""
    return {(s.address, s.protocol.upper(), s.port): s for s in services}


def ipvs_destinations(vs: IpvsService) -> frozenset[str]:
    """Real servers that take new connections. kube-proxy keeps terminating endpoints
    with weight 0 until their connections drain (graceful termination), so those
    are not counted as stale."""
    out = set()
    for rs in vs.real_servers:
        if rs.weight == 0:
            continue
        addr = f"[{rs.address}]" if ":" in rs.address else rs.address
        out.add(f"{addr}:{rs.port}")
    return frozenset(out)


def proxied_services(model: ClusterModel) -> list[Service]:
    """Services kube-proxy programs a ClusterIP for: not headless, not ExternalName,
    with a ClusterIP, and cluster-wide internal traffic policy (``Local`` gives each
    node its own endpoint set, ``KUBE-SVL-*`` chains, which these comparisons skip)."""
    return [
        s
        for s in model.services
        if s.cluster_ip
        and s.cluster_ip != "None"
        and s.type != "ExternalName"
        and (s.internal_traffic_policy or "Cluster") == "Cluster"
    ]


TOPOLOGY_ANNOTATIONS = (
    "service.kubernetes.io/topology-mode",
    "service.kubernetes.io/topology-aware-hints",
)


def endpoints_vary_by_node(svc: Service) -> bool:
    """True when kube-proxy gives each node its own endpoint subset: topology-aware
    routing (the zone hints of ``service.kubernetes.io/topology-mode: Auto``) filters
    endpoints to the node's zone, so one node's rules legitimately lack the others
    (https://kubernetes.io/docs/concepts/services-networking/topology-aware-routing/)."""
    return any(
        svc.meta.annotations.get(a, "").lower() not in ("", "disabled")
        for a in TOPOLOGY_ANNOTATIONS
    )


def expected_destinations(
    model: ClusterModel, svc: Service, port: ServicePort, family: int
) -> frozenset[str] | None:
    """``ip:port`` kube-proxy should DNAT ``svc``'s ``port`` to: the ready endpoints
    (or, when none is ready, the serving terminating ones, as kube-proxy does
    since 1.26), with the EndpointSlice port of the same name and protocol.
    ``None`` when the input has no EndpointSlice for the Service (nothing to compare)."""
    slices = model.slices_for(svc)
    if not slices:
        return None
    want = port.name or ""
    ready: set[str] = set()
    fallback: set[str] = set()
    for sl in slices:
        if (sl.address_type == "IPv6") != (family == 6):
            continue
        sp = next(
            (p for p in sl.ports if (p.name or "") == want and p.protocol == port.protocol), None
        )
        if sp is None or sp.port is None:
            continue
        for ep in sl.endpoints:
            for addr in ep.addresses[:1]:
                dest = f"[{addr}]:{sp.port}" if family == 6 else f"{addr}:{sp.port}"
                if ep.is_ready and not ep.terminating:
                    ready.add(dest)
                elif ep.serving is not False and ep.terminating:
                    fallback.add(dest)
    return frozenset(ready or fallback)

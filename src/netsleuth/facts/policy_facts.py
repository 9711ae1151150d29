"""Facts the policy lints share: where cluster DNS is, who calls which Service.

Policy lints ask "does this policy block traffic that exists?". Traffic that
exists is inferred from the input, never guessed:

- DNS: every pod with cluster DNS (``ClusterFirst``) sends queries to the
  CoreDNS pods (derived ones when the input has none, see
  :func:`netsleuth.model.cluster_dns.with_kube_dns`).
- Service clients: pods whose env values, args or command name a Service
  (``http://cart.shop.svc.cluster.local:8080``, ``cart.shop:8080``, or a
  bare ``cart`` URL host in the same namespace); one pod per workload is read.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netsleuth.facts.cluster_domain import cluster_domain
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_pods, with_kube_dns
from netsleuth.model.commands import Snippet
from netsleuth.model.objects import NetworkPolicy, Pod, PolicyPeer, PolicyRule
from netsleuth.model.selectors import Operator
from netsleuth.policy import (
    Direction,
    PodEndpoint,
    evaluate_direction,
    policies_selecting,
)

DNS_PORTS = (53, 5353)

_URL_HOST = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/\s]*@)?([A-Za-z0-9.-]+)")
_HOST_PORT = re.compile(r"^(?:--?[A-Za-z0-9-]+=)?([a-z0-9][a-z0-9.-]*):(\d{1,5})/?$")


def dns_model(model: ClusterModel) -> tuple[ClusterModel, list[Pod]]:
    """The model with a derived kube-dns when the input has none, and the CoreDNS pods in it."""
    m = with_kube_dns(model)
    return m, dns_pods(m)


def dns_container_port(pod: Pod, protocol: str) -> int:
    """The port CoreDNS listens on for ``protocol`` (what a policy must allow after DNAT)."""
    for cp in pod.spec.all_ports():
        if cp.protocol == protocol and (
            cp.name in ("dns", "dns-tcp") or cp.container_port in DNS_PORTS
        ):
            return cp.container_port
    return 53


def uses_cluster_dns(pod: Pod) -> bool:
    policy = pod.spec.dns_policy or "ClusterFirst"
    if pod.spec.host_network:
        return policy == "ClusterFirstWithHostNet"
    return policy in ("ClusterFirst", "ClusterFirstWithHostNet")


def isolating(model: ClusterModel, pod: Pod, direction: Direction) -> tuple[NetworkPolicy, ...]:
    return policies_selecting(model, pod, direction)


def _hosts(values: Iterable[str]) -> Iterable[tuple[str, int | None]]:
    for value in values:
        for token in value.split():
            m = _URL_HOST.search(token)
            if m:
                rest = token[m.end() :]
                port = (
                    int(rest[1:].split("/")[0])
                    if rest.startswith(":") and rest[1:].split("/")[0].isdigit()
                    else None
                )
                yield m.group(1).lower().rstrip("."), port
                continue
            hp = _HOST_PORT.match(token)
            if hp:
                yield hp.group(1).rstrip("."), int(hp.group(2))


def service_clients(
    model: ClusterModel, domain: str | None = None
) -> dict[tuple[str, str], list[tuple[Pod, int | None]]]:
    """(namespace, service) -> [(client pod, port named in the reference)]; one pod per workload.

    ``domain``: the cluster domain (``None``: the model's,
    :func:`netsleuth.facts.cluster_domain.cluster_domain`)."""
    suffix = f".svc.{cluster_domain(model, domain)}"
    out: dict[tuple[str, str], list[tuple[Pod, int | None]]] = defaultdict(list)
    seen_owner: set[object] = set()
    for pod in model.pods:
        owner = model.owner(pod)
        if owner in seen_owner:
            continue
        seen_owner.add(owner)
        values: list[str] = []
        for c in pod.spec.containers:
            values += [v for _, v in c.env if v]
            values += list(c.args) + list(c.command)
        if not values:
            continue
        for host, port in _hosts(values):
            parts = host.split(".")
            if host.endswith(suffix) or host.endswith(".svc"):
                key = (parts[1], parts[0]) if len(parts) >= 3 else None
            elif len(parts) == 2 and parts[1] in model.namespaces:
                key = (parts[1], parts[0])
            elif len(parts) == 1:
                key = (pod.namespace, parts[0])
            else:
                key = None
            if key is None or model.service(*key) is None:
                continue
            if all(p is not pod for p, _ in out[key]):
                out[key].append((pod, port))
    return dict(out)


# --------------------------------------------------------------------------- DNS egress


@dataclass(frozen=True, slots=True)
class DnsEgressGap:
    """Pods of one namespace, isolated for egress by the same policies, whose DNS is not fully allowed."""

    namespace: str
    policies: tuple[NetworkPolicy, ...]
    pods: tuple[Pod, ...]
    udp_allowed: bool
    tcp_allowed: bool
    attempts: tuple[tuple[NetworkPolicy, int], ...]
    """(policy, egress rule index) of rules that look meant for DNS."""
    reasons: tuple[str, ...]
    coredns: Pod
    udp_port: int
    tcp_port: int


_DNS_PEER_VALUES = frozenset({"kube-system", "kube-dns", "coredns"})


def rule_aims_at_dns(rule: PolicyRule) -> bool:
    """The rule is meant for cluster DNS: a port 53/5353 (by number, name or an endPort
    range over 53), or a peer selecting kube-system / kube-dns / coredns by an ``In``
    label value.

    The one answer for POL303 (which rules tried to allow DNS), POL304 (which leaves
    those rules to POL303) and the trace's DNS hop (which policy to fix).

    >>> from netsleuth.model.objects import PolicyPort
    >>> rule_aims_at_dns(PolicyRule(ports=(PolicyPort(protocol="UDP", port=53),)))
    True
    >>> rule_aims_at_dns(PolicyRule(ports=(PolicyPort(protocol="TCP", port=443),)))
    False
    """
    for p in rule.ports:
        if p.port in DNS_PORTS or (
            isinstance(p.port, str) and p.port in ("dns", "dns-tcp", "53", "5353")
        ):
            return True
        if p.end_port is not None and isinstance(p.port, int) and p.port <= 53 <= p.end_port:
            return True
    for peer in rule.peers:
        for sel in (peer.namespace_selector, peer.pod_selector):
            if sel is None:
                continue
            if any(
                r.operator is Operator.IN and r.values & _DNS_PEER_VALUES
                for r in sel.requirements()
            ):
                return True
    return False


def dns_egress_gaps(model: ClusterModel) -> list[DnsEgressGap]:
    """Egress-isolated pods using cluster DNS that cannot reach CoreDNS on UDP and TCP.

    POL302 and POL303 both read it, and the trace's DNS hop; computed once per
    model. Callers must not mutate the list.
    """
    return model.memoised("facts.dns_egress_gaps", lambda: _dns_egress_gaps(model))


def _dns_egress_gaps(model: ClusterModel) -> list[DnsEgressGap]:
    if not model.network_policies:
        return []
    m, dns_pods = dns_model(model)
    if not dns_pods:
        return []
    target = dns_pods[0]
    udp_port, tcp_port = dns_container_port(target, "UDP"), dns_container_port(target, "TCP")
    dst = PodEndpoint(target)
    verdicts: dict[
        tuple[str, frozenset[tuple[str, str]]], tuple[bool, bool, tuple[str, ...]] | None
    ] = {}
    groups: dict[tuple[str, tuple[str, ...]], list[Pod]] = defaultdict(list)
    group_policies: dict[tuple[str, tuple[str, ...]], tuple[NetworkPolicy, ...]] = {}
    group_verdict: dict[tuple[str, tuple[str, ...]], tuple[bool, bool, tuple[str, ...]]] = {}
    dns_keys = {p.key for p in dns_pods}
    for ns, policies in m.policies_by_namespace.items():
        if not any(p.affects_egress for p in policies):
            continue
        for pod in m.pods_by_namespace.get(ns, ()):
            if pod.key in dns_keys or not uses_cluster_dns(pod) or pod.host_network:
                continue
            key = (ns, frozenset(pod.labels.items()))
            if key not in verdicts:
                selecting = policies_selecting(m, pod, Direction.EGRESS)
                if not selecting:
                    verdicts[key] = None
                else:
                    src = PodEndpoint(pod)
                    du = evaluate_direction(m, Direction.EGRESS, src, dst, "UDP", udp_port)
                    dt = evaluate_direction(m, Direction.EGRESS, src, dst, "TCP", tcp_port)
                    reasons = tuple(
                        dict.fromkeys(miss.describe() for miss in (*du.misses, *dt.misses))
                    )
                    verdicts[key] = (
                        (du.allowed, dt.allowed, reasons)
                        if not (du.allowed and dt.allowed)
                        else None
                    )
                    if verdicts[key] is not None:
                        gkey = (ns, tuple(sorted(p.name for p in selecting)))
                        group_policies[gkey] = selecting
                        group_verdict[gkey] = verdicts[key]  # type: ignore[assignment]
            v = verdicts[key]
            if v is None:
                continue
            selecting_names = tuple(
                sorted(p.name for p in policies_selecting(m, pod, Direction.EGRESS))
            )
            gkey = (ns, selecting_names)
            groups[gkey].append(pod)
            if gkey not in group_verdict:
                group_policies[gkey] = policies_selecting(m, pod, Direction.EGRESS)
                group_verdict[gkey] = v
    out = []
    for gkey, pods in sorted(groups.items()):
        pols = group_policies[gkey]
        udp_ok, tcp_ok, reasons = group_verdict[gkey]
        attempts = tuple(
            (p, i) for p in pols for i in range(len(p.egress)) if rule_aims_at_dns(p.egress[i])
        )
        out.append(
            DnsEgressGap(
                gkey[0],
                pols,
                tuple(pods),
                udp_ok,
                tcp_ok,
                attempts,
                reasons,
                target,
                udp_port,
                tcp_port,
            )
        )
    return out


DNS_EGRESS_SNIPPET = Snippet(
    {
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        },
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ]
    }
)
"""An egress rule that allows DNS to CoreDNS (one peer: namespace and pods), UDP and TCP 53."""


def describe_peer(peer: PolicyPeer) -> str:
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaceSelector {peer.namespace_selector.describe()}")
    if peer.pod_selector is not None:
        parts.append(f"podSelector {peer.pod_selector.describe()}")
    if peer.ip_block is not None:
        parts.append(
            f"ipBlock {peer.ip_block.cidr}"
            + (f" except {','.join(peer.ip_block.except_)}" if peer.ip_block.except_ else "")
        )
    return " AND ".join(parts) or "<empty peer>"


def describe_rule(rule: PolicyRule) -> str:
    """``[peer; peer] ports [53/UDP, 53/TCP]`` in one line."""
    peers = "; ".join(describe_peer(p) for p in rule.peers) or "any peer"
    ports = (
        ", ".join(
            f"{p.port if p.port is not None else 'all'}{'-' + str(p.end_port) if p.end_port else ''}/{p.protocol}"
            for p in rule.ports
        )
        or "all ports"
    )
    return f"[{peers}] ports [{ports}]"


# --------------------------------------------------------------------------- admin tier


@dataclass(frozen=True, slots=True)
class AdminOverride:
    """A NetworkPolicy rule that admits a connection an AdminNetworkPolicy denies first.

    The ANP tier is evaluated before NetworkPolicies and its Deny is final
    (https://network-policy-api.sigs.k8s.io/api-overview/#the-adminnetworkpolicy-resource):
    the allow a namespace owner wrote never takes effect.
    """

    policy: NetworkPolicy
    direction: Direction
    rule: int
    """0-based index into the policy's ingress/egress rules."""
    admin_kind: str
    admin_name: str
    admin_rule: str
    src: Pod
    dst: Pod
    protocol: str
    port: int


def admin_overrides(model: ClusterModel) -> list[AdminOverride]:
    """Every NetworkPolicy rule overridden by an AdminNetworkPolicy Deny, checked on one
    selected pod, one peer pod and one port per rule (computed once per model)."""
    return model.memoised("facts.admin_overrides", lambda: _admin_overrides(model))


def _admin_overrides(model: ClusterModel) -> list[AdminOverride]:
    from netsleuth.policy import admin_policies, evaluate
    from netsleuth.policy.reference import np_peer_mismatch
    from netsleuth.policy.semantics import port_entry_set

    if not admin_policies(model).anps:
        return []
    out: list[AdminOverride] = []
    for pol in model.network_policies:
        for direction, rules in ((Direction.INGRESS, pol.ingress), (Direction.EGRESS, pol.egress)):
            if not rules:
                continue
            selected = [
                p
                for p in model.pods_by_namespace.get(pol.namespace, ())
                if pol.pod_selector.matches(p.labels) and not p.host_network
            ]
            if not selected:
                continue
            me = selected[0]
            for i, rule in enumerate(rules):
                peer_pod = _peer_pod(model, pol, rule, me, np_peer_mismatch)
                if peer_pod is None:
                    continue
                src, dst = (peer_pod, me) if direction is Direction.INGRESS else (me, peer_pod)
                entry = rule.ports[0] if rule.ports else None
                if entry is not None:
                    ps = port_entry_set(entry, dst)
                    ranges = list(ps.ports)
                    if not ranges:
                        continue
                    protocol, port = ps.protocol, ranges[0][0]
                else:
                    declared = dst.spec.all_ports()
                    protocol = declared[0].protocol if declared else "TCP"
                    port = declared[0].container_port if declared else 80
                d = evaluate(model, PodEndpoint(src), PodEndpoint(dst), protocol, port)
                side = d.ingress if direction is Direction.INGRESS else d.egress
                tier = side.admin
                if tier is None or tier.action != "Deny" or tier.rule is None:
                    continue
                out.append(
                    AdminOverride(
                        policy=pol,
                        direction=direction,
                        rule=i,
                        admin_kind=tier.rule.policy.kind,
                        admin_name=tier.rule.policy.name,
                        admin_rule=tier.rule.rule_name or f"#{tier.rule.rule}",
                        src=src,
                        dst=dst,
                        protocol=protocol,
                        port=port,
                    )
                )
    return out


def _peer_pod(
    model: ClusterModel, pol: NetworkPolicy, rule: PolicyRule, me: Pod, mismatch: Any
) -> Pod | None:
    """A pod the rule's peers admit (other than ``me``), or ``None``: namespaces by their
    labels first, then the label index, so a big cluster is not walked pod by pod."""
    for peer in rule.peers:
        if peer.ip_block is not None:
            continue
        if peer.namespace_selector is None:
            namespaces = [pol.namespace]
        else:
            sel = peer.namespace_selector
            namespaces = [
                ns for ns in model.pods_by_namespace if sel.matches(model.namespace_labels(ns))
            ]
        for ns in namespaces:
            candidates = (
                model.pods_matching(ns, peer.pod_selector)
                if peer.pod_selector is not None
                else model.pods_by_namespace.get(ns, ())
            )
            for p in candidates:
                if p is me or p.host_network:
                    continue
                if mismatch(model, pol, peer, PodEndpoint(p)) is None:
                    return p
    return None

"""Shared NetworkPolicy primitives: selectors with reasons, ports, named ports, ipBlocks.

Both policy engines (the reference evaluator in :mod:`netsleuth.policy.reference`
and the fast matrix engine) build on these functions, so the two can only
disagree on how they *combine* facts, never on the facts themselves.

Conventions, each one a Kubernetes rule
(https://kubernetes.io/docs/concepts/services-networking/network-policies/):

- **Protocols** are ``TCP``, ``UDP`` and ``SCTP``. A ``ports`` entry without
  ``protocol`` means TCP (the API server defaults it).
- **A port entry without ``port``** allows every port of its protocol:
  ``{protocol: UDP}`` is UDP 1-65535 and nothing of TCP.
- **endPort** makes ``port..endPort`` inclusive; it is only valid with a
  numeric ``port``. An ``endPort`` below ``port`` matches nothing (the API
  server would have rejected it).
- **Named ports** (``port: http``) resolve *per destination pod*, against the
  ``containerPort`` entries of that pod whose ``name`` equals the name AND
  whose ``protocol`` equals the entry's protocol. For ingress the destination
  is the pod the policy selects; for egress it is the peer pod the traffic
  goes to. A destination that is not a pod (an IP address, an ingress
  controller pseudo-peer) has no named ports, so a named-port entry never
  matches it. Nor does a ``hostNetwork`` pod: the engines read it as its
  node's address (``--host-network node``; policies do not select it and only
  ``ipBlock`` matches it), and a node address has no container ports, so the
  answer is the same whether the destination is given as the pod or as its
  address. (``--host-network pod`` presents such pods as ordinary pods first,
  and then their named ports resolve.)

  >>> from netsleuth.model.objects import Container, ContainerPort, Meta, Pod, PodSpec
  >>> pod = Pod(meta=Meta(name="db", namespace="x"), spec=PodSpec(containers=(
  ...     Container(name="c", ports=(ContainerPort(container_port=5432, name="pg"),)),)))
  >>> resolve_named_port(pod, "pg", "TCP")
  5432
  >>> resolve_named_port(pod, "pg", "UDP") is None     # name matches, protocol does not
  True

- **ipBlock** is ``cidr`` minus every ``except`` CIDR. CIDRs with host bits
  set are accepted (``10.0.1.11/4`` is ``0.0.0.0/4``), as the upstream e2e
  suite expects. An unparseable CIDR matches nothing.

  >>> ip_block_set(IPBlock(cidr="10.0.0.0/8", except_=("10.1.0.0/16",))).contains_ip("10.1.2.3")
  False
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from netsleuth.model.intervals import ALL_PORTS, PORT_MAX, PORT_MIN, IntervalSet, IPSet
from netsleuth.model.objects import IPBlock, Pod, PolicyPort
from netsleuth.model.selectors import LabelSelector, Operator

PROTOCOLS: tuple[str, ...] = ("TCP", "UDP", "SCTP")
"""The protocols NetworkPolicy (and AdminNetworkPolicy) can name."""


class Direction(enum.StrEnum):
    """A policy direction, spelled as in ``policyTypes``."""

    INGRESS = "Ingress"
    EGRESS = "Egress"


# --------------------------------------------------------------------------- selectors


def format_labels(labels: Mapping[str, str]) -> str:
    """``{a=1,b=2}``; ``{}`` for no labels. Stable order for goldens."""
    return "{" + ",".join(f"{k}={v}" for k, v in sorted(labels.items())) + "}"


def selector_mismatch(selector: LabelSelector, labels: Mapping[str, str]) -> str | None:
    """Why ``selector`` does not match ``labels``, or ``None`` when it matches.

    The reason names the first requirement that fails, in the order
    ``matchLabels`` then ``matchExpressions``:

    >>> selector_mismatch(LabelSelector.from_match_labels({"app": "web"}), {"app": "db"})
    'app=web wanted, found app=db'
    >>> selector_mismatch(LabelSelector(), {}) is None     # empty selector matches everything
    True
    """
    if selector.invalid is not None:
        return f"the selector is invalid ({selector.invalid}) and matches nothing"
    for k, v in selector.labels:
        if labels.get(k) != v:
            found = f"{k}={labels[k]}" if k in labels else f"no label {k}"
            return f"{k}={v} wanted, found {found}"
    for req in selector.expressions:
        if not req.matches(labels):
            if req.operator is Operator.IN:
                found = (
                    f"{req.key}={labels[req.key]}" if req.key in labels else f"no label {req.key}"
                )
            elif req.operator is Operator.NOT_IN:
                found = f"{req.key}={labels[req.key]}"
            elif req.operator is Operator.EXISTS:
                found = f"no label {req.key}"
            else:
                found = f"{req.key}={labels[req.key]}"
            return f"{req.describe()} wanted, found {found}"
    return None


# --------------------------------------------------------------------------- ports


def normalise_protocol(protocol: str | None) -> str:
    """Upper-case protocol; ``None``/empty means TCP (the API default)."""
    return (protocol or "TCP").upper()


def resolve_named_port(pod: Pod, name: str, protocol: str) -> int | None:
    """The number of ``pod``'s container port named ``name`` with ``protocol``, else ``None``.

    Main containers and native sidecars (init containers with
    ``restartPolicy: Always``) count; ordinary init containers do not serve.
    Both the name and the protocol must match (a port named ``dns`` on UDP
    does not satisfy ``{port: dns, protocol: TCP}``).
    """
    proto = normalise_protocol(protocol)
    for cp in pod.spec.all_ports():
        if cp.name == name and normalise_protocol(cp.protocol) == proto:
            return cp.container_port
    return None


@dataclass(frozen=True, slots=True)
class PortEntrySet:
    """The ports one ``ports`` entry allows towards one destination.

    ``ports`` is empty when a named port cannot be resolved on the destination
    (then ``unresolved`` holds the name) or when ``endPort < port``.
    """

    protocol: str
    ports: IntervalSet
    unresolved: str | None = None


def port_entry_set(entry: PolicyPort, dst_pod: Pod | None) -> PortEntrySet:
    """The ports of ``entry`` on destination ``dst_pod`` (``None``: not a pod)."""
    proto = normalise_protocol(entry.protocol)
    port = entry.port
    if port is None:
        return PortEntrySet(proto, ALL_PORTS)
    if isinstance(port, str) and not port.isdigit():
        number = (
            resolve_named_port(dst_pod, port, proto)
            if dst_pod is not None and not dst_pod.host_network
            else None
        )
        if number is None:
            return PortEntrySet(proto, IntervalSet(), unresolved=port)
        return PortEntrySet(proto, IntervalSet.single(number))
    lo = int(port)
    hi = entry.end_port if entry.end_port is not None else lo
    lo, hi = max(lo, PORT_MIN), min(hi, PORT_MAX)
    return PortEntrySet(proto, IntervalSet.single(lo, hi) if lo <= hi else IntervalSet())


def describe_port_entry(entry: PolicyPort) -> str:
    """``80/TCP``, ``8000-8080/TCP``, ``http/TCP``, ``all UDP ports``."""
    proto = normalise_protocol(entry.protocol)
    if entry.port is None:
        return f"all {proto} ports"
    if entry.end_port is not None:
        return f"{entry.port}-{entry.end_port}/{proto}"
    return f"{entry.port}/{proto}"


def port_entry_mismatch(
    entry: PolicyPort, protocol: str, port: int, dst_pod: Pod | None
) -> str | None:
    """Why ``entry`` does not admit ``port/protocol`` to ``dst_pod``, or ``None`` when it does."""
    es = port_entry_set(entry, dst_pod)
    proto = normalise_protocol(protocol)
    if es.protocol != proto:
        return f"protocol {proto} is not {es.protocol} ({describe_port_entry(entry)})"
    if es.unresolved is not None:
        if dst_pod is None:
            where = "the destination (not a pod)"
        elif dst_pod.host_network:
            where = (
                f"pod {dst_pod.namespace}/{dst_pod.name} as policies see it: it uses "
                "hostNetwork, so it is its node's address, which has no named ports"
            )
        else:
            where = f"pod {dst_pod.namespace}/{dst_pod.name}"
        return f"named port {es.unresolved}/{es.protocol} does not exist on {where}"
    if port not in es.ports:
        return f"port {port}/{proto} is not {describe_port_entry(entry)}" + (
            f" (resolves to {es.ports.describe()[0]})"
            if isinstance(entry.port, str) and not entry.port.isdigit() and es.ports
            else ""
        )
    return None


# --------------------------------------------------------------------------- ip blocks


@lru_cache(maxsize=4096)
def cidr_set(cidr: str) -> IPSet | None:
    """The addresses of a CIDR (host bits allowed), or ``None`` when it does not parse."""
    try:
        return IPSet.from_cidr(cidr)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def ip_block_set(block: IPBlock) -> IPSet:
    """``cidr`` minus every ``except``. An unparseable ``cidr`` gives the empty set;
    an unparseable ``except`` entry is ignored (it could not have been admitted)."""
    base = cidr_set(block.cidr)
    if base is None:
        return IPSet()
    for ex in block.except_:
        ex_set = cidr_set(ex)
        if ex_set is not None:
            base = base - ex_set
    return base


def ip_in_set(ips: tuple[str, ...], s: IPSet) -> bool:
    """True when any of ``ips`` (a pod's IPs, dual-stack) lies in ``s``. Bad IPs never match."""
    for ip in ips:
        try:
            if s.contains_ip(ip):
                return True
        except ValueError:
            continue
    return False


def describe_ip_block(block: IPBlock) -> str:
    return block.cidr + (f" except {', '.join(block.except_)}" if block.except_ else "")


def all_ports_of(protocols: tuple[str, ...] = PROTOCOLS) -> dict[str, IntervalSet]:
    """Every port of every protocol: what "no ``ports``" means."""
    return {p: ALL_PORTS for p in protocols}

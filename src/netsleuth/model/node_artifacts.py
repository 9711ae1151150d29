"""Parsed node artifacts (C12): what a node's own tools say about its dataplane.

Collected live (a node debug pod) or read from a support bundle. The parsers
live in ``netsleuth.sources.node_artifacts``; these are their frozen results.
Every field is optional: a bundle rarely holds every file, and a check that
needs a missing one is skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsleuth.model.problems import Origin


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteEntry:
    """One line of ``ip route``."""

    destination: str  # "default" or a CIDR / address
    gateway: str | None = None
    device: str | None = None
    protocol: str | None = None
    scope: str | None = None
    source: str | None = None
    mtu: int | None = None
    onlink: bool = False
    table: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkInfo:
    """One interface of ``ip -d link``."""

    name: str
    mtu: int | None = None
    state: str | None = None
    kind: str | None = None  # vxlan, geneve, ipip, wireguard, bridge, veth, ...
    vxlan_id: int | None = None
    vxlan_port: int | None = None
    parent: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IptablesRule:
    table: str
    chain: str
    spec: str
    """The rule text after ``-A CHAIN``."""
    target: str | None = None
    comment: str | None = None
    destination: str | None = None
    dport: str | None = None
    protocol: str | None = None
    to_destination: str | None = None
    probability: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IptablesDump:
    """``iptables-save`` output: chain policies and rules per table."""

    chains: dict[str, dict[str, str]] = field(default_factory=dict)
    """table -> chain -> policy ("-" for user chains)."""
    rules: tuple[IptablesRule, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class IpvsRealServer:
    address: str
    port: int
    forward: str = "Masq"
    weight: int = 1
    active: int = 0
    inactive: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class IpvsService:
    """One virtual server of ``ipvsadm -Ln``."""

    protocol: str
    address: str
    port: int
    scheduler: str = "rr"
    real_servers: tuple[IpvsRealServer, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConntrackStats:
    """From ``conntrack -S`` / ``/proc/net/stat/nf_conntrack`` plus the count and max sysctls."""

    count: int | None = None
    max: int | None = None
    drop: int = 0
    early_drop: int = 0
    insert_failed: int = 0
    invalid: int = 0
    search_restart: int = 0
    per_cpu: tuple[dict[str, int], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CniConfig:
    """A CNI network configuration (a ``.conflist`` or ``.conf`` file)."""

    file: str
    name: str = ""
    cni_version: str = ""
    plugin_types: tuple[str, ...] = ()
    mtu: int | None = None
    raw: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvConf:
    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    options: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeArtifacts:
    node: str
    origin: Origin = Origin()
    routes: tuple[RouteEntry, ...] | None = None
    links: tuple[LinkInfo, ...] | None = None
    iptables: IptablesDump | None = None
    ipvs: tuple[IpvsService, ...] | None = None
    conntrack: ConntrackStats | None = None
    cni_configs: tuple[CniConfig, ...] | None = None
    resolv_conf: ResolvConf | None = None
    sysctls: dict[str, str] | None = None
    files: tuple[str, ...] = ()
    """The files this was parsed from, for evidence."""

    kind = "NodeArtifacts"

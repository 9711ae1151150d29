"""Parsed node artifacts (C12): what a node's own tools say about its dataplane.

Collected live (``netsleuth collect``) or read from a support bundle, in
whatever files and shapes the operator saved them: the loader recognises each
output by its content (:mod:`netsleuth.sources.node_sniff`), parses it
(:mod:`netsleuth.sources.node_artifacts`) and merges everything a node's files
hold into one :class:`NodeArtifacts`. Every field is optional: a bundle rarely
holds every output, and a check that needs a missing one is skipped with that
reason. :attr:`NodeArtifacts.evidence` lists what was recognised where.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from netsleuth.model.logs import LogEvent
from netsleuth.model.problems import Origin


class EvidenceKind(enum.StrEnum):
    """What a section of a node capture is, recognised from its content."""

    IPTABLES_SAVE = "iptables-save"
    NFT_RULESET = "nft-ruleset"
    IPVSADM = "ipvsadm"
    IPVSADM_STATS = "ipvsadm-stats"
    IPVSADM_RATE = "ipvsadm-rate"
    PROC_IP_VS = "proc-ip-vs"
    CONNTRACK_STATS = "conntrack-stats"
    CONNTRACK_COUNT = "conntrack-count"
    PROC_NF_CONNTRACK = "proc-nf-conntrack"
    NF_CONNTRACK_COUNT = "nf-conntrack-count"
    NF_CONNTRACK_MAX = "nf-conntrack-max"
    SYSCTL = "sysctl"
    IP_LINK = "ip-link"
    IP_ADDR = "ip-addr"
    IP_ROUTE = "ip-route"
    IP_ROUTE_GET = "ip-route-get"
    IP_RULE = "ip-rule"
    RESOLV_CONF = "resolv-conf"
    LSMOD = "lsmod"
    DMESG = "dmesg"
    KUBE_PROXY_LOG = "kube-proxy-log"
    COREDNS_LOG = "coredns-log"
    CNI_LOG = "cni-log"
    KUBELET_LOG = "kubelet-log"
    CNI_CONFLIST = "cni-conflist"
    HOST_LOCAL_IPAM = "host-local-ipam"
    ETHTOOL_STATS = "ethtool-stats"
    DATE = "date"
    UPTIME = "uptime"
    COLLECT_NOTE = "collect-note"
    """A line ``netsleuth collect`` wrote about a command that failed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceSection:
    """One recognised output: where it is and what it is."""

    node: str
    file: str
    line: int
    """1-based line of the section's first line (its ``$ cmd`` header, if any)."""
    kind: EvidenceKind
    detail: str = ""
    """Variant or scope: ``v6 nf_tables nat,filter``, ``table local``, ``--stats``…"""
    command: str | None = None
    """The shell header it came under (``ip route show table local``), if any."""
    filtered: bool = False
    """Its command was piped through grep/head/tail or asked for a part only: what is
    absent from it is unknown, not absent from the node."""


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
    type: str | None = None
    """The route type when ``ip route`` prints one (``local``, ``broadcast``,
    ``unreachable``, ``blackhole``…); ``None`` for unicast."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AddressInfo:
    """One address of ``ip addr``."""

    interface: str
    address: str
    prefix: int
    family: int  # 4 or 6
    scope: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IpRule:
    """One line of ``ip rule``: ``1000:\tfrom 10.244.1.0/24 lookup 100``."""

    priority: int
    selector: str
    """Everything between the priority and the action (``from all fwmark 0x1``)."""
    action: str
    """``lookup <table>``, ``blackhole``, ``unreachable``, ``goto N``…"""
    family: int = 4


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
    family: int | None = None
    """4 or 6 (``ip6tables-save``), ``None`` when merged or unknown."""
    backend: str | None = None
    """``nf_tables`` or ``legacy`` (from the ``# Generated by`` line), ``None`` when unknown."""
    complete: bool = True
    """False when the dump was filtered (``| grep``): a missing rule may just be cut out."""


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
    """One virtual server of ``ipvsadm -Ln`` (or ``/proc/net/ip_vs``)."""

    protocol: str
    address: str
    port: int
    scheduler: str = "rr"
    real_servers: tuple[IpvsRealServer, ...] = ()
    flags: tuple[str, ...] = ()
    """What follows the scheduler: ``persistent 10800`` (sessionAffinity: ClientIP)…"""
    fwmark: int | None = None
    """``FWM <mark>`` virtual servers have a mark instead of an address."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConntrackSample:
    """The counters of one ``conntrack -S`` run, summed over CPUs, and when it ran."""

    counters: dict[str, int]
    time: float | None = None
    """Seconds since the epoch, when a ``date`` output precedes it in the capture."""
    file: str = ""
    line: int = 0


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
    samples: tuple[ConntrackSample, ...] = ()
    """Every ``conntrack -S`` of the capture, in order: two samples with times give rates."""
    has_counters: bool = True
    """False when only the count or max is known (no ``conntrack -S`` output)."""


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
class KernelModules:
    """``lsmod`` (or ``/proc/modules``): the loaded modules."""

    names: frozenset[str] = frozenset()
    complete: bool = True
    """False when the listing was filtered (``lsmod | grep ip_vs``): then only the names
    in :attr:`asked` are known to be absent when missing."""
    asked: tuple[str, ...] = ()
    """The names a filtered listing searched for (``grep ip_vs`` → ``("ip_vs",)``)."""

    def known_absent(self, module: str) -> bool:
        """True only when the listing proves ``module`` is not loaded."""
        if module in self.names:
            return False
        return self.complete or any(module == a or module.startswith(a) for a in self.asked)


@dataclass(frozen=True, slots=True, kw_only=True)
class IpamAllocation:
    """One address the host-local IPAM plugin holds (``/var/lib/cni/networks/<net>/<ip>``)."""

    network: str
    address: str
    container_id: str = ""
    interface: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class NftRuleset:
    """``nft list ruleset``, as much as the checks need."""

    tables: tuple[tuple[str, str], ...] = ()
    """(family, name), e.g. ``("ip", "kube-proxy")`` for kube-proxy's nftables mode."""
    chains: int = 0
    rules: int = 0


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
    addresses: tuple[AddressInfo, ...] | None = None
    ip_rules: tuple[IpRule, ...] | None = None
    route_lookups: tuple[RouteEntry, ...] | None = None
    """``ip route get`` answers."""
    iptables_dumps: tuple[IptablesDump, ...] = ()
    """Every iptables-save read, per family and backend; :attr:`iptables` merges the
    ones kube-proxy writes (the backend holding ``KUBE-SERVICES``)."""
    nft: NftRuleset | None = None
    modules: KernelModules | None = None
    events: tuple[LogEvent, ...] = ()
    """Timed evidence from dmesg and the component logs in the node's files."""
    ipam: tuple[IpamAllocation, ...] | None = None
    ethtool: dict[str, dict[str, int]] | None = None
    """interface -> ``ethtool -S`` counters."""
    captured_at: float | None = None
    """Seconds since the epoch of the first ``date`` output in the capture."""
    uptime: float | None = None
    """Seconds since boot from ``/proc/uptime`` (dates dmesg lines with :attr:`captured_at`)."""
    netns: str | None = None
    """``node`` or ``pod``: whose network namespace the captures show, when the
    addresses tell (a pod IP and no node IP means ``kubectl exec`` into a pod)."""
    evidence: tuple[EvidenceSection, ...] = ()
    """What was recognised in the node's files, in file and line order."""

    kind = "NodeArtifacts"

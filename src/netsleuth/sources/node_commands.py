"""The fixed, read-only command list ``netsleuth collect`` runs on a node.

Each command prints one kind of node evidence (see
:mod:`netsleuth.sources.node_sniff`); the loader recognises the outputs by
their content, so the file names below are only for people. Commands that
read the node's files use ``{root}``: ``/host`` in the collector's pod (the
node's root filesystem mounted read-only), a scratch directory in the tests.

Nothing here changes state: ``*-save`` and ``nft list`` only read the rule
sets, ``conntrack -S``/``-C`` read counters, ``sysctl -a`` reads, ``dmesg``
reads the kernel ring buffer without clearing it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NodeCommand:
    slug: str
    """File name stem of its output (``<slug>.txt``)."""
    argv: tuple[str, ...]
    why: str
    """What the output is used for (``collect --dry-run`` prints it)."""

    def resolved(self, root: str) -> tuple[str, ...]:
        """``argv`` with ``{root}`` replaced by the node's root filesystem path."""
        return tuple(a.replace("{root}", root) for a in self.argv)


COMMANDS: tuple[NodeCommand, ...] = (
    NodeCommand("date", ("date", "-u", "+%Y-%m-%dT%H:%M:%SZ"), "when the capture started"),
    NodeCommand("uptime", ("cat", "/proc/uptime"), "boot time, to date dmesg lines"),
    NodeCommand("ip-d-link", ("ip", "-d", "link", "show"), "interfaces, MTUs, overlay devices"),
    NodeCommand("ip-addr", ("ip", "addr", "show"), "addresses: node IP, kube-ipvs0 ClusterIPs"),
    NodeCommand(
        "ip-route-all", ("ip", "route", "show", "table", "all"), "main and local routing tables"
    ),
    NodeCommand("ip-6-route-all", ("ip", "-6", "route", "show", "table", "all"), "IPv6 routes"),
    NodeCommand("ip-rule", ("ip", "rule", "show"), "policy routing rules"),
    NodeCommand("iptables-nft-save", ("iptables-nft-save",), "kube-proxy rules (nf_tables)"),
    NodeCommand("ip6tables-nft-save", ("ip6tables-nft-save",), "IPv6 kube-proxy rules"),
    NodeCommand(
        "iptables-legacy-save", ("iptables-legacy-save",), "kube-proxy rules (legacy xtables)"
    ),
    NodeCommand("ip6tables-legacy-save", ("ip6tables-legacy-save",), "IPv6 legacy rules"),
    NodeCommand("nft-ruleset", ("nft", "list", "ruleset"), "kube-proxy nftables mode, CNI tables"),
    NodeCommand("ipvsadm", ("ipvsadm", "-Ln"), "kube-proxy IPVS virtual servers"),
    NodeCommand("conntrack-S", ("conntrack", "-S"), "conntrack drops and insert failures"),
    NodeCommand("conntrack-C", ("conntrack", "-C"), "conntrack entries in use"),
    NodeCommand("sysctl", ("sysctl", "-a"), "conntrack limit, forwarding, bridge netfilter"),
    NodeCommand("lsmod", ("lsmod",), "ip_vs, br_netfilter, nf_conntrack loaded"),
    NodeCommand("dmesg", ("dmesg",), "conntrack table full, MTU drops, neighbour overflow"),
    NodeCommand("resolv-conf", ("cat", "{root}/etc/resolv.conf"), "the node's resolver"),
    NodeCommand(
        "cni-conf",
        ("sh", "-c", "tail -n +1 {root}/etc/cni/net.d/*"),
        "CNI configuration (MTU, plugins)",
    ),
    NodeCommand(
        "host-local-ipam",
        ("sh", "-c", "grep -r . {root}/var/lib/cni/networks"),
        "host-local IPAM allocations (leaked addresses)",
    ),
    NodeCommand("date-end", ("date", "-u", "+%Y-%m-%dT%H:%M:%SZ"), "when the capture ended"),
    NodeCommand(
        "conntrack-S-end", ("conntrack", "-S"), "a second sample: are the counters rising?"
    ),
)
"""In order. ``ethtool -S <dev>`` for the default route's device is added at run time."""

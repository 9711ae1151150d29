"""Conntrack facts: how full each node's table is and what its counters say, with the
thresholds the scan and the trace both use (80 % warning, 95 % critical, from
the field guide's ConntrackTableNearFull / ConntrackTableCritical alerts).

Read from node artifacts: ``nf_conntrack_count``/``nf_conntrack_max`` (or
``sysctl -a`` output) and ``conntrack -S``.
https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html
"""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.facts.faults import Fault
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, sh_c
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.node_artifacts import NodeArtifacts
from netsleuth.model.numbers import parse_int
from netsleuth.model.objects import Meta

WARN = 0.80

CRITICAL = 0.95

# What the fix text recommends, from the field guide's tuning DaemonSet.
TUNING = cmd(
    *sh_c(
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_max=1048576"),
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_established=86400"),
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_time_wait=30"),
        cmd("sysctl", "-w", "net.netfilter.nf_conntrack_tcp_timeout_close_wait=15"),
        cmd("echo", "262144").pipe("tee", "/sys/module/nf_conntrack/parameters/hashsize"),
        sep="; ",
    )
).note("as root on the node")


def count_and_max(art: NodeArtifacts) -> tuple[int | None, int | None]:
    ct = art.conntrack
    count = ct.count if ct else None
    limit = ct.max if ct else None
    sysctls = art.sysctls or {}
    if count is None:
        count = _int(sysctls.get("net.netfilter.nf_conntrack_count"))
    if limit is None:
        limit = _int(
            sysctls.get("net.netfilter.nf_conntrack_max") or sysctls.get("net.nf_conntrack_max")
        )
    return count, limit


def _int(v: str | None) -> int | None:
    return parse_int(v)


def ct_table_nearly_full_faults(model: ClusterModel) -> Iterator[Fault]:
    """CT701: A node's conntrack table is 80 % full or more."""
    for node, art in sorted(model.node_artifacts.items()):
        count, limit = count_and_max(art)
        if count is None or not limit:
            continue
        ratio = count / limit
        if ratio < WARN:
            continue
        n = model.nodes.get(node)
        yield Fault(
            layer=Layer.CONNTRACK,
            kind="Node",
            meta=n.meta if n else Meta(name=node),
            artifacts=True,
            severity=Severity.ERROR if ratio >= CRITICAL else Severity.WARNING,
            message=f"node {node} conntrack table {count:,} of {limit:,} entries ({ratio:.1%})"
            + (": new connections are being dropped or about to be" if ratio >= CRITICAL else ""),
            evidence=[
                Evidence(f"Node/{node}", "/proc/sys/net/netfilter/nf_conntrack_count", str(count)),
                Evidence(f"Node/{node}", "/proc/sys/net/netfilter/nf_conntrack_max", str(limit)),
            ],
            confirm=(
                cmd("cat", "/proc/sys/net/netfilter/nf_conntrack_count").note(f"on {node}"),
                cmd("cat", "/proc/sys/net/netfilter/nf_conntrack_max"),
                cmd("conntrack", "-S"),
                cmd("dmesg").pipe("grep", "-i", "nf_conntrack: table full"),
            ),
            fix=Fix(
                text=f"Raise nf_conntrack_max on {node} (at least {2 * limit:,}) with the hash size at about max/4, "
                "and shorten nf_conntrack_tcp_timeout_established / time_wait / close_wait and "
                "nf_conntrack_udp_timeout(_stream); persist them in a tuning DaemonSet or kube-proxy's "
                "conntrack.maxPerCore.",
                command=TUNING,
            ),
        )


def ct_drops_faults(model: ClusterModel) -> Iterator[Fault]:
    """CT702: Conntrack counters on a node show dropped or failed inserts."""
    for node, art in sorted(model.node_artifacts.items()):
        ct = art.conntrack
        if ct is None:
            continue
        drops = ct.drop + ct.early_drop
        if drops <= 0 and ct.insert_failed <= 0:
            continue
        n = model.nodes.get(node)
        parts = []
        if drops:
            parts.append(f"drop={ct.drop} early_drop={ct.early_drop} (table full)")
        if ct.insert_failed:
            parts.append(f"insert_failed={ct.insert_failed} (insert races, the 5-second DNS delay)")
        fix_parts = []
        if drops:
            fix_parts.append(
                "raise nf_conntrack_max and shorten nf_conntrack_tcp_timeout_established and the UDP timeouts"
            )
        if ct.insert_failed:
            fix_parts.append("use single-request-reopen in pod dnsConfig or NodeLocal DNSCache")
        yield Fault(
            layer=Layer.CONNTRACK,
            severity=Severity.WARNING,
            kind="Node",
            meta=n.meta if n else Meta(name=node),
            artifacts=True,
            message=f"node {node} conntrack counters since boot: " + "; ".join(parts),
            evidence=[
                Evidence(f"Node/{node}", "conntrack -S drop", str(ct.drop)),
                Evidence(f"Node/{node}", "conntrack -S early_drop", str(ct.early_drop)),
                Evidence(f"Node/{node}", "conntrack -S insert_failed", str(ct.insert_failed)),
            ],
            confirm=(
                cmd("conntrack", "-S").note(f"twice, a minute apart, on {node}"),
                cmd("grep", "conntrack", "/proc/net/stat/nf_conntrack"),
            ),
            fix=Fix(
                text=f"On {node}: " + "; ".join(fix_parts) + ".", command=TUNING if drops else None
            ),
        )

"""CT701: a node's conntrack table is 80 % full or more."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, sh_c
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.node_artifacts import NodeArtifacts
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
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


@register(
    id="CT701",
    layer=Layer.CONNTRACK,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("NodeArtifacts",)),
)
def ct_table_nearly_full(model: ClusterModel) -> Iterator[Finding]:
    """A node's conntrack table is 80 % full or more.

    What it checks:
        ``nf_conntrack_count`` against ``nf_conntrack_max`` on each node
        (from ``/proc/sys/net/netfilter`` files or sysctl output): a warning
        at 80 %, an error at 95 % (the thresholds of the field guide's
        ConntrackTableNearFull / ConntrackTableCritical alerts).

    Why it breaks traffic:
        Every NATed or stateful-filtered flow — all ClusterIP and NodePort
        traffic under kube-proxy — needs a conntrack entry. When the table is
        full the kernel drops the first packet of new flows ("nf_conntrack:
        table full, dropping packet"): connection timeouts that come and go
        with load, and DNS lookups that fail.

    Example:
        ``worker-2``: 250,112 of 262,144 entries (95.4 %).

    Fix:
        Raise ``net.netfilter.nf_conntrack_max`` (and the hash size, about
        max/4), and shorten the timeouts that keep idle entries:
        ``nf_conntrack_tcp_timeout_established`` (5 days by default;
        kube-proxy sets 86400), ``nf_conntrack_tcp_timeout_time_wait``,
        ``nf_conntrack_tcp_timeout_close_wait``, and
        ``nf_conntrack_udp_timeout``/``nf_conntrack_udp_timeout_stream``
        for DNS-heavy nodes; kube-proxy's ``conntrack.maxPerCore`` and
        ``conntrack.min`` set the max at start-up. Find the client opening
        connections without reuse.

    Confirm live:
        ``cat /proc/sys/net/netfilter/nf_conntrack_count /proc/sys/net/netfilter/nf_conntrack_max``;
        ``conntrack -S``; ``dmesg | grep "table full"``.

    References:
        https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html ;
        https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/#kubeproxy-config-k8s-io-v1alpha1-KubeProxyConntrackConfiguration
    """
    for node, art in sorted(model.node_artifacts.items()):
        count, limit = count_and_max(art)
        if count is None or not limit:
            continue
        ratio = count / limit
        if ratio < WARN:
            continue
        n = model.nodes.get(node)
        yield finding(
            "CT701",
            model,
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

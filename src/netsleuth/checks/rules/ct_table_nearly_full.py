"""CT701: a node's conntrack table is 80 % full or more."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.conntrack import ct_table_nearly_full_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


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
        (wherever the capture has them: the ``/proc/sys/net/netfilter``
        files, ``conntrack -C``, ``sysctl`` output, ``/proc/net/stat/nf_conntrack``):
        a warning at 80 %, an error at 95 % (the thresholds of the field
        guide's ConntrackTableNearFull / ConntrackTableCritical alerts); and
        the kernel's ``nf_conntrack: table full, dropping packet`` lines in
        the node's dmesg, with when they were logged, which say the table
        overflowed even when the count is low now. A count captured inside a
        pod's network namespace is that namespace's, and is reported as such.

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

    yield from findings_from("CT701", model, ct_table_nearly_full_faults(model))

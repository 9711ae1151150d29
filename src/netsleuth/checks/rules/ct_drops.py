"""CT702: conntrack counters on a node show dropped or failed inserts."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.checks.rules.ct_table_nearly_full import TUNING
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


@register(
    id="CT702",
    layer=Layer.CONNTRACK,
    severity=Severity.WARNING,
    needs=Needs(node_artifacts=("conntrack",)),
)
def ct_drops(model: ClusterModel) -> Iterator[Finding]:
    """Conntrack counters on a node show dropped or failed inserts.

    What it checks:
        The ``conntrack -S`` / ``/proc/net/stat/nf_conntrack`` counters,
        summed over CPUs: ``drop`` and ``early_drop`` (the table was full)
        and ``insert_failed`` (two packets raced to create the same entry)
        above zero. The counters count since boot, so a non-zero value
        says it has happened, not that it is happening now.

    Why it breaks traffic:
        ``drop``/``early_drop`` mean new flows lost their first packet
        because the table was full. ``insert_failed`` is the signature of the
        DNS race: a pod's parallel A and AAAA queries share one UDP 5-tuple,
        the second loses the insert race and is dropped, and the lookup
        waits 5 seconds for a retry.

    Example:
        ``worker-1``: ``insert_failed=1843 drop=0``; DNS lookups from pods
        on that node take 5 s now and then.

    Fix:
        For drops, raise ``nf_conntrack_max`` and shorten the TCP/UDP
        timeouts (see CT701). For ``insert_failed``, add
        ``options: [{name: single-request-reopen}]`` to the pods' dnsConfig
        or deploy NodeLocal DNSCache, which keeps DNS off conntrack.

    Confirm live:
        ``conntrack -S`` twice, a minute apart (are the counters rising?);
        ``grep conntrack /proc/net/stat/nf_conntrack``.

    References:
        https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html ;
        https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/ ;
        https://www.weave.works/blog/racy-conntrack-and-dns-lookup-timeouts
    """
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
        yield finding(
            "CT702",
            model,
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

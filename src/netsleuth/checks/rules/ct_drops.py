"""CT702: conntrack counters on a node show dropped or failed inserts."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.conntrack import ct_drops_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


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
        says it has happened, not that it is happening now: when the
        capture holds two ``conntrack -S`` runs (``netsleuth collect`` takes
        one at the start and one at the end), the change between them, per
        second when their times are known, says whether it is happening now
        (not rising: reported as info). Counters read inside a pod's network
        namespace (``kubectl exec … conntrack -S``) are that namespace's and
        say nothing about the node: reported as info with that caveat.

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

    yield from findings_from("CT702", model, ct_drops_faults(model))

"""DNS141: Prometheus shows CoreDNS answering SERVFAIL to a share of queries."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, pct, query_cmd
from netsleuth.facts.metric_breaches import breaches, coredns_corefile
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="DNS141",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("coredns_servfail",)),
    config=True,
)
def metrics_coredns_servfail(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows CoreDNS answering SERVFAIL to 1 % of queries or more.

    What it checks:
        The share of CoreDNS answers with rcode SERVFAIL
        (``coredns_dns_responses_total``, the ``prometheus`` plugin) over
        the window, per server block, asked of Prometheus: 1 % or more (the
        CoreDNSServfailHigh alert). Not checked when Prometheus has no
        CoreDNS series.

    Why it breaks traffic:
        SERVFAIL is a failed lookup, not a missing name: the application
        sees a resolution error (or retries and slows down). For external
        names it almost always means the ``forward`` upstream did not answer
        or answered badly; for cluster names, a broken ``kubernetes`` plugin
        (API access lost).

    Example:
        ``sum by (server) (rate(coredns_dns_responses_total{rcode="SERVFAIL"}[5m])) /
        sum by (server) (rate(coredns_dns_responses_total[5m])) > 0.01`` returns
        ``{server="dns://:53"} 0.04``.

    Fix:
        Find which names fail (the ``errors`` plugin logs them) and fix the
        upstream the Corefile's ``forward`` line points at (or point it at a
        resolver that answers); for cluster names, CoreDNS's access to the
        API server (its ServiceAccount and the API's health).

    Confirm live:
        ``kubectl -n kube-system logs deploy/coredns | grep SERVFAIL`` ;
        ``kubectl -n kube-system get configmap coredns -o yaml`` (the forward line).

    References:
        https://coredns.io/plugins/metrics/ ;
        https://coredns.io/plugins/forward/ ;
        https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
    """
    snap = config.metrics
    if snap is None:
        return
    found = breaches(model, snap, "coredns_servfail")
    if not found:
        return
    kind, meta = coredns_corefile(model)
    worst = max(b.value for b in found)
    servers = ", ".join(sorted({b.sample.get("server") or "?" for b in found}))
    yield finding(
        "DNS141",
        model,
        kind=kind,
        meta=meta,
        confidence=confidence(snap),
        message=f"CoreDNS answers SERVFAIL to {pct(worst)} of queries over the last "
        f"{snap.thresholds.window} (server {servers}): lookups fail, usually the forward upstream",
        evidence=metric_evidence(snap, found),
        confirm=(
            query_cmd(snap, found[0].query),
            kubectl("-n", "kube-system", "logs", "deploy/coredns", "--tail=200").pipe(
                "grep", "SERVFAIL"
            ),
            kubectl("-n", "kube-system", "get", "configmap", "coredns", "-o", "yaml"),
        ),
        fix=Fix(
            text="Find the failing names in CoreDNS's errors log; fix or replace the upstream "
            "of the Corefile's forward line (or restore CoreDNS's access to the API server "
            "when cluster names fail)."
        ),
    )

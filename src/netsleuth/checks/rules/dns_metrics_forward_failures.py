"""DNS142: Prometheus shows CoreDNS's forward upstream failing its health checks."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, register
from netsleuth.checks.metric_evidence import confidence, metric_evidence, pct, query_cmd
from netsleuth.facts.metric_breaches import breaches, coredns_corefile
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity


@register(
    id="DNS142",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(observed="metrics", signals=("coredns_forward_failures",)),
    config=True,
)
def metrics_coredns_forward_failures(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Prometheus shows CoreDNS's forward upstream failing its health checks.

    What it checks:
        ``coredns_forward_healthcheck_failures_total`` per upstream (label
        ``to``) over the window, against the requests forwarded to it
        (``coredns_forward_requests_total``), asked of Prometheus: 5 % or
        more (the CoreDNSForwardFailing alert). Not checked when Prometheus
        has no forward series (no ``forward`` plugin, or not scraped).

    Why it breaks traffic:
        The ``forward`` plugin health-checks an upstream after it fails to
        answer. Failures mean external names resolve slowly (CoreDNS tries
        the next upstream) or not at all (SERVFAIL when every upstream is
        down): outbound calls by name time out.

    Example:
        ``sum by (to) (rate(coredns_forward_healthcheck_failures_total[5m])) /
        clamp_min(sum by (to) (rate(coredns_forward_requests_total[5m])), 1) > 0.05``
        returns ``{to="10.0.0.2:53"} 0.5``.

    Fix:
        Make the upstream reachable from the CoreDNS pods (a firewall or
        security group on UDP/TCP 53, a resolver that is down), or point the
        Corefile's ``forward`` line at resolvers that answer.

    Confirm live:
        ``kubectl -n kube-system logs deploy/coredns | grep -i 'unreachable\\|timeout'`` ;
        ``kubectl -n kube-system get configmap coredns -o yaml``.

    References:
        https://coredns.io/plugins/forward/ ;
        https://coredns.io/plugins/metrics/
    """
    snap = config.metrics
    if snap is None:
        return
    found = breaches(model, snap, "coredns_forward_failures")
    if not found:
        return
    kind, meta = coredns_corefile(model)
    upstreams = ", ".join(
        f"{b.sample.get('to') or '?'} ({pct(b.value)})"
        for b in sorted(found, key=lambda b: -b.value)
    )
    yield finding(
        "DNS142",
        model,
        kind=kind,
        meta=meta,
        confidence=confidence(snap),
        message=f"CoreDNS's forward upstream fails its health checks over the last "
        f"{snap.thresholds.window}: {upstreams} of forwarded requests; external names "
        "resolve slowly or not at all",
        evidence=metric_evidence(snap, found),
        confirm=(
            query_cmd(snap, found[0].query),
            kubectl("-n", "kube-system", "logs", "deploy/coredns", "--tail=200"),
            kubectl("-n", "kube-system", "get", "configmap", "coredns", "-o", "yaml"),
        ),
        fix=Fix(
            text="Make the upstream of the Corefile's forward line reachable from the CoreDNS "
            "pods (UDP/TCP 53 through firewalls), or forward to resolvers that answer."
        ),
    )

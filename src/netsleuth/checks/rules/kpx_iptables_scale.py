"""KPX602: kube-proxy runs in iptables mode with more Services than it syncs quickly."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.kube_proxy_mode import ProxyMode, cluster_proxy_mode, node_proxy_modes
from netsleuth.facts.kube_proxy_rules import proxied_services
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta

# Seed field guide: "At 5,000+ Services, iptables rule sync alone can take 30+ seconds";
# "at 10,000+ Services, iptables rule programming takes minutes".
SERVICE_THRESHOLD = 5_000


@register(
    id="KPX602", layer=Layer.KUBE_PROXY, severity=Severity.WARNING, needs=Needs(kinds=("Service",))
)
def kpx_iptables_scale(model: ClusterModel) -> Iterator[Finding]:
    """kube-proxy runs in iptables mode with more Services than it syncs quickly.

    What it checks:
        kube-proxy in iptables mode (configured, or shown by node rules) with
        5,000 or more Services that get a ClusterIP. The threshold is the
        field guide's: at 5,000+ Services a full iptables sync takes 30 s or
        more, at 10,000+ minutes; the upstream docs name large clusters as
        the reason for the ipvs and nftables modes.

    Why it breaks traffic:
        Every endpoint change rewrites the whole rule set; while a slow sync
        runs, new endpoints are not reachable and removed ones still get
        traffic, and packets walk the ``KUBE-SERVICES`` chain linearly.
        Rollouts then show bursts of connection errors.

    Example:
        6,200 Services, ``mode: ""`` (iptables by default).

    Fix:
        Move kube-proxy to ``nftables`` (GA in 1.33) or ``ipvs`` mode, or to
        an eBPF replacement; meanwhile raise ``iptables.minSyncPeriod`` so
        syncs batch changes.

    Confirm live:
        ``kubectl get svc -A --no-headers | wc -l``;
        ``curl -s localhost:10249/metrics | grep sync_proxy_rules_duration_seconds`` on a node;
        ``iptables-save -t nat | wc -l`` on a node.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-iptables ;
        https://kubernetes.io/blog/2025/02/28/nftables-kube-proxy/
    """
    count = len(proxied_services(model))
    if count < SERVICE_THRESHOLD:
        return
    mode = cluster_proxy_mode(model)
    nodes = [n for n, m in node_proxy_modes(model).items() if m.mode == ProxyMode.IPTABLES]
    if mode is not None and mode.mode != ProxyMode.IPTABLES and not nodes:
        return
    if mode is None and not nodes:
        return
    evidence = [Evidence("Service", "count with a ClusterIP", str(count))]
    if mode is not None:
        evidence.append(
            Evidence(
                mode.evidence.split(" ", 1)[0], mode.evidence.split(" ", 1)[-1], mode.mode.value
            )
        )
    evidence += [
        Evidence(f"Node/{n}", "kube-proxy mode (from its rules)", "iptables") for n in nodes[:3]
    ]
    cm = model.config_map("kube-system", "kube-proxy")
    yield finding(
        "KPX602",
        model,
        kind="ConfigMap",
        meta=cm.meta if cm else Meta(name="kube-proxy", namespace="kube-system"),
        message=f"kube-proxy uses iptables mode with {count} Services (≥ {SERVICE_THRESHOLD}): each rule sync "
        "rewrites every Service's chains and can take 30 s or more",
        evidence=evidence,
        confirm=(
            kubectl("get", "svc", "-A", "--no-headers").pipe("wc", "-l"),
            cmd("curl", "-s", "localhost:10249/metrics")
            .pipe("grep", "sync_proxy_rules_duration_seconds")
            .note("on a node"),
        ),
        fix=Fix(
            text="Switch kube-proxy to nftables (1.33+) or ipvs mode, then restart kube-proxy on every node "
            "and clean the old rules; meanwhile raise iptables.minSyncPeriod.",
            command=kubectl("-n", "kube-system", "edit", "configmap", "kube-proxy").note(
                'set mode: "nftables" (or "ipvs") in config.conf'
            ),
        ),
    )

"""DNS111: NodeLocal DNSCache is not installed."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.kube_dns import DNS_NAMESPACE, cluster_has_system_view, nodelocal_daemonset
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


@register(id="DNS111", layer=Layer.DNS, severity=Severity.INFO, needs=Needs(kinds=("DaemonSet",)))
def nodelocal_dns_absent(model: ClusterModel) -> Iterator[Finding]:
    """NodeLocal DNSCache is not installed.

    What it checks: when the input shows kube-system's workloads, that a
    `node-local-dns` DaemonSet exists. Info: many clusters run fine without it.

    Why it breaks traffic: without a per-node cache every query crosses the
    network to a CoreDNS pod through kube-proxy's DNAT and conntrack. That is
    where the A/AAAA conntrack race produces 5-second lookups (DNS114), where
    conntrack tables fill with UDP entries, and where CoreDNS load grows with
    every pod. NodeLocal DNSCache answers on a link-local address on the node,
    without conntrack, and talks to CoreDNS over TCP.

    Example:
      kubectl get ds -n kube-system node-local-dns
      Error from server (NotFound): daemonsets.apps "node-local-dns" not found

    Fix: install NodeLocal DNSCache (the `nodelocaldns` addon, or the
    managed option of your provider) on clusters with many pods or
    latency-sensitive DNS.

    Confirm live:
      kubectl get ds -n kube-system node-local-dns
      kubectl get pods -n kube-system -l k8s-app=node-local-dns -o wide

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/
    """
    if not cluster_has_system_view(model) or nodelocal_daemonset(model) is not None:
        return
    if not any(w.kind == "DaemonSet" and w.namespace == DNS_NAMESPACE for w in model.workloads):
        return  # kube-system pods but no DaemonSets at all: the input does not show the add-ons
    yield finding(
        "DNS111",
        model,
        kind="DaemonSet",
        meta=Meta(name="node-local-dns", namespace=DNS_NAMESPACE),
        message="NodeLocal DNSCache is not installed: every DNS query goes through kube-proxy DNAT and "
        "conntrack to a CoreDNS pod.",
        evidence=[Evidence(f"Namespace/{DNS_NAMESPACE}", "DaemonSet node-local-dns", "absent")],
        confirm=(kubectl("get", "ds", "-n", "kube-system", "node-local-dns"),),
        fix=Fix(
            text="Install NodeLocal DNSCache on clusters with many pods or latency-sensitive DNS."
        ),
    )

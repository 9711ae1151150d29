"""DNS131: CoreDNS's log shows a forwarding loop or timeouts to its upstream."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import dns_coredns_logged_errors_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="DNS131",
    layer=Layer.DNS,
    severity=Severity.ERROR,
    needs=Needs(any_kinds=("NodeArtifacts", "ContainerLog")),
)
def dns_coredns_logged_errors(model: ClusterModel) -> Iterator[Finding]:
    """CoreDNS's log shows a forwarding loop or timeouts to its upstream.

    What it checks:
        CoreDNS's logs (its pods' logs in a ``kubectl cluster-info dump``, or
        a CoreDNS log among node files) for the ``loop`` plugin's ``Loop
        (…) detected`` and for the ``errors`` plugin's ``read udp
        …->UPSTREAM:53: i/o timeout`` (including the ``HINFO`` probes the
        loop plugin sends at start-up), with the upstreams they name.

    Why it breaks traffic:
        A loop means CoreDNS forwards to itself (the node's resolv.conf
        names a local stub such as 127.0.0.53): CoreDNS exits and restarts
        (CrashLoopBackOff) and external names do not resolve. Upstream
        timeouts mean every external lookup waits for the forward timeout
        and fails: the upstream is down or unreachable from the pod network
        (egress firewall, security group, NAT).

    Example:
        ``[ERROR] plugin/errors: 2 api.stripe.com. A: read udp
        10.244.0.3:39012->192.168.50.1:53: i/o timeout`` three times.

    Fix:
        For a loop: point ``forward`` at a real resolver, or start the
        kubelet with ``--resolv-conf=/run/systemd/resolve/resolv.conf``. For
        timeouts: make the upstream reachable from the pods' network (or
        forward to one that is).

    Confirm live:
        ``kubectl -n kube-system logs -l k8s-app=kube-dns | grep -E "Loop|i/o timeout"``;
        ``kubectl -n kube-system get configmap coredns -o yaml``.

    References:
        https://coredns.io/plugins/loop/#troubleshooting ;
        https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
    """
    yield from findings_from("DNS131", model, faults_of(model, dns_coredns_logged_errors_faults))

"""KPX611: kube-proxy in IPVS mode has not bound a Service's ClusterIP to kube-ipvs0."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import kpx_ipvs_addresses_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX611",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service",), any_kinds=("NodeArtifacts",)),
)
def kpx_ipvs_addresses(model: ClusterModel) -> Iterator[Finding]:
    """kube-proxy in IPVS mode has not bound a Service's ClusterIP to kube-ipvs0.

    What it checks:
        On nodes in IPVS mode (their ``ipvsadm -Ln``, or the cluster's
        kube-proxy mode when the node shows a ``kube-ipvs0`` device), the
        addresses of ``kube-ipvs0`` (``ip addr``, or the ``local … dev
        kube-ipvs0`` routes of ``ip route show table local``) against the
        ClusterIPs and external IPs of the Services kube-proxy serves: every
        one must be bound. Addresses no Service holds any more are reported
        at info level (they are harmless, but show kube-proxy did not finish
        a sync; with ``-n`` input other namespaces' Services are unseen).

    Why it breaks traffic:
        IPVS only intercepts packets addressed to the node itself: kube-proxy
        binds every virtual IP to the dummy ``kube-ipvs0`` device so the
        kernel accepts them and hands them to the virtual server. A ClusterIP
        missing there is routed out of the node instead and connections to
        it from that node's pods time out, although ``ipvsadm -Ln`` shows the
        virtual server.

    Example:
        ``worker-2``: ``ipvsadm -Ln`` has ``TCP 10.96.40.2:80``, but
        ``ip addr show kube-ipvs0`` lacks ``10.96.40.2/32``.

    Fix:
        Restart kube-proxy on the node; if the address is still missing read
        its log ("Failed to bind address", netlink errors).

    Confirm live:
        ``ip addr show kube-ipvs0 | grep 10.96.40.2`` on the node;
        ``ipvsadm -Ln -t 10.96.40.2:80``.

    References:
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/ipvs/README.md ;
        https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-ipvs
    """
    yield from findings_from("KPX611", model, faults_of(model, kpx_ipvs_addresses_faults))

"""KPX601: nodes run kube-proxy in different modes, or not in the configured one."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.kube_proxy_faults import kpx_mixed_modes_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX601",
    layer=Layer.KUBE_PROXY,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("NodeArtifacts",)),
)
def kpx_mixed_modes(model: ClusterModel) -> Iterator[Finding]:
    """Nodes run kube-proxy in different modes, or not in the configured one.

    What it checks:
        The mode each node's own rules show (IPVS virtual servers, or
        ``KUBE-SVC-*`` chains for iptables, or Cilium's chains without
        either) against the other nodes and against the mode kube-proxy is
        configured with (the DaemonSet's ``--proxy-mode`` or the
        ``kube-proxy`` ConfigMap's ``config.conf`` ``mode``).

    Why it breaks traffic:
        A ConfigMap change reaches only kube-proxy pods restarted after it.
        Nodes left in the old mode keep old rules (an IPVS node still has its
        ``kube-ipvs0`` addresses and iptables leftovers), ``externalTrafficPolicy``,
        session affinity and NodePort behave differently per node, and
        "works from some nodes" reports follow.

    Example:
        ConfigMap says ``mode: ipvs``; ``worker-1`` and ``worker-2`` list IPVS
        virtual servers, ``worker-3`` still has ``KUBE-SVC-*`` chains and no
        virtual servers.

    Fix:
        Restart kube-proxy on the lagging nodes
        (``kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=<node>``);
        when leaving a mode, run ``kube-proxy --cleanup`` or reboot the node
        so the old mode's rules go away.

    Confirm live:
        ``kubectl -n kube-system get cm kube-proxy -o yaml | grep mode``;
        ``curl -s localhost:10249/proxyMode`` on each node;
        ``ipvsadm -Ln | head`` and ``iptables-save -t nat | grep -c KUBE-SVC`` on each node.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/ ;
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/
    """

    yield from findings_from("KPX601", model, kpx_mixed_modes_faults(model))

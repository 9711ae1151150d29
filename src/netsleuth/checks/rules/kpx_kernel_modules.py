"""KPX612: a kernel module kube-proxy depends on is not loaded on a node."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.faults import faults_of
from netsleuth.facts.node_evidence_faults import kpx_kernel_modules_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(
    id="KPX612",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(any_kinds=("NodeArtifacts",)),
)
def kpx_kernel_modules(model: ClusterModel) -> Iterator[Finding]:
    """A kernel module kube-proxy depends on is not loaded on a node.

    What it checks:
        The node's ``lsmod`` (or ``/proc/modules``), with its ``sysctl``
        output: ``ip_vs`` on a node whose kube-proxy runs in IPVS mode;
        ``br_netfilter`` (or ``net.bridge.bridge-nf-call-iptables = 1``) on a
        node whose CNI puts pods on a Linux bridge (flannel, canal, kubenet,
        the ``bridge`` plugin); ``nf_conntrack`` when the node shows no
        conntrack at all (built into the kernel it would have counters). A
        module is only called missing when the listing proves it: a full
        ``lsmod``, or a ``lsmod | grep ip_vs`` that printed nothing.

    Why it breaks traffic:
        Without ``ip_vs`` kube-proxy cannot program any virtual server (it
        exits or, in old releases, falls back to iptables). Without
        ``br_netfilter`` packets between two pods on the same bridge never
        pass iptables: a pod calling a Service whose endpoint is on the same
        node gets its reply from the pod IP instead of the ClusterIP and
        drops it (connections hang). Without ``nf_conntrack`` there is no NAT.

    Example:
        ``worker-3`` runs flannel; ``lsmod`` lacks ``br_netfilter`` and
        ``sysctl net.bridge.bridge-nf-call-iptables`` does not exist.

    Fix:
        Load the module now and at boot: ``modprobe br_netfilter`` and
        ``echo br_netfilter > /etc/modules-load.d/k8s.conf``; set
        ``net.bridge.bridge-nf-call-iptables = 1`` in ``/etc/sysctl.d``
        (kubeadm's prerequisites).

    Confirm live:
        ``lsmod | grep -E 'ip_vs|br_netfilter|nf_conntrack'`` on the node;
        ``sysctl net.bridge.bridge-nf-call-iptables``.

    References:
        https://kubernetes.io/docs/setup/production-environment/container-runtimes/#forwarding-ipv4-and-letting-iptables-see-bridged-traffic ;
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/ipvs/README.md#prerequisite
    """
    yield from findings_from("KPX612", model, faults_of(model, kpx_kernel_modules_faults))

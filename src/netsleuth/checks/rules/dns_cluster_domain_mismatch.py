"""DNS117: the kubelet's cluster domain is not a zone CoreDNS serves."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.cluster_domain import cluster_domain_mismatch_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(id="DNS117", layer=Layer.DNS, severity=Severity.ERROR, needs=Needs(kinds=("ConfigMap",)))
def cluster_domain_mismatch(model: ClusterModel) -> Iterator[Finding]:
    """The kubelet's clusterDomain is not a zone the CoreDNS `kubernetes` plugin serves.

    What it checks: the domain pods search under (the kubelet's `clusterDomain`
    in `kube-system/kubelet-config`, else kubeadm's `networking.dnsDomain` in
    `kube-system/kubeadm-config`) against the zones of the `kubernetes` plugin
    in the CoreDNS Corefile (`kube-system/coredns`). When the input lacks
    either side, nothing is said (not checked).

    Why it breaks traffic: the kubelet writes `<ns>.svc.<clusterDomain>
    svc.<clusterDomain> <clusterDomain>` into every ClusterFirst pod's
    resolv.conf search list; CoreDNS answers Service names only inside its
    `kubernetes` zones and forwards every other name upstream, which answers
    NXDOMAIN. So no `<svc>`, `<svc>.<ns>` or `<svc>.<ns>.svc.<clusterDomain>`
    lookup resolves, from any pod, although CoreDNS is up and healthy.

    Example:
      # kube-system/kubelet-config, key kubelet
      clusterDomain: cluster.local
      # kube-system/coredns, Corefile
      kubernetes corp.internal in-addr.arpa ip6.arpa

    Fix: make the Corefile's `kubernetes` plugin serve the kubelet's domain
    (one ConfigMap edit; CoreDNS reloads it). When kubeadm's `dnsDomain`
    agrees with the Corefile, the kubelet config is the odd one out: set its
    `clusterDomain`, apply it on every node, restart the kubelets and recreate
    the pods (their resolv.conf is written when they start).

    Confirm live:
      kubectl get configmap -n kube-system coredns -o 'jsonpath={.data.Corefile}' | grep kubernetes
      kubectl get --raw /api/v1/nodes/<node>/proxy/configz | grep -o '"clusterDomain":"[^"]*"'

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/
      https://coredns.io/plugins/kubernetes/
      https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/
    """
    yield from findings_from("DNS117", model, cluster_domain_mismatch_faults(model))

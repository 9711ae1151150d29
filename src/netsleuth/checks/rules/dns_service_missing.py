"""DNS101: the cluster DNS Service is missing."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import dns_service_missing_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


@register(id="DNS101", layer=Layer.DNS, severity=Severity.ERROR, needs=Needs(kinds=("Service",)))
def dns_service_missing(model: ClusterModel) -> Iterator[Finding]:
    """The kube-dns Service (cluster DNS) does not exist in kube-system.

    What it checks: when the input shows kube-system's workloads or pods (a
    cluster dump, not one application's manifests), that a Service named
    `kube-dns` (or `coredns`) exists in kube-system, or one selecting
    `k8s-app=kube-dns`.

    Why it breaks traffic: every pod with the default `dnsPolicy: ClusterFirst`
    gets the kube-dns ClusterIP as its only nameserver (kubelet
    `--cluster-dns`). Without the Service nothing answers on that IP, so every
    name lookup in the cluster times out after 5 seconds per attempt.

    Example:
      kubectl get svc -n kube-system kube-dns
      Error from server (NotFound): services "kube-dns" not found

    Fix: recreate the Service with the ClusterIP kubelet hands to pods
    (`clusterDNS` in the kubelet config, usually 10.96.0.10) selecting
    `k8s-app: kube-dns`, ports 53/UDP and 53/TCP; `kubeadm init phase addon
    coredns` does it on kubeadm clusters.

    Confirm live:
      kubectl get svc -n kube-system -l k8s-app=kube-dns
      kubectl exec -it <pod> -- cat /etc/resolv.conf

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
      https://kubernetes.io/docs/tasks/administer-cluster/coredns/
    """

    yield from findings_from("DNS101", model, dns_service_missing_faults(model))

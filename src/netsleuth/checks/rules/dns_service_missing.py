"""DNS101: the cluster DNS Service is missing."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.kube_dns import (
    DNS_NAMESPACE,
    cluster_has_system_view,
    dns_service,
    dns_workload,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


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
    if not cluster_has_system_view(model) or dns_service(model) is not None:
        return
    w = dns_workload(model)
    meta = Meta(name="kube-dns", namespace=DNS_NAMESPACE)
    evidence = [Evidence(f"Namespace/{DNS_NAMESPACE}", "Service kube-dns", "absent")]
    if w is not None:
        evidence.append(
            Evidence(
                f"Deployment/{DNS_NAMESPACE}/{w.name}",
                "exists",
                "yes (pods run, nothing routes to them)",
            )
        )
    yield finding(
        "DNS101",
        model,
        kind="Service",
        meta=meta,
        message="No kube-dns Service in kube-system: pods using ClusterFirst DNS have no nameserver that answers.",
        evidence=evidence,
        confirm=(
            kubectl("get", "svc", "-n", "kube-system", "-l", "k8s-app=kube-dns"),
            kubectl(
                "run",
                "dnstest",
                "--rm",
                "-it",
                "--image=busybox:1.36",
                "--restart=Never",
                "--",
                "nslookup",
                "kubernetes.default",
            ),
        ),
        fix=Fix(
            text="Recreate the kube-dns Service on the kubelet clusterDNS IP, selecting k8s-app=kube-dns, "
            "ports 53/UDP and 53/TCP (kubeadm: `kubeadm init phase addon coredns`)."
        ),
    )

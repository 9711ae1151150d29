"""The cluster DNS, identified one way for every layer: which Service and pods answer
cluster DNS queries, and the derived kube-dns for manifest-only input.

Kubernetes clusters run the cluster DNS (CoreDNS) as pods labelled
``k8s-app: kube-dns`` in ``kube-system`` behind a Service on 53/UDP (port name
``dns``) and 53/TCP (``dns-tcp``)
(https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/).
The Service is ``kube-dns`` on kubeadm, EKS, GKE and AKS (CoreDNS kept the
name for compatibility); some distributions name it ``coredns`` or, on RKE2,
``rke2-coredns-rke2-coredns``; failing the names, the kube-system Service that
selects ``k8s-app=kube-dns`` is it. OpenShift's DNS operator runs CoreDNS as the
DaemonSet ``openshift-dns/dns-default`` listening on 5353, behind the Service
``openshift-dns/dns-default`` (ClusterIP ``172.30.0.10``, port 53 → targetPort
``dns``/``dns-tcp`` = 5353)
(https://docs.openshift.com/container-platform/4.16/networking/dns-operator.html).

A directory of application manifests does not contain them, yet every
"default-deny egress" question is really about them. :func:`with_kube_dns`
adds them, marked ``derived=True``, when the input has neither the Service
nor any such pod; it adds the ``kube-system`` Namespace (with its
``kubernetes.io/metadata.name`` label) when that is absent too.

The derived pod has no IP (the address is unknown), so only selector-based
rules can match it; a rule allowing DNS by ``ipBlock`` alone cannot be
judged against it. The derived Service takes ClusterIP ``10.96.0.10``
(kubeadm's default) unless another Service already holds it.

This lives in the model layer because the policy engine (``explain``'s DNS
answers) and the facts layer both need it, and they must agree.
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel, ModelObject, all_objects, build_model
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    Meta,
    Namespace,
    Pod,
    PodSpec,
    Service,
    ServicePort,
    Workload,
)

DNS_NAMESPACE = "kube-system"
DNS_SERVICE_NAMES = ("kube-dns", "coredns", "rke2-coredns-rke2-coredns")
OPENSHIFT_DNS = ("openshift-dns", "dns-default")
"""OpenShift's cluster DNS Service (namespace, name)."""
DNS_WORKLOAD_NAMES = ("coredns", "kube-dns", "rke2-coredns-rke2-coredns")
DNS_POD_LABEL = ("k8s-app", "kube-dns")

KUBE_DNS_NAMESPACE = DNS_NAMESPACE
KUBE_DNS_LABELS = {DNS_POD_LABEL[0]: DNS_POD_LABEL[1]}
KUBE_DNS_SERVICE = "kube-dns"
KUBE_DNS_CLUSTER_IP = "10.96.0.10"


def dns_service(model: ClusterModel) -> Service | None:
    """The cluster DNS Service: by its known names in kube-system, else the kube-system
    Service selecting ``k8s-app=kube-dns``."""
    for name in DNS_SERVICE_NAMES:
        svc = model.service(DNS_NAMESPACE, name)
        if svc is not None:
            return svc
    svc = model.service(*OPENSHIFT_DNS)
    if svc is not None:
        return svc
    k, v = DNS_POD_LABEL
    for svc in model.services:
        if svc.namespace == DNS_NAMESPACE and (svc.selector or {}).get(k) == v:
            return svc
    return None


def dns_service_ip(model: ClusterModel) -> str | None:
    """The ClusterIP pods are given as their nameserver (kubelet ``--cluster-dns``)."""
    svc = dns_service(model)
    if svc is None or svc.cluster_ip in (None, "None"):
        return None
    return svc.cluster_ip


def dns_pods(model: ClusterModel) -> list[Pod]:
    """The pods serving cluster DNS: those the DNS Service selects, else the kube-system
    pods labelled ``k8s-app=kube-dns``."""
    svc = dns_service(model)
    if svc is not None and svc.selector:
        return model.pods_matching(svc.namespace, svc.selector)
    k, v = DNS_POD_LABEL
    return list(model.label_index.get(DNS_NAMESPACE, {}).get(k, {}).get(v, ()))


def dns_workload(model: ClusterModel) -> Workload | None:
    """The CoreDNS (or kube-dns) Deployment in kube-system."""
    for name in DNS_WORKLOAD_NAMES:
        w = model.workload("Deployment", DNS_NAMESPACE, name)
        if w is not None:
            return w
    return None


def has_kube_dns(model: ClusterModel) -> bool:
    """True when the input has the cluster DNS Service or a ``k8s-app=kube-dns`` pod."""
    if dns_service(model) is not None:
        return True
    k, v = DNS_POD_LABEL
    return bool(model.label_index.get(DNS_NAMESPACE, {}).get(k, {}).get(v, ()))


def derived_kube_dns_objects(model: ClusterModel) -> list[ModelObject]:
    """The Namespace (if absent), Service and Pod a cluster's DNS would have."""
    out: list[ModelObject] = []
    if KUBE_DNS_NAMESPACE not in model.namespaces:
        out.append(
            Namespace(
                meta=Meta(
                    name=KUBE_DNS_NAMESPACE,
                    labels={"kubernetes.io/metadata.name": KUBE_DNS_NAMESPACE},
                    derived=True,
                )
            )
        )
    cip = KUBE_DNS_CLUSTER_IP if KUBE_DNS_CLUSTER_IP not in model.services_by_cluster_ip else None
    out.append(
        Service(
            meta=Meta(
                name=KUBE_DNS_SERVICE,
                namespace=KUBE_DNS_NAMESPACE,
                labels=dict(KUBE_DNS_LABELS),
                derived=True,
            ),
            selector=dict(KUBE_DNS_LABELS),
            cluster_ip=cip,
            cluster_ips=(cip,) if cip else (),
            ports=(
                ServicePort(port=53, name="dns", protocol="UDP", target_port=53),
                ServicePort(port=53, name="dns-tcp", protocol="TCP", target_port=53),
            ),
        )
    )
    out.append(
        Pod(
            meta=Meta(
                name="coredns-derived",
                namespace=KUBE_DNS_NAMESPACE,
                labels=dict(KUBE_DNS_LABELS),
                derived=True,
            ),
            spec=PodSpec(
                containers=(
                    Container(
                        name="coredns",
                        ports=(
                            ContainerPort(container_port=53, name="dns", protocol="UDP"),
                            ContainerPort(container_port=53, name="dns-tcp", protocol="TCP"),
                        ),
                    ),
                ),
                dns_policy="Default",
            ),
            phase="Running",
        )
    )
    return out


def with_kube_dns(model: ClusterModel) -> ClusterModel:
    """``model`` itself when it has kube-dns; else a copy with a derived kube-dns (built once
    per model: the trace and the DNS egress facts share it)."""
    if has_kube_dns(model):
        return model
    return model.memoised(
        "model.with_kube_dns",
        lambda: build_model(
            [*all_objects(model), *derived_kube_dns_objects(model)],
            model.problems,
            source=model.source,
            derive_pods=False,
        ),
    )

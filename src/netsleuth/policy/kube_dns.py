"""A derived kube-dns, so DNS egress questions have an answer on manifest-only input.

Kubernetes clusters run the cluster DNS (CoreDNS) as pods labelled
``k8s-app: kube-dns`` in ``kube-system`` behind the Service ``kube-dns``
on 53/UDP (port name ``dns``) and 53/TCP (``dns-tcp``)
(https://kubernetes.io/docs/tasks/administer-cluster/dns-custom-nameservers/).
A directory of application manifests does not contain them, yet every
"default-deny egress" question is really about them. :func:`with_kube_dns`
adds them, marked ``derived=True``, when the input has neither the
Service nor any such pod; it adds the ``kube-system`` Namespace (with its
``kubernetes.io/metadata.name`` label) when that is absent too.

The derived pod has no IP (the address is unknown), so only selector-based
rules can match it; a rule allowing DNS by ``ipBlock`` alone cannot be
judged against it. The derived Service takes ClusterIP ``10.96.0.10``
(kubeadm's default) unless another Service already holds it.
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    Meta,
    Namespace,
    Pod,
    PodSpec,
    Service,
    ServicePort,
)

KUBE_DNS_NAMESPACE = "kube-system"
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}
KUBE_DNS_SERVICE = "kube-dns"
KUBE_DNS_CLUSTER_IP = "10.96.0.10"


def has_kube_dns(model: ClusterModel) -> bool:
    """True when the input has the kube-dns Service or a ``k8s-app=kube-dns`` pod."""
    if model.service(KUBE_DNS_NAMESPACE, KUBE_DNS_SERVICE) is not None:
        return True
    return bool(model.pods_matching(KUBE_DNS_NAMESPACE, KUBE_DNS_LABELS))


def model_objects(model: ClusterModel) -> list[ModelObject]:
    """Every object of ``model``, for rebuilding it with additions."""
    objs: list[ModelObject] = []
    objs.extend(model.namespaces.values())
    objs.extend(model.nodes.values())
    objs.extend(model.pods)
    objs.extend(model.workloads)
    objs.extend(model.services)
    objs.extend(model.endpoint_slices)
    objs.extend(model.endpoints)
    objs.extend(model.network_policies)
    objs.extend(model.ingresses)
    objs.extend(model.ingress_classes)
    objs.extend(model.gateway_classes)
    objs.extend(model.gateways)
    objs.extend(model.routes)
    objs.extend(model.config_maps)
    objs.extend(model.secrets)
    objs.extend(model.events)
    objs.extend(model.custom)
    objs.extend(model.unknown)
    objs.extend(model.node_artifacts.values())
    return objs


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
    """``model`` itself when it has kube-dns; else a copy with a derived kube-dns."""
    if has_kube_dns(model):
        return model
    return build_model(
        [*model_objects(model), *derived_kube_dns_objects(model)],
        model.problems,
        source=model.source,
        derive_pods=False,
    )

"""``Facts(model)``: one object answering every derived question about a model, each
answer computed once.

The memo lives on the model (:meth:`ClusterModel.memoised`), not in a
module-global cache: two ``Facts`` of the same model share it, and it goes
away with the model. The fact modules memoise their expensive answers in the
same place, so a check calling :func:`netsleuth.facts.cni_detect.detect_cni`
and a trace reading ``Facts(model).cnis`` compute the CNI once and see the
same value.
"""

from __future__ import annotations

from netsleuth.facts import (
    cluster_domain,
    cni_detect,
    ingress_refs,
    kube_dns,
    kube_proxy_mode,
    mesh_membership,
    overlay_mtu,
    ownership,
    policy_facts,
    service_backends,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Ingress, Meta, Pod, Service, Workload


class Facts:
    """The derived facts of one model. Cheap to create; answers are memoised per model."""

    __slots__ = ("model",)

    def __init__(self, model: ClusterModel) -> None:
        self.model = model

    # ---- workload ownership

    def ownership(self, pod: Pod) -> ownership.Ownership:
        """Pod → ReplicaSet → Deployment, Job → CronJob, operator CRs (nearest first)."""
        return ownership.pod_ownership(self.model, pod)

    def managing_object(self, pod: Pod) -> tuple[str, Meta]:
        """The highest owner the input holds (what a person changes), else the pod."""
        return ownership.managing_object(self.model, pod)

    # ---- cluster DNS

    @property
    def cluster_domain(self) -> cluster_domain.ClusterDomain:
        """The cluster domain the input shows (kubelet, CoreDNS, kubeadm), else the default."""
        return cluster_domain.cluster_domain_fact(self.model)

    @property
    def dns_service(self) -> Service | None:
        return kube_dns.dns_service(self.model)

    @property
    def dns_pods(self) -> list[Pod]:
        return kube_dns.dns_pods(self.model)

    @property
    def dns_workload(self) -> Workload | None:
        return kube_dns.dns_workload(self.model)

    @property
    def corefile(self) -> kube_dns.Corefile | None:
        return kube_dns.corefile(self.model)

    @property
    def nodelocal_dns(self) -> Workload | None:
        return kube_dns.nodelocal_daemonset(self.model)

    # ---- CNI, overlay, MTU

    @property
    def cnis(self) -> list[cni_detect.CniInfo]:
        return cni_detect.detect_cni(self.model)

    @property
    def primary_cni(self) -> cni_detect.CniInfo | None:
        return cni_detect.primary_cni(self.model)

    @property
    def node_mtus(self) -> list[overlay_mtu.NodeMtu]:
        return overlay_mtu.node_mtus(self.model)

    # ---- kube-proxy

    @property
    def proxy_mode(self) -> kube_proxy_mode.ProxyModeInfo | None:
        return kube_proxy_mode.cluster_proxy_mode(self.model)

    @property
    def node_proxy_modes(self) -> dict[str, kube_proxy_mode.ProxyModeInfo]:
        return kube_proxy_mode.node_proxy_modes(self.model)

    # ---- Service backends

    def selected_pods(self, svc: Service) -> list[Pod]:
        return service_backends.selected_pods(self.model, svc)

    def selector_near_miss(self, svc: Service) -> service_backends.SelectorNearMiss | None:
        """The pod nearest to a selector that matches nothing (SVC201 and the trace)."""
        return service_backends.selector_near_miss(self.model, svc.namespace, svc.selector or {})

    def endpoint_nodes(self, svc: Service) -> set[str]:
        return service_backends.endpoint_nodes(self.model, svc)

    # ---- ingress controller

    def ingress_controller_pods(self, ingress: Ingress | None = None) -> list[Pod]:
        """The existing controller pods serving ``ingress`` (every controller's: ``None``)."""
        return ingress_refs.serving_controller_pods(self.model, ingress)

    @property
    def ingress_controller_readiness(self) -> list[ingress_refs.ControllerReadiness]:
        return ingress_refs.controller_readiness(self.model)

    # ---- mesh membership

    def in_mesh(self, pod: Pod) -> bool:
        return mesh_membership.in_mesh(self.model, pod)

    def injection(self, pod: Pod) -> mesh_membership.Injection:
        return mesh_membership.injection(self.model, pod)

    def effective_mtls(self, pod: Pod) -> mesh_membership.MtlsMode:
        return mesh_membership.effective_mtls(self.model, pod)

    # ---- policy

    @property
    def dns_egress_gaps(self) -> list[policy_facts.DnsEgressGap]:
        return policy_facts.dns_egress_gaps(self.model)

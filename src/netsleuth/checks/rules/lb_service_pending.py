"""ING806: a LoadBalancer Service has no external address (EXTERNAL-IP <pending>)."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.model.cluster import ClusterModel, SourceKind
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

# Pods that provision LoadBalancer addresses, by label.
LB_CONTROLLERS: tuple[tuple[str, str, str], ...] = (
    ("app.kubernetes.io/name", "metallb", "MetalLB"),
    ("app", "metallb", "MetalLB"),
    ("app.kubernetes.io/name", "aws-load-balancer-controller", "AWS Load Balancer Controller"),
    ("k8s-app", "cloud-controller-manager", "cloud-controller-manager"),
    ("component", "cloud-controller-manager", "cloud-controller-manager"),
    ("app.kubernetes.io/name", "kube-vip", "kube-vip"),
    ("app", "svclb", "k3s ServiceLB"),
    ("app.kubernetes.io/name", "openelb", "OpenELB"),
    ("app.kubernetes.io/name", "purelb", "PureLB"),
)
# Node providerID schemes whose cloud provider serves the default LoadBalancer class.
CLOUD_PROVIDERS = (
    "aws://",
    "gce://",
    "azure://",
    "digitalocean://",
    "linode://",
    "oci://",
    "ibm://",
    "hcloud://",
    "openstack://",
    "vsphere://",
    "exoscale://",
    "scaleway://",
)


@register(
    id="ING806", layer=Layer.LOADBALANCER, severity=Severity.ERROR, needs=Needs(kinds=("Service",))
)
def lb_service_pending(model: ClusterModel) -> Iterator[Finding]:
    """A LoadBalancer Service has no external address (EXTERNAL-IP <pending>).

    What it checks:
        Services of type LoadBalancer with no ``status.loadBalancer.ingress``,
        when the input comes from a cluster (live, or a dump where the
        Service has its ClusterIP assigned; a bare manifest has no status).
        The message says which cause the input points to: a
        ``loadBalancerClass`` only a specific controller serves; no load
        balancer controller at all (no cloud provider on the nodes'
        ``providerID``, no MetalLB, kube-vip, ServiceLB, AWS LB controller…);
        or a controller present that did not provision it (its events say why).

    Why it breaks traffic:
        Nothing outside the cluster can reach the Service through a load
        balancer that does not exist; clients resolve nothing or connect to
        nothing.

    Example:
        ``shop/web`` type LoadBalancer on a bare-metal kubeadm cluster with no
        MetalLB: ``EXTERNAL-IP <pending>`` forever.

    Fix:
        Install a load balancer implementation (MetalLB with an address pool
        on bare metal), set ``loadBalancerClass`` to a class a running
        controller serves (or remove it for the cloud default), and read the
        Service's events (``SyncLoadBalancerFailed``: quota, subnet tags,
        annotations).

    Confirm live:
        ``kubectl get svc -n <ns> <svc>`` (EXTERNAL-IP);
        ``kubectl describe svc -n <ns> <svc>`` (events);
        ``kubectl get pods -A | grep -Ei "metallb|load-balancer|cloud-controller"``.

    References:
        https://kubernetes.io/docs/concepts/services-networking/service/#loadbalancer ;
        https://kubernetes.io/docs/concepts/services-networking/service/#load-balancer-class ;
        https://metallb.universe.tf/
    """
    live = model.source.kind == SourceKind.LIVE
    controllers = sorted(
        {
            name
            for p in model.pods
            if not p.meta.derived
            for k, v, name in LB_CONTROLLERS
            if p.labels.get(k) == v
        }
    )
    if any("k3s" in n.kubelet_version for n in model.nodes.values()) or any(
        "svccontroller.k3s.cattle.io/svcname" in p.labels for p in model.pods
    ):
        controllers = sorted({*controllers, "k3s ServiceLB"})
    clouds = sorted(
        {
            n.provider_id.split("://", 1)[0]
            for n in model.nodes.values()
            if n.provider_id.startswith(CLOUD_PROVIDERS)
        }
    )
    for svc in model.services:
        if svc.type != "LoadBalancer" or svc.load_balancer_ingress:
            continue
        if not live and not svc.cluster_ip:
            continue  # a manifest, not a cluster's object: no status to judge
        obj = f"Service/{svc.namespace}/{svc.name}"
        evidence = [Evidence(obj, "status.loadBalancer.ingress", "<pending>")]
        events = [
            e for e in model.events_for("Service", svc.namespace, svc.name) if e.type == "Warning"
        ]
        evidence += [
            Evidence(f"Event/{e.meta.namespace}/{e.meta.name}", e.reason, e.message)
            for e in events[-2:]
        ]
        if svc.load_balancer_class:
            evidence.append(Evidence(obj, "spec.loadBalancerClass", svc.load_balancer_class))
            why = (
                f"its loadBalancerClass {svc.load_balancer_class!r} is served only by the controller for that class "
                f"(the cloud provider's default controller ignores it); controllers seen: {', '.join(controllers) or 'none'}"
            )
            fix = (
                f"Run the controller for class {svc.load_balancer_class!r}, or remove spec.loadBalancerClass "
                "(immutable: recreate the Service) to use the default implementation."
            )
        elif not controllers and not clouds and (model.nodes or live):
            why = "no load balancer implementation is visible (no cloud providerID on the nodes, no MetalLB, kube-vip, ServiceLB or cloud-controller-manager pods)"
            evidence.append(Evidence("Node", "spec.providerID", "no cloud provider"))
            fix = "Install a LoadBalancer implementation (MetalLB with an IPAddressPool on bare metal), or use NodePort/Ingress."
        else:
            impl = (
                ", ".join(controllers + [f"{c} cloud provider" for c in clouds])
                or "the cluster's controller"
            )
            why = f"{impl} has not provisioned it" + (
                f" ({events[-1].reason}: {events[-1].message[:160]})" if events else ""
            )
            fix = "Read the Service's events and the controller's log (quota, subnet tags, annotations, IP pool exhausted)."
        yield finding(
            "ING806",
            model,
            kind="Service",
            meta=svc.meta,
            message=f"LoadBalancer Service {svc.namespace}/{svc.name} has no external address: {why}",
            evidence=evidence,
            confirm=(
                kubectl("get", "svc", "-n", svc.namespace, svc.name),
                kubectl("describe", "svc", "-n", svc.namespace, svc.name),
                kubectl("get", "pods", "-A").pipe(
                    "grep", "-Ei", "metallb|load-balancer|cloud-controller|kube-vip|svclb"
                ),
            ),
            fix=Fix(text=fix),
        )

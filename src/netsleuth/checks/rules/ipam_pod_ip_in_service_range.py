"""CNI413: a pod's IP is a Service ClusterIP, or inside the Service CIDR."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, culprit_subject, finding, register
from netsleuth.facts.attribution import Culprit, cni_agent, control_plane_setting
from netsleuth.facts.cluster_cidrs import parse_network, service_cidrs
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Pod


def _in_node_range(
    model: ClusterModel, pod: Pod, ip: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> bool:
    node = model.nodes.get(pod.node_name or "")
    if node is None:
        return False
    for cidr in node.pod_cidrs:
        net = parse_network(cidr)
        if net is not None and net.version == ip.version and ip in net:
            return True
    return False


@register(
    id="CNI413",
    layer=Layer.IPAM,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Pod", "Service")),
    config=True,
)
def pod_ip_in_service_range(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """A pod's IP equals a Service ClusterIP or lies inside the Service CIDR.

    What it checks: running pods (not hostNetwork) whose IP is the ClusterIP
    of a Service in the input, or lies inside the Service CIDR (the
    kube-apiserver ``--service-cluster-ip-range``, kubeadm's
    ``serviceSubnet``, or ``scan --service-cidr``). The object to change is
    where the pod addresses come from: kube-controller-manager
    ``--cluster-cidr`` when the pod sits in its node's podCIDR, else the
    CNI's own IP pool.

    Why it breaks traffic: kube-proxy rewrites every packet sent to a
    ClusterIP, and nodes route the Service range as virtual, so traffic to a
    pod whose address falls there is DNATed to some Service's backends or
    dropped; replies from it are mistaken for Service traffic.

    Example:
      kube-apiserver --service-cluster-ip-range=10.96.0.0/12
      Pod shop/web-1  podIP 10.100.3.7        # inside 10.96.0.0/12

    Fix: give pods a range disjoint from the Service CIDR (``--cluster-cidr``
    and the CNI pool, e.g. Calico's IPPool); existing pods keep their
    addresses until recreated, nodes their podCIDR until re-registered.

    Confirm live:
      kubectl get pods -A -o wide
      kubectl -n kube-system get pod -l component=kube-apiserver -o yaml | grep service-cluster-ip-range

    References:
      https://kubernetes.io/docs/concepts/services-networking/cluster-ip-allocation/
      https://kubernetes.io/docs/concepts/cluster-administration/networking/
    """
    ranges = service_cidrs(model, config.service_cidr)
    clashes: dict[str, tuple[Culprit, list[tuple[Pod, str, str]]]] = {}
    for pod in model.pods:
        if pod.meta.derived or pod.host_network or pod.phase in ("Succeeded", "Failed"):
            continue
        for text in pod.pod_ips:
            try:
                ip = ipaddress.ip_address(text)
            except ValueError:
                continue
            svc = model.services_by_cluster_ip.get(text)
            why = None
            if svc is not None:
                why = f"the ClusterIP of Service {svc.namespace}/{svc.name}"
            else:
                r = next(
                    (r for r in ranges if r.network.version == ip.version and ip in r.network), None
                )
                if r is not None:
                    why = f"inside the Service CIDR {r.cidr} ({r.source})"
            if why is None:
                continue
            if _in_node_range(model, pod, ip):
                culprit = control_plane_setting(
                    model, "kube-controller-manager", "--cluster-cidr", Layer.IPAM
                ).culprit
            else:
                culprit = cni_agent(model) or Culprit(
                    "Node", None, pod.node_name or "?", Layer.IPAM, "spec.podCIDRs"
                )
            clashes.setdefault(culprit.ref(), (culprit, []))[1].append((pod, text, why))
    for culprit, rows in clashes.values():
        kind, meta = culprit_subject(culprit)
        pod, addr, why = rows[0]
        yield finding(
            "CNI413",
            model,
            kind=kind,
            meta=meta,
            also=(pod.meta,),
            message=f"{len(rows)} pod(s) have addresses in the Service range (pod {pod.namespace}/{pod.name} "
            f"has {addr}, {why}): kube-proxy rewrites traffic to them; their addresses come from "
            f"{culprit.ref()}" + (f" {culprit.field}" if culprit.field else ""),
            evidence=[
                Evidence(f"Pod/{p.namespace}/{p.name}", "status.podIP", f"{a} ({w})")
                for p, a, w in rows[:4]
            ],
            confirm=(kubectl("get", "pods", "-A", "-o", "wide"),),
            fix=Fix(
                text=f"Make the pod range of {culprit.ref()} disjoint from the Service CIDR; recreate the "
                "pods (and re-register the nodes if their podCIDR overlaps: spec.podCIDR is immutable)."
            ),
        )

"""DNS103: CoreDNS Deployment has unavailable replicas."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import dns_workload
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(id="DNS103", layer=Layer.DNS, severity=Severity.ERROR, needs=Needs(kinds=("Deployment",)))
def coredns_replicas_unavailable(model: ClusterModel) -> Iterator[Finding]:
    """The CoreDNS Deployment has fewer available replicas than desired.

    What it checks: `status.availableReplicas` of the CoreDNS (or kube-dns)
    Deployment in kube-system against `spec.replicas`. No available replica
    (or `replicas: 0`) is an error; some missing is a warning. Deployments
    given without status (plain manifests) are not judged.

    Why it breaks traffic: every lookup in the cluster goes through these
    pods. With none available DNS is down; with fewer than desired the
    remaining ones take the whole query load and are more likely to throttle
    or be OOMKilled, and a single node failure can take DNS down.

    Example:
      kubectl get deploy -n kube-system coredns
      NAME      READY   UP-TO-DATE   AVAILABLE   AGE
      coredns   0/2     2            0           90d

    Fix: describe the pods to see why they are not available (Pending for
    resources, CrashLoopBackOff from a forward loop, OOMKilled); keep at least
    2 replicas spread over nodes.

    Confirm live:
      kubectl get deploy -n kube-system coredns
      kubectl describe pods -n kube-system -l k8s-app=kube-dns

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
    """
    w = dns_workload(model)
    if w is None or not w.has_status:
        return
    desired = 1 if w.replicas is None else w.replicas
    available = w.available_replicas
    if desired > 0 and available >= desired:
        return
    if desired == 0:
        message = f"CoreDNS Deployment {w.name} is scaled to 0 replicas: cluster DNS is down."
        severity = Severity.ERROR
    elif available == 0:
        message = (
            f"CoreDNS Deployment {w.name} has 0/{desired} replicas available: cluster DNS is down."
        )
        severity = Severity.ERROR
    else:
        message = (
            f"CoreDNS Deployment {w.name} has {available}/{desired} replicas available: "
            "the rest carry all DNS load and one more failure may take DNS down."
        )
        severity = Severity.WARNING
    yield finding(
        "DNS103",
        model,
        kind="Deployment",
        meta=w.meta,
        severity=severity,
        message=message,
        evidence=[
            Evidence(ref("Deployment", w.meta), "spec.replicas", str(desired)),
            Evidence(ref("Deployment", w.meta), "status.availableReplicas", str(available)),
        ],
        confirm=(
            kubectl("get", "deploy", "-n", w.namespace, w.name),
            kubectl("describe", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"),
        ),
        fix=Fix(
            text="Find why CoreDNS pods are unavailable (Pending, CrashLoopBackOff, OOMKilled) and fix it; "
            "run at least 2 replicas on different nodes.",
            command=kubectl("-n", w.namespace, "scale", f"deploy/{w.name}", "--replicas=2")
            if desired == 0
            else None,
        ),
    )

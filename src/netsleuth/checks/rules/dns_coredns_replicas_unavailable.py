"""DNS103: CoreDNS Deployment has unavailable replicas."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, findings_from, register
from netsleuth.facts.coredns_health import coredns_replicas_unavailable_faults
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Layer, Severity


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

    yield from findings_from("DNS103", model, coredns_replicas_unavailable_faults(model))

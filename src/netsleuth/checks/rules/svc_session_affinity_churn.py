"""SVC209: sessionAffinity ClientIP in front of pods that keep restarting."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, ref, register
from netsleuth.facts.service_backends import selected_pods
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC209",
    layer=Layer.SERVICE,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Service", "Pod")),
    config=True,
)
def session_affinity_churn(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """sessionAffinity: ClientIP pins clients to pods that keep restarting.

    What it checks: Services with `sessionAffinity: ClientIP` whose selected
    pods have containers restarted at least `restart_threshold` times (5 by
    default) or are crash-looping.

    Why it breaks traffic: with ClientIP affinity kube-proxy sends every
    connection of a client to the same endpoint for `timeoutSeconds` (3 hours
    by default). When that pod restarts, its clients fail until the endpoint
    is withdrawn, and after it comes back the affinity table is rebuilt, so
    in-memory sessions the affinity was meant to keep are lost anyway; with
    few source IPs (a NAT gateway, an ingress controller) one churning pod
    takes a large share of all traffic down.

    Example:
      spec:
        sessionAffinity: ClientIP
      # pods: RESTARTS 37, CrashLoopBackOff

    Fix: fix the restarts first; keep session state outside the pods
    (Redis, a database) and drop ClientIP affinity, or use cookie affinity
    at the ingress.

    Confirm live:
      kubectl get pods -n <ns> -l <selector>
      kubectl describe svc <svc> -n <ns> | grep -i affinity

    References:
      https://kubernetes.io/docs/reference/networking/virtual-ips/#session-affinity
    """
    for svc in model.services:
        if svc.session_affinity != "ClientIP":
            continue
        pods = selected_pods(model, svc)
        churning = [
            (p, max((cs.restart_count for cs in p.container_statuses), default=0))
            for p in pods
            if any(
                cs.restart_count >= config.restart_threshold
                or cs.state_reason == "CrashLoopBackOff"
                for cs in p.container_statuses
            )
        ]
        if not churning:
            continue
        p, restarts = churning[0]
        yield finding(
            "SVC209",
            model,
            kind="Service",
            meta=svc.meta,
            also=(p.meta,),
            message=f"Service {svc.namespace}/{svc.name} pins clients with sessionAffinity ClientIP to pods that "
            f"keep restarting ({len(churning)} of {len(pods)}, e.g. {p.name} with {restarts} restarts): "
            "pinned clients fail while their pod is down.",
            evidence=[
                Evidence(ref("Service", svc.meta), "spec.sessionAffinity", "ClientIP"),
                Evidence(
                    ref("Pod", p.meta), "status.containerStatuses[*].restartCount", str(restarts)
                ),
            ],
            confirm=(
                kubectl("get", "pods", "-n", svc.namespace, "-o", "wide").pipe("grep", p.name),
            ),
            fix=Fix(
                text="Fix the restarts; keep session state outside the pods and drop ClientIP affinity."
            ),
        )

"""SVC202: a Service's selected pods exist but none is Ready."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, ref, register
from netsleuth.facts.attribution import sandbox_blocker, workloads_of
from netsleuth.facts.kube_dns import dns_service
from netsleuth.facts.rollouts import premature_switch
from netsleuth.facts.service_backends import selected_pods
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC202",
    layer=Layer.ENDPOINTS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Pod")),
)
def no_ready_pods(model: ClusterModel) -> Iterator[Finding]:
    """A Service selects pods, but none of them is Ready.

    What it checks: Services whose selector matches pods (with status: pods
    derived from manifests are not judged) of which none has the Ready
    condition, unless `publishNotReadyAddresses` is set. The cluster DNS
    Service is left to DNS102.

    Why it breaks traffic: only ready endpoints receive Service traffic.
    With none, connections to the ClusterIP are refused or time out, and an
    Ingress in front answers 503. The cause is in the pods: a failing
    readiness probe, a crash loop, Pending scheduling.

    Example:
      kubectl get pods -l app=cart
      NAME          READY   STATUS             RESTARTS
      cart-7d9f-x   0/1     CrashLoopBackOff   12

    Fix: fix what keeps the pods from being Ready: read `kubectl describe
    pod` (readiness probe failures, image pull, scheduling) and the logs.

    Confirm live:
      kubectl get pods -n <ns> -l <selector> -o wide
      kubectl describe pod -n <ns> <pod>

    References:
      https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-conditions
      https://kubernetes.io/docs/tasks/debug/debug-application/debug-service/
    """
    dns = dns_service(model)
    for svc in model.services:
        if svc.publish_not_ready_addresses or svc is dns:
            continue  # the cluster DNS Service is DNS102's
        pods = [p for p in selected_pods(model, svc) if not p.meta.derived]
        if not pods or any(p.ready for p in pods):
            continue
        if premature_switch(model, svc) is not None:
            continue  # a blue/green switch made too early: SVC212 names the rollback
        states = []
        for p in pods[:3]:
            waiting = next((cs.state_reason for cs in p.container_statuses if cs.state_reason), "")
            states.append(f"{p.name} {p.phase}{' ' + waiting if waiting else ''}")
        sel_text = ",".join(f"{k}={v}" for k, v in sorted((svc.selector or {}).items()))
        # What to change: the pods' workload (its readiness probe, image, config), unless every
        # pod is stuck without a sandbox, in which case the CNI or the IP range is to blame.
        blockers = {b.ref(): b for p in pods if (b := sandbox_blocker(model, p)) is not None}
        owners = workloads_of(model, pods)
        if len(blockers) == 1 and all(sandbox_blocker(model, p) is not None for p in pods):
            culprit = next(iter(blockers.values()))
            because = f"; they have no sandbox: {culprit.ref()} is what to fix"
        else:
            culprit, because = owners[0], ""
        kind, meta = culprit_subject(culprit)
        yield finding(
            "SVC202",
            model,
            kind=kind,
            meta=meta,
            layer=culprit.layer or Layer.ENDPOINTS,
            also=tuple(p.meta for p in pods),
            message=f"Service {svc.namespace}/{svc.name} selects {len(pods)} pod(s) of "
            f"{', '.join(o.ref() for o in owners[:2])} but none is Ready "
            f"({'; '.join(states)}): no endpoint receives traffic{because}.",
            evidence=[
                Evidence(ref("Service", svc.meta), "spec.selector", sel_text),
                *(
                    Evidence(ref("Pod", p.meta), "status.conditions[Ready]", "False")
                    for p in pods[:3]
                ),
            ],
            confirm=(
                kubectl("get", "pods", "-n", svc.namespace, "-l", sel_text, "-o", "wide"),
                kubectl("describe", "pod", "-n", svc.namespace, pods[0].name),
            ),
            fix=Fix(
                text=f"Fix {culprit.ref()}: the pods get no sandbox until it is fixed "
                "(see the CNI/IPAM finding for it); the kubelet retries them."
                if because
                else f"Fix what keeps the pods of {culprit.ref()} from being Ready (readiness probe, "
                "crash loop, scheduling) in its pod template."
            ),
        )

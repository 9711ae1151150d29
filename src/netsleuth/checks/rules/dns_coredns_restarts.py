"""DNS104: CoreDNS pods restart or were OOMKilled."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, ref, register
from netsleuth.facts.kube_dns import dns_pods, dns_workload
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import ContainerStatus, Pod


@register(
    id="DNS104",
    layer=Layer.DNS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Pod",)),
    config=True,
)
def coredns_restarts(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """CoreDNS pods restart repeatedly or were OOMKilled.

    What it checks: CoreDNS pods (`k8s-app=kube-dns` in kube-system) whose
    containers restarted at least `restart_threshold` times (5 by default),
    whose last termination was `OOMKilled`, or that wait in `CrashLoopBackOff`.

    Why it breaks traffic: while a CoreDNS pod restarts, the queries
    kube-proxy sends to it are lost until its endpoint is removed, which
    clients see as 5-second timeouts and intermittent `SERVFAIL`. OOMKilled
    means the memory limit is too low for the cluster's size or query load;
    a crash loop usually means a forward loop or a broken Corefile.

    Example:
      kubectl get pods -n kube-system -l k8s-app=kube-dns
      NAME                       READY   STATUS    RESTARTS       AGE
      coredns-5d78c9869d-4x7k2   1/1     Running   14 (2m ago)    45d

    Fix: for OOMKilled raise the memory limit (256Mi or more, see DNS106);
    for a crash loop read the previous logs (`Loop ... detected` means
    `forward` points back at CoreDNS, see DNS110).

    Confirm live:
      kubectl get pods -n kube-system -l k8s-app=kube-dns
      kubectl logs -n kube-system <coredns-pod> --previous
      kubectl describe pod -n kube-system <coredns-pod> | grep -A3 'Last State'

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/dns-debugging-resolution/
      https://coredns.io/plugins/loop/#troubleshooting
    """
    churning: list[tuple[Pod, ContainerStatus, str]] = []
    for pod in dns_pods(model):
        for cs in pod.container_statuses:
            oom = "OOMKilled" in (cs.last_termination_reason, cs.state_reason)
            crash = cs.state_reason == "CrashLoopBackOff"
            if oom or crash or cs.restart_count >= config.restart_threshold:
                why = "OOMKilled" if oom else ("in CrashLoopBackOff" if crash else "restarting")
                churning.append((pod, cs, why))
                break
    if not churning:
        return
    w = dns_workload(model)
    kind, meta = ("Deployment", w.meta) if w is not None else ("Pod", churning[0][0].meta)
    oom_any = any(why == "OOMKilled" for _, _, why in churning)
    parts = [f"{p.name} {why} ({cs.restart_count} restarts)" for p, cs, why in churning]
    evidence = []
    for pod, cs, _why in churning[:3]:
        evidence.append(
            Evidence(
                ref("Pod", pod.meta),
                f"status.containerStatuses[{cs.name}].restartCount",
                str(cs.restart_count),
            )
        )
        if cs.last_termination_reason:
            evidence.append(
                Evidence(
                    ref("Pod", pod.meta),
                    f"status.containerStatuses[{cs.name}].lastState.terminated.reason",
                    cs.last_termination_reason,
                )
            )
        if cs.state_reason:
            evidence.append(
                Evidence(
                    ref("Pod", pod.meta),
                    f"status.containerStatuses[{cs.name}].state.reason",
                    cs.state_reason,
                )
            )
    first = churning[0][0]
    yield finding(
        "DNS104",
        model,
        kind=kind,
        meta=meta,
        also=tuple(p.meta for p, _, _ in churning),
        message=f"CoreDNS pods keep restarting: {'; '.join(parts)}. Queries sent to a restarting pod time "
        "out until its endpoint is withdrawn.",
        evidence=evidence,
        confirm=(
            kubectl("logs", "-n", first.namespace, first.name, "--previous"),
            kubectl(
                "get",
                "events",
                "-n",
                first.namespace,
                "--field-selector",
                f"involvedObject.name={first.name}",
            ),
        ),
        fix=Fix(
            text="Raise the CoreDNS memory limit (256Mi or more)."
            if oom_any
            else "Read the previous logs and the pod events: liveness probes failing under CPU throttling "
            "(see DNS105), or 'Loop detected' (forward points back at CoreDNS, see DNS110)."
        ),
    )

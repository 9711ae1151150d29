"""SVC211: a readiness or liveness probe targets a port the container does not declare."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, ref, register
from netsleuth.facts.attribution import workload_of
from netsleuth.facts.fixes import template_path
from netsleuth.facts.port_evidence import undeclared_probe_ports
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Pod


def _failing(model: ClusterModel, pod: Pod, kind: str, container: str) -> str | None:
    """Evidence that the probe fails on this pod: Unhealthy events, not Ready, restarts."""
    events = [
        e
        for e in model.events_for("Pod", pod.namespace, pod.name)
        if e.reason == "Unhealthy" and kind.capitalize() in e.message
    ]
    if events:
        return f"{events[-1].count}x {events[-1].message[:160]}"
    if pod.meta.derived or not pod.container_statuses:
        return None
    cs = next((c for c in pod.container_statuses if c.name == container), None)
    if kind == "readiness" and cs is not None and not cs.ready and cs.state == "running":
        return "running but not Ready"
    if kind == "liveness" and cs is not None and cs.restart_count >= 3:
        return f"{cs.restart_count} restarts"
    return None


@register(
    id="SVC211",
    layer=Layer.ENDPOINTS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Pod",)),
)
def probe_port_undeclared(model: ClusterModel) -> Iterator[Finding]:
    """A readiness or liveness probe targets a port the container does not declare, and fails.

    What it checks: httpGet/tcpSocket/grpc probes whose port is a name no
    port of the container carries (the kubelet cannot resolve it: the probe
    always fails), or a number the container does not declare while it
    declares other ports and the probe's ``Unhealthy`` events say the
    connection was refused (nothing listens there). A probe on an undeclared
    health port that passes, or fails by timing out (a throttled or slow app),
    is not about the port (CoreDNS probes 8080 and 8181 and declares neither)
    and is not reported. One finding per
    workload, naming it: the probe is in its pod template.

    Why it breaks traffic: a readiness probe that never succeeds keeps the
    pods out of every Service's endpoints (``connection refused`` or 503 at
    the Service); a failing liveness probe restarts the container in a loop.

    Example:
      ports: [{name: http, containerPort: 8080}]
      readinessProbe: {httpGet: {path: /ready, port: 8081}}   # the app serves /ready on 8080

    Fix: point the probe at the port the app serves its health endpoint on
    (by the container port's name), in the workload's pod template.

    Confirm live:
      kubectl describe pod -n <ns> <pod>     # Events: Readiness probe failed ... connection refused
      kubectl get pod -n <ns> <pod> -o jsonpath='{.spec.containers[*].readinessProbe}'

    References:
      https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/
    """
    seen: set[str] = set()
    for pod in model.pods:
        bad = undeclared_probe_ports(pod)
        if not bad:
            continue
        owner = workload_of(model, pod)
        if owner.ref() in seen:
            continue
        for c, kind, probe, port in bad:
            named = isinstance(port, str)
            failing = _failing(model, pod, kind, c.name)
            if not named and (failing is None or "connection refused" not in failing):
                # An undeclared health port is legal and common (CoreDNS probes 8080 and 8181
                # and declares neither). Only a refused connection says nothing listens
                # there; timeouts and restarts point at the app (CPU throttling, a slow
                # start), not at the port.
                continue
            seen.add(owner.ref())
            declared = (
                ", ".join(
                    f"{cp.name + '=' if cp.name else ''}{cp.container_port}/{cp.protocol}"
                    for cp in c.ports
                )
                or "none"
            )
            kind_, meta = culprit_subject(owner)
            effect = (
                "the pods never become Ready and get no endpoints"
                if kind == "readiness"
                else "the kubelet restarts the container in a loop"
            )
            yield finding(
                "SVC211",
                model,
                kind=kind_,
                meta=meta,
                also=(pod.meta,),
                message=f"{owner.ref()}: the {kind} probe of container {c.name} targets "
                + (
                    f"port name {port!r}, which no port of the container carries"
                    if named
                    else f"port {port}, which the container does not declare (it declares {declared})"
                )
                + (f"; it fails ({failing})" if failing else "")
                + f": {effect}.",
                evidence=[
                    Evidence(
                        ref("Pod", pod.meta),
                        f"spec.containers[{c.name}].{kind}Probe.{probe.handler}.port",
                        str(port),
                    ),
                    Evidence(ref("Pod", pod.meta), f"spec.containers[{c.name}].ports", declared),
                    *(
                        (Evidence(ref("Pod", pod.meta), f"{kind} probe", failing),)
                        if failing
                        else ()
                    ),
                ],
                confirm=(kubectl("describe", "pod", "-n", pod.namespace, pod.name),),
                fix=Fix(
                    text=f"Point the {kind} probe of container {c.name} in {owner.ref()}'s "
                    f"{template_path(owner)} at the port its health endpoint is served on"
                    + (f" (declared: {declared})" if c.ports else "")
                    + "."
                ),
            )
            break

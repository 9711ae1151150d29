"""SVC204: a Service's numeric targetPort is not where the pods listen, by their own evidence."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.port_evidence import weigh_target_port
from netsleuth.facts.service_backends import declared_port, selected_pods, target_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import json_patch, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC204",
    layer=Layer.TARGET_PORT,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Pod")),
)
def target_port_number_undeclared(model: ClusterModel) -> Iterator[Finding]:
    """A Service's numeric targetPort is not where the selected pods listen, by the pods' own evidence.

    What it checks: Service ports with a numeric `targetPort` (or none,
    which means the same as `port`) that no container of the selected pods
    declares, weighing what else the pods say about their port: a readiness
    probe that succeeds on another port, or a listen-port env var (`PORT`,
    `HTTP_PORT`, `SERVER_PORT`…) with another number, make it an error (the
    app answers elsewhere); containers that only declare other ports make it
    a warning. Declaring ports is optional: with no other clue the check says
    nothing (the trace lists the port as not checked).

    Why it breaks traffic: if the application does not listen on that port,
    connections are refused at the pod although the Service, the endpoints
    and the policies all look right. A port changed in one place only (the
    app's config, not the Service) is the usual cause.

    Example:
      # Service
      ports: [{port: 80, targetPort: 8080}]
      # Pod: Ready, its probe answers on 9090, and PORT says 9090
      ports: [{name: http, containerPort: 9090}]
      readinessProbe: {httpGet: {path: /healthz, port: 9090}}
      env: [{name: PORT, value: "9090"}]

    Fix: set `targetPort` to the port the app listens on (the port the
    probe uses), by name when the container declares it.

    Confirm live:
      kubectl exec -n <ns> <pod> -- sh -c 'ss -ltn || netstat -ltn'
      kubectl port-forward -n <ns> pod/<pod> 8080:8080

    References:
      https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports
      https://kubernetes.io/docs/concepts/services-networking/service/#defining-a-service
    """
    for svc in model.services:
        pods = selected_pods(model, svc)
        if not pods:
            continue
        for i, sp in enumerate(svc.ports):
            target = target_of(sp)
            if not isinstance(target, int):
                continue
            missing = [p for p in pods if declared_port(p, target, sp.protocol) is None]
            if not missing:
                continue
            w = weigh_target_port(missing, target, sp.protocol)
            if not w.suspect:
                continue
            clue = w.clues()[0]
            listens = sorted({c.port for c in (*w.probes, *w.env)})
            because = "; ".join(dict.fromkeys(c.what for c in w.clues()[:3]))
            severity = Severity.ERROR if w.verified else Severity.WARNING
            new_target = listens[0] if len(listens) == 1 else None
            yield finding(
                "SVC204",
                model,
                kind="Service",
                meta=svc.meta,
                severity=severity,
                also=(missing[0].meta,),
                message=f"Service {svc.namespace}/{svc.name} port {sp.port} targets {target}, but pod "
                f"{clue.pod.name} "
                + (
                    f"listens on {', '.join(map(str, listens))} ({because})"
                    if w.verified
                    else f"declares only {because}"
                )
                + ": connections to the Service are refused at the pod"
                + ("." if w.verified else " unless the app also listens there."),
                evidence=[
                    Evidence(ref("Service", svc.meta), f"spec.ports[{i}].targetPort", str(target)),
                    *{
                        c.what: Evidence(ref("Pod", c.pod.meta), c.field, c.what) for c in w.clues()
                    }.values(),
                ],
                confirm=(
                    kubectl(
                        "exec",
                        "-n",
                        svc.namespace,
                        missing[0].name,
                        "--",
                        "sh",
                        "-c",
                        "ss -ltn || netstat -ltn",
                    ),
                ),
                fix=Fix(
                    text=f"Set targetPort of port {sp.port} to {new_target}, where the app listens."
                    if new_target is not None
                    else "Point targetPort at the port the app listens on and declare it in the pod template.",
                    command=json_patch(
                        "svc",
                        svc.namespace,
                        svc.name,
                        [
                            {"op": "test", "path": f"/spec/ports/{i}/port", "value": sp.port},
                            {
                                "op": "replace",
                                "path": f"/spec/ports/{i}/targetPort",
                                "value": new_target,
                            },
                        ],
                    )
                    if new_target is not None
                    else None,
                ),
            )

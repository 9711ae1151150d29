"""SVC204: a Service's numeric targetPort is not declared by the selected pods (unverified)."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import declared_port, selected_pods, target_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC204",
    layer=Layer.TARGET_PORT,
    severity=Severity.INFO,
    needs=Needs(kinds=("Service", "Pod")),
)
def target_port_number_undeclared(model: ClusterModel) -> Iterator[Finding]:
    """A Service's numeric targetPort is not among the selected pods' declared ports (unverified).

    What it checks: Service ports with a numeric `targetPort` (or none, which
    means the same as `port`) where selected pods declare container ports
    but not this number. Declaring ports is optional and traffic still goes
    to the number, so this is info: netsleuth cannot verify the app listens there.

    Why it breaks traffic: if the application does not listen on that port,
    connections are refused at the pod although the Service, the endpoints
    and the policies all look right. A declared port list that does not hold
    the target is the usual sign of a port changed in one place only.

    Example:
      # Service
      ports: [{port: 80, targetPort: 8080}]
      # Pod
      ports: [{name: http, containerPort: 9090}]

    Fix: set `targetPort` to the port the app listens on, and declare it in
    the pod template so tools (and readers) can check it.

    Confirm live:
      kubectl exec -n <ns> <pod> -- sh -c 'ss -ltn || netstat -ltn'
      kubectl port-forward -n <ns> pod/<pod> 8080:8080

    References:
      https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#ports
    """
    for svc in model.services:
        pods = [p for p in selected_pods(model, svc) if p.spec.all_ports()]
        if not pods:
            continue
        for sp in svc.ports:
            target = target_of(sp)
            if not isinstance(target, int):
                continue
            missing = [p for p in pods if declared_port(p, target) is None]
            if not missing:
                continue
            declared = sorted(
                {f"{cp.container_port}/{cp.protocol}" for cp in missing[0].spec.all_ports()}
            )
            yield finding(
                "SVC204",
                model,
                kind="Service",
                meta=svc.meta,
                also=(missing[0].meta,),
                message=f"Service {svc.namespace}/{svc.name} port {sp.port} targets {target}, which pod "
                f"{missing[0].name} does not declare (it declares {', '.join(declared)}): unverified that "
                "the app listens there.",
                evidence=[
                    Evidence(
                        ref("Service", svc.meta), f"spec.ports[{sp.port}].targetPort", str(target)
                    ),
                    Evidence(
                        ref("Pod", missing[0].meta), "spec.containers[*].ports", ", ".join(declared)
                    ),
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
                    text="Point targetPort at the port the app listens on and declare it in the pod template."
                ),
            )

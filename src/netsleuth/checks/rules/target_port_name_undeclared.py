"""SVC203: a Service's named targetPort is not declared by the selected pods."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import selected_pods, target_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC203",
    layer=Layer.TARGET_PORT,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "Pod")),
)
def target_port_name_undeclared(model: ClusterModel) -> Iterator[Finding]:
    """A Service's named targetPort matches no containerPort name on the selected pods.

    What it checks: for each Service port whose `targetPort` is a name, the
    selected pods that declare no container port of that name and protocol.

    Why it breaks traffic: a named targetPort is resolved per pod, against
    the pod's own `ports[].name`. A pod without that name gets no port in the
    EndpointSlice for this Service port, so the Service port has no backend
    on that pod; when no pod declares it, the port is dead although the pods
    are Ready. Typical after renaming `http` to `web` in the Deployment only.

    Example:
      # Service
      ports: [{port: 80, targetPort: http}]
      # Pod
      ports: [{name: web, containerPort: 8080}]

    Fix: name the container port as the Service expects (`name: http`), or
    point `targetPort` at the existing name or the number.

    Confirm live:
      kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o yaml | grep -A3 ports
      kubectl get pod <pod> -n <ns> -o jsonpath='{.spec.containers[*].ports}'

    References:
      https://kubernetes.io/docs/concepts/services-networking/service/#field-spec-ports
    """
    for svc in model.services:
        pods = selected_pods(model, svc)
        if not pods:
            continue
        for sp in svc.ports:
            target = target_of(sp)
            if not isinstance(target, str):
                continue
            missing = [p for p in pods if p.spec.resolve_named_port(target, sp.protocol) is None]
            if not missing:
                continue
            names = sorted({cp.name for p in missing for cp in p.spec.all_ports() if cp.name})
            scope = "none of the" if len(missing) == len(pods) else f"{len(missing)} of {len(pods)}"
            yield finding(
                "SVC203",
                model,
                kind="Service",
                meta=svc.meta,
                also=tuple(p.meta for p in missing),
                message=f"Service {svc.namespace}/{svc.name} port {sp.port} targets the named port {target!r} "
                f"({sp.protocol}) but {scope} selected pods declare it"
                + (f" (they declare {', '.join(names)})" if names else "")
                + ": those pods get no traffic on it.",
                evidence=[
                    Evidence(ref("Service", svc.meta), f"spec.ports[{sp.port}].targetPort", target),
                    Evidence(
                        ref("Pod", missing[0].meta),
                        "spec.containers[*].ports[*].name",
                        ", ".join(names) or "<none>",
                    ),
                ],
                confirm=(
                    kubectl(
                        "get",
                        "endpointslices",
                        "-n",
                        svc.namespace,
                        "-l",
                        f"kubernetes.io/service-name={svc.name}",
                        "-o",
                        "yaml",
                    ),
                ),
                fix=Fix(
                    text=f"Name the container port {target!r} in the pod template, or set targetPort to the "
                    "name or number the pods declare."
                ),
            )

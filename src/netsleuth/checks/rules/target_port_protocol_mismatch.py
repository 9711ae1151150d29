"""SVC205: a Service port's protocol differs from the container port it targets."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import declared_port, selected_pods, target_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="SVC205",
    layer=Layer.TARGET_PORT,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Service", "Pod")),
)
def target_port_protocol_mismatch(model: ClusterModel) -> Iterator[Finding]:
    """A Service port's protocol differs from the protocol of the container port it targets.

    What it checks: a Service port (TCP, UDP or SCTP) whose target, by
    number or by name, is declared by the selected pods only with another
    protocol, e.g. a UDP Service port for a container port declared TCP.

    Why it breaks traffic: kube-proxy forwards only the Service port's
    protocol. A UDP Service in front of a TCP listener (or the reverse)
    delivers nothing: UDP datagrams are dropped at the pod, TCP connections
    are refused. DNS servers need both 53/UDP and 53/TCP Service ports.

    Example:
      # Service
      ports: [{port: 53, targetPort: 53, protocol: UDP}]
      # Pod
      ports: [{containerPort: 53, protocol: TCP}]

    Fix: set the Service port's protocol to the one the app speaks, or add a
    second Service port for the other protocol (and declare both container ports).

    Confirm live:
      kubectl get svc <svc> -n <ns> -o jsonpath='{.spec.ports}'
      kubectl get pod <pod> -n <ns> -o jsonpath='{.spec.containers[*].ports}'

    References:
      https://kubernetes.io/docs/reference/networking/service-protocols/
    """
    for svc in model.services:
        pods = selected_pods(model, svc)
        if not pods:
            continue
        for sp in svc.ports:
            target = target_of(sp)
            for p in pods:
                if isinstance(target, int):
                    same = declared_port(p, target, sp.protocol)
                    other = declared_port(p, target)
                else:
                    same = p.spec.resolve_named_port(target, sp.protocol)
                    other = p.spec.resolve_named_port(target)
                if same is not None or other is None:
                    continue
                yield finding(
                    "SVC205",
                    model,
                    kind="Service",
                    meta=svc.meta,
                    also=(p.meta,),
                    message=f"Service {svc.namespace}/{svc.name} port {sp.port}/{sp.protocol} targets {target}, "
                    f"which pod {p.name} declares as {other.container_port}/{other.protocol}: "
                    f"{sp.protocol} traffic reaches no listener.",
                    evidence=[
                        Evidence(
                            ref("Service", svc.meta), f"spec.ports[{sp.port}].protocol", sp.protocol
                        ),
                        Evidence(
                            ref("Pod", p.meta),
                            f"containerPort {other.container_port}.protocol",
                            other.protocol,
                        ),
                    ],
                    confirm=(
                        kubectl(
                            "get",
                            "svc",
                            svc.name,
                            "-n",
                            svc.namespace,
                            "-o",
                            "jsonpath={.spec.ports}",
                        ),
                    ),
                    fix=Fix(
                        text=f"Set the Service port protocol to {other.protocol}, or add a port for each protocol."
                    ),
                )
                break

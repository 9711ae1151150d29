"""POL305: an ingress rule allows the Service port instead of the target port."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.service_backends import declared_port, selected_pods, target_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import json_patch, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import NetworkPolicy, Pod
from netsleuth.policy import Direction, policies_selecting, port_entry_set, resolve_named_port


def _ingress_allows(
    policies: tuple[NetworkPolicy, ...], pod: Pod, protocol: str, port: int
) -> bool:
    """Some ingress rule of ``policies`` admits ``protocol/port`` on ``pod`` from some peer."""
    for pol in policies:
        for rule in pol.ingress:
            if not rule.ports:
                return True
            for entry in rule.ports:
                s = port_entry_set(entry, pod)
                if s.protocol == protocol and port in s.ports:
                    return True
    return False


@register(
    id="POL305",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.ERROR,
    needs=Needs(kinds=("NetworkPolicy", "Pod", "Service")),
)
def service_port_not_target_port(model: ClusterModel) -> Iterator[Finding]:
    """An ingress rule allows a Service's port where the pods receive its targetPort.

    What it checks: ingress rules with a numeric port P on pods behind a
    Service that maps port P to a different targetPort T, where no ingress
    rule of the policies selecting those pods allows T and the pods do not
    themselves declare P as a container port.

    Why it breaks traffic: NetworkPolicy is enforced at the pod, after
    kube-proxy has rewritten the destination from ClusterIP:P to PodIP:T. A
    rule for P never matches Service traffic, which arrives on T and is
    denied. Writing the Service port (80) instead of the container port
    (8080) is the most common NetworkPolicy mistake.

    Example:
      # Service: port 80 -> targetPort 8080
      ingress:
      - from: [{podSelector: {matchLabels: {app: frontend}}}]
        ports: [{protocol: TCP, port: 80}]   # should be 8080

    Fix: allow the targetPort (8080), or the container port's name
    (`port: http`), which follows the pod when the number changes.

    Confirm live:
      kubectl get svc <svc> -n <ns> -o jsonpath='{.spec.ports}'
      kubectl exec -n <client-ns> <client> -- wget -qO- -T 3 http://<svc>.<ns>:<port>

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-resource
      https://kubernetes.io/docs/reference/networking/virtual-ips/
    """
    for svc in model.services:
        pods = selected_pods(model, svc)
        if not pods:
            continue
        pod = pods[0]
        selecting = policies_selecting(model, pod, Direction.INGRESS)
        if not selecting:
            continue
        for sp in svc.ports:
            t = target_of(sp)
            target = t if isinstance(t, int) else resolve_named_port(pod, t, sp.protocol)
            if (
                target is None
                or target == sp.port
                or declared_port(pod, sp.port, sp.protocol) is not None
            ):
                continue
            if _ingress_allows(selecting, pod, sp.protocol, target):
                continue
            for pol in selecting:
                hit = next(
                    (
                        (ri, pi)
                        for ri, rule in enumerate(pol.ingress)
                        for pi, e in enumerate(rule.ports)
                        if e.port == sp.port and e.protocol == sp.protocol
                    ),
                    None,
                )
                if hit is None:
                    continue
                ri, pi = hit
                yield finding(
                    "POL305",
                    model,
                    kind="NetworkPolicy",
                    meta=pol.meta,
                    also=(pod.meta,),
                    message=f"{pol.namespace}/{pol.name} allows {sp.port}/{sp.protocol}, the port of Service "
                    f"{svc.namespace}/{svc.name}, but traffic reaches pod {pod.name} on targetPort {target} "
                    "after DNAT, which no ingress rule allows: Service traffic is denied.",
                    evidence=[
                        Evidence(
                            ref("NetworkPolicy", pol.meta),
                            f"spec.ingress[{ri}].ports[{pi}].port",
                            str(sp.port),
                        ),
                        Evidence(
                            ref("Service", svc.meta), f"spec.ports[{sp.port}].targetPort", str(t)
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
                        text=f"Allow port {target} (the targetPort) in {pol.name}, or the container port's name.",
                        command=json_patch(
                            "networkpolicy",
                            pol.namespace,
                            pol.name,
                            [
                                {
                                    "op": "replace",
                                    "path": f"/spec/ingress/{ri}/ports/{pi}/port",
                                    "value": target,
                                }
                            ],
                        ),
                    ),
                )
                break

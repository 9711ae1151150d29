"""POL306: policies block the ports an Istio sidecar needs."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.mesh_membership import has_sidecar  # one rule with MESH9xx and the trace
from netsleuth.facts.ownership import workload_subject
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Pod
from netsleuth.policy import Direction, PodEndpoint, evaluate_direction, policies_selecting

ISTIOD_XDS_PORT = 15012
ENVOY_PROMETHEUS_PORT = 15090


def _istiod(model: ClusterModel) -> Pod | None:
    for ns in ("istio-system",):
        for p in model.pods_by_namespace.get(ns, ()):
            if p.labels.get("app") == "istiod":
                return p
    return None


def _prometheus(model: ClusterModel) -> Pod | None:
    for p in model.pods:
        if (
            p.labels.get("app.kubernetes.io/name") == "prometheus"
            or p.labels.get("app") == "prometheus"
        ):
            return p
    return None


@register(
    id="POL306",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("NetworkPolicy", "Pod")),
)
def mesh_sidecar_ports_blocked(model: ClusterModel) -> Iterator[Finding]:
    """NetworkPolicies block the ports the Istio sidecar itself needs.

    What it checks: pods with an `istio-proxy` sidecar. Egress-isolated ones
    must reach istiod on 15012 (xDS configuration and certificates): error
    when denied. Ingress-isolated ones should accept Prometheus on 15090
    (Envoy's merged metrics): warning when a Prometheus pod is in the input
    and is denied. The redirect ports 15001 (outbound) and 15006 (inbound)
    need no rule: Istio's iptables redirect happens inside the pod's network
    namespace, after NetworkPolicy has seen the original port.

    Why it breaks traffic: a sidecar that cannot reach istiod never gets its
    listeners and certificates; the pod never becomes Ready (readiness on
    15021 fails) and mTLS traffic to it fails. Blocking 15090 silently drops
    the mesh's metrics for those pods, so dashboards and alerts go blind.

    Example:
      kind: NetworkPolicy
      spec:
        podSelector: {}
        policyTypes: [Egress]
        egress:
        - to: [{namespaceSelector: {}}]
          ports: [{port: 8080}]          # nothing for istiod:15012

    Fix: allow egress to istiod (namespace istio-system, `app: istiod`) on TCP
    15012 (and 15017 where webhooks are called from pods), and ingress from the
    monitoring namespace on TCP 15090.

    Confirm live:
      istioctl proxy-status
      kubectl logs -n <ns> <pod> -c istio-proxy | grep -i 'xds\\|connection'

    References:
      https://istio.io/latest/docs/ops/deployment/application-requirements/#ports-used-by-istio
      https://istio.io/latest/docs/ops/configuration/traffic-management/traffic-routing/
    """
    istiod = _istiod(model)
    prom = _prometheus(model)
    seen: set[tuple[str, str | None, str, int]] = set()
    for pod in model.pods:
        if not has_sidecar(pod) or pod.host_network:
            continue
        kind, wmeta = workload_subject(model, pod)
        checks: list[tuple[Direction, Pod, int, Severity, str]] = []
        if istiod is not None and policies_selecting(model, pod, Direction.EGRESS):
            checks.append(
                (
                    Direction.EGRESS,
                    istiod,
                    ISTIOD_XDS_PORT,
                    Severity.ERROR,
                    "its sidecar cannot fetch configuration and certificates from istiod, so the pod "
                    "never becomes Ready",
                )
            )
        if prom is not None and policies_selecting(model, pod, Direction.INGRESS):
            checks.append(
                (
                    Direction.INGRESS,
                    prom,
                    ENVOY_PROMETHEUS_PORT,
                    Severity.WARNING,
                    "Prometheus cannot scrape the sidecar's metrics",
                )
            )
        for direction, other, port, severity, impact in checks:
            key = (kind, wmeta.namespace, wmeta.name, port)
            if key in seen:
                continue
            # the sidecar's pod is the side whose policies decide: egress towards istiod, ingress from Prometheus
            d = evaluate_direction(
                model, direction, PodEndpoint(pod), PodEndpoint(other), "TCP", port
            )
            if d.allowed:
                continue
            seen.add(key)
            pols = [f"{p.namespace}/{p.name}" for p in d.selecting]
            what = (
                f"egress to istiod {other.namespace}/{other.name} on TCP {port}"
                if direction is Direction.EGRESS
                else f"ingress from Prometheus {other.namespace}/{other.name} on TCP {port}"
            )
            yield finding(
                "POL306",
                model,
                kind=kind,
                meta=wmeta,
                severity=severity,
                also=(pod.meta,),
                message=f"{kind} {wmeta.namespace}/{wmeta.name} runs an istio-proxy sidecar and its policies "
                f"({', '.join(pols) or 'isolating it'}) deny {what}: {impact}.",
                evidence=[
                    Evidence(ref("Pod", pod.meta), "spec.containers[istio-proxy]", "present"),
                    Evidence(
                        ref("Pod", pod.meta),
                        f"{str(direction).lower()} TCP {port} verdict",
                        d.reason or str(d.decided_by),
                    ),
                ],
                confirm=(
                    cmd("istioctl", "proxy-status"),
                    kubectl("get", "networkpolicy", "-n", pod.namespace),
                ),
                fix=Fix(
                    text="Allow egress to istiod (istio-system, app=istiod) on TCP 15012 and ingress from "
                    "the monitoring namespace on TCP 15090."
                ),
            )

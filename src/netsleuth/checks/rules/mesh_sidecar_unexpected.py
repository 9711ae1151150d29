"""MESH902: pods still run an istio-proxy sidecar although injection is now disabled for them."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.mesh_membership import SYSTEM_NAMESPACES, has_sidecar, injection
from netsleuth.model.cluster import ClusterModel, WorkloadRef
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta, Pod


@register(
    id="MESH902", layer=Layer.MESH, severity=Severity.INFO, needs=Needs(kinds=("Pod", "Namespace"))
)
def mesh_sidecar_unexpected(model: ClusterModel) -> Iterator[Finding]:
    """Pods still run an istio-proxy sidecar although injection is now disabled for them.

    What it checks:
        The reverse of MESH901: running pods with an ``istio-proxy`` sidecar
        whose namespace says ``istio-injection=disabled`` or whose own
        ``sidecar.istio.io/inject`` says ``false``. Pods with a sidecar and
        no injection setting at all are left alone (manual injection is
        legitimate). One finding per workload.

    Why it breaks traffic:
        Such pods were created before the opt-out and still intercept
        traffic; the next restart changes their behaviour (mTLS, retries,
        routing), so the workload behaves differently pod by pod during a
        rollout and the opt-out has not taken effect yet.

    Example:
        Namespace ``batch`` relabeled ``istio-injection=disabled``; pod
        ``batch/report-5f8c`` still has ``istio-proxy``.

    Fix:
        Restart the workload to finish the opt-out, or remove the opt-out if
        the workload should stay in the mesh.

    Confirm live:
        ``kubectl get pod -n <ns> <pod> -o jsonpath='{.spec.containers[*].name}'``;
        ``kubectl get ns <ns> --show-labels``.

    References:
        https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy
    """
    groups: dict[WorkloadRef, list[tuple[Pod, str, str]]] = {}
    for pod in model.pods:
        if pod.meta.derived or pod.namespace in SYSTEM_NAMESPACES or pod.phase != "Running":
            continue
        if not has_sidecar(pod):
            continue
        inj = injection(model, pod)
        if inj.expected is not False:
            continue
        groups.setdefault(model.owner(pod), []).append((pod, inj.reason, inj.field))
    for ref, pods in sorted(
        groups.items(), key=lambda kv: (kv[0].namespace, kv[0].kind, kv[0].name)
    ):
        pod, reason, field = pods[0]
        w = model.workload(ref.kind, ref.namespace, ref.name)
        meta = (
            w.meta
            if w is not None
            else (pod.meta if ref.kind == "Pod" else Meta(name=ref.name, namespace=ref.namespace))
        )
        yield finding(
            "MESH902",
            model,
            kind=ref.kind,
            meta=meta,
            message=f"{ref.kind.lower()} {ref.namespace}/{ref.name}: {len(pods)} pod(s) still run istio-proxy although "
            f"{reason}; they were created before the opt-out",
            evidence=[
                Evidence(field.split(" ", 1)[0], field.split(" ", 1)[-1], reason),
                Evidence(
                    f"Pod/{pod.namespace}/{pod.name}",
                    "spec.containers[*].name",
                    ", ".join(c.name for c in pod.spec.containers),
                ),
            ],
            confirm=(
                kubectl(
                    "get",
                    "pod",
                    "-n",
                    pod.namespace,
                    pod.name,
                    "-o",
                    "jsonpath={.spec.containers[*].name}",
                ),
                kubectl("get", "ns", pod.namespace, "--show-labels"),
            ),
            fix=Fix(
                text="Restart the workload to finish the opt-out (or drop the opt-out).",
                command=(
                    kubectl(
                        "-n", ref.namespace, "rollout", "restart", f"{ref.kind.lower()}/{ref.name}"
                    )
                    if ref.kind in ("Deployment", "StatefulSet", "DaemonSet")
                    else None
                ),
            ),
        )

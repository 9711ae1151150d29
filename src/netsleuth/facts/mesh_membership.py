"""Who is in the Istio mesh: sidecars present, injection expected, PeerAuthentication modes.

Injection, as Istio's injector decides it
(https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-injection-policy):
if the namespace label ``istio-injection`` or the pod's
``sidecar.istio.io/inject`` (label, or the older annotation) says
disabled/false, no injection; else if either says enabled/true, or the
namespace has ``istio.io/rev``, injection. Host-network pods are never
injected, and the system namespaces are left out here.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import CustomObject, Pod
from netsleuth.model.selectors import LabelSelector

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease", "istio-system"})
INJECT_KEY = "sidecar.istio.io/inject"
MESH_ROOT_NAMESPACE = "istio-system"


def has_sidecar(pod: Pod) -> bool:
    """An Istio proxy runs in the pod: an ``istio-proxy`` container, or a native sidecar
    init container of that name (``restartPolicy: Always``, Istio 1.19+)."""
    return any(c.name == "istio-proxy" for c in pod.spec.containers) or any(
        c.name == "istio-proxy" and c.restart_policy == "Always" for c in pod.spec.init_containers
    )


@dataclass(frozen=True, slots=True)
class Injection:
    expected: bool | None
    """True: the injector adds a sidecar; False: opted out; None: nothing asks for it."""
    reason: str
    field: str
    """Evidence object and field, ``Namespace/shop labels.istio-injection``."""


def injection(model: ClusterModel, pod: Pod) -> Injection:
    ns_labels = model.namespace_labels(pod.namespace)
    ns_inj = ns_labels.get("istio-injection")
    pod_inj = pod.labels.get(INJECT_KEY)
    pod_field = f"Pod/{pod.namespace}/{pod.name} labels.{INJECT_KEY}"
    if pod_inj is None:
        pod_inj = pod.meta.annotations.get(INJECT_KEY)
        pod_field = f"Pod/{pod.namespace}/{pod.name} annotations.{INJECT_KEY}"
    ns_field = f"Namespace/{pod.namespace} labels.istio-injection"
    if ns_inj == "disabled":
        return Injection(False, f"namespace {pod.namespace} has istio-injection=disabled", ns_field)
    if pod_inj is not None and pod_inj.lower() == "false":
        return Injection(False, f"{INJECT_KEY}=false", pod_field)
    if ns_inj == "enabled":
        return Injection(True, f"namespace {pod.namespace} has istio-injection=enabled", ns_field)
    if "istio.io/rev" in ns_labels:
        return Injection(
            True,
            f"namespace {pod.namespace} has istio.io/rev={ns_labels['istio.io/rev']}",
            f"Namespace/{pod.namespace} labels.istio.io/rev",
        )
    if pod_inj is not None and pod_inj.lower() == "true":
        return Injection(True, f"{INJECT_KEY}=true", pod_field)
    return Injection(None, "", "")


def sidecar_missing(model: ClusterModel, pod: Pod) -> Injection | None:
    """Why the injector should have given ``pod`` a sidecar it does not have, else ``None``.

    Only for pods that exist and run (not derived from a template, Running or
    Pending), outside the system namespaces, not host-network (never injected).
    MESH901 reports these, and the trace's mesh hop for the pods on its path.
    """
    if pod.meta.derived or pod.host_network or pod.namespace in SYSTEM_NAMESPACES:
        return None
    if pod.phase not in ("Running", "Pending"):
        return None
    inj = injection(model, pod)
    if inj.expected is not True or has_sidecar(pod):
        return None
    return inj


def ambient(model: ClusterModel, pod: Pod) -> bool:
    """The pod is in an Istio ambient mesh (ztunnel handles mTLS, no sidecar):
    namespace label ``istio.io/dataplane-mode=ambient`` unless the pod opts out
    with ``istio.io/dataplane-mode=none``
    (https://istio.io/latest/docs/ambient/usage/add-workloads/)."""
    if pod.labels.get("istio.io/dataplane-mode") == "none":
        return False
    return (
        pod.labels.get("istio.io/dataplane-mode") == "ambient"
        or model.namespace_labels(pod.namespace).get("istio.io/dataplane-mode") == "ambient"
    )


def in_mesh(model: ClusterModel, pod: Pod) -> bool:
    """The pod has a sidecar or is in the ambient mesh; for a derived pod (manifests
    only), injection is expected."""
    if pod.host_network:
        return False
    if ambient(model, pod):
        return True
    if pod.meta.derived:
        return has_sidecar(pod) or injection(model, pod).expected is True
    return has_sidecar(pod)


@dataclass(frozen=True, slots=True)
class MtlsMode:
    mode: str  # STRICT, PERMISSIVE, DISABLE, UNSET
    source: CustomObject | None


def _mode(pa: CustomObject) -> str:
    mtls = pa.spec.get("mtls")
    mode = mtls.get("mode") if isinstance(mtls, dict) else None
    return str(mode).upper() if mode else "UNSET"


def _selector(pa: CustomObject) -> dict[str, str] | None:
    sel = pa.spec.get("selector")
    if isinstance(sel, dict) and isinstance(sel.get("matchLabels"), dict):
        return {str(k): str(v) for k, v in sel["matchLabels"].items()}
    return None


def effective_mtls(model: ClusterModel, pod: Pod) -> MtlsMode:
    """The PeerAuthentication mode for a pod: workload-level, else namespace-wide, else
    mesh-wide (root namespace, no selector); ``UNSET`` inherits, PERMISSIVE by default."""
    pas = model.custom_of_kind("PeerAuthentication")
    workload = [
        pa
        for pa in pas
        if (pa.meta.namespace or "default") == pod.namespace
        and (sel := _selector(pa))
        and LabelSelector.from_match_labels(sel).matches(pod.labels)
    ]
    namespace = [
        pa
        for pa in pas
        if (pa.meta.namespace or "default") == pod.namespace and _selector(pa) is None
    ]
    mesh = [
        pa
        for pa in pas
        if (pa.meta.namespace or "default") == MESH_ROOT_NAMESPACE and _selector(pa) is None
    ]
    for group in (workload, namespace, mesh):
        for pa in sorted(group, key=lambda p: p.meta.creation_timestamp or ""):
            m = _mode(pa)
            if m != "UNSET":
                return MtlsMode(m, pa)
    return MtlsMode("PERMISSIVE", None)

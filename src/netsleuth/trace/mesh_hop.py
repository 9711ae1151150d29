"""Service-mesh hop (Istio): sidecars expected versus present, and STRICT mTLS
rejecting a client outside the mesh.

Injection is expected when the namespace has ``istio-injection=enabled`` or an
``istio.io/rev`` label, unless the pod opts out with the annotation (or label)
``sidecar.istio.io/inject: "false"``
(https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/).
A PeerAuthentication with ``mtls.mode: STRICT`` in the server's namespace, or
mesh-wide in istio-system, makes the server's sidecar refuse plaintext, so a
client without a sidecar fails (connection reset)
(https://istio.io/latest/docs/reference/config/security/peer_authentication/).
"""

from __future__ import annotations

from netsleuth.facts.attribution import workload_of
from netsleuth.facts.fixes import join_mesh_fix, recreate_text, restart_command, template_path
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Fix, Layer, Verdict
from netsleuth.model.objects import CustomObject, Pod
from netsleuth.trace.evidence import ev, pod_ref
from netsleuth.trace.result import Hop


def has_sidecar(pod: Pod) -> bool:
    return any(c.name == "istio-proxy" for c in pod.spec.containers) or any(
        c.name == "istio-proxy" and c.restart_policy == "Always" for c in pod.spec.init_containers
    )


def injection_expected(model: ClusterModel, pod: Pod) -> bool:
    opt = pod.meta.annotations.get("sidecar.istio.io/inject") or pod.labels.get(
        "sidecar.istio.io/inject"
    )
    if opt == "false":
        return False
    if opt == "true":
        return True
    labels = model.namespace_labels(pod.namespace)
    return labels.get("istio-injection") == "enabled" or "istio.io/rev" in labels


def strict_policy(model: ClusterModel, pod: Pod) -> CustomObject | None:
    """The PeerAuthentication that puts ``pod`` in STRICT mode, if any (namespace beats mesh-wide)."""
    pas = model.custom_of_kind("PeerAuthentication")

    def mode(pa: CustomObject) -> str | None:
        mtls = pa.spec.get("mtls")
        return str(mtls.get("mode")) if isinstance(mtls, dict) and mtls.get("mode") else None

    def selects(pa: CustomObject) -> bool:
        sel = pa.spec.get("selector")
        if not isinstance(sel, dict) or not sel.get("matchLabels"):
            return True
        ml = sel.get("matchLabels")
        return isinstance(ml, dict) and all(pod.labels.get(str(k)) == str(v) for k, v in ml.items())

    ns_level = [pa for pa in pas if pa.meta.namespace == pod.namespace and selects(pa)]
    mesh_level = [
        pa for pa in pas if pa.meta.namespace == "istio-system" and not pa.spec.get("selector")
    ]
    for group in (sorted(ns_level, key=lambda p: 0 if p.spec.get("selector") else 1), mesh_level):
        for pa in group:
            m = mode(pa)
            if m is not None:
                return pa if m == "STRICT" else None
    return None


def mesh_hop(model: ClusterModel, src: Pod, backends: list[Pod]) -> Hop | None:
    # Cheap signals only (a trace must stay fast on 150k-pod clusters): the pods on
    # this path, PeerAuthentication objects, or a namespace labelled for injection.
    mesh_in_use = (
        has_sidecar(src)
        or any(has_sidecar(b) for b in backends)
        or bool(model.custom_of_kind("PeerAuthentication"))
        or any(injection_expected(model, p) for p in (src, *backends[:1]))
    )
    if not mesh_in_use:
        return None
    dst = backends[0]
    src_side, dst_side = has_sidecar(src), has_sidecar(dst)
    evidence = [
        ev(pod_ref(src), "spec.containers[istio-proxy]", "present" if src_side else "absent"),
        ev(pod_ref(dst), "spec.containers[istio-proxy]", "present" if dst_side else "absent"),
    ]
    missing = [p for p in (src, dst) if injection_expected(model, p) and not has_sidecar(p)]
    strict = strict_policy(model, dst)
    if strict is not None and dst_side and not src_side:
        # The client is what joins the mesh; the server's STRICT policy stays as it is.
        client, join_fix = join_mesh_fix(model, src)
        ref = f"PeerAuthentication/{strict.meta.namespace}/{strict.meta.name}"
        return Hop(
            layer=Layer.MESH,
            status=Verdict.BROKEN,
            summary=f"{ref} requires mTLS (STRICT) and the client {src.namespace}/{src.name} has no sidecar: "
            "the server's sidecar rejects its plaintext connection",
            evidence=(*evidence, ev(ref, "spec.mtls.mode", "STRICT")),
            confirm=(
                cmd("istioctl", "x", "describe", "pod", dst.name, "-n", dst.namespace),
                kubectl("get", "peerauthentication", "-A"),
            ),
            fix=join_fix,
            change=client.subject(),
            change_field=template_path(client),
        )
    if missing:
        p = missing[0]
        owner = workload_of(model, p)
        restart = restart_command(owner)
        return Hop(
            layer=Layer.MESH,
            status=Verdict.WARNING,
            summary=f"sidecar injection expected for {p.namespace}/{p.name} but no istio-proxy container "
            "(pod created before injection was enabled, or the injector was down)",
            evidence=tuple(evidence),
            confirm=(
                kubectl(
                    "get",
                    "pod",
                    "-n",
                    p.namespace,
                    p.name,
                    "-o",
                    "jsonpath={.spec.containers[*].name}",
                ),
            ),
            fix=Fix(
                text=f"Recreate the pods of {owner.ref()} so the injector adds the sidecar."
                + ("" if restart is not None else " " + recreate_text(owner)),
                command=restart,
            ),
            change=owner.subject(),
        )
    return Hop(
        layer=Layer.MESH,
        status=Verdict.OK,
        summary=f"sidecars: client {'yes' if src_side else 'no'}, server {'yes' if dst_side else 'no'}"
        + ("; STRICT mTLS satisfied" if strict is not None else ""),
        evidence=tuple(evidence),
    )

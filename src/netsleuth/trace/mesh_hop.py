"""Service-mesh hop (Istio): sidecars expected versus present, and STRICT mTLS
rejecting a client outside the mesh.

Mesh membership (sidecar or ambient, injection expected, the PeerAuthentication
mode in force) is read from :mod:`netsleuth.facts.mesh_membership`, the facts
MESH901 and MESH903 read: a PeerAuthentication with ``mtls.mode: STRICT`` makes
the server's proxy refuse plaintext, so a client outside the mesh fails
(connection reset)
(https://istio.io/latest/docs/reference/config/security/peer_authentication/).
"""

from __future__ import annotations

from netsleuth.facts.attribution import workload_of
from netsleuth.facts.fixes import join_mesh_fix, recreate_text, restart_command, template_path
from netsleuth.facts.mesh_membership import (
    ambient,
    effective_mtls,
    has_sidecar,
    in_mesh,
    injection,
    sidecar_missing,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Fix, Layer, Verdict
from netsleuth.model.objects import Pod
from netsleuth.trace.evidence import ev, pod_ref
from netsleuth.trace.result import Hop


def mesh_hop(model: ClusterModel, src: Pod, backends: list[Pod]) -> Hop | None:
    # Cheap signals only (a trace must stay fast on 150k-pod clusters): the pods on
    # this path, PeerAuthentication objects, or a namespace labelled for the mesh.
    dst = backends[0]
    mesh_in_use = (
        any(has_sidecar(p) or ambient(model, p) for p in (src, *backends))
        or bool(model.custom_of_kind("PeerAuthentication"))
        or any(injection(model, p).expected is True for p in (src, dst))
    )
    if not mesh_in_use:
        return None
    src_side, dst_side = in_mesh(model, src), in_mesh(model, dst)
    evidence = [ev(pod_ref(p), *_membership(model, p)) for p in (src, dst)]
    mtls = effective_mtls(model, dst)
    strict = mtls.source if mtls.mode == "STRICT" else None
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
    missing = [p for p in (src, dst) if sidecar_missing(model, p) is not None]
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
        summary=f"in the mesh: client {'yes' if src_side else 'no'}, server {'yes' if dst_side else 'no'}"
        + ("; STRICT mTLS satisfied" if strict is not None else ""),
        evidence=tuple(evidence),
    )


def _membership(model: ClusterModel, pod: Pod) -> tuple[str, str]:
    """(field, value) of the evidence for a pod's mesh membership."""
    if has_sidecar(pod):
        return "spec.containers[istio-proxy]", "present"
    if ambient(model, pod):
        return "istio.io/dataplane-mode", "ambient"
    return "spec.containers[istio-proxy]", "absent"

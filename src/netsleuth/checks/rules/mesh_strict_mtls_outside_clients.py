"""MESH903: a Service under STRICT mTLS is called by clients outside the mesh."""

from __future__ import annotations

import re
from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, register
from netsleuth.facts.attribution import workload_of
from netsleuth.facts.fixes import join_mesh_fix
from netsleuth.facts.ingress_refs import controller_pods, ingress_backends
from netsleuth.facts.mesh_membership import SYSTEM_NAMESPACES, effective_mtls, in_mesh
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Layer, Severity
from netsleuth.model.objects import Pod, Service


def _mentions(pod: Pod, svc: Service) -> str | None:
    """The env var / arg of ``pod`` that names ``svc`` by DNS name, if any.

    ``svc.ns``, ``svc.ns.svc`` and ``svc.ns.svc.cluster.local`` count from
    anywhere; the bare name only from the same namespace and only as a URL
    host or ``host:port`` (``http://web:8080``, ``web:8080``), so ordinary
    words do not match.
    """
    name, ns = re.escape(svc.name), re.escape(svc.namespace)
    qualified = re.compile(rf"(?<![\w.-]){name}\.{ns}(?:\.svc(?:\.[\w.-]+)?)?(?![\w-])")
    bare = re.compile(rf"(?:^|://|@){name}(?::\d+|/|$)") if pod.namespace == svc.namespace else None
    for c in (*pod.spec.containers, *pod.spec.init_containers):
        texts = [(f"env {k}", v) for k, v in c.env] + [("args", a) for a in (*c.command, *c.args)]
        for where, text in texts:
            if text and (qualified.search(text) or (bare is not None and bare.search(text))):
                return f"containers[{c.name}].{where}: {text[:120]}"
    return None


@register(
    id="MESH903", layer=Layer.MESH, severity=Severity.ERROR, needs=Needs(kinds=("Pod", "Service"))
)
def mesh_strict_mtls_outside_clients(model: ClusterModel) -> Iterator[Finding]:
    """A Service under STRICT mTLS is called by clients outside the mesh.

    What it checks:
        Services whose pods have sidecars and a STRICT PeerAuthentication
        (workload selector, namespace-wide, or mesh-wide in ``istio-system``;
        the most specific wins) and that have at least one client outside the
        mesh (a pod without a sidecar, or a host-network pod). Only
        evidence that the client really calls the Service counts, so the
        check stays free of guesses:

        - the client's env values, command or args name the Service
          (``web.shop``, ``web.shop.svc.cluster.local``, or ``http://web:8080``
          from the same namespace);
        - an Ingress routes to the Service through a controller whose pods
          have no sidecar (ingress-nginx, Traefik…);
        - a NetworkPolicy selecting the Service's pods admits, by a
          non-empty pod or namespace selector, pods outside the mesh.

        Namespaces merely holding non-mesh pods are not taken as clients.

    Why it breaks traffic:
        Under STRICT the server sidecar accepts only mutual TLS. A client
        without a sidecar sends plain text, and the connection is reset
        ("connection reset by peer", curl exit 56, ingress 502).

    Example:
        ``PeerAuthentication shop/default`` STRICT; the ``legacy/cron`` pod
        (namespace not injected) calls ``http://orders.shop:8080``.

    Fix:
        Bring each client workload into the mesh: label its pod template
        ``sidecar.istio.io/inject: "true"`` (or remove its opt-out; or, when
        its namespace already asks for injection, restart it). The finding
        names the client workload, one finding per client. Relaxing the
        server's PeerAuthentication to PERMISSIVE would admit every
        plaintext client (mesh-wide for istio-system's policy), so it is not
        offered.

    Confirm live:
        ``kubectl get peerauthentication -A``;
        ``kubectl exec -n <client-ns> <client> -- curl -sv http://<svc>.<ns>:<port>/`` (reset);
        ``istioctl x describe pod -n <ns> <server-pod>``.

    References:
        https://istio.io/latest/docs/reference/config/security/peer_authentication/ ;
        https://istio.io/latest/docs/tasks/security/authentication/mtls-migration/
    """
    if not model.custom_of_kind("PeerAuthentication"):
        return
    outside: list[Pod] = [
        p
        for p in model.pods
        if p.namespace not in SYSTEM_NAMESPACES
        and p.phase not in ("Succeeded", "Failed")
        and not in_mesh(model, p)
    ]
    nonmesh_controllers = {
        name: [p for p in pods if not in_mesh(model, p)]
        for name, pods in controller_pods(model).items()
    }
    for svc in model.services:
        if not svc.has_selector or svc.type == "ExternalName":
            continue
        servers = [
            p for p in model.pods_matching(svc.namespace, svc.selector or {}) if in_mesh(model, p)
        ]
        if not servers:
            continue
        mode = effective_mtls(model, servers[0])
        if mode.mode != "STRICT" or mode.source is None:
            continue
        pa = mode.source
        clients: list[tuple[Pod, str, Evidence]] = []
        for p in outside:
            if p.key in {s.key for s in servers}:
                continue
            why = _mentions(p, svc)
            if why:
                clients.append(
                    (
                        p,
                        f"pod {p.namespace}/{p.name}",
                        Evidence(
                            f"Pod/{p.namespace}/{p.name}",
                            why.split(":", 1)[0],
                            why.split(": ", 1)[-1],
                        ),
                    )
                )
        for ing in model.ingresses:
            if ing.namespace != svc.namespace or not any(
                u.backend.service_name == svc.name for u in ingress_backends(ing)
            ):
                continue
            for cname, pods in nonmesh_controllers.items():
                if pods:
                    clients.append(
                        (
                            pods[0],
                            f"{cname} (Ingress {ing.namespace}/{ing.name})",
                            Evidence(
                                f"Pod/{pods[0].namespace}/{pods[0].name}",
                                "spec.containers",
                                "no istio-proxy",
                            ),
                        )
                    )
        for pol in model.policies_in(svc.namespace):
            if not pol.affects_ingress or not pol.pod_selector.matches(servers[0].labels):
                continue
            for rule in pol.ingress:
                for peer in rule.peers:
                    if peer.ip_block is not None or (
                        peer.pod_selector is None and peer.namespace_selector is None
                    ):
                        continue
                    sels = [
                        s for s in (peer.pod_selector, peer.namespace_selector) if s is not None
                    ]
                    if all(s.is_empty for s in sels):
                        continue  # {} selects everything: not evidence of a specific client
                    for p in outside:
                        if peer.namespace_selector is None and p.namespace != svc.namespace:
                            continue
                        if (
                            peer.namespace_selector is not None
                            and not peer.namespace_selector.matches(
                                model.namespace_labels(p.namespace)
                            )
                        ):
                            continue
                        if peer.pod_selector is not None and not peer.pod_selector.matches(
                            p.labels
                        ):
                            continue
                        clients.append(
                            (
                                p,
                                f"pod {p.namespace}/{p.name} (admitted by NetworkPolicy {pol.namespace}/{pol.name})",
                                Evidence(
                                    f"NetworkPolicy/{pol.namespace}/{pol.name}",
                                    "spec.ingress[].from",
                                    f"admits {p.namespace}/{p.name}",
                                ),
                            )
                        )
                        break
        if not clients:
            continue
        pa_ns = pa.meta.namespace or "default"
        scope = "mesh-wide" if pa_ns == "istio-system" and pa_ns != svc.namespace else f"in {pa_ns}"
        # One finding per client workload: bringing that client into the mesh is the fix that
        # widens nothing (relaxing the server's PeerAuthentication would admit every plaintext
        # client, mesh-wide when the policy is istio-system's).
        by_owner: dict[str, list[tuple[Pod, str, Evidence]]] = {}
        for c in clients:
            by_owner.setdefault(workload_of(model, c[0]).ref(), []).append(c)
        for rows in by_owner.values():
            client = rows[0][0]
            owner, fix = join_mesh_fix(model, client)
            kind, meta = culprit_subject(owner)
            seen: dict[str, Evidence] = {}
            for _, who, ev in rows:
                seen.setdefault(who, ev)
            names = list(seen)
            yield finding(
                "MESH903",
                model,
                kind=kind,
                meta=meta,
                also=(svc.meta,),
                message=f"{owner.ref()} is outside the mesh and calls Service {svc.namespace}/{svc.name}, "
                f"which requires mTLS (PeerAuthentication {pa_ns}/{pa.meta.name} STRICT, {scope}): "
                f"its connections are reset ({', '.join(names[:3])}"
                + (f" and {len(names) - 3} more" if len(names) > 3 else "")
                + ")",
                evidence=[
                    *list(seen.values())[:4],
                    Evidence(
                        f"PeerAuthentication/{pa_ns}/{pa.meta.name}", "spec.mtls.mode", "STRICT"
                    ),
                    Evidence(
                        f"Service/{svc.namespace}/{svc.name}",
                        "pods",
                        f"{len(servers)} with sidecar",
                    ),
                ],
                confirm=(
                    kubectl("get", "peerauthentication", "-A"),
                    kubectl(
                        "exec",
                        "-n",
                        client.namespace,
                        client.name,
                        "--",
                        "curl",
                        "-sv",
                        f"http://{svc.name}.{svc.namespace}:{svc.ports[0].port if svc.ports else 80}/",
                    ),
                    cmd(
                        "istioctl",
                        "x",
                        "describe",
                        "pod",
                        "-n",
                        servers[0].namespace,
                        servers[0].name,
                    ),
                ),
                fix=fix,
            )

"""North-south hops: Ingress (and Gateway API HTTPRoute) rule matching, and LoadBalancer Services.

Ingress matching follows the API (https://kubernetes.io/docs/concepts/services-networking/ingress/):
a rule's ``host`` matches exactly, or as a wildcard ``*.example.com`` covering
exactly one label; a rule without host matches every host; ``Exact`` paths
match the whole path, ``Prefix`` paths match element-wise on ``/``
boundaries (``/foo`` matches ``/foo/bar`` but not ``/foobar``), and the longest
match wins. ``ImplementationSpecific`` is treated as ``Prefix`` (what
ingress-nginx does without regex annotations).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netsleuth.facts import ingress_refs
from netsleuth.facts.ingress_refs import tls_secret_state
from netsleuth.facts.ownership import workload_subject
from netsleuth.model.cluster import ClusterModel, SourceKind
from netsleuth.model.commands import cmd, kubectl, merge_patch
from netsleuth.model.findings import Fix, Layer, Subject, Verdict
from netsleuth.model.objects import Ingress, IngressBackend, IngressPath, Pod, Route, Service
from netsleuth.trace.evidence import ev, pod_ref, ref, svc_ref
from netsleuth.trace.result import Hop


@dataclass
class IngressTrace:
    hops: list[Hop] = field(default_factory=list)
    ingress: Ingress | None = None
    service: Service | None = None
    port: int | str | None = None
    controller_pods: list[Pod] = field(default_factory=list)


def host_matches(rule_host: str | None, host: str) -> bool:
    if not rule_host:
        return True
    rule_host, host = rule_host.lower(), host.lower()
    if rule_host.startswith("*."):
        suffix = rule_host[1:]
        return host.endswith(suffix) and "." not in host[: -len(suffix)] and len(host) > len(suffix)
    return rule_host == host


def path_matches(p: IngressPath, path: str) -> int:
    """Length of the match (0 = no match)."""
    want = p.path or "/"
    if p.path_type == "Exact":
        return len(want) if path == want else 0
    if want == "/":
        return 1
    w = want.rstrip("/")
    if path == w or path.startswith(w + "/"):
        return len(w)
    return 0


def controller_pods(model: ClusterModel, ingress: Ingress | None) -> list[Pod]:
    """Pods of the ingress controller serving ``ingress``
    (:func:`netsleuth.facts.ingress_refs.serving_controller_pods`: the pods ING810 judges,
    identified as the policy engine's ingress-controller peer is)."""
    return ingress_refs.serving_controller_pods(model, ingress)


def ingress_hops(model: ClusterModel, host: str, path: str, scheme: str) -> IngressTrace:
    result = IngressTrace()
    best: tuple[int, Ingress, IngressBackend, str] | None = None
    for ing in model.ingresses:
        for rule in ing.rules:
            if not host_matches(rule.host, host):
                continue
            for p in rule.paths:
                score = path_matches(p, path)
                # Host-specific rules beat catch-all ones.
                score = score + (10000 if rule.host else 0)
                if score and (best is None or score > best[0]):
                    best = (
                        score,
                        ing,
                        p.backend,
                        f"rule host={rule.host or '*'} path={p.path} ({p.path_type})",
                    )
    if best is None:
        for ing in model.ingresses:
            if ing.default_backend is not None and not ing.rules:
                best = (1, ing, ing.default_backend, "defaultBackend")
                break
    if best is None:
        route_hop = _gateway_route(model, host, path, result)
        if route_hop:
            return result
        known = sorted({r.host for i in model.ingresses for r in i.rules if r.host})
        result.hops.append(
            Hop(
                layer=Layer.INGRESS,
                status=Verdict.BROKEN if model.ingresses or model.routes else Verdict.UNKNOWN,
                summary=f"no Ingress or HTTPRoute rule matches host {host} path {path}"
                + (f" (hosts known: {', '.join(known[:6])})" if known else ""),
                confirm=(kubectl("get", "ingress", "-A"), kubectl("get", "httproute", "-A")),
                fix=Fix(text=f"Add a rule for host {host}, or call one of the configured hosts."),
            )
        )
        return result
    _, ing, backend, how = best
    iref = ref("Ingress", ing.namespace, ing.meta.name)
    result.ingress = ing
    result.controller_pods = controller_pods(model, ing)
    evidence = [ev(iref, "spec.rules", how)]
    # Class.
    cls_name = ing.class_name
    classes = {c.meta.name: c for c in model.ingress_classes}
    if cls_name is None:
        default = [c for c in model.ingress_classes if c.is_default]
        if not default and model.has_kind("IngressClass"):
            result.hops.append(
                Hop(
                    layer=Layer.INGRESS,
                    status=Verdict.BROKEN,
                    summary=f"{iref} names no ingressClassName and no IngressClass is the default: "
                    "no controller picks it up",
                    evidence=tuple(evidence),
                    fix=Fix(text="Set spec.ingressClassName to an existing class."),
                )
            )
            return result
    elif model.has_kind("IngressClass") and cls_name not in classes:
        result.hops.append(
            Hop(
                layer=Layer.INGRESS,
                status=Verdict.BROKEN,
                summary=f"{iref} uses ingressClassName {cls_name!r}, which does not exist "
                f"(classes: {', '.join(sorted(classes)) or 'none'}): no controller serves it",
                evidence=(*evidence, ev(iref, "spec.ingressClassName", cls_name)),
                confirm=(
                    kubectl("get", "ingressclass"),
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.meta.name),
                ),
                fix=Fix(
                    text=f"Use an existing class ({', '.join(sorted(classes))}).",
                    command=merge_patch(
                        "ingress",
                        ing.namespace,
                        ing.meta.name,
                        {"spec": {"ingressClassName": sorted(classes)[0] if classes else "nginx"}},
                    ),
                ),
            )
        )
        return result
    # TLS.
    if scheme == "https":
        tls = [t for t in ing.tls if any(host_matches(h, host) for h in t.hosts) or not t.hosts]
        if not tls:
            result.hops.append(
                Hop(
                    layer=Layer.INGRESS,
                    status=Verdict.WARNING,
                    summary=f"{iref} has no TLS entry for {host}: the controller serves its default "
                    "(self-signed) certificate",
                    evidence=tuple(evidence),
                )
            )
        else:
            secret = tls[0].secret_name
            if secret:
                st = tls_secret_state(model, ing.namespace, secret)
                if st.state == "not-checked":
                    result.hops.append(
                        Hop(
                            layer=Layer.INGRESS,
                            status=Verdict.NOT_CHECKED,
                            summary=f"TLS secret {ing.namespace}/{secret}: the input does not show that "
                            "namespace's Secrets (or they are forbidden)",
                            evidence=(ev(iref, "spec.tls[].secretName", secret),),
                            confirm=(kubectl("get", "secret", "-n", ing.namespace, secret),),
                        )
                    )
                elif st.state in ("missing", "elsewhere"):
                    where = (
                        f"; a Secret of that name exists in {', '.join(st.elsewhere)}, but an Ingress "
                        "can only use its own namespace's"
                        if st.elsewhere
                        else ""
                    )
                    result.hops.append(
                        Hop(
                            layer=Layer.INGRESS,
                            status=Verdict.BROKEN,
                            summary=f"TLS secret {ing.namespace}/{secret} named by {iref} does not exist{where}: "
                            "the controller falls back to its default certificate (clients see a certificate error)",
                            evidence=(
                                *evidence,
                                ev(iref, "spec.tls[].secretName", secret),
                                *(
                                    ev(f"Secret/{ns}/{secret}", "exists", "yes")
                                    for ns in st.elsewhere[:3]
                                ),
                            ),
                            confirm=(kubectl("get", "secret", "-n", ing.namespace, secret),),
                            fix=Fix(
                                text=f"Create the TLS secret {secret} in namespace {ing.namespace} "
                                "(cert-manager Certificate or kubectl create secret tls)."
                            ),
                        )
                    )
                    return result
                elif st.type not in ("kubernetes.io/tls", "Opaque"):
                    result.hops.append(
                        Hop(
                            layer=Layer.INGRESS,
                            status=Verdict.WARNING,
                            summary=f"TLS secret {ing.namespace}/{secret} has type {st.type}, not "
                            "kubernetes.io/tls: the controller may not load it",
                            evidence=(
                                ev(iref, "spec.tls[].secretName", secret),
                                ev(f"Secret/{ing.namespace}/{secret}", "type", st.type),
                            ),
                            confirm=(kubectl("get", "secret", "-n", ing.namespace, secret),),
                        )
                    )
    # Backend.
    if backend.service_name is None:
        result.hops.append(
            Hop(
                layer=Layer.INGRESS,
                status=Verdict.UNKNOWN,
                summary=f"{iref} backend is a resource ({backend.resource_kind}), not a Service",
                evidence=tuple(evidence),
            )
        )
        return result
    svc = model.service(ing.namespace, backend.service_name)
    port_ref: int | str | None = (
        backend.port_number if backend.port_number is not None else backend.port_name
    )
    if svc is None:
        result.hops.append(
            Hop(
                layer=Layer.INGRESS,
                status=Verdict.BROKEN,
                summary=f"{iref} routes to Service {ing.namespace}/{backend.service_name}, which does "
                "not exist (the controller answers 503)",
                evidence=(*evidence, ev(iref, "backend.service.name", backend.service_name)),
                confirm=(kubectl("get", "svc", "-n", ing.namespace),),
                fix=Fix(text="Point the backend at an existing Service."),
            )
        )
        return result
    sp = svc.port_by_name_or_number(port_ref) if port_ref is not None else None
    if sp is None:
        have = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in svc.ports)
        result.hops.append(
            Hop(
                layer=Layer.INGRESS,
                status=Verdict.BROKEN,
                summary=f"{iref} routes to {svc_ref(svc)} port {port_ref}, which the Service does not "
                f"expose (it has {have or 'no ports'}): the controller answers 503",
                evidence=(
                    *evidence,
                    ev(iref, "backend.service.port", port_ref),
                    ev(svc_ref(svc), "spec.ports", have),
                ),
                confirm=(
                    kubectl("describe", "ingress", "-n", ing.namespace, ing.meta.name),
                    kubectl("get", "svc", "-n", svc.namespace, svc.name, "-o", "yaml"),
                ),
                fix=Fix(
                    text=f"Use the Service's port ({have}) in the Ingress backend, or add port "
                    f"{port_ref} to the Service."
                ),
            )
        )
        return result
    addr = ", ".join(ing.load_balancer_ingress)
    ctrl = result.controller_pods
    # One fact with ING810: per controller workload, its pods and those not Ready.
    groups = ingress_refs.controller_readiness(model, ctrl)
    degraded = [g for g in groups if g.not_ready]
    status = Verdict.OK
    summary = f"{iref} {how} → {svc_ref(svc)}:{sp.port}"
    change: Subject | None = None
    if degraded and not any(g.ready for g in groups):
        status = Verdict.BROKEN
        down = [p for g in degraded for p in g.not_ready]
        summary += f"; no ingress controller pod is Ready ({', '.join(p.name for p in down[:3])})"
        evidence += [ev(pod_ref(p), "status", "not ready") for p in down[:3]]
        kind, meta = workload_subject(model, down[0])
        change = Subject(kind, meta.namespace, meta.name)
    elif degraded:
        # Some controller pods not Ready (ING810's warning): the load balancer still has
        # targets, but capacity is down and its health checks may flap.
        status = Verdict.WARNING
        g = degraded[0]
        summary += (
            "; "
            + "; ".join(
                f"{d.ready} of {len(d.pods)} {d.controller} controller pods Ready "
                f"({', '.join(p.name for p in d.not_ready[:3])} not)"
                for d in degraded[:3]
            )
            + (f"; address {addr}" if addr else "")
        )
        evidence += [
            ev(pod_ref(p), "status", "not ready") for d in degraded for p in d.not_ready[:3]
        ]
        kind, meta = workload_subject(model, g.not_ready[0])
        change = Subject(kind, meta.namespace, meta.name)
    elif not addr:
        status = Verdict.WARNING
        summary += (
            "; the Ingress has no address yet (<pending>): DNS for the host cannot point anywhere"
        )
    else:
        summary += f"; address {addr}"
    result.hops.append(
        Hop(
            layer=Layer.INGRESS,
            status=status,
            summary=summary,
            evidence=tuple(evidence),
            change=change,
            confirm=(
                kubectl("describe", "ingress", "-n", ing.namespace, ing.meta.name),
                cmd(
                    "curl",
                    "-sv",
                    "--resolve",
                    f"{host}:{443 if scheme == 'https' else 80}:<address>",
                    f"{scheme}://{host}{path}",
                ),
            ),
        )
    )
    if status is Verdict.BROKEN:
        return result
    result.service = svc
    result.port = sp.port
    return result


def _gateway_route(model: ClusterModel, host: str, path: str, result: IngressTrace) -> bool:
    match: Route | None = None
    for r in model.routes:
        if r.kind != "HTTPRoute":
            continue
        if r.hostnames and not any(host_matches(h, host) for h in r.hostnames):
            continue
        match = r
        break
    if match is None:
        return False
    rref = ref(match.kind, match.meta.namespace, match.meta.name)
    for ps in match.parents_status:
        for c in ps.conditions:
            if c.type == "Accepted" and c.status == "False":
                result.hops.append(
                    Hop(
                        layer=Layer.INGRESS,
                        status=Verdict.BROKEN,
                        summary=f"{rref} is not accepted by Gateway {ps.parent.name}: {c.reason} {c.message}".strip(),
                        evidence=(
                            ev(
                                rref, "status.parents[].conditions[Accepted]", f"False ({c.reason})"
                            ),
                        ),
                        confirm=(
                            kubectl(
                                "describe",
                                "httproute",
                                "-n",
                                match.meta.namespace or "default",
                                match.meta.name,
                            ),
                        ),
                    )
                )
                return True
    ns = match.meta.namespace or "default"
    for rule in match.rules:
        for b in rule.backend_refs:
            svc = model.service(b.namespace or ns, b.name)
            if svc is None:
                result.hops.append(
                    Hop(
                        layer=Layer.INGRESS,
                        status=Verdict.BROKEN,
                        summary=f"{rref} backendRef {b.name} is not a Service (ResolvedRefs fails)",
                        evidence=(ev(rref, "spec.rules[].backendRefs[].name", b.name),),
                        confirm=(kubectl("describe", "httproute", "-n", ns, match.meta.name),),
                    )
                )
                return True
            result.hops.append(
                Hop(
                    layer=Layer.INGRESS,
                    status=Verdict.OK,
                    summary=f"{rref} → {svc_ref(svc)}:{b.port}",
                )
            )
            result.service = svc
            result.port = b.port
            result.controller_pods = controller_pods(model, None)
            return True
    return False


def loadbalancer_hop(model: ClusterModel, svc: Service) -> Hop:
    sref = svc_ref(svc)
    if svc.type == "LoadBalancer":
        if svc.load_balancer_ingress:
            return Hop(
                layer=Layer.LOADBALANCER,
                status=Verdict.OK,
                summary=f"{sref} LoadBalancer address {', '.join(svc.load_balancer_ingress)}",
                evidence=(
                    ev(sref, "status.loadBalancer.ingress", ", ".join(svc.load_balancer_ingress)),
                ),
            )
        if not svc.cluster_ip and model.source.kind != SourceKind.LIVE:
            # A manifest never applied (no clusterIP, no status), as ING806 reads it: whether a
            # load balancer provisions it cannot be told from the input, and it is not <pending>.
            return Hop(
                layer=Layer.LOADBALANCER,
                status=Verdict.NOT_CHECKED,
                summary=f"{sref} is a LoadBalancer in a manifest (no clusterIP, no status): "
                "its external address is not in the input",
                confirm=(kubectl("get", "service", "-n", svc.namespace, svc.name, "-o", "wide"),),
            )
        why = (
            f"loadBalancerClass {svc.load_balancer_class!r}: no controller for that class has provisioned it"
            if svc.load_balancer_class
            else "no cloud controller or LB implementation (MetalLB…) has provisioned it"
        )
        return Hop(
            layer=Layer.LOADBALANCER,
            status=Verdict.BROKEN,
            summary=f"{sref} LoadBalancer is <pending>: {why}",
            evidence=(
                ev(sref, "status.loadBalancer.ingress", "empty"),
                *(
                    (ev(sref, "spec.loadBalancerClass", svc.load_balancer_class),)
                    if svc.load_balancer_class
                    else ()
                ),
            ),
            confirm=(
                kubectl("describe", "svc", "-n", svc.namespace, svc.name),
                kubectl(
                    "get",
                    "events",
                    "-n",
                    svc.namespace,
                    "--field-selector",
                    f"involvedObject.name={svc.name}",
                ),
            ),
            fix=Fix(
                text="Install or fix the load-balancer controller for this class, or remove "
                "spec.loadBalancerClass (immutable: recreate the Service) to use the cluster's "
                "default implementation."
            ),
        )
    if svc.type == "NodePort":
        ports = ", ".join(str(p.node_port) for p in svc.ports if p.node_port)
        return Hop(
            layer=Layer.LOADBALANCER,
            status=Verdict.OK,
            summary=f"{sref} NodePort {ports or '(allocated by the API server)'} on every node",
        )
    return Hop(
        layer=Layer.LOADBALANCER,
        status=Verdict.BROKEN,
        summary=f"{sref} is {svc.type}: not reachable from outside the cluster",
        fix=Fix(
            text="Expose it with an Ingress/Gateway, or make it a LoadBalancer or NodePort Service."
        ),
    )

"""POL301: a policy isolates pods and cuts off traffic that exists."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, finding, ref, register
from netsleuth.facts.attribution import Culprit, denying_policy
from netsleuth.facts.policy_facts import service_clients
from netsleuth.facts.service_backends import selected_pods, target_of
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Pod, Service
from netsleuth.policy import (
    DecidedBy,
    Direction,
    Endpoint,
    IngressControllerEndpoint,
    PodEndpoint,
    evaluate,
    ingress_controller_endpoints,
    policies_selecting,
    resolve_named_port,
)


def _target_port(pod: Pod, svc: Service, sp_port: int) -> tuple[str, int] | None:
    for sp in svc.ports:
        if sp.port != sp_port:
            continue
        t = target_of(sp)
        number = t if isinstance(t, int) else resolve_named_port(pod, t, sp.protocol)
        return (sp.protocol, number) if number is not None else None
    return None


def _consumers(
    model: ClusterModel, config: ScanConfig
) -> dict[tuple[str, str], list[tuple[Endpoint, str, int | None]]]:
    """(namespace, service) -> [(client endpoint, why we think it calls, port)]."""
    out: dict[tuple[str, str], list[tuple[Endpoint, str, int | None]]] = {}
    for key, clients in service_clients(model, config.cluster_domain).items():
        out.setdefault(key, []).extend(
            (PodEndpoint(p), f"pod {p.namespace}/{p.name} names it in env/args", port)
            for p, port in clients
        )
    for ing in model.ingresses:
        backends = [p.backend for r in ing.rules for p in r.paths]
        if ing.default_backend is not None:
            backends.append(ing.default_backend)
        controllers = ingress_controller_endpoints(model, ing)
        if not controllers:
            continue
        for b in backends:
            if b.service_name is None:
                continue
            key = (ing.namespace, b.service_name)
            svc = model.service(*key)
            if svc is None:
                continue
            port = b.port_number
            if port is None and b.port_name is not None:
                sp = svc.port_by_name_or_number(b.port_name)
                port = sp.port if sp else None
            out.setdefault(key, []).append(
                (controllers[0], f"Ingress {ing.namespace}/{ing.meta.name} routes to it", port)
            )
    return out


@register(
    id="POL301",
    layer=Layer.POLICY_INGRESS,
    severity=Severity.WARNING,
    needs=Needs(kinds=("NetworkPolicy", "Pod", "Service")),
    config=True,
)
def isolation_flip(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """A NetworkPolicy isolates pods and its rules leave out clients that use them.

    What it checks: for every Service with known consumers (pods whose env,
    args or command name it, and Ingresses routing to it), whether the
    policy engine still allows each consumer to reach a backend pod on the
    Service's target port. A denial decided by NetworkPolicy isolation is
    reported, naming the policies that select the pod: the first policy in a
    namespace is the usual culprit, written for one client and silently
    cutting off every other one.

    Why it breaks traffic: a pod selected by no policy accepts everything. The
    moment one policy selects it for a direction, it accepts only what some
    policy allows in that direction (isolation). A policy written to "allow
    the frontend" therefore denies the Ingress controller, other namespaces
    and monitoring that worked the minute before. The same holds for egress.

    Example:
      kind: NetworkPolicy
      metadata: {name: allow-frontend, namespace: shop}
      spec:
        podSelector: {matchLabels: {app: cart}}
        ingress:
        - from: [{podSelector: {matchLabels: {app: frontend}}}]
      # orders/orders (CART_URL=http://cart.shop:8080) is now denied

    Fix: add the missing clients to the policy (a namespaceSelector peer for
    the other namespace, the ingress controller's namespace), or narrow the
    policy's podSelector; review with `netsleuth diff` before applying.

    Confirm live:
      kubectl get networkpolicy -n <ns>
      kubectl exec -n <client-ns> <client-pod> -- wget -qO- -T 3 http://<svc>.<ns>:<port>

    References:
      https://kubernetes.io/docs/concepts/services-networking/network-policies/#the-two-sorts-of-pod-isolation
    """
    if not model.network_policies:
        return
    for (ns, name), consumers in sorted(_consumers(model, config).items(), key=lambda kv: kv[0]):
        svc = model.service(ns, name)
        if svc is None:
            continue
        backends = selected_pods(model, svc)
        if not backends:
            continue
        dst = backends[0]
        denied: list[tuple[str, str, str, int, str, str]] = []
        side_policies: dict[str, tuple[str, ...]] = {}
        side_culprit: dict[str, Culprit] = {}
        for client, why, port in consumers:
            ports = [sp.port for sp in svc.ports if port is None or sp.port == port] or [
                sp.port for sp in svc.ports
            ]
            for sp_port in ports[:1]:
                tp = _target_port(dst, svc, sp_port)
                if tp is None:
                    continue
                proto, number = tp
                d = evaluate(model, client, PodEndpoint(dst), proto, number)
                if d.allowed:
                    continue
                if not d.ingress.allowed and d.ingress.decided_by == DecidedBy.NETWORK_POLICY:
                    side = "ingress"
                    pols = policies_selecting(model, dst, Direction.INGRESS)
                    if sp_port != number and any(
                        e.port == sp_port for p in pols for r in p.ingress for e in r.ports
                    ):
                        continue  # a rule names the Service port: POL305 reports that cause
                elif (
                    not d.egress.allowed
                    and d.egress.decided_by == DecidedBy.NETWORK_POLICY
                    and isinstance(client, PodEndpoint)
                ):
                    side = "egress"
                    pols = policies_selecting(model, client.pod, Direction.EGRESS)
                else:
                    continue
                side_policies[side] = tuple(f"{p.namespace}/{p.name}" for p in pols)
                if side not in side_culprit:
                    c = denying_policy(
                        model,
                        dst if side == "ingress" else client.pod,  # type: ignore[union-attr]
                        d.ingress if side == "ingress" else d.egress,
                    )
                    if c is not None and c.kind == "NetworkPolicy":
                        side_culprit[side] = c
                who = (
                    client.describe()
                    if not isinstance(client, IngressControllerEndpoint)
                    else "the ingress controller"
                )
                obj = (
                    f"Pod/{client.pod.namespace}/{client.pod.name}"
                    if isinstance(client, PodEndpoint)
                    else "IngressController"
                )
                denied.append((side, who, why, number, proto, obj))
        for side in ("ingress", "egress"):
            rows = [r for r in denied if r[0] == side]
            if not rows:
                continue
            pol_names = side_policies[side]
            culprit = side_culprit.get(side)
            pol_ns, pol_name = (
                (culprit.namespace or "", culprit.name)
                if culprit is not None
                else tuple(pol_names[0].split("/", 1))
            )
            pol = next(p for p in model.policies_in(pol_ns) if p.name == pol_name)
            only = "the only policy" if len(pol_names) == 1 else f"one of {len(pol_names)} policies"
            _, who, why, number, proto, obj = rows[0]
            target_desc = (
                f"pods of Service {ns}/{name} (e.g. {dst.name})" if side == "ingress" else f"{who}"
            )
            yield finding(
                "POL301",
                model,
                kind="NetworkPolicy",
                meta=pol.meta,
                severity=Severity.WARNING,
                layer=Layer.POLICY_INGRESS if side == "ingress" else Layer.POLICY_EGRESS,
                message=f"{pol.namespace}/{pol.name} is {only} isolating {target_desc} for {side.capitalize()}, "
                f"and it does not allow {who} to reach {ns}/{name} on {number}/{proto} ({why})"
                + (f"; {len(rows) - 1} more client(s) cut off" if len(rows) > 1 else "")
                + ".",
                evidence=[
                    Evidence(
                        ref("NetworkPolicy", pol.meta),
                        "spec.podSelector",
                        pol.pod_selector.describe(),
                    ),
                    Evidence(
                        ref("NetworkPolicy", pol.meta),
                        "spec.policyTypes",
                        ",".join(pol.policy_types),
                    ),
                    *(
                        Evidence(r[5], "calls", f"{ns}/{name} {r[3]}/{r[4]} ({r[2]})")
                        for r in rows[:3]
                    ),
                ],
                confirm=(
                    kubectl("get", "networkpolicy", "-n", pol.namespace, pol.name, "-o", "yaml"),
                    (
                        kubectl(
                            "exec",
                            "-n",
                            obj.split("/")[1],
                            obj.split("/")[2],
                            "--",
                            "wget",
                            "-qO-",
                            "-T",
                            "3",
                            f"http://{name}.{ns}:{svc.ports[0].port}",
                        )
                        if obj.startswith("Pod/")
                        else kubectl("get", "ingress", "-A").pipe("grep", name)
                    ),
                ),
                fix=Fix(
                    text=f"Allow the cut-off clients in {pol.name} (e.g. a namespaceSelector peer for their "
                    "namespace), or narrow its podSelector; check with `netsleuth diff` before applying."
                ),
            )

"""Write every scenario folder under tests/scenarios/ (cluster.yaml, README.md,
scenario.yaml, nodes/). Deterministic: running it twice gives the same bytes.

    .venv/bin/python tests/scenarios/_tools/gen.py [name ...]
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from apps import (
    DNS_PORTS,
    allow_dns,
    allow_egress_to,
    allow_ingress_from,
    client_app,
    default_deny,
    http_app,
    ingress,
    ingress_nginx,
    svc_for,
)
from kube import Cluster, Obj, dump_yaml, http_probe
from system import COREFILE, base, write_nodes

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS: dict[str, Callable[[], None]] = {}

PAY_IMG = "registry.example.com/payments/payments-api:2.14.1"
CHK_IMG = "registry.example.com/checkout/checkout-web:5.3.0"
PAY_URL = [{"name": "PAYMENTS_URL", "value": "http://payments-api.payments.svc.cluster.local:8080"}]


def scenario(fn: Callable[[], None]) -> Callable[[], None]:
    SCENARIOS[fn.__name__.replace("_", "-")] = fn
    return fn


def write(
    name: str,
    c: Cluster,
    *,
    title: str,
    story: str,
    fault: str,
    cause: str,
    spec: dict[str, Any],
    hops: list[tuple[str, str, str]],
    fix: str,
    notes: str = "",
    node_kwargs: dict[str, Any] | None = None,
) -> None:
    folder = ROOT / name
    if folder.exists():
        shutil.rmtree(folder)
    c.write(folder)
    if node_kwargs is not None:
        write_nodes(c, folder, **node_kwargs)
    (folder / "scenario.yaml").write_text(dump_yaml(spec))
    t = spec.get("trace")
    queries = t if isinstance(t, list) else [t] if t else []
    cmds = []
    for q in queries:
        dst = q["dst"] + (f":{q['port']}" if q.get("port") and "://" not in q["dst"] else "")
        proto = f" --protocol {q['protocol']}" if q.get("protocol", "TCP") != "TCP" else ""
        cmds.append(f"netsleuth trace {q['src']} {dst}{proto}")
    exp = spec["expected"]
    lines = [
        f"# {name}: {title}",
        "",
        "## Story",
        "",
        story.strip(),
        "",
        "## Fault",
        "",
        fault.strip(),
        "",
        "## What an experienced SRE names as the cause",
        "",
        cause.strip(),
        "",
        f"Culprit: `{exp.get('culprit', '-')}`"
        + (f" (layer `{exp['broken_layer']}`)" if exp.get("broken_layer") else ""),
        "",
        "## Trace query",
        "",
        "```",
        *(cmds or ["(no trace query: this scenario is for scan)"]),
        "```",
        "",
        f"Expected verdict: **{exp['verdict']}**.",
        "",
        "| hop | verdict | why |",
        "| --- | --- | --- |",
        *(f"| {h} | {v} | {w or DEFAULT_WHY.get(h, '')} |" for h, v, w in hops),
        "",
        "## Fix",
        "",
        fix.strip(),
        "",
    ]
    rules = (spec.get("scan") or {}).get("expect_rules")
    if rules:
        lines += [
            "## Scan",
            "",
            "`netsleuth scan` must report "
            + ", ".join(f"`{r}`" for r in rules)
            + "; no other error-level finding (warnings and notices may appear too, e.g. the informational "
            "NodeLocal DNSCache notice).",
            "",
        ]
    if notes:
        lines += ["## Notes", "", notes.strip(), ""]
    (folder / "README.md").write_text("\n".join(lines))


DEFAULT_WHY = {
    "service": "the Service exists and its port maps to a targetPort",
    "endpoints": "ready endpoints in the EndpointSlice",
    "target-port": "the targetPort resolves to a containerPort the pods declare",
    "policy-egress": "no NetworkPolicy isolates the client for egress, or one allows it",
    "policy-ingress": "no NetworkPolicy isolates the server for ingress, or one allows it",
}


def spec_of(
    fault: str,
    layer: str,
    *,
    src: str | None = None,
    dst: str | None = None,
    port: int | None = None,
    protocol: str = "TCP",
    verdict: str = "broken",
    culprit: str | None = None,
    broken_layer: str | None = None,
    intended: list[str] | None = None,
    checks: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    s: dict[str, Any] = {"fault": fault, "layer": layer, "intended_inconsistencies": intended or []}
    if src and dst:
        t: dict[str, Any] = {"src": src, "dst": dst}
        if port is not None:
            t["port"] = port
        t["protocol"] = protocol
        s["trace"] = t
    e: dict[str, Any] = {"verdict": verdict}
    if broken_layer or verdict != "ok":
        e["broken_layer"] = broken_layer or layer
    if culprit:
        e["culprit"] = culprit
    s["expected"] = e
    if checks:
        s["scan"] = {"expect_rules": checks}
    if extra:
        s.update(extra)
    return s


# ---------------------------------------------------------------------- shared app layer
def checkout_payments(
    c: Cluster,
    *,
    pay_labels: dict[str, str] | None = None,
    pay_nodes: list[str] | None = None,
    pay_replicas: int = 2,
    chk_nodes: list[str] | None = None,
    chk_replicas: int = 2,
    pay_port_name: str = "http",
    svc_target: int | str = "http",
    svc_port: int = 8080,
    svc_extra: dict[str, Any] | None = None,
    pay_ready: bool | list[bool] = True,
    pay_pending: bool | list[bool] = False,
    pay_ns_labels: dict[str, str] | None = None,
    chk_ns_labels: dict[str, str] | None = None,
) -> tuple[list[Obj], list[Obj], Obj]:
    c.namespace("checkout", chk_ns_labels)
    c.namespace("payments", pay_ns_labels)
    _d, _rs, pay = http_app(
        c,
        "payments-api",
        "payments",
        image=PAY_IMG,
        port_name=pay_port_name,
        replicas=pay_replicas,
        nodes=pay_nodes,
        labels=pay_labels,
        ready=pay_ready,
        probe_path="/readyz",
    )
    if pay_pending is not False:
        pend = pay_pending if isinstance(pay_pending, list) else [True] * len(pay)
        for p, flag in zip(pay, pend, strict=True):
            if flag:
                c.make_pending(p)
        c.refresh_workload_status(_d, _rs)
    svc = svc_for(
        c, "payments-api", "payments", port=svc_port, target=svc_target, extra_spec=svc_extra
    )
    _d2, _rs2, chk = client_app(
        c,
        "checkout-web",
        "checkout",
        image=CHK_IMG,
        env=PAY_URL,
        replicas=chk_replicas,
        nodes=chk_nodes,
    )
    svc_for(c, "checkout-web", "checkout", port=80)
    return chk, pay, svc


def std_cluster(name: str, **kw: Any) -> Cluster:
    c = Cluster(name, **kw)
    base(c)
    return c


PAY_TRACE = {"src": "checkout/checkout-web", "dst": "payments/payments-api", "port": 8080}


def dns_hops_ok() -> list[tuple[str, str, str]]:
    return [
        (
            "dns",
            "ok",
            "`payments-api.payments.svc.cluster.local` is the Service's FQDN; kube-dns 10.96.0.10 has 2 ready CoreDNS endpoints",
        ),
    ]


# ---------------------------------------------------------------------- healthy controls
@scenario
def healthy_same_node() -> None:
    c = std_cluster("healthy-same-node")
    c.namespace("shop")
    http_app(
        c,
        "cart",
        "shop",
        image="registry.example.com/shop/cart:1.8.0",
        replicas=1,
        nodes=["worker-1"],
    )
    svc_for(c, "cart", "shop", port=80)
    http_app(
        c,
        "storefront",
        "shop",
        image="registry.example.com/shop/storefront:3.2.0",
        replicas=1,
        nodes=["worker-1"],
        env=[{"name": "CART_URL", "value": "http://cart"}],
    )
    svc_for(c, "storefront", "shop", port=80)
    write(
        "healthy-same-node",
        c,
        title="storefront → cart on the same node works",
        story="The shop storefront calls `http://cart` (same namespace, short name). Both pods run on worker-1. Everything works; this is a control.",
        fault="None.",
        cause="Nothing is wrong.",
        spec=spec_of("none", "none", src="shop/storefront", dst="shop/cart", port=80, verdict="ok"),
        hops=[
            (
                "dns",
                "ok",
                "`cart` + search `shop.svc.cluster.local` → `cart.shop.svc.cluster.local` on the first query",
            ),
            ("service", "ok", "Service shop/cart port 80 → targetPort `http`"),
            ("endpoints", "ok", "1 ready endpoint (the cart pod on worker-1)"),
            ("target-port", "ok", "`http` resolves to containerPort 8080 on the cart container"),
            ("policy-egress", "ok", "no NetworkPolicy in namespace shop"),
            ("policy-ingress", "ok", "no NetworkPolicy in namespace shop"),
            ("node", "ok", "same node worker-1, Ready"),
        ],
        fix="Nothing to fix.",
        node_kwargs={},
    )


@scenario
def healthy_kind() -> None:
    # kind v0.24 with its defaults: kubeadm's kube-system (static pods, CoreDNS with the
    # 170Mi memory limit, kube-proxy iptables), kindnet as CNI, no NetworkPolicy.
    c = Cluster(
        "healthy-kind",
        cni="kindnet",
        nodes=("kind-control-plane", "kind-worker", "kind-worker2"),
        node_ip_base="172.18.0.2",
    )
    base(c)
    checkout_payments(c, pay_nodes=["kind-worker2"], chk_nodes=["kind-worker"], chk_replicas=1)
    write(
        "healthy-kind",
        c,
        title="a kind cluster as `kind create cluster` leaves it, with one app working",
        story=(
            "A developer's kind cluster (one control plane, two workers): checkout-web on kind-worker calls "
            "`http://payments-api.payments.svc.cluster.local:8080` on kind-worker2. It works. Everything in "
            "kube-system is what kind/kubeadm install by default, so nothing there may be reported as a fault."
        ),
        fault="None. kube-system keeps every upstream default: CoreDNS `limits.memory: 170Mi`, no CPU "
        "limit, the kubeadm Corefile, kube-proxy in iptables mode, kindnet (routes, no encapsulation, "
        "host-local IPAM on the node podCIDRs: 253 pod addresses per /24 against maxPods 110), the control "
        "plane node tainted and labelled `node.kubernetes.io/exclude-from-external-load-balancers`.",
        cause="Nothing is wrong.",
        spec=spec_of(
            "none",
            "none",
            src="checkout/checkout-web",
            dst="payments/payments-api",
            port=8080,
            verdict="ok",
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", "port 8080 → targetPort `http`"),
            ("endpoints", "ok", "2 ready endpoints on kind-worker2"),
            ("target-port", "ok", "`http` → 8080"),
            ("policy-egress", "ok", "no NetworkPolicy"),
            ("policy-ingress", "ok", "no NetworkPolicy"),
            ("node", "ok", "kind-worker → kind-worker2, kindnet routes (no overlay)"),
        ],
        fix="Nothing to fix.",
    )


@scenario
def healthy_cross_node() -> None:
    c = std_cluster("healthy-cross-node")
    checkout_payments(c, pay_nodes=["worker-2"], chk_nodes=["worker-1"], chk_replicas=1)
    for ns in ("checkout", "payments"):
        default_deny(c, ns)
        allow_dns(c, ns)
    allow_egress_to(
        c,
        "allow-egress-payments",
        "checkout",
        src={"app": "checkout-web"},
        dst_ns="payments",
        dst={"app": "payments-api"},
        port=8080,
    )
    allow_ingress_from(
        c,
        "allow-from-checkout",
        "payments",
        dst={"app": "payments-api"},
        src_ns="checkout",
        src={"app": "checkout-web"},
        port=8080,
    )
    write(
        "healthy-cross-node",
        c,
        title="checkout → payments across nodes under default-deny, correctly allowed",
        story=(
            "checkout-web (worker-1) calls `http://payments-api.payments.svc.cluster.local:8080`; both payments-api "
            "pods run on worker-2. Both namespaces are default-deny for ingress and egress, with a correct DNS allow "
            "and a correct allow pair for the traffic. It works; this is the control for the policy scenarios."
        ),
        fault="None.",
        cause="Nothing is wrong.",
        spec=spec_of("none", "none", **PAY_TRACE, verdict="ok"),
        hops=[
            *dns_hops_ok(),
            (
                "policy-egress (dns)",
                "ok",
                "checkout/allow-dns: one peer with namespaceSelector `kubernetes.io/metadata.name: kube-system` AND podSelector `k8s-app: kube-dns`, UDP+TCP 53",
            ),
            ("service", "ok", "payments/payments-api port 8080 → targetPort `http`"),
            ("endpoints", "ok", "2 ready endpoints on worker-2"),
            ("target-port", "ok", "`http` → containerPort 8080"),
            (
                "policy-egress",
                "ok",
                "checkout/allow-egress-payments allows TCP 8080 to app=payments-api in namespace payments",
            ),
            (
                "policy-ingress",
                "ok",
                "payments/allow-from-checkout allows TCP 8080 from app=checkout-web in namespace checkout",
            ),
            ("node", "ok", "worker-1 → worker-2, both Ready"),
            ("overlay", "ok", "Calico IPIP (tunl0 mtu 1480, 20 bytes overhead)"),
            ("mtu", "ok", "calico-config veth_mtu 1480 = 1500 − 20 on every node"),
            (
                "kube-proxy",
                "ok",
                "iptables mode; worker-1's KUBE-SVC chain for payments/payments-api:http holds both pod IPs",
            ),
            ("conntrack", "ok", "well below nf_conntrack_max on both nodes"),
        ],
        fix="Nothing to fix.",
        node_kwargs={},
    )


@scenario
def healthy_ingress() -> None:
    c = std_cluster("healthy-ingress")
    ingress_nginx(c)
    c.namespace("shop")
    http_app(
        c, "storefront", "shop", image="registry.example.com/shop/storefront:3.2.0", replicas=2
    )
    svc_for(c, "storefront", "shop", port=80)
    c.secret_ref("shop-example-com-tls", "shop", "kubernetes.io/tls")
    ingress(
        c,
        "storefront",
        "shop",
        host="shop.example.com",
        service="storefront",
        port=80,
        tls_secret="shop-example-com-tls",
    )
    write(
        "healthy-ingress",
        c,
        title="https://shop.example.com → ingress-nginx → storefront works",
        story="Users reach https://shop.example.com through ingress-nginx (LoadBalancer 203.0.113.10). Everything works; this is the control for the north-south scenarios.",
        fault="None.",
        cause="Nothing is wrong.",
        spec=spec_of("none", "none", src="external", dst="https://shop.example.com/", verdict="ok"),
        hops=[
            (
                "loadbalancer",
                "ok",
                "ingress-nginx/ingress-nginx-controller has status.loadBalancer.ingress 203.0.113.10",
            ),
            (
                "ingress",
                "ok",
                "Ingress shop/storefront, class `nginx` (IngressClass nginx, controller k8s.io/ingress-nginx, 2 ready controller pods), TLS secret shop-example-com-tls exists, backend storefront:80 exists",
            ),
            ("service", "ok", "shop/storefront port 80 → targetPort `http`"),
            ("endpoints", "ok", "2 ready endpoints"),
            ("target-port", "ok", "`http` → 8080"),
            ("policy-ingress", "ok", "no NetworkPolicy in shop"),
        ],
        fix="Nothing to fix.",
        node_kwargs={},
    )


# ---------------------------------------------------------------------- service / endpoints faults
@scenario
def label_drift() -> None:
    c = std_cluster("label-drift")
    checkout_payments(c, pay_labels={"app": "payments", "app.kubernetes.io/part-of": "payments"})
    svc = c.find("Service", "payments", "payments-api")
    assert svc["spec"]["selector"] == {"app": "payments-api"}
    write(
        "label-drift",
        c,
        title="Service selector no longer matches the pods after a label refactor",
        story=(
            "After the payments team's Helm refactor, checkout gets `connection refused` (fast failures) from "
            "`payments-api.payments.svc.cluster.local:8080`. The payments-api pods are Running and Ready."
        ),
        fault=(
            "Service `payments/payments-api` has `spec.selector: {app: payments-api}`; the Deployment and its pods "
            "were relabelled `app: payments` (plus `app.kubernetes.io/part-of: payments`). No pod matches the "
            "selector, so the EndpointSlice `payments-api-*` has `endpoints: null` and kube-proxy installs a "
            "REJECT rule (`has no endpoints`)."
        ),
        cause="Label drift: the Service selector `app=payments-api` matches no pod; the pods carry `app=payments`. "
        "The selector is a field of the Service, so the fix (and the layer) is the Service's.",
        spec=spec_of(
            "service selector matches no pods (label drift)",
            "service",
            **PAY_TRACE,
            culprit="Service/payments/payments-api",
            checks=["SVC201"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", "Service exists, port 8080 → targetPort `http`"),
            (
                "service",
                "**broken**",
                "selector `app=payments-api` matches no pod; nearest pods have `app=payments`; EndpointSlice has no endpoints",
            ),
        ],
        fix='`kubectl -n payments patch svc payments-api --type merge -p \'{"spec":{"selector":{"app":"payments"}}}\'` (or put the old label back on the pod template).',
    )


@scenario
def endpoints_other_node_local() -> None:
    c = std_cluster("endpoints-other-node-local")
    _chk, _pay, svc = checkout_payments(
        c,
        pay_nodes=["worker-2"],
        chk_nodes=["worker-1"],
        chk_replicas=1,
        svc_extra={"internalTrafficPolicy": "Local"},
    )
    write(
        "endpoints-other-node-local",
        c,
        title="internalTrafficPolicy: Local with no endpoint on the client's node",
        story=(
            'Someone set `internalTrafficPolicy: Local` on payments-api "to save cross-node traffic". '
            "checkout-web runs on worker-1 and now times out calling payments-api:8080; from worker-2 it would work."
        ),
        fault=(
            "Service `payments/payments-api` has `spec.internalTrafficPolicy: Local`. Both ready payments-api pods "
            "run on worker-2; the only checkout-web pod runs on worker-1. kube-proxy on worker-1 only uses "
            "endpoints on worker-1 for this ClusterIP: there are none, so it DROPs the traffic "
            "(`nodes/worker-1/iptables-save.txt`: `payments/payments-api:http has no local endpoints -j DROP`)."
        ),
        cause="internalTrafficPolicy Local on a Service whose endpoints are all on other nodes than the client "
        "(a field of the Service: the fix and the layer are the Service's).",
        spec=spec_of(
            "internalTrafficPolicy Local, no local endpoint on the client node",
            "service",
            **PAY_TRACE,
            culprit="Service/payments/payments-api",
            checks=["SVC207"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", "port 8080 → targetPort `http`"),
            (
                "service",
                "**broken**",
                "2 ready endpoints, both on worker-2; internalTrafficPolicy Local leaves none for a client on worker-1",
            ),
            (
                "kube-proxy",
                "broken (same cause)",
                f"worker-1 iptables: `has no local endpoints` DROP rule for {svc['spec']['clusterIP']}:8080",
            ),
        ],
        fix="Remove `internalTrafficPolicy: Local` (back to `Cluster`), or run a payments-api pod on every node that has clients (DaemonSet / topology spread).",
        node_kwargs={},
    )


@scenario
def named_port_undeclared() -> None:
    c = std_cluster("named-port-undeclared")
    checkout_payments(c, pay_port_name="web")
    write(
        "named-port-undeclared",
        c,
        title="Service targetPort `http` names a port the container does not declare",
        story=(
            "checkout gets `connection refused` calling payments-api:8080 right after a deploy that renamed the "
            "container port from `http` to `web`. Pods are Running and Ready (the probes use `web`)."
        ),
        fault=(
            "Service `payments/payments-api` port 8080 has `targetPort: http`; the payments-api container declares "
            "`ports: [{name: web, containerPort: 8080}]` and no port named `http`. The EndpointSlice controller "
            "cannot resolve the named port, so the slice lists the ready pods with `ports: null`: kube-proxy "
            "programs no backend for port `http`."
        ),
        cause="Named targetPort `http` undeclared in the pods (they call it `web`).",
        spec=spec_of(
            "named targetPort not declared by the pods",
            "target-port",
            **PAY_TRACE,
            culprit="Service/payments/payments-api",
            checks=["SVC203"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", "port 8080 → targetPort `http`"),
            (
                "endpoints",
                "ok/warning",
                "2 ready pods selected, but the slice carries no port for `http`",
            ),
            (
                "target-port",
                "**broken**",
                "no container port named `http` in payments-api pods (they declare `web`/8080)",
            ),
        ],
        fix="Set the Service `targetPort: web` (or 8080), or name the container port `http` again.",
    )


@scenario
def pods_not_ready_readiness_probe() -> None:
    c = std_cluster("pods-not-ready-readiness-probe")
    _chk, pay, _svc = checkout_payments(c, pay_ready=False)
    for p in pay:
        c.event(
            p,
            "Unhealthy",
            "Readiness probe failed: HTTP probe failed with statuscode: 503",
            host=p["spec"]["nodeName"],
            count=412,
            first="2026-11-22T09:32:40Z",
        )
    write(
        "pods-not-ready-readiness-probe",
        c,
        title="payments-api pods Running but failing their readiness probe",
        story=(
            "checkout reports `connection refused` from payments-api since 09:32. `kubectl get pods -n payments` "
            "shows both pods `Running` with READY `0/1`; no restarts."
        ),
        fault=(
            "Both payments-api pods fail `readinessProbe httpGet /readyz port http` with HTTP 503 (their database "
            "is unreachable): condition Ready False, events `Readiness probe failed: HTTP probe failed with "
            "statuscode: 503` (count 412). The EndpointSlice lists them with `ready: false, serving: false`, so "
            "there is no ready endpoint."
        ),
        cause="No ready endpoints: the backend pods fail their readiness probe (503). What to change is "
        "the Deployment (or what its probe depends on), not the pods: the ReplicaSet would recreate them.",
        spec=spec_of(
            "pods Running but not Ready (readiness probe failing)",
            "endpoints",
            **PAY_TRACE,
            culprit="Deployment/payments/payments-api",
            checks=["SVC202"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", "port 8080 → targetPort `http`"),
            (
                "endpoints",
                "**broken**",
                "2 pods selected, 0 ready: readiness probe GET /readyz → 503 (Unhealthy events)",
            ),
        ],
        fix="Fix what /readyz depends on (here: the payments database); `kubectl -n payments describe pod -l app=payments-api` shows the probe failures.",
    )


# ---------------------------------------------------------------------- policy faults
@scenario
def egress_deny_no_dns() -> None:
    c = std_cluster("egress-deny-no-dns")
    checkout_payments(c)
    c.netpol("default-deny-egress", "checkout", {"podSelector": {}, "policyTypes": ["Egress"]})
    allow_egress_to(
        c,
        "allow-egress-payments",
        "checkout",
        src={"app": "checkout-web"},
        dst_ns="payments",
        dst={"app": "payments-api"},
        port=8080,
    )
    write(
        "egress-deny-no-dns",
        c,
        title="default-deny egress without a DNS allow",
        story=(
            "The security team rolled out `default-deny-egress` in namespace checkout together with an allow to "
            "payments-api. Since then checkout logs `dial tcp: lookup payments-api.payments.svc.cluster.local: "
            "i/o timeout` — every name lookup times out after 5 s × attempts."
        ),
        fault=(
            "NetworkPolicy `checkout/default-deny-egress` (`podSelector: {}`, `policyTypes: [Egress]`, no egress "
            "rules) isolates every checkout pod for egress. The only allow, `checkout/allow-egress-payments`, "
            "permits TCP 8080 to app=payments-api in payments; nothing permits UDP/TCP 53 to kube-dns in "
            "kube-system. The payments side has no policies (the TCP hop itself would be allowed)."
        ),
        cause="Default-deny egress without a DNS allow: DNS queries to kube-dns (10.96.0.10 → CoreDNS pods) are dropped.",
        spec=spec_of(
            "default-deny egress, no DNS allow",
            "policy-egress",
            **PAY_TRACE,
            broken_layer="dns",
            culprit="NetworkPolicy/checkout/default-deny-egress",
            checks=["POL302"],
        ),
        hops=[
            (
                "dns",
                "**broken**",
                "egress UDP/TCP 53 from checkout-web to the CoreDNS pods is denied: checkout/default-deny-egress isolates the pod and no policy allows port 53",
            ),
            ("service", "ok", "port 8080 → targetPort `http`"),
            ("endpoints", "ok", "2 ready endpoints"),
            (
                "policy-egress",
                "ok",
                "checkout/allow-egress-payments allows TCP 8080 to payments-api (if the IP were known)",
            ),
            ("policy-ingress", "ok", "no policy in payments"),
        ],
        fix=(
            "Add an allow-dns egress policy in checkout: `to: [{namespaceSelector: {matchLabels: "
            "{kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]`, "
            "ports UDP 53 and TCP 53."
        ),
    )


@scenario
def dns_allow_wrong_ns_label() -> None:
    c = std_cluster("dns-allow-wrong-ns-label")
    checkout_payments(c)
    c.netpol("default-deny-egress", "checkout", {"podSelector": {}, "policyTypes": ["Egress"]})
    allow_dns(
        c,
        "checkout",
        peer={
            "namespaceSelector": {"matchLabels": {"name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        },
    )
    allow_egress_to(
        c,
        "allow-egress-payments",
        "checkout",
        src={"app": "checkout-web"},
        dst_ns="payments",
        dst={"app": "payments-api"},
        port=8080,
    )
    write(
        "dns-allow-wrong-ns-label",
        c,
        title="allow-DNS policy selects kube-system by a label it does not have",
        story=(
            "checkout has default-deny egress and an `allow-dns` policy copied from an old blog post. DNS lookups "
            "from checkout time out (`i/o timeout`)."
        ),
        fault=(
            "`checkout/allow-dns` allows UDP/TCP 53 to `namespaceSelector: {matchLabels: {name: kube-system}}` "
            "combined with `podSelector: {k8s-app: kube-dns}`. Namespace kube-system only carries "
            "`kubernetes.io/metadata.name: kube-system` (no `name` label), so the peer selects no namespace and "
            "the allow is empty."
        ),
        cause="The DNS allow's namespaceSelector uses `name: kube-system`, a label no namespace has; use `kubernetes.io/metadata.name`.",
        spec=spec_of(
            "allow-DNS namespaceSelector on a label kube-system lacks",
            "policy-egress",
            **PAY_TRACE,
            broken_layer="dns",
            culprit="NetworkPolicy/checkout/allow-dns",
            checks=["POL303"],
        ),
        hops=[
            (
                "dns",
                "**broken**",
                "checkout/allow-dns peer namespaceSelector `name=kube-system` matches no namespace (kube-system has only kubernetes.io/metadata.name); egress to CoreDNS port 53 denied by checkout/default-deny-egress",
            ),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready"),
            ("policy-egress", "ok", "allow-egress-payments allows TCP 8080"),
            ("policy-ingress", "ok", "no policy in payments"),
        ],
        fix="Change the namespaceSelector to `kubernetes.io/metadata.name: kube-system` (set automatically on every namespace since Kubernetes 1.21).",
    )


@scenario
def dns_allow_split_peers() -> None:
    c = std_cluster("dns-allow-split-peers")
    checkout_payments(c)
    c.netpol("default-deny-egress", "checkout", {"podSelector": {}, "policyTypes": ["Egress"]})
    c.netpol(
        "allow-dns",
        "checkout",
        {
            "egress": [
                {
                    "ports": DNS_PORTS,
                    "to": [
                        {"namespaceSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                        {"podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}},
                    ],
                }
            ],
            "podSelector": {},
            "policyTypes": ["Egress"],
        },
    )
    allow_egress_to(
        c,
        "allow-egress-payments",
        "checkout",
        src={"app": "checkout-web"},
        dst_ns="payments",
        dst={"app": "payments-api"},
        port=8080,
    )
    write(
        "dns-allow-split-peers",
        c,
        title="allow-DNS written as two peers instead of one combined peer",
        story=(
            'checkout has default-deny egress. The allow-dns policy "looks right" in review: it mentions '
            "`k8s-app: kube-dns` twice. DNS from checkout still times out."
        ),
        fault=(
            "`checkout/allow-dns` has `to:` with two list items (two peers, ORed) where one combined peer "
            "(namespaceSelector AND podSelector in the same item) was meant:\n\n"
            "```yaml\nto:\n- namespaceSelector:\n    matchLabels:\n      k8s-app: kube-dns\n- podSelector:\n    matchLabels:\n      k8s-app: kube-dns\n```\n\n"
            "- Peer 1, `namespaceSelector: {k8s-app: kube-dns}` alone: selects all pods in namespaces labelled "
            "`k8s-app=kube-dns`. No namespace has that label (kube-system has only "
            "`kubernetes.io/metadata.name: kube-system`): it matches nothing.\n"
            "- Peer 2, `podSelector: {k8s-app: kube-dns}` alone: a podSelector without namespaceSelector selects "
            "pods in the policy's own namespace (checkout). No checkout pod is labelled k8s-app=kube-dns: it "
            "matches nothing. The CoreDNS pods (kube-system) are not selected.\n\n"
            "So no egress to CoreDNS port 53 is allowed and default-deny-egress drops it."
        ),
        cause=(
            "Split peers: the podSelector peer only selects pods in checkout, and the namespaceSelector peer uses "
            "the pod label on namespaces. One peer with `namespaceSelector: {kubernetes.io/metadata.name: "
            "kube-system}` and `podSelector: {k8s-app: kube-dns}` was intended."
        ),
        spec=spec_of(
            "allow-DNS split into two peers; neither selects the CoreDNS pods",
            "policy-egress",
            **PAY_TRACE,
            broken_layer="dns",
            culprit="NetworkPolicy/checkout/allow-dns",
            checks=["POL303"],
        ),
        hops=[
            (
                "dns",
                "**broken**",
                "checkout/allow-dns: peer 1 (namespaceSelector k8s-app=kube-dns) matches no namespace; peer 2 (podSelector k8s-app=kube-dns) only looks in checkout; CoreDNS pods in kube-system not allowed; checkout/default-deny-egress drops UDP/TCP 53",
            ),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready"),
            ("policy-egress", "ok", "allow-egress-payments allows TCP 8080"),
            ("policy-ingress", "ok", "no policy in payments"),
        ],
        fix=(
            "Write one peer: `to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, "
            "podSelector: {matchLabels: {k8s-app: kube-dns}}}]` (no dash before `podSelector`)."
        ),
    )


@scenario
def policytypes_egress_no_rules() -> None:
    c = std_cluster("policytypes-egress-no-rules")
    checkout_payments(c)
    ingress_nginx(c)
    c.netpol(
        "checkout-web",
        "checkout",
        {
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                            }
                        }
                    ],
                    "ports": [{"port": 8080, "protocol": "TCP"}],
                }
            ],
            "podSelector": {"matchLabels": {"app": "checkout-web"}},
            "policyTypes": ["Ingress", "Egress"],
        },
    )
    write(
        "policytypes-egress-no-rules",
        c,
        title="policyTypes lists Egress but the policy has only ingress rules",
        story=(
            'A policy meant to "only let ingress-nginx talk to checkout-web" went out. The storefront still '
            "reaches checkout, but checkout-web can no longer reach anything: DNS lookups time out, and "
            "payments-api by IP times out too."
        ),
        fault=(
            "NetworkPolicy `checkout/checkout-web` selects app=checkout-web with `policyTypes: [Ingress, Egress]` "
            "and only an `ingress:` section. Listing Egress with no egress rules isolates the pods for egress "
            "and allows nothing: all egress (DNS and TCP 8080 to payments) is denied."
        ),
        cause="`policyTypes` includes Egress but there are no egress rules: all egress from checkout-web is blocked.",
        spec=spec_of(
            "policyTypes Egress without egress rules blocks all egress",
            "policy-egress",
            **PAY_TRACE,
            culprit="NetworkPolicy/checkout/checkout-web",
            broken_layer="dns",
            checks=["POL302", "POL312"],
        ),
        hops=[
            (
                "dns",
                "**broken**",
                "egress to CoreDNS port 53 denied: checkout/checkout-web isolates checkout-web for Egress and has no egress rules",
            ),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready"),
            (
                "policy-egress",
                "**broken**",
                "TCP 8080 to payments-api denied by the same policy (no egress rule at all)",
            ),
            ("policy-ingress", "ok", "no policy in payments"),
        ],
        fix="Drop `Egress` from `policyTypes` (the intent was ingress only), or add the egress rules (DNS + payments).",
        notes="The first broken hop is DNS; the TCP hop is broken by the same policy. `expected.broken_layer` is `dns` (the first hop that fails); `layer` says what kind of fault it is.",
    )


@scenario
def ingress_rule_service_port() -> None:
    c = std_cluster("ingress-rule-service-port")
    checkout_payments(c, svc_port=80)
    for d in c.objects:
        if d["kind"] in ("Deployment", "ReplicaSet") and d["metadata"]["name"].startswith(
            "checkout-web"
        ):
            for ct in d["spec"]["template"]["spec"]["containers"]:
                ct["env"] = [
                    {
                        "name": "PAYMENTS_URL",
                        "value": "http://payments-api.payments.svc.cluster.local",
                    }
                ]
    for p in c.pods_of("checkout", "checkout-web"):
        for ct in p["spec"]["containers"]:
            ct["env"] = [
                {"name": "PAYMENTS_URL", "value": "http://payments-api.payments.svc.cluster.local"}
            ]
    default_deny(c, "payments", ("Ingress",))
    allow_ingress_from(
        c,
        "allow-from-checkout",
        "payments",
        dst={"app": "payments-api"},
        src_ns="checkout",
        src={"app": "checkout-web"},
        port=80,
    )
    write(
        "ingress-rule-service-port",
        c,
        title="ingress NetworkPolicy allows the Service port, not the pod port",
        story=(
            'payments moved to default-deny ingress with an allow for checkout on "port 80, the port we call". '
            "checkout now times out calling `http://payments-api.payments.svc.cluster.local` (port 80)."
        ),
        fault=(
            "Service `payments/payments-api` maps port 80 → targetPort `http` (containerPort 8080). "
            "`payments/allow-from-checkout` allows ingress from checkout-web on TCP **80**. NetworkPolicy is "
            "evaluated on the packet after kube-proxy's DNAT, whose destination port is 8080: port 80 never "
            "matches, so `payments/default-deny` drops it."
        ),
        cause="The ingress policy uses the Service port (80) instead of the pod's target port (8080).",
        spec=spec_of(
            "ingress policy allows Service port instead of targetPort",
            "policy-ingress",
            src="checkout/checkout-web",
            dst="payments/payments-api",
            port=80,
            culprit="NetworkPolicy/payments/allow-from-checkout",
            checks=["POL305"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", "port 80 → targetPort `http`"),
            ("endpoints", "ok", "2 ready"),
            ("target-port", "ok", "`http` → 8080"),
            ("policy-egress", "ok", "no policy in checkout"),
            (
                "policy-ingress",
                "**broken**",
                "after DNAT the port is 8080; payments/allow-from-checkout allows only 80; payments/default-deny isolates payments-api",
            ),
        ],
        fix="Use `port: 8080` (or the named port `http`) in the policy's ingress ports.",
    )


@scenario
def admin_network_policy() -> None:
    c = std_cluster("admin-network-policy")
    for o in c.objects:
        if o["kind"] in ("DaemonSet", "Pod") and o["metadata"]["name"].startswith("calico-node"):
            for ct in (o["spec"].get("template", {}).get("spec") or o["spec"])["containers"]:
                ct["image"] = "docker.io/calico/node:v3.29.1"
    for p in c.pods:
        if p["metadata"]["name"].startswith("calico-node"):
            for cs in p["status"]["containerStatuses"]:
                cs["image"] = "docker.io/calico/node:v3.29.1"
    checkout_payments(c)
    c.namespace("legacy")
    http_app(
        c,
        "billing-cron",
        "legacy",
        image="registry.example.com/legacy/billing-cron:0.9.4",
        replicas=1,
        nodes=["worker-1"],
        env=PAY_URL,
    )
    default_deny(c, "payments", ("Ingress",))
    allow_ingress_from(
        c,
        "allow-legacy-billing",
        "payments",
        dst={"app": "payments-api"},
        src_ns="legacy",
        src={"app": "billing-cron"},
        port=8080,
    )
    allow_ingress_from(
        c,
        "allow-from-checkout",
        "payments",
        dst={"app": "payments-api"},
        src_ns="checkout",
        src={"app": "checkout-web"},
        port=8080,
    )
    c.add(
        {
            "apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "AdminNetworkPolicy",
            "metadata": c.meta("AdminNetworkPolicy", "deny-legacy-to-payments", None, generation=1),
            "spec": {
                "priority": 10,
                "subject": {
                    "namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}
                },
                "ingress": [
                    {
                        "action": "Deny",
                        "name": "deny-from-legacy",
                        "from": [
                            {
                                "namespaces": {
                                    "matchLabels": {"kubernetes.io/metadata.name": "legacy"}
                                }
                            }
                        ],
                    }
                ],
            },
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": "2026-11-20T16:03:12Z",
                        "message": "AdminNetworkPolicy is programmed",
                        "observedGeneration": 1,
                        "reason": "Programmed",
                        "status": "True",
                        "type": "Ready",
                    }
                ]
            },
        }
    )
    write(
        "admin-network-policy",
        c,
        title="an AdminNetworkPolicy Deny overrides a namespace NetworkPolicy allow",
        story=(
            "The payments team added `allow-legacy-billing` so the legacy billing job can call payments-api. "
            "It still times out. `kubectl get netpol -n payments` shows the allow; nobody looked at cluster-scoped "
            "AdminNetworkPolicies."
        ),
        fault=(
            "AdminNetworkPolicy `deny-legacy-to-payments` (priority 10) has subject namespaces "
            "`kubernetes.io/metadata.name=payments` and an ingress rule `action: Deny` from namespaces "
            "`kubernetes.io/metadata.name=legacy`. The ANP tier is evaluated before NetworkPolicies: its Deny "
            "wins over `payments/allow-legacy-billing`. Calico v3.29 (which implements ANP) is the CNI."
        ),
        cause="A cluster-scoped AdminNetworkPolicy Deny (priority 10) overrides the namespace allow.",
        spec=spec_of(
            "AdminNetworkPolicy Deny overrides NetworkPolicy allow",
            "policy-ingress",
            src="legacy/billing-cron",
            dst="payments/payments-api",
            port=8080,
            culprit="AdminNetworkPolicy/deny-legacy-to-payments",
            checks=["POL311"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready"),
            ("policy-egress", "ok", "no policy in legacy"),
            (
                "policy-ingress",
                "**broken**",
                "ANP deny-legacy-to-payments rule deny-from-legacy (priority 10, Deny) matches before payments/allow-legacy-billing is considered",
            ),
        ],
        fix="Add a higher-priority (lower number) ANP `Allow`/`Pass` rule for billing-cron, or narrow the Deny's `from` — talk to the platform team that owns the ANP.",
        notes="The checkout → payments path is allowed (ANP does not mention checkout; `payments/allow-from-checkout` allows it). "
        "`POL311` (an admin-tier Deny shadows a NetworkPolicy allow) is the fault itself: AdminNetworkPolicies "
        "are evaluated before NetworkPolicies and a matching Deny is final (policy.networking.k8s.io/v1alpha1), "
        "so `payments/allow-legacy-billing` never takes effect for billing-cron.",
    )


# ---------------------------------------------------------------------- DNS faults
@scenario
def short_name_cross_namespace() -> None:
    c = std_cluster("short-name-cross-namespace")
    c.namespace("web")
    c.namespace("payments-system")
    http_app(c, "payments", "payments-system", image=PAY_IMG, replicas=2)
    svc_for(c, "payments", "payments-system", port=8080)
    http_app(
        c,
        "frontend",
        "web",
        image="registry.example.com/web/frontend:12.1.0",
        replicas=2,
        env=[{"name": "PAYMENTS_URL", "value": "http://payments:8080"}],
    )
    svc_for(c, "frontend", "web", port=80)
    write(
        "short-name-cross-namespace",
        c,
        title="short name `payments` used across namespaces",
        story=(
            "The payments Service moved to namespace `payments-system`. The web frontend (namespace `web`) still "
            "calls `http://payments:8080` and fails with `lookup payments on 10.96.0.10:53: no such host`."
        ),
        fault=(
            "Deployment `web/frontend` has env `PAYMENTS_URL=http://payments:8080`. The pod's resolv.conf "
            "(dnsPolicy ClusterFirst) is `search web.svc.cluster.local svc.cluster.local cluster.local`, "
            "`options ndots:5`. `payments` expands to `payments.web.svc.cluster.local` (NXDOMAIN), "
            "`payments.svc.cluster.local` (NXDOMAIN: not a valid service name, no namespace), "
            "`payments.cluster.local` (NXDOMAIN), then `payments.` (NXDOMAIN upstream). The Service is "
            "`payments.payments-system.svc.cluster.local`."
        ),
        cause="Short name across namespaces: the search list only covers the client's own namespace (`web`).",
        spec=spec_of(
            "short service name used from another namespace",
            "dns",
            src="web/frontend",
            dst="payments",
            port=8080,
            culprit="Deployment/web/frontend",
            checks=["DNS115"],
        ),
        hops=[
            (
                "dns",
                "**broken**",
                "`payments` → NXDOMAIN for every search suffix; a Service named payments exists in payments-system: use `payments.payments-system`",
            ),
        ],
        fix="Use `http://payments.payments-system:8080` (or the FQDN `payments.payments-system.svc.cluster.local`) in PAYMENTS_URL.",
    )


@scenario
def coredns_no_ready() -> None:
    c = Cluster("coredns-no-ready")
    base(c, coredns_memory="64Mi")
    dep = c.find("Deployment", "kube-system", "coredns")
    rs = next(
        o
        for o in c.objects
        if o["kind"] == "ReplicaSet" and o["metadata"]["name"].startswith("coredns-")
    )
    for p in c.pods_of("kube-system", "coredns"):
        c.make_crashloop(p, reason="OOMKilled", exit_code=137, restarts=23)
        c.event(
            p,
            "BackOff",
            "Back-off restarting failed container coredns in pod "
            + f"{p['metadata']['name']}_kube-system({p['metadata']['uid']})",
            host=p["spec"]["nodeName"],
            count=96,
            first="2026-11-22T09:47:13Z",
        )
    c.refresh_workload_status(dep, rs)
    c.rebuild_slices()
    checkout_payments(c)
    write(
        "coredns-no-ready",
        c,
        title="CoreDNS OOMKilled in a crash loop: kube-dns has no ready endpoint",
        story=(
            "Every service-to-service call fails with `lookup ...: i/o timeout` / `server misbehaving` since a "
            "traffic spike at 09:47. `kubectl -n kube-system get pods -l k8s-app=kube-dns` shows both CoreDNS "
            "pods in CrashLoopBackOff with 23 restarts."
        ),
        fault=(
            "Deployment `kube-system/coredns` has `resources.limits.memory: 64Mi`. Both pods' `coredns` container "
            "is `waiting: CrashLoopBackOff` with `lastState.terminated.reason: OOMKilled` (exit 137). The kube-dns "
            "EndpointSlice lists both with `ready: false`: the kube-dns Service (10.96.0.10) has no ready endpoint."
        ),
        cause="CoreDNS is OOMKilled (memory limit 64Mi) and crash-looping; kube-dns has no ready endpoints, so cluster DNS is down.",
        spec=spec_of(
            "CoreDNS OOMKilled, kube-dns without ready endpoints",
            "dns",
            **PAY_TRACE,
            culprit="Deployment/kube-system/coredns",
            checks=["DNS102", "DNS103", "DNS104", "DNS106"],
        ),
        hops=[
            (
                "dns",
                "**broken**",
                "kube-dns 10.96.0.10 has 0 ready endpoints: coredns pods CrashLoopBackOff, last terminated OOMKilled, memory limit 64Mi",
            ),
            ("service", "ok", ""),
            ("endpoints", "ok", "payments-api has 2 ready endpoints"),
        ],
        fix="Raise the CoreDNS memory limit (256Mi or more; size it with the CoreDNS scaling guide) and check what drove the query spike.",
    )


@scenario
def coredns_cpu_throttled() -> None:
    corefile = COREFILE.replace("    cache 30\n", "").replace(
        "    errors\n", "    errors\n    log\n"
    )
    c = Cluster("coredns-cpu-throttled")
    base(c, coredns_memory="128Mi", coredns_cpu="100m", corefile=corefile)
    dep = c.find("Deployment", "kube-system", "coredns")
    rs = next(
        o
        for o in c.objects
        if o["kind"] == "ReplicaSet" and o["metadata"]["name"].startswith("coredns-")
    )
    for n, p in enumerate(c.pods_of("kube-system", "coredns")):
        cs = p["status"]["containerStatuses"][0]
        cs["restartCount"] = 6 + n * 3
        cs["state"] = {"running": {"startedAt": "2026-11-22T10:21:37Z"}}
        cs["lastState"] = {
            "terminated": {
                "containerID": "containerd://" + "7f" * 32,
                "exitCode": 0,
                "finishedAt": "2026-11-22T10:21:36Z",
                "reason": "Completed",
                "startedAt": "2026-11-22T09:58:02Z",
            }
        }
        ip = p["status"]["podIP"]
        c.event(
            p,
            "Unhealthy",
            f'Liveness probe failed: Get "http://{ip}:8080/health": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
            host=p["spec"]["nodeName"],
            count=41,
            first="2026-11-22T08:02:10Z",
        )
        c.event(
            p,
            "Killing",
            "Container coredns failed liveness probe, will be restarted",
            type_="Normal",
            host=p["spec"]["nodeName"],
            count=6 + n * 3,
            first="2026-11-22T08:03:00Z",
        )
    c.refresh_workload_status(dep, rs)
    checkout_payments(c)
    write(
        "coredns-cpu-throttled",
        c,
        title="CoreDNS CPU-throttled at 100m, logging every query, no cache",
        story=(
            "Latency spikes: p99 of checkout → payments jumps by 2–5 s at peak; logs show occasional "
            "`lookup payments-api.payments.svc.cluster.local: i/o timeout`. CoreDNS pods restart several times a day."
        ),
        fault=(
            "Deployment `kube-system/coredns` has `limits: {cpu: 100m, memory: 128Mi}`. The Corefile (ConfigMap "
            "`kube-system/coredns`) has `log` enabled (every query written to stdout) and no `cache` plugin, so "
            "every query goes to the kubernetes plugin or upstream. Under load the pods are CPU-throttled, "
            "liveness probes time out (events `Liveness probe failed ... context deadline exceeded`, `Killing`), "
            "and they restart (6 and 9 restarts)."
        ),
        cause="CoreDNS starved: CPU limit 100m (CFS throttling), `log` on, no `cache`; DNS latency and timeouts under load.",
        spec=spec_of(
            "CoreDNS CPU limit 100m, log on, no cache",
            "dns",
            **PAY_TRACE,
            verdict="warning",
            culprit="Deployment/kube-system/coredns",
            checks=["DNS104", "DNS105", "DNS107", "DNS108"],
        ),
        hops=[
            (
                "dns",
                "warning",
                "resolves (2 ready CoreDNS endpoints), but CoreDNS CPU limit 100m, restarts 6/9 (liveness probes time out while throttled), Corefile `log` on and no `cache`: slow and flaky under load",
            ),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready"),
        ],
        fix="Remove the CPU limit (keep the request), add `cache 30`, remove `log` (or log only errors with `errors`). Consider NodeLocal DNSCache. The 128Mi memory limit is not a fault here: the CoreDNS scaling guide estimates 54 MB for this cluster, and no pod was OOMKilled (the restarts are liveness kills).",
    )


@scenario
def ndots_external_amplification() -> None:
    c = std_cluster("ndots-external-amplification")
    checkout_payments(c)
    for o in c.objects:
        if o["kind"] in ("Deployment", "ReplicaSet") and o["metadata"]["name"].startswith(
            "checkout-web"
        ):
            o["spec"]["template"]["spec"]["containers"][0]["env"] = [
                *PAY_URL,
                {"name": "STRIPE_API", "value": "https://api.stripe.com"},
            ]
    for p in c.pods_of("checkout", "checkout-web"):
        p["spec"]["containers"][0]["env"] = [
            *PAY_URL,
            {"name": "STRIPE_API", "value": "https://api.stripe.com"},
        ]
    write(
        "ndots-external-amplification",
        c,
        title="ndots:5 turns every api.stripe.com lookup into 10 queries",
        story=(
            "CoreDNS QPS is 5× the request rate and checkout's Stripe calls have slow first bytes. checkout-web "
            "calls `https://api.stripe.com` (env `STRIPE_API`) on every payment."
        ),
        fault=(
            "checkout-web pods use the default `dnsPolicy: ClusterFirst` with no `dnsConfig`. The kubelet "
            "writes their resolv.conf as `nameserver 10.96.0.10`, `search checkout.svc.cluster.local "
            "svc.cluster.local cluster.local corp.example.internal` (the cluster suffixes plus the node's own "
            "search domain from `nodes/*/resolv.conf`) and `options ndots:5`. `api.stripe.com` has 2 dots (< 5), "
            "so the resolver first tries `api.stripe.com.checkout.svc.cluster.local`, "
            "`api.stripe.com.svc.cluster.local`, `api.stripe.com.cluster.local` and "
            "`api.stripe.com.corp.example.internal` — 4 wasted names, each NXDOMAIN — before the absolute name. "
            "With A and AAAA for each: 10 queries per lookup, 8 of them wasted. There is no NodeLocal DNSCache "
            "(no `node-local-dns` DaemonSet), so all of them hit CoreDNS."
        ),
        cause="ndots:5 search-list amplification for an external name; no NodeLocal DNSCache.",
        spec=spec_of(
            "ndots 5 amplification for an external name",
            "dns",
            src="checkout/checkout-web",
            dst="api.stripe.com",
            port=443,
            verdict="warning",
            culprit="Deployment/checkout/checkout-web",
            checks=["DNS111", "DNS113"],
            extra={
                "dns": {
                    "name": "api.stripe.com",
                    "ndots": 5,
                    "search": [
                        "checkout.svc.cluster.local",
                        "svc.cluster.local",
                        "cluster.local",
                        "corp.example.internal",
                    ],
                    "wasted_names": 4,
                    "queries_per_lookup": 10,
                }
            },
        ),
        hops=[
            (
                "dns",
                "warning",
                "`api.stripe.com` (2 dots < ndots 5): 4 search-suffixed names tried first, each NXDOMAIN; A and AAAA: 10 queries per lookup, 8 wasted",
            ),
            ("policy-egress", "ok", "no NetworkPolicy in checkout"),
        ],
        fix='Use the FQDN with a trailing dot (`api.stripe.com.`), or set `dnsConfig.options: [{name: ndots, value: "2"}]` on checkout-web; deploy NodeLocal DNSCache.',
        notes="A resolver that only knows the cluster suffixes (no node artifacts) counts 3 wasted names and 8 queries; with `nodes/*/resolv.conf` it must add the node's search domain (kubelet appends the host's search list for ClusterFirst).",
        node_kwargs={},
    )


# ---------------------------------------------------------------------- ingress / north-south
@scenario
def ingress_backend_port_missing() -> None:
    c = std_cluster("ingress-backend-port-missing")
    ingress_nginx(c)
    c.namespace("shop")
    http_app(
        c, "storefront", "shop", image="registry.example.com/shop/storefront:3.2.0", replicas=2
    )
    svc_for(c, "storefront", "shop", port=80)
    c.secret_ref("shop-example-com-tls", "shop", "kubernetes.io/tls")
    ingress(
        c,
        "storefront",
        "shop",
        host="shop.example.com",
        service="storefront",
        port=8080,
        tls_secret="shop-example-com-tls",
    )
    write(
        "ingress-backend-port-missing",
        c,
        title="Ingress backend port 8080 that the Service does not expose",
        story='https://shop.example.com returns `503 Service Temporarily Unavailable` from nginx since the Ingress was edited to "the app\'s port".',
        fault=(
            "Ingress `shop/storefront` backend is `service: {name: storefront, port: {number: 8080}}`. Service "
            "`shop/storefront` only exposes port 80 (targetPort `http` → 8080 on the pod). 8080 is the container "
            "port, not a Service port: ingress-nginx finds no such service port and serves 503."
        ),
        cause="The Ingress backend refers to the pod port (8080) instead of the Service port (80).",
        spec=spec_of(
            "Ingress backend service port not exposed by the Service",
            "ingress",
            src="external",
            dst="https://shop.example.com/",
            culprit="Ingress/shop/storefront",
            checks=["ING802"],
        ),
        hops=[
            ("loadbalancer", "ok", "203.0.113.10"),
            (
                "ingress",
                "**broken**",
                "backend storefront:8080 — Service shop/storefront has only port 80 (http)",
            ),
        ],
        fix="Set the backend `port.number: 80` (or `port.name: http`).",
    )


@scenario
def ingress_class_missing() -> None:
    c = std_cluster("ingress-class-missing")
    ingress_nginx(c)
    c.namespace("shop")
    http_app(
        c, "storefront", "shop", image="registry.example.com/shop/storefront:3.2.0", replicas=2
    )
    svc_for(c, "storefront", "shop", port=80)
    c.secret_ref("storefront-session-key", "shop", "Opaque")
    ing = ingress(
        c,
        "storefront",
        "shop",
        host="shop.example.com",
        service="storefront",
        port=80,
        cls="nginx-internal",
        tls_secret="shop-example-com-tls",
        lb_ip=None,
    )
    del ing
    write(
        "ingress-class-missing",
        c,
        title="Ingress class `nginx-internal` does not exist; TLS secret missing",
        story=(
            "A new Ingress for shop.example.com never gets an ADDRESS (`kubectl get ing` shows it empty) and the "
            "host does not answer. The manifest was copied from the staging cluster."
        ),
        fault=(
            "Ingress `shop/storefront` has `ingressClassName: nginx-internal`; the only IngressClass is `nginx` "
            "(controller `k8s.io/ingress-nginx`). No controller claims the Ingress, so it has no "
            "`status.loadBalancer`. Second fault in the same object: `spec.tls[0].secretName: "
            "shop-example-com-tls` does not exist in namespace shop (only `storefront-session-key` does); even "
            "with the class fixed, nginx would serve its fake default certificate."
        ),
        cause="IngressClass `nginx-internal` is undefined (staging name); the TLS secret was not created in this cluster.",
        spec=spec_of(
            "Ingress class undefined; TLS secret missing",
            "ingress",
            src="external",
            dst="https://shop.example.com/",
            culprit="Ingress/shop/storefront",
            checks=["ING801", "ING804"],
        ),
        hops=[
            (
                "ingress",
                "**broken**",
                "no IngressClass `nginx-internal` (have: nginx): no controller serves this Ingress; no address",
            ),
            ("ingress (tls)", "broken", "Secret shop/shop-example-com-tls not found"),
        ],
        fix="Set `ingressClassName: nginx`; create the TLS secret `shop-example-com-tls` (or a cert-manager Certificate).",
    )


@scenario
def loadbalancer_pending() -> None:
    c = std_cluster("loadbalancer-pending")
    checkout_payments(c)
    c.service(
        "payments-public",
        "payments",
        selector={"app": "payments-api"},
        ports=[{"name": "https", "port": 443, "protocol": "TCP", "targetPort": "http"}],
        type_="LoadBalancer",
        labels={"app": "payments-api"},
        extra_spec={"loadBalancerClass": "example.com/internal-lb"},
    )
    write(
        "loadbalancer-pending",
        c,
        title="LoadBalancer Service stuck <pending>: loadBalancerClass with no controller",
        story="Partners cannot reach the new payments endpoint: `kubectl get svc -n payments payments-public` shows EXTERNAL-IP `<pending>` for two days.",
        fault=(
            "Service `payments/payments-public` is `type: LoadBalancer` with `loadBalancerClass: "
            "example.com/internal-lb`. No controller in the cluster implements that class (the default cloud "
            "controller ignores Services with a loadBalancerClass), so `status.loadBalancer` stays `{}`."
        ),
        cause="loadBalancerClass `example.com/internal-lb` has no controller; the LoadBalancer never gets an address.",
        spec=spec_of(
            "LoadBalancer pending (loadBalancerClass without controller)",
            "loadbalancer",
            src="external",
            dst="payments/payments-public",
            port=443,
            culprit="Service/payments/payments-public",
            checks=["ING806"],
        ),
        hops=[
            (
                "loadbalancer",
                "**broken**",
                "status.loadBalancer is empty (pending); loadBalancerClass example.com/internal-lb is implemented by no controller here",
            ),
            ("service", "ok", "NodePort allocated; the Service itself works inside the cluster"),
            ("endpoints", "ok", "2 ready"),
        ],
        fix="Install the controller for `example.com/internal-lb`, or drop `loadBalancerClass` to use the default load balancer implementation.",
    )


@scenario
def gateway_api_broken() -> None:
    c = std_cluster("gateway-api-broken")
    c.namespace("envoy-gateway-system")
    c.deployment(
        "envoy-gateway",
        "envoy-gateway-system",
        labels={
            "control-plane": "envoy-gateway",
            "app.kubernetes.io/name": "gateway-helm",
            "app.kubernetes.io/instance": "eg",
        },
        containers=[
            c.container(
                "envoy-gateway",
                "docker.io/envoyproxy/gateway:v1.1.2",
                args=["server", "--config-path=/config/envoy-gateway.yaml"],
                ports=[
                    ("grpc", 18000, "TCP"),
                    ("ratelimit", 18001, "TCP"),
                    ("wasm", 18002, "TCP"),
                    ("metrics", 19001, "TCP"),
                ],
                readiness=http_probe("/readyz", 8081),
            )
        ],
        replicas=1,
    )
    c.namespace("infra")
    c.namespace("shop")
    http_app(
        c, "storefront", "shop", image="registry.example.com/shop/storefront:3.2.0", replicas=2
    )
    svc_for(c, "storefront", "shop", port=80)
    c.add(
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "GatewayClass",
            "metadata": c.meta("GatewayClass", "eg", None, generation=1),
            "spec": {"controllerName": "gateway.envoyproxy.io/gatewayclass-controller"},
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": "2026-11-02T09:31:00Z",
                        "message": "Valid GatewayClass",
                        "observedGeneration": 1,
                        "reason": "Accepted",
                        "status": "True",
                        "type": "Accepted",
                    }
                ]
            },
        }
    )
    c.add(
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "Gateway",
            "metadata": c.meta("Gateway", "public", "infra", generation=1),
            "spec": {
                "gatewayClassName": "eg",
                "listeners": [
                    {
                        "allowedRoutes": {"namespaces": {"from": "Same"}},
                        "name": "http",
                        "port": 80,
                        "protocol": "HTTP",
                    }
                ],
            },
            "status": {
                "addresses": [{"type": "IPAddress", "value": "203.0.113.20"}],
                "conditions": [
                    {
                        "lastTransitionTime": "2026-11-02T09:31:40Z",
                        "message": "The Gateway has been scheduled by Envoy Gateway",
                        "observedGeneration": 1,
                        "reason": "Accepted",
                        "status": "True",
                        "type": "Accepted",
                    },
                    {
                        "lastTransitionTime": "2026-11-02T09:31:52Z",
                        "message": "Address assigned to the Gateway, 1/1 envoy Deployment replicas available",
                        "observedGeneration": 1,
                        "reason": "Programmed",
                        "status": "True",
                        "type": "Programmed",
                    },
                ],
                "listeners": [
                    {
                        "attachedRoutes": 0,
                        "conditions": [
                            {
                                "lastTransitionTime": "2026-11-02T09:31:40Z",
                                "message": "Sending translated listener configuration to the data plane",
                                "observedGeneration": 1,
                                "reason": "Programmed",
                                "status": "True",
                                "type": "Programmed",
                            },
                            {
                                "lastTransitionTime": "2026-11-02T09:31:40Z",
                                "message": "Listener has been successfully translated",
                                "observedGeneration": 1,
                                "reason": "Accepted",
                                "status": "True",
                                "type": "Accepted",
                            },
                            {
                                "lastTransitionTime": "2026-11-02T09:31:40Z",
                                "message": "Listener references have been resolved",
                                "observedGeneration": 1,
                                "reason": "ResolvedRefs",
                                "status": "True",
                                "type": "ResolvedRefs",
                            },
                        ],
                        "name": "http",
                        "supportedKinds": [
                            {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"},
                            {"group": "gateway.networking.k8s.io", "kind": "GRPCRoute"},
                        ],
                    }
                ],
            },
        }
    )
    c.add(
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": c.meta("HTTPRoute", "storefront", "shop", generation=2),
            "spec": {
                "hostnames": ["shop.example.com"],
                "parentRefs": [
                    {
                        "group": "gateway.networking.k8s.io",
                        "kind": "Gateway",
                        "name": "public",
                        "namespace": "infra",
                    }
                ],
                "rules": [
                    {
                        "backendRefs": [
                            {
                                "group": "",
                                "kind": "Service",
                                "name": "storefront-v2",
                                "port": 80,
                                "weight": 1,
                            }
                        ],
                        "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    }
                ],
            },
            "status": {
                "parents": [
                    {
                        "conditions": [
                            {
                                "lastTransitionTime": "2026-11-21T15:02:09Z",
                                "message": "There are no listeners that allow routes from namespace shop",
                                "observedGeneration": 2,
                                "reason": "NotAllowedByListeners",
                                "status": "False",
                                "type": "Accepted",
                            },
                            {
                                "lastTransitionTime": "2026-11-21T15:02:09Z",
                                "message": "Service shop/storefront-v2 not found",
                                "observedGeneration": 2,
                                "reason": "BackendNotFound",
                                "status": "False",
                                "type": "ResolvedRefs",
                            },
                        ],
                        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
                        "parentRef": {
                            "group": "gateway.networking.k8s.io",
                            "kind": "Gateway",
                            "name": "public",
                            "namespace": "infra",
                        },
                    }
                ]
            },
        }
    )
    write(
        "gateway-api-broken",
        c,
        title="HTTPRoute not accepted by its Gateway and pointing at a missing Service",
        story="shop.example.com was moved from Ingress to Gateway API. The Gateway has an address (203.0.113.20) but answers 404 for shop.example.com.",
        fault=(
            "HTTPRoute `shop/storefront` has `parentRefs: [{name: public, namespace: infra}]`. Gateway "
            "`infra/public`'s only listener allows routes from `namespaces.from: Same` (infra only), so the "
            "route's `status.parents[0].conditions` has `Accepted: False, reason NotAllowedByListeners` "
            "(listener `attachedRoutes: 0`). Its backendRef `storefront-v2:80` names a Service that does not "
            "exist: `ResolvedRefs: False, reason BackendNotFound` (the Service is `storefront`)."
        ),
        cause="The route is not attached (listener allows only same-namespace routes) and its backend Service does not exist.",
        spec=spec_of(
            "HTTPRoute parent not accepted; backendRef not found",
            "ingress",
            src="external",
            dst="http://shop.example.com/",
            culprit="HTTPRoute/shop/storefront",
            checks=["ING808", "ING809"],
        ),
        hops=[
            ("loadbalancer", "ok", "Gateway infra/public Programmed, address 203.0.113.20"),
            (
                "ingress",
                "**broken**",
                "HTTPRoute shop/storefront Accepted=False (NotAllowedByListeners) on parent infra/public; ResolvedRefs=False (BackendNotFound: shop/storefront-v2)",
            ),
        ],
        fix="Set the listener's `allowedRoutes.namespaces.from: All` (or a selector matching shop) and point the backendRef at `storefront`.",
    )


# ---------------------------------------------------------------------- mesh
@scenario
def mesh_strict_mtls_outside_client() -> None:
    c = std_cluster("mesh-strict-mtls-outside-client")
    c.namespace("istio-system")
    c.deployment(
        "istiod",
        "istio-system",
        labels={"app": "istiod", "istio": "pilot"},
        containers=[
            c.container(
                "discovery",
                "docker.io/istio/pilot:1.23.2",
                args=[
                    "discovery",
                    "--monitoringAddr=:15014",
                    "--log_output_level=default:info",
                    "--domain",
                    "cluster.local",
                    "--keepaliveMaxServerConnectionAge",
                    "30m",
                ],
                ports=[
                    (None, 8080, "TCP"),
                    (None, 15010, "TCP"),
                    (None, 15012, "TCP"),
                    (None, 15014, "TCP"),
                    (None, 15017, "TCP"),
                ],
                readiness=http_probe("/ready", 8080, period=3, initial=1),
                resources={"requests": {"cpu": "500m", "memory": "2Gi"}},
            )
        ],
        replicas=1,
    )
    c.service(
        "istiod",
        "istio-system",
        selector={"app": "istiod", "istio": "pilot"},
        ports=[
            {"name": "grpc-xds", "port": 15010, "targetPort": 15010},
            {"name": "https-dns", "port": 15012, "targetPort": 15012},
            {"name": "https-webhook", "port": 443, "targetPort": 15017},
            {"name": "http-monitoring", "port": 15014, "targetPort": 15014},
        ],
        labels={"app": "istiod", "istio": "pilot"},
    )
    c.namespace("payments", {"istio-injection": "enabled"})
    c.namespace("legacy")
    sidecar = c.container(
        "istio-proxy",
        "docker.io/istio/proxyv2:1.23.2",
        args=[
            "proxy",
            "sidecar",
            "--domain",
            "$(POD_NAMESPACE).svc.cluster.local",
            "--proxyLogLevel=warning",
            "--proxyComponentLogLevel=misc:error",
            "--log_output_level=default:info",
        ],
        ports=[("http-envoy-prom", 15090, "TCP")],
        readiness={
            "failureThreshold": 4,
            "httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
            "periodSeconds": 15,
            "successThreshold": 1,
            "timeoutSeconds": 3,
        },
        resources={
            "limits": {"cpu": "2", "memory": "1Gi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        security_context={
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsGroup": 1337,
            "runAsNonRoot": True,
            "runAsUser": 1337,
        },
    )
    init = c.container(
        "istio-init",
        "docker.io/istio/proxyv2:1.23.2",
        args=[
            "istio-iptables",
            "-p",
            "15001",
            "-z",
            "15006",
            "-u",
            "1337",
            "-m",
            "REDIRECT",
            "-i",
            "*",
            "-x",
            "",
            "-b",
            "*",
            "-d",
            "15090,15021,15020",
            "--log_output_level=default:info",
        ],
        resources={
            "limits": {"cpu": "2", "memory": "1Gi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        security_context={
            "allowPrivilegeEscalation": False,
            "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
            "privileged": False,
            "readOnlyRootFilesystem": False,
            "runAsGroup": 0,
            "runAsNonRoot": False,
            "runAsUser": 0,
        },
    )
    _dep, _rs, pods = http_app(
        c, "payments-api", "payments", image=PAY_IMG, replicas=2, probe_path="/readyz"
    )
    svc_for(c, "payments-api", "payments", port=8080)
    # Pod 0 was injected (sidecar + init); pod 1 was created while the webhook was unreachable
    # (istiod restarting, webhook failurePolicy Ignore in this install): no sidecar.
    injected = pods[0]
    injected["metadata"]["labels"].update(
        {
            "security.istio.io/tlsMode": "istio",
            "service.istio.io/canonical-name": "payments-api",
            "service.istio.io/canonical-revision": "latest",
        }
    )
    injected["metadata"]["annotations"] = {
        "istio.io/rev": "default",
        "kubectl.kubernetes.io/default-container": "payments-api",
        "prometheus.io/path": "/stats/prometheus",
        "prometheus.io/port": "15020",
        "prometheus.io/scrape": "true",
        "sidecar.istio.io/status": '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}',
    }
    sc = dict(sidecar)
    sc["volumeMounts"] = [
        {"mountPath": "/var/run/secrets/istio", "name": "istiod-ca-cert"},
        {"mountPath": "/var/lib/istio/data", "name": "istio-data"},
    ] + injected["spec"]["containers"][0]["volumeMounts"]
    injected["spec"]["containers"].append(sc)
    injected["spec"]["initContainers"] = [init]
    injected["spec"]["volumes"] = [
        {"emptyDir": {"medium": "Memory"}, "name": "istio-envoy"},
        {"emptyDir": {}, "name": "istio-data"},
        {"configMap": {"defaultMode": 420, "name": "istio-ca-root-cert"}, "name": "istiod-ca-cert"},
    ] + injected["spec"]["volumes"]
    st = injected["status"]
    st["containerStatuses"].append(
        {
            "containerID": "containerd://" + "ab" * 32,
            "image": "docker.io/istio/proxyv2:1.23.2",
            "imageID": "docker.io/istio/proxyv2@sha256:" + "cd" * 32,
            "lastState": {},
            "name": "istio-proxy",
            "ready": True,
            "restartCount": 0,
            "started": True,
            "state": {"running": {"startedAt": st["startTime"]}},
        }
    )
    st["initContainerStatuses"] = [
        {
            "containerID": "containerd://" + "ef" * 32,
            "image": "docker.io/istio/proxyv2:1.23.2",
            "imageID": "docker.io/istio/proxyv2@sha256:" + "cd" * 32,
            "lastState": {},
            "name": "istio-init",
            "ready": True,
            "restartCount": 0,
            "started": False,
            "state": {
                "terminated": {
                    "containerID": "containerd://" + "ef" * 32,
                    "exitCode": 0,
                    "finishedAt": st["startTime"],
                    "reason": "Completed",
                    "startedAt": st["startTime"],
                }
            },
        }
    ]
    http_app(
        c,
        "billing-cron",
        "legacy",
        image="registry.example.com/legacy/billing-cron:0.9.4",
        replicas=1,
        env=PAY_URL,
    )
    c.crd_object(
        "security.istio.io/v1beta1",
        "PeerAuthentication",
        "default",
        "payments",
        {"mtls": {"mode": "STRICT"}},
    )
    c.crd_object(
        "networking.istio.io/v1beta1",
        "VirtualService",
        "payments-api",
        "payments",
        {
            "hosts": ["payment-api.payments.svc.cluster.local"],
            "http": [
                {
                    "retries": {
                        "attempts": 3,
                        "perTryTimeout": "2s",
                        "retryOn": "5xx,reset,connect-failure",
                    },
                    "route": [
                        {
                            "destination": {
                                "host": "payment-api.payments.svc.cluster.local",
                                "port": {"number": 8080},
                            }
                        }
                    ],
                    "timeout": "10s",
                }
            ],
        },
    )
    write(
        "mesh-strict-mtls-outside-client",
        c,
        title="STRICT mTLS in payments; the legacy client has no sidecar",
        story=(
            "The legacy billing job gets `connection reset by peer` from payments-api since the payments namespace "
            "turned on STRICT mTLS. Roughly half the requests from elsewhere behave differently from the other half."
        ),
        fault=(
            "- PeerAuthentication `payments/default` has `mtls.mode: STRICT`: sidecars in payments reject "
            "plaintext. The client `legacy/billing-cron` runs in namespace `legacy` with no `istio-injection` "
            "label and no `istio-proxy` container, so it speaks plaintext → reset by the server-side sidecar.\n"
            "- Namespace payments is labelled `istio-injection: enabled`, but one of the two payments-api pods "
            "has no `istio-proxy` container (no `sidecar.istio.io/status` annotation): it was created while "
            "injection did not happen. It accepts plaintext, so some requests from legacy succeed, which is "
            "why the failures look intermittent.\n"
            "- VirtualService `payments/payments-api` has host `payment-api.payments.svc.cluster.local` "
            "(typo: no such Service); its retries/timeouts never apply."
        ),
        cause="STRICT mTLS with a client outside the mesh (legacy/billing-cron has no sidecar); secondary: sidecar missing on one payments pod, VirtualService host matching no Service. "
        'What to change is the client: inject Deployment legacy/billing-cron (its pod template label `sidecar.istio.io/inject: "true"`). '
        "Relaxing `payments/default` to PERMISSIVE would admit every plaintext client of payments, so it is not the fix.",
        spec=spec_of(
            "STRICT mTLS with a client outside the mesh",
            "mesh",
            src="legacy/billing-cron",
            dst="payments/payments-api",
            port=8080,
            culprit="Deployment/legacy/billing-cron",
            checks=["MESH901", "MESH903", "MESH904"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready (one with sidecar, one without)"),
            ("policy-egress", "ok", "no NetworkPolicy"),
            ("policy-ingress", "ok", "no NetworkPolicy"),
            (
                "mesh",
                "**broken**",
                "payments/default PeerAuthentication STRICT; client legacy/billing-cron has no istio-proxy: plaintext is rejected by the sidecar of the injected pod",
            ),
        ],
        fix='Inject the client workload only: `kubectl -n legacy patch deployment billing-cron --type merge -p \'{"spec":{"template":{"metadata":{"labels":{"sidecar.istio.io/inject":"true"}}}}}\'` (this rolls its pods); restart the uninjected payments pod (`kubectl -n payments rollout restart deployment/payments-api`); fix the VirtualService host. Setting `payments/default` to PERMISSIVE would admit every plaintext client: not a fix.',
    )


# ---------------------------------------------------------------------- CNI / node dataplane
@scenario
def crossnode_mtu_vxlan() -> None:
    c = Cluster("crossnode-mtu-vxlan", cni="flannel")
    base(c)
    checkout_payments(c, pay_nodes=["worker-1"], chk_nodes=["worker-2"], chk_replicas=1)
    write(
        "crossnode-mtu-vxlan",
        c,
        title="Flannel VXLAN: pod MTU 1500 on worker-2 over a 1500-byte underlay",
        story=(
            "checkout-web (worker-2) → payments-api (worker-1): health checks and small requests work; payment "
            "requests with a large JSON body hang until timeout. From pods on worker-1 everything works."
        ),
        fault=(
            "Flannel VXLAN adds 50 bytes, so with eth0 MTU 1500 the pod MTU must be 1450. On worker-2 someone "
            'hand-edited `/etc/cni/net.d/10-flannel.conflist` to set `"mtu": 1500` in the delegate '
            "(`nodes/worker-2/cni/10-flannel.conflist`); `nodes/worker-2/ip-d-link.txt` shows cni0 and the pod "
            "veths at mtu 1500 while `flannel.1` (vxlan id 1, dstport 8472) is 1450 and eth0 is 1500. Pods on "
            "worker-2 send 1500-byte packets that cannot be encapsulated; with DF set and ICMP "
            "fragmentation-needed filtered on the path, large packets are black-holed. worker-1 is correct (1450 everywhere)."
        ),
        cause="MTU mismatch: pod MTU 1500 on worker-2 exceeds the VXLAN overlay's 1450 (1500 − 50).",
        spec=spec_of(
            "pod MTU larger than underlay minus VXLAN overhead on one node",
            "mtu",
            **PAY_TRACE,
            culprit="Node/worker-2",
            checks=["MTU501", "MTU502"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready on worker-1"),
            ("node", "ok", "worker-2 → worker-1, both Ready"),
            ("overlay", "ok", "flannel vxlan (50 bytes)"),
            (
                "mtu",
                "**broken**",
                "worker-2: cni0/veth mtu 1500 (10-flannel.conflist delegate mtu 1500) > eth0 1500 − 50 = 1450; worker-1: 1450",
            ),
        ],
        fix="Remove the `mtu` override from worker-2's conflist (flannel derives 1450 from `/run/flannel/subnet.env`), then recreate the pods on worker-2. Confirm with `ping -M do -s 1422 <pod-ip>` (works) and `-s 1472` (fails).",
        node_kwargs={"pod_mtu": {"worker-2": 1500}, "cni_mtu": {"worker-2": 1500}},
    )


@scenario
def cni_not_ready() -> None:
    c = Cluster("cni-not-ready")
    base(c)
    # calico-node on worker-2 is crash-looping: re-create the DaemonSet status and pod.
    ds = c.find("DaemonSet", "kube-system", "calico-node")
    cn = next(
        p for p in c.pods_of("kube-system", "calico-node") if p["spec"]["nodeName"] == "worker-2"
    )
    c.make_crashloop(cn, reason="Error", exit_code=1, restarts=14)
    ds["status"].update(numberAvailable=2, numberReady=2, numberUnavailable=1)
    c.event(
        cn,
        "Unhealthy",
        "Readiness probe failed: calico/node is not ready: BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket: dial unix /var/run/calico/bird.ctl: connect: connection refused",
        host="worker-2",
        count=87,
        first="2026-11-22T10:01:58Z",
    )
    c.event(
        cn,
        "BackOff",
        f"Back-off restarting failed container calico-node in pod {cn['metadata']['name']}_kube-system({cn['metadata']['uid']})",
        host="worker-2",
        count=52,
        first="2026-11-22T10:03:10Z",
    )
    c.set_node_not_ready(
        "worker-2",
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        network_unavailable=True,
    )
    _chk, pay, _svc = checkout_payments(
        c, pay_nodes=["worker-2"], chk_nodes=["worker-1"], pay_pending=True
    )
    # The node lifecycle controller marks every pod on a NotReady node not ready.
    kp = next(
        p for p in c.pods_of("kube-system", "kube-proxy") if p["spec"]["nodeName"] == "worker-2"
    )
    for cond in kp["status"]["conditions"]:
        if cond["type"] == "Ready":
            cond.update(status="False", lastTransitionTime="2026-11-22T10:02:36Z")
    c.find("DaemonSet", "kube-system", "kube-proxy")["status"].update(
        numberAvailable=2, numberReady=2, numberUnavailable=1
    )
    for p in pay:
        sandbox = "".join(
            f"{b:02x}" for b in bytes.fromhex(p["metadata"]["uid"].replace("-", "")) * 2
        )
        c.event(
            p,
            "FailedCreatePodSandBox",
            'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "'
            + sandbox
            + '": plugin type="calico" failed (add): error getting ClusterInformation: Get "https://10.96.0.1:443/apis/crd.projectcalico.org/v1/clusterinformations/default": dial tcp 10.96.0.1:443: connect: connection refused',
            host="worker-2",
            count=38,
            first="2026-11-22T10:06:41Z",
        )
    c.event(
        c.nodes["worker-2"],
        "NodeNotReady",
        "Node worker-2 status is now: NodeNotReady",
        type_="Normal",
        component="node-controller",
        first="2026-11-22T10:02:31Z",
        last="2026-11-22T10:02:31Z",
    )
    c.rebuild_slices()
    write(
        "cni-not-ready",
        c,
        title="calico-node not ready on worker-2: node NotReady, pods stuck ContainerCreating",
        story=(
            "After a kernel update on worker-2, the payments-api rollout hangs: both new pods sit in "
            "`ContainerCreating` on worker-2 and checkout gets `connection refused` (no endpoints)."
        ),
        fault=(
            "DaemonSet `kube-system/calico-node`: the pod on worker-2 is CrashLoopBackOff (14 restarts, "
            "readiness `BIRD is not ready`), so numberReady 2/3. Node worker-2 is `Ready: False` "
            "(`NetworkReady=false reason:NetworkPluginNotReady ... cni plugin not initialized`) and "
            "`NetworkUnavailable: True`. The payments-api pods scheduled to worker-2 are Pending / "
            "ContainerCreating with Warning events `FailedCreatePodSandBox ... failed to setup network for "
            'sandbox ... plugin type="calico" failed (add): ... connect: connection refused`. They have no IP, so the '
            "payments-api EndpointSlice is empty."
        ),
        cause="The CNI agent (calico-node) is down on worker-2: pod sandboxes cannot get a network, so payments-api has no endpoints.",
        spec=spec_of(
            "CNI daemonset not ready on one node; sandbox creation fails",
            "cni",
            **PAY_TRACE,
            culprit="DaemonSet/kube-system/calico-node",
            broken_layer="endpoints",
            checks=["CNI401", "CNI402", "CNI403", "SVC202"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            (
                "endpoints",
                "**broken**",
                "0 endpoints: both payments-api pods Pending/ContainerCreating on worker-2 with FailedCreatePodSandBox (calico connection refused)",
            ),
            (
                "cni",
                "**broken**",
                "calico-node not ready on worker-2; node worker-2 Ready False, NetworkUnavailable True",
            ),
        ],
        fix="Fix calico-node on worker-2 (`kubectl -n kube-system logs <calico-node pod> -c calico-node --previous`); once it is ready the sandboxes are created and the endpoints appear.",
        notes="`expected.broken_layer` is `endpoints` (the hop on the path that fails); `layer: cni` is the root cause, and the CNI hop/finding must name `DaemonSet/kube-system/calico-node`. "
        "`SVC202` (the Service selects pods but none is Ready) is a true consequence, not a false alarm: "
        "a pod without a sandbox never becomes Ready, so the EndpointSlice has no ready endpoint; the finding "
        "names calico-node as what to change.",
    )


@scenario
def pod_cidr_exhausted() -> None:
    c = Cluster("pod-cidr-exhausted", cni="flannel", nodes=("cp-1", "worker-1"), pod_cidr_prefix=26)
    base(c)
    c.namespace("media")
    dep, _rs, _thumbs = http_app(
        c,
        "thumbnailer",
        "media",
        image="registry.example.com/media/thumbnailer:4.0.3",
        replicas=57,
        nodes=["worker-1"],
        resources={"requests": {"cpu": "20m", "memory": "48Mi"}},
    )
    dep["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/last-scale"] = (
        "2026-11-22T10:05:12Z"
    )
    checkout_payments(c, pay_nodes=["worker-1"], chk_nodes=["worker-1"])
    used = c._next_ip["worker-1"] - 2
    assert used == 61, used  # 61 = every usable address of the /26
    # A new Deployment: none of its pods finds a free address.
    d, r, newpods = c.deployment(
        "invoice-renderer",
        "payments",
        labels={"app": "invoice-renderer"},
        containers=[
            c.container(
                "invoice-renderer",
                "registry.example.com/payments/invoice-renderer:1.4.0",
                ports=[("http", 8080, "TCP")],
            )
        ],
        replicas=3,
        nodes=["worker-1"],
        pending=True,
    )
    svc_for(c, "invoice-renderer", "payments", port=8080)
    cidr = c.node_cidr["worker-1"]
    pend = [p for p in newpods if p["status"]["phase"] == "Pending"]
    assert len(pend) == 3
    for p in pend:
        c.event(
            p,
            "FailedCreatePodSandBox",
            f'Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "{p["metadata"]["uid"].replace("-", "")}{p["metadata"]["uid"].replace("-", "")}": plugin type="flannel" failed (add): failed to delegate add: failed to allocate for range 0: no IP addresses available in range set: {cidr[1]}-{cidr[-2]}',
            host="worker-1",
            count=29,
            first="2026-11-22T10:07:55Z",
        )
    c.refresh_workload_status(d, r)
    c.rebuild_slices()
    running = sum(
        1
        for p in c.pods
        if p["spec"]["nodeName"] == "worker-1"
        and p["status"].get("podIP")
        and not p["spec"].get("hostNetwork")
    )
    write(
        "pod-cidr-exhausted",
        c,
        title="worker-1's /26 podCIDR is full while the node allows 110 pods",
        story=(
            "The thumbnailer was scaled to 57 replicas for a backlog. Right after, the new invoice-renderer "
            "Deployment never comes up: its 3 pods on worker-1 stay in ContainerCreating, checkout's calls to "
            "`invoice-renderer.payments:8080` get `connection refused` (no endpoints), and `kubectl describe pod` "
            "shows `no IP addresses available in range set`."
        ),
        fault=(
            f"The cluster allocates /26 pod CIDRs (`--node-cidr-mask-size=26`): worker-1 has `spec.podCIDR: {cidr}` "
            f"= 64 addresses, 61 usable by host-local (network, the cni0 gateway {cidr[1]} and broadcast excluded), "
            f"while `status.allocatable.pods` is 110. {running} pods on worker-1 hold pod IPs "
            f"({cidr[2]}–{cidr[-2]}); {len(pend)} invoice-renderer pods are Pending with Warning events "
            "`FailedCreatePodSandBox ... failed to allocate for range 0: no IP addresses available in range set`."
        ),
        cause="Pod CIDR exhaustion: a /26 per node cannot hold the 110 pods the kubelet allows. What to "
        "change is kube-controller-manager's `--node-cidr-mask-size=26` (its static pod, and kubeadm-config's "
        "`controllerManager.extraArgs`), and the nodes must be recreated: `spec.podCIDR` is immutable.",
        spec=spec_of(
            "node podCIDR exhausted (/26 with maxPods 110)",
            "ipam",
            src="checkout/checkout-web",
            dst="payments/invoice-renderer",
            port=8080,
            culprit="Pod/kube-system/kube-controller-manager-cp-1",
            checks=["CNI405", "CNI406", "CNI407", "SVC202"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            (
                "endpoints",
                "**broken**",
                "0 endpoints: the 3 invoice-renderer pods are Pending without an IP (FailedCreatePodSandBox: no IP addresses available in range set)",
            ),
            (
                "ipam",
                "**broken**",
                f"worker-1 podCIDR {cidr} (61 usable) is full; allocatable pods 110",
            ),
        ],
        fix="Allocate bigger node CIDRs (`--node-cidr-mask-size=24`, needs new nodes) or set the kubelet `maxPods` to what the CIDR holds (≤ 61) so the scheduler stops placing pods that cannot get an IP.",
        notes="Only worker-1 runs workloads (cp-1 is tainted). The cp-1 podCIDR is 10.244.0.0/26 and holds the CoreDNS pods. The path breaks at the endpoints hop; `expected.broken_layer` is `ipam`, where the cause is, and a trace must show an ipam hop naming the kube-controller-manager static pod whose flag cut the ranges (worker-1 in its evidence). "
        "`SVC202` (invoice-renderer selects 3 pods, none Ready) is a true consequence: pods that got no IP "
        "never start, so the Service has no ready endpoint; the finding names the kube-controller-manager pod.",
    )


@scenario
def kube_proxy_stale_rules() -> None:
    c = std_cluster("kube-proxy-stale-rules")
    _chk, pay, svc = checkout_payments(c, chk_nodes=["worker-1"], chk_replicas=1)
    w1 = next(p for p in pay if p["spec"]["nodeName"] == "worker-1")
    w2 = next(p for p in pay if p["spec"]["nodeName"] == "worker-2")
    # kube-proxy on worker-1 last synced before payments-api's pod on worker-2 was replaced:
    # its rules still point at the old pod IP and lack the new one.
    old_ip = "10.244.2.9"
    assert old_ip not in {p["status"].get("podIP") for p in c.pods}
    kp = next(
        p for p in c.pods_of("kube-system", "kube-proxy") if p["spec"]["nodeName"] == "worker-1"
    )
    override = {
        "worker-1": {
            "payments/payments-api:http": [
                (w1["status"]["podIP"], 8080, "worker-1"),
                (old_ip, 8080, "worker-2"),
            ]
        }
    }
    write(
        "kube-proxy-stale-rules",
        c,
        title="kube-proxy on worker-1 still DNATs to a deleted pod IP",
        story=(
            "Since payments-api's pod on worker-2 was rescheduled this morning, about half of checkout's calls "
            "from worker-1 time out; from worker-2 everything works. The EndpointSlice looks right."
        ),
        fault=(
            f"`nodes/worker-1/iptables-save.txt`: chain KUBE-SVC-… for `payments/payments-api:http` (ClusterIP "
            f"{svc['spec']['clusterIP']}:8080) balances 50/50 to KUBE-SEP chains for {w1['status']['podIP']}:8080 and "
            f"**{old_ip}:8080** — a pod IP that no longer exists. The current endpoint {w2['status']['podIP']}:8080 (pod "
            f"{w2['metadata']['name']} on worker-2) has no KUBE-SEP on worker-1. worker-2's rules match the slice. "
            "kube-proxy on worker-1 stopped applying its rules (nothing in the API shows it: the pod is Running "
            "with no restart; its log would show `iptables-restore` failures, e.g. xtables lock contention)."
        ),
        cause="Stale kube-proxy rules on worker-1: the dataplane does not match the EndpointSlice (old endpoint present, new endpoint missing). "
        "What to change is kube-proxy on worker-1 (its DaemonSet's pod there: restart it), not the node.",
        spec=spec_of(
            "kube-proxy iptables rules stale on one node",
            "kube-proxy",
            **PAY_TRACE,
            culprit="DaemonSet/kube-system/kube-proxy",
            intended=["iptables-matches-slices:worker-1"],
            checks=["KPX603"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready endpoints in the slice"),
            (
                "kube-proxy",
                "**broken**",
                f"worker-1 KUBE-SVC for payments/payments-api:http → {old_ip}:8080 (no such endpoint) and lacks {w2['status']['podIP']}:8080",
            ),
        ],
        fix="Restart kube-proxy on worker-1 (`kubectl -n kube-system delete pod "
        + kp["metadata"]["name"]
        + "`) and find out why it stopped syncing (its logs, `sync_proxy_rules_last_timestamp_seconds`).",
        node_kwargs={"iptables_override": override},
    )


@scenario
def conntrack_full() -> None:
    c = std_cluster("conntrack-full")
    checkout_payments(c, pay_nodes=["worker-2"], chk_nodes=["worker-1"], chk_replicas=1)
    write(
        "conntrack-full",
        c,
        title="conntrack table full on worker-2",
        story=(
            "Intermittent connection timeouts to payments-api under peak load; retries usually succeed. "
            "`dmesg` on worker-2 would show `nf_conntrack: table full, dropping packet`."
        ),
        fault=(
            "`nodes/worker-2/nf_conntrack_count` is 262000 and `nf_conntrack_max` is 262144 (99.9 %). "
            "`nodes/worker-2/conntrack-S.txt` shows `insert_failed` and `drop` > 0 on every CPU. New flows to "
            "payments-api pods (all on worker-2) are dropped when the table is full."
        ),
        cause="Conntrack table exhaustion on worker-2: new connections are dropped.",
        spec=spec_of(
            "conntrack table full with drops",
            "conntrack",
            **PAY_TRACE,
            culprit="Node/worker-2",
            checks=["CT701", "CT702"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready on worker-2"),
            ("node", "ok", "worker-1 → worker-2"),
            (
                "conntrack",
                "**broken**",
                "worker-2: 262000 / 262144 entries (99.9 % ≥ 95 % critical), insert_failed and drop counters > 0",
            ),
        ],
        fix="Raise `net.netfilter.nf_conntrack_max` (kube-proxy `conntrack.maxPerCore`), shorten `nf_conntrack_tcp_timeout_established`, and find the source of connection churn.",
        node_kwargs={
            "ct": {"worker-2": (262000, 262144)},
            "ct_counters": {
                "worker-2": {"insert_failed": 4 * 1931, "drop": 4 * 15862, "early_drop": 4 * 812}
            },
        },
    )


@scenario
def flannel_with_policies() -> None:
    c = Cluster("flannel-with-policies", cni="flannel")
    base(c)
    checkout_payments(c)
    c.namespace("legacy")
    http_app(
        c,
        "billing-cron",
        "legacy",
        image="registry.example.com/legacy/billing-cron:0.9.4",
        replicas=1,
        env=PAY_URL,
    )
    default_deny(c, "payments", ("Ingress",))
    allow_ingress_from(
        c,
        "allow-from-checkout",
        "payments",
        dst={"app": "payments-api"},
        src_ns="checkout",
        src={"app": "checkout-web"},
        port=8080,
    )
    write(
        "flannel-with-policies",
        c,
        title="NetworkPolicies on plain Flannel are not enforced",
        story=(
            "An audit finds that the legacy billing job can reach payments-api although payments has a "
            "default-deny ingress policy that only allows checkout. The policies were applied without error."
        ),
        fault=(
            "The CNI is plain Flannel (DaemonSet `kube-flannel/kube-flannel-ds`, ConfigMap `kube-flannel-cfg`, "
            "VXLAN), with no Calico/Canal, Cilium or other policy engine. Flannel does not implement "
            "NetworkPolicy: `payments/default-deny` and `payments/allow-from-checkout` are accepted by the API "
            "server and ignored by the dataplane."
        ),
        cause="NetworkPolicies exist but the CNI (plain Flannel) does not enforce them.",
        spec=spec_of(
            "NetworkPolicies present on a CNI that does not enforce them",
            "cni",
            src="legacy/billing-cron",
            dst="payments/payments-api",
            port=8080,
            verdict="warning",
            broken_layer="cni",
            culprit="DaemonSet/kube-flannel/kube-flannel-ds",
            checks=["POL308"],
        ),
        hops=[
            *dns_hops_ok(),
            ("service", "ok", ""),
            ("endpoints", "ok", "2 ready"),
            (
                "cni",
                "warning",
                "by the policies, payments/default-deny denies legacy/billing-cron; but plain Flannel (DaemonSet kube-flannel/kube-flannel-ds) does not enforce NetworkPolicy, so the traffic actually flows",
            ),
        ],
        fix="Install a policy engine (Canal = Flannel + Calico policy, or migrate to Calico/Cilium), then re-test the policies.",
    )


INDEX = """# Scenario clusters

Each folder is one small cluster as `kubectl get -A -o yaml` prints it
(`cluster.yaml`, a `kind: List`), optionally with `nodes/<node>/` artifacts
(`ip-route.txt`, `ip-d-link.txt`, `iptables-save.txt`, `conntrack-S.txt`,
`nf_conntrack_count`, `nf_conntrack_max`, `sysctl.txt`, `resolv.conf`,
`cni/*.conflist`), a `README.md` (story, fault, cause, trace query, expected
verdict per hop, fix) and a machine-readable `scenario.yaml`:

```yaml
fault: <one line>
layer: <layer of the root cause, or none>
intended_inconsistencies: [<invariant id>[:<node>], ...]   # see tests/test_scenarios_consistency.py
trace: {src: ns/workload | external, dst: ns/service | name | URL, port: N, protocol: TCP}
expected:
  verdict: ok | broken | warning
  broken_layer: <a layer that a broken hop of the trace must have>
  culprit: Kind/ns/name | Kind/name      # must appear in the evidence of a broken hop
scan:
  expect_rules: [RULE, ...]              # every listed rule must fire on this cluster, and
                                         # every error-level finding must be listed
```

Layers: dns, service, endpoints, target-port, policy-egress, policy-ingress,
node, overlay, mtu, kube-proxy, conntrack, ingress, loadbalancer, mesh, cni, ipam.

Base cluster (unless the scenario says otherwise): nodes cp-1 (192.168.10.10,
podCIDR 10.244.0.0/24, control plane, tainted), worker-1 (192.168.10.11,
10.244.1.0/24), worker-2 (192.168.10.12, 10.244.2.0/24); Kubernetes v1.30.4;
Calico v3.28 IPIP with host-local IPAM on the node podCIDRs (`calico-config`
veth_mtu 1480); kube-proxy iptables; CoreDNS 2 replicas on cp-1 (memory limit
256Mi), kube-dns 10.96.0.10; Service CIDR 10.96.0.0/12.

The files are generated: edit `_tools/gen.py` (scenarios) or `_tools/demo.py`
(the bundled demo in `src/netsleuth/data/demo/`) and run
`.venv/bin/python tests/scenarios/_tools/gen.py [name ...]`. Generation is
deterministic (uids, names and IPs derive from the scenario name).

| scenario | layer | expected | culprit |
| --- | --- | --- | --- |
"""


def main(argv: list[str], out: Path | None = None) -> None:
    """Write the named scenarios (all by default) under ``out`` (default: tests/scenarios)."""
    global ROOT
    if out is not None:
        ROOT = out
    names = argv or sorted(SCENARIOS)
    for n in names:
        SCENARIOS[n]()
        if out is None:
            print("wrote", n)
    rows = []
    for n in sorted(SCENARIOS):
        spec_file = ROOT / n / "scenario.yaml"
        if not spec_file.exists():
            continue
        import yaml

        sp = yaml.safe_load(spec_file.read_text())
        e = sp["expected"]
        rows.append(
            f"| [{n}]({n}/README.md) | {sp['layer']} | {e['verdict']}"
            + (f" at {e['broken_layer']}" if e.get("broken_layer") else "")
            + f" | {e.get('culprit', '')} |"
        )
    (ROOT / "README.md").write_text(INDEX + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Write the bad/good fixture folders of the DNS, SVC and POL checks.

Run ``python tests/checks/make_fixtures.py`` after changing a fixture here;
commit the YAML it writes. Each fixture is a small cluster dump: the bad one
holds exactly the fault its check names, the good one the same cluster with
the fault fixed, so the pair shows what the check keys on.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from fixture_builders import (
    Obj,
    config_map,
    container,
    daemon_pods,
    daemonset,
    deployment,
    endpoint_slice,
    event,
    namespace,
    network_policy,
    node,
    pod,
    port,
    replica_set,
    scheduled_event,
    service,
    svc_port,
)
from owner_chain import complete

FIXTURES = Path(__file__).parent / "fixtures"

NODES = (("node-a", "10.0.0.11", "10.244.0.0/24"), ("node-b", "10.0.0.12", "10.244.1.0/24"))

GOOD_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.1"
DNS_LABELS = {"k8s-app": "kube-dns"}


def coredns_container(limits: dict[str, str] | None = None) -> Obj:
    return container(
        "coredns",
        COREDNS_IMAGE,
        [port(53, "dns", "UDP"), port(53, "dns-tcp", "TCP"), port(9153, "metrics", "TCP")],
        args=["-conf", "/etc/coredns/Corefile"],
        limits=limits if limits is not None else {"cpu": "1", "memory": "512Mi"},
        requests={"cpu": "100m", "memory": "70Mi"},
    )


def control_plane() -> list[Obj]:
    """kubeadm's static control-plane pods on node-a (mirror pods owned by the Node) and its
    ClusterConfiguration, with the default flags."""
    n, ip, _cidr = NODES[0]
    out: list[Obj] = []
    for comp, image, flags in (
        ("etcd", "registry.k8s.io/etcd:3.5.12-0", ["--data-dir=/var/lib/etcd"]),
        (
            "kube-apiserver",
            "registry.k8s.io/kube-apiserver:v1.29.4",
            ["--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12"],
        ),
        (
            "kube-controller-manager",
            "registry.k8s.io/kube-controller-manager:v1.29.4",
            [
                "--allocate-node-cidrs=true",
                "--cluster-cidr=10.244.0.0/16",
                "--service-cluster-ip-range=10.96.0.0/12",
            ],
        ),
        ("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.29.4", ["--leader-elect=true"]),
    ):
        ctr = container(comp, image)
        ctr["command"] = [comp, *flags]
        p = pod(
            f"{comp}-{n}",
            "kube-system",
            {"component": comp, "tier": "control-plane"},
            [ctr],
            node_name=n,
            ip=ip,
            host_ip=ip,
            owner=("Node", n),
        )
        p["spec"]["hostNetwork"] = True
        p["metadata"]["annotations"] = {"kubernetes.io/config.source": "file"}
        out.append(p)
    out.append(
        config_map(
            "kubeadm-config",
            "kube-system",
            {
                "ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta3\n"
                "kind: ClusterConfiguration\nkubernetesVersion: v1.29.4\nnetworking:\n"
                "  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n"
                "  serviceSubnet: 10.96.0.0/12\n"
            },
        )
    )
    return out


def system(
    *,
    corefile: str = GOOD_COREFILE,
    limits: dict[str, str] | None = None,
    available: int = 2,
    dns_ready: bool = True,
    restarts: int = 0,
    last_reason: str | None = None,
    waiting_reason: str | None = None,
    with_dns_service: bool = True,
    nodelocal: str = "all",  # all, partial, none
    kernel: str = "5.15.0-91-generic",
    proxy_mode: str = "iptables",
) -> list[Obj]:
    """A healthy kube-system on two nodes (CoreDNS x2, kube-dns, NodeLocal DNSCache, kube-proxy, Calico)."""
    objs: list[Obj] = [namespace("kube-system"), namespace("default")]
    objs += [node(n, ip, cidr, kernel=kernel) for n, ip, cidr in NODES]
    c = coredns_container(limits)
    dep = deployment("coredns", "kube-system", DNS_LABELS, [c], replicas=2, available=available)
    objs += [dep, replica_set(dep, "5d78c9869d")]
    objs += control_plane()
    dns_pods = []
    for i, (n, ip, _cidr) in enumerate(NODES):
        name = f"coredns-5d78c9869d-{'ab'[i]}x7k2"
        dns_pods.append((f"10.244.{i}.2", name, n))
        objs.append(
            pod(
                name,
                "kube-system",
                {**DNS_LABELS, "pod-template-hash": "5d78c9869d"},
                [c],
                node_name=n,
                ip=f"10.244.{i}.2",
                host_ip=ip,
                ready=dns_ready,
                restarts=restarts,
                last_reason=last_reason,
                waiting_reason=waiting_reason,
                owner=("ReplicaSet", "coredns-5d78c9869d"),
            )
        )
    if with_dns_service:
        objs.append(
            service(
                "kube-dns",
                "kube-system",
                DNS_LABELS,
                [
                    svc_port(53, 53, "dns", "UDP"),
                    svc_port(53, 53, "dns-tcp", "TCP"),
                    svc_port(9153, 9153, "metrics"),
                ],
                cluster_ip="10.96.0.10",
            )
        )
        objs.append(
            endpoint_slice(
                "kube-dns",
                "kube-system",
                [(ip, p, n, dns_ready) for ip, p, n in dns_pods],
                [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    {"name": "metrics", "port": 9153, "protocol": "TCP"},
                ],
            )
        )
    objs.append(config_map("coredns", "kube-system", {"Corefile": corefile}))
    objs.append(
        config_map(
            "kube-proxy",
            "kube-system",
            {
                "config.conf": f'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "{proxy_mode}"\n'
            },
        )
    )
    for ds in (
        daemonset(
            "kube-proxy",
            "kube-system",
            {"k8s-app": "kube-proxy"},
            [container("kube-proxy", "registry.k8s.io/kube-proxy:v1.29.4")],
            desired=len(NODES),
        ),
        daemonset(
            "calico-node",
            "kube-system",
            {"k8s-app": "calico-node"},
            [container("calico-node", "docker.io/calico/node:v3.27.2")],
            desired=len(NODES),
        ),
    ):
        objs += [ds, *daemon_pods(ds, list(NODES))]
    if nodelocal != "none":
        nl = container(
            "node-cache",
            "registry.k8s.io/dns/k8s-dns-node-cache:1.22.28",
            [port(53, "dns", "UDP"), port(53, "dns-tcp", "TCP")],
        )
        on = NODES if nodelocal == "all" else NODES[:1]
        objs.append(
            daemonset(
                "node-local-dns",
                "kube-system",
                {"k8s-app": "node-local-dns"},
                [nl],
                desired=len(NODES),
                ready=len(on),
            )
        )
        for i, (n, ip, _cidr) in enumerate(NODES):
            if (n, ip, _cidr) not in on:
                continue
            p = pod(
                f"node-local-dns-{'pq'[i]}4h2k",
                "kube-system",
                {"k8s-app": "node-local-dns"},
                [nl],
                node_name=n,
                ip=ip,
                host_ip=ip,
                owner=("DaemonSet", "node-local-dns"),
            )
            p["spec"]["hostNetwork"] = True
            p["spec"]["dnsPolicy"] = "Default"
            objs.append(p)
    return objs


def app(
    name: str = "web",
    ns: str = "shop",
    *,
    labels: dict[str, str] | None = None,
    svc_selector: dict[str, str] | None = None,
    ports: list[Obj] | None = None,
    svc_ports: list[Obj] | None = None,
    ready: bool | list[bool] = True,
    replicas: int = 2,
    restarts: int = 0,
    env: dict[str, str] | None = None,
    image: str = "nginx:1.25",
    readiness: int | str | None = None,
    dns_options: list[Obj] | None = None,
    slice_ready: list[bool] | None = None,
    with_slice: bool = True,
    with_namespace: bool = True,
    svc_extra: dict[str, Any] | None = None,
    on_nodes: tuple[int, ...] | None = None,
    cluster_ip: str = "10.96.10.10",
    nodes: bool = True,
) -> list[Obj]:
    """A Deployment with ``replicas`` Running pods, its Service and EndpointSlice."""
    labels = labels or {"app": name}
    ports = ports if ports is not None else [port(8080, "http")]
    c = container(name, image, ports, env=env, readiness=readiness)
    objs: list[Obj] = []
    if with_namespace:
        objs.append(namespace(ns))
    if nodes:
        objs += [node(n, ip, cidr) for n, ip, cidr in NODES]
    dep = deployment(
        name,
        ns,
        labels,
        [c],
        replicas=replicas,
        dns_options=dns_options,
        available=sum(
            1 for i in range(replicas) if (ready[i] if isinstance(ready, list) else ready)
        ),
    )
    objs += [dep, replica_set(dep, "7c9f8b6d4")]
    eps = []
    for i in range(replicas):
        idx = on_nodes[i] if on_nodes else i % len(NODES)
        n, host_ip, _cidr = NODES[idx]
        ip = f"10.244.{idx}.{20 + i}"
        r = ready[i] if isinstance(ready, list) else ready
        pname = f"{name}-7c9f8b6d4-{'abcdefgh'[i]}k2x9"
        objs.append(
            pod(
                pname,
                ns,
                {**labels, "pod-template-hash": "7c9f8b6d4"},
                [c],
                node_name=n,
                ip=ip,
                host_ip=host_ip,
                ready=r,
                restarts=restarts,
                owner=("ReplicaSet", f"{name}-7c9f8b6d4"),
                dns_options=dns_options,
                waiting_reason=None,
            )
        )
        objs.append(scheduled_event(objs[-1]))
        eps.append((ip, pname, n, slice_ready[i] if slice_ready is not None else r))
    sp = svc_ports if svc_ports is not None else [svc_port(80, "http", "http")]
    selector = labels if svc_selector is None else svc_selector
    objs.append(service(name, ns, selector, sp, cluster_ip=cluster_ip, **(svc_extra or {})))
    if with_slice:
        matched = all(selector.get(k) == v for k, v in labels.items() if k in selector) and set(
            selector
        ) <= set(labels)
        slice_ports = [{"name": p.get("name"), "port": 8080, "protocol": p["protocol"]} for p in sp]
        objs.append(endpoint_slice(name, ns, eps if matched else [], slice_ports))
    return objs


FixtureFn = Callable[[], list[Obj]]
FIXTURES_BY_ID: dict[str, tuple[FixtureFn, FixtureFn]] = {}


def fixture(rule_id: str) -> Callable[[Callable[[bool], list[Obj]]], Callable[[bool], list[Obj]]]:
    def deco(fn: Callable[[bool], list[Obj]]) -> Callable[[bool], list[Obj]]:
        FIXTURES_BY_ID[rule_id] = (lambda: fn(True), lambda: fn(False))
        return fn

    return deco


# --------------------------------------------------------------------------- DNS


@fixture("DNS117")
def _dns117(bad: bool) -> list[Obj]:
    # The kubelet (and kubeadm's dnsDomain) say cluster.local; the bad Corefile serves only
    # corp.internal, so every pod's search list names a zone CoreDNS forwards upstream.
    corefile = GOOD_COREFILE
    if bad:
        corefile = corefile.replace(
            "kubernetes cluster.local in-addr", "kubernetes corp.internal in-addr"
        )
    kubelet = (
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "cgroupDriver: systemd\nclusterDNS:\n- 10.96.0.10\nclusterDomain: cluster.local\n"
    )
    return [
        *system(corefile=corefile),
        config_map("kubelet-config", "kube-system", {"kubelet": kubelet}),
    ]


@fixture("DNS101")
def _dns101(bad: bool) -> list[Obj]:
    return system(with_dns_service=not bad)


@fixture("DNS102")
def _dns102(bad: bool) -> list[Obj]:
    # The slices hold the CoreDNS pods as not ready (terminating), as during a rollout
    # whose new pods never become ready; the Deployment status still shows the old ones.
    objs = system()
    if bad:
        for o in objs:
            if o["kind"] == "EndpointSlice" and o["metadata"]["name"].startswith("kube-dns"):
                for e in o["endpoints"]:
                    e["conditions"] = {"ready": False, "serving": False, "terminating": True}
    return objs


@fixture("DNS103")
def _dns103(bad: bool) -> list[Obj]:
    return system(available=1 if bad else 2)


@fixture("DNS104")
def _dns104(bad: bool) -> list[Obj]:
    # crash-looping on a Corefile error (an OOMKill would be DNS106's too)
    return system(restarts=7 if bad else 0, last_reason="Error" if bad else None)


@fixture("DNS105")
def _dns105(bad: bool) -> list[Obj]:
    return system(
        limits={"cpu": "100m", "memory": "512Mi"} if bad else {"cpu": "500m", "memory": "512Mi"}
    )


@fixture("DNS106")
def _dns106(bad: bool) -> list[Obj]:
    # good: the upstream default (kubeadm, kind, k3s, EKS) of 170Mi, far above the scaling
    # guide's estimate for this cluster (54 MB); bad: a limit below the estimate.
    return system(limits={"memory": "48Mi"} if bad else {"memory": "170Mi"})


@fixture("DNS107")
def _dns107(bad: bool) -> list[Obj]:
    return system(corefile=GOOD_COREFILE.replace("    cache 30\n", "") if bad else GOOD_COREFILE)


@fixture("DNS108")
def _dns108(bad: bool) -> list[Obj]:
    return system(
        corefile=GOOD_COREFILE.replace("    errors\n", "    errors\n    log\n")
        if bad
        else GOOD_COREFILE
    )


@fixture("DNS109")
def _dns109(bad: bool) -> list[Obj]:
    target = "10.20.0.53 10.20.0.54" if bad else "8.8.8.8 1.1.1.1"
    return system(
        corefile=GOOD_COREFILE.replace("forward . /etc/resolv.conf", f"forward . {target}")
    )


@fixture("DNS110")
def _dns110(bad: bool) -> list[Obj]:
    # The bad case has no `loop` plugin (info); the node-file case is covered by
    # the nodes/ fixture in DNS110-stub (see test_dns_checks.py).
    return system(corefile=GOOD_COREFILE.replace("    loop\n", "") if bad else GOOD_COREFILE)


@fixture("DNS111")
def _dns111(bad: bool) -> list[Obj]:
    return system(nodelocal="none" if bad else "all")


@fixture("DNS112")
def _dns112(bad: bool) -> list[Obj]:
    return system(nodelocal="partial" if bad else "all")


@fixture("DNS113")
def _dns113(bad: bool) -> list[Obj]:
    opts = None if bad else [{"name": "ndots", "value": "2"}]
    return system() + app(
        "payments",
        "shop",
        env={
            "STRIPE_URL": "https://api.stripe.com/v1",
            "CART_URL": "http://cart.shop.svc.cluster.local:8080",
            "CONFIG_FILE": "/etc/app/config.yaml",
        },
        dns_options=opts,
        nodes=False,
    )


@fixture("DNS114")
def _dns114(bad: bool) -> list[Obj]:
    opts = None if bad else [{"name": "single-request-reopen"}]
    return system(nodelocal="none", kernel="4.14.262-200.489.amzn2.x86_64") + app(
        "orders", "shop", image="python:3.12-slim", dns_options=opts, nodes=False
    )


@fixture("DNS115")
def _dns115(bad: bool) -> list[Obj]:
    url = "http://payments:8080" if bad else "http://payments.payments-system:8080"
    return [
        *app("frontend", "web", env={"PAYMENTS_URL": url}),
        *app("payments", "payments-system", cluster_ip="10.96.12.10", nodes=False),
    ]


# --------------------------------------------------------------------------- SVC


@fixture("SVC201")
def _svc201(bad: bool) -> list[Obj]:
    return app("cart", svc_selector={"app": "cart-api"} if bad else {"app": "cart"})


@fixture("SVC202")
def _svc202(bad: bool) -> list[Obj]:
    return app("cart", ready=[False, False] if bad else [True, False])


@fixture("SVC203")
def _svc203(bad: bool) -> list[Obj]:
    return app("cart", ports=[port(8080, "web" if bad else "http")])


@fixture("SVC204")
def _svc204(bad: bool) -> list[Obj]:
    # bad: the app moved to 9090 (its declared port, its passing readiness probe and its PORT
    # env all say so) and the Service still targets 8080
    listen = 9090 if bad else 8080
    return app(
        "cart",
        ports=[port(listen, "http")],
        readiness=listen,
        env={"PORT": str(listen)},
        svc_ports=[svc_port(80, 8080, "http")],
    )


@fixture("SVC205")
def _svc205(bad: bool) -> list[Obj]:
    return app(
        "resolver",
        ports=[port(5353, "dns", "TCP"), port(5353, "dns-udp" if not bad else "dns-u", "UDP")]
        if not bad
        else [port(5353, "dns", "TCP")],
        svc_ports=[svc_port(53, 5353, "dns", "UDP")],
    )


@fixture("SVC206")
def _svc206(bad: bool) -> list[Obj]:
    return app("cart", ready=[True, False], slice_ready=[True, True] if bad else [True, False])


@fixture("SVC207")
def _svc207(bad: bool) -> list[Obj]:
    objs = app(
        "metrics-agent", svc_extra={"internalTrafficPolicy": "Local"}, replicas=1 if bad else 2
    )
    # clients on both nodes
    objs += app("frontend", cluster_ip="10.96.10.20", with_namespace=False, nodes=False)
    return objs


@fixture("SVC208")
def _svc208(bad: bool) -> list[Obj]:
    extra = {"externalTrafficPolicy": "Local"}
    objs = app("gateway", svc_extra=extra, replicas=1 if bad else 2)[
        :-2
    ]  # NodePort Service instead
    return [
        *objs,
        service(
            "gateway",
            "shop",
            {"app": "gateway"},
            [{**svc_port(80, "http", "http"), "nodePort": 30080}],
            cluster_ip="10.96.10.10",
            type_="NodePort",
            **extra,
        ),
    ]


@fixture("SVC209")
def _svc209(bad: bool) -> list[Obj]:
    return app("session", restarts=23 if bad else 0, svc_extra={"sessionAffinity": "ClientIP"})


@fixture("SVC210")
def _svc210(bad: bool) -> list[Obj]:
    spec = {
        "type": "ExternalName",
        "externalName": "10.20.30.40" if bad else "db.prod.example.com",
        "sessionAffinity": "None",
    }
    return [
        namespace("shop"),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "legacy-db", "namespace": "shop"},
            "spec": spec,
            "status": {"loadBalancer": {}},
        },
    ]


# --------------------------------------------------------------------------- POL

DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def _frontend_and_cart() -> list[Obj]:
    return app("cart") + app(
        "frontend", cluster_ip="10.96.10.20", with_namespace=False, nodes=False
    )


@fixture("POL301")
def _pol301(bad: bool) -> list[Obj]:
    objs = _frontend_and_cart()
    objs += app(
        "orders",
        "orders",
        cluster_ip="10.96.11.10",
        nodes=False,
        env={"CART_URL": "http://cart.shop.svc.cluster.local:80/api"},
    )
    peers: list[Obj] = [{"podSelector": {"matchLabels": {"app": "frontend"}}}]
    if not bad:
        peers.append(
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "orders"}}}
        )
    objs.append(
        network_policy(
            "allow-frontend",
            "shop",
            {"matchLabels": {"app": "cart"}},
            ingress=[{"from": peers, "ports": [{"protocol": "TCP", "port": 8080}]}],
        )
    )
    return objs


@fixture("POL302")
def _pol302(bad: bool) -> list[Obj]:
    egress = [] if bad else [{"to": [DNS_PEER], "ports": DNS_PORTS}]
    return (
        system()
        + app("cart", nodes=False)
        + [
            network_policy(
                "default-deny-egress", "shop", {}, egress=egress, policy_types=["Egress"]
            )
        ]
    )


@fixture("POL303")
def _pol303(bad: bool) -> list[Obj]:
    peer = {"namespaceSelector": {"matchLabels": {"name": "kube-system"}}} if bad else DNS_PEER
    return (
        system()
        + app("cart", nodes=False)
        + [
            network_policy(
                "default-deny-egress",
                "shop",
                {},
                egress=[{"to": [peer], "ports": DNS_PORTS}],
                policy_types=["Egress"],
            )
        ]
    )


@fixture("POL304")
def _pol304(bad: bool) -> list[Obj]:
    key = "name" if bad else "kubernetes.io/metadata.name"
    return [
        *app("cart"),
        namespace("monitoring"),
        network_policy(
            "allow-monitoring",
            "shop",
            {"matchLabels": {"app": "cart"}},
            ingress=[
                {
                    "from": [{"namespaceSelector": {"matchLabels": {key: "monitoring"}}}],
                    "ports": [{"protocol": "TCP", "port": 8080}],
                }
            ],
        ),
    ]


@fixture("POL305")
def _pol305(bad: bool) -> list[Obj]:
    return [
        *_frontend_and_cart(),
        network_policy(
            "allow-frontend",
            "shop",
            {"matchLabels": {"app": "cart"}},
            ingress=[
                {
                    "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
                    "ports": [{"protocol": "TCP", "port": 80 if bad else 8080}],
                }
            ],
        ),
    ]


def _with_sidecar(objs: list[Obj], app_name: str) -> list[Obj]:
    proxy = container(
        "istio-proxy", "docker.io/istio/proxyv2:1.21.0", [port(15090, "http-envoy-prom")]
    )
    for o in objs:
        if o["kind"] == "Pod" and o["metadata"]["name"].startswith(app_name):
            o["spec"]["containers"].append(proxy)
            o["status"]["containerStatuses"].append(
                {
                    **o["status"]["containerStatuses"][0],
                    "name": "istio-proxy",
                    "image": proxy["image"],
                }
            )
        if o["kind"] == "Deployment" and o["metadata"]["name"] == app_name:
            o["spec"]["template"]["spec"]["containers"].append(proxy)
    return objs


@fixture("POL306")
def _pol306(bad: bool) -> list[Obj]:
    objs = _with_sidecar(system() + app("cart", nodes=False), "cart")
    for o in objs:
        if o["kind"] == "Namespace" and o["metadata"]["name"] == "shop":
            o["metadata"]["labels"]["istio-injection"] = "enabled"
    objs += app(
        "istiod",
        "istio-system",
        labels={"app": "istiod"},
        cluster_ip="10.96.20.10",
        nodes=False,
        ports=[port(15012, "grpc-xds"), port(15017, "https-webhooks")],
        svc_ports=[svc_port(15012, 15012, "grpc-xds"), svc_port(443, 15017, "https-webhook")],
    )
    egress: list[Obj] = [{"to": [DNS_PEER], "ports": DNS_PORTS}]
    if not bad:
        egress.append(
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "istio-system"}
                        },
                        "podSelector": {"matchLabels": {"app": "istiod"}},
                    }
                ],
                "ports": [{"protocol": "TCP", "port": 15012}],
            }
        )
    objs.append(
        network_policy("restrict-egress", "shop", {}, egress=egress, policy_types=["Egress"])
    )
    return objs


@fixture("POL307")
def _pol307(bad: bool) -> list[Obj]:
    rules: list[Obj] = [
        {
            "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    if bad:
        rules.append({"from": [{"podSelector": {}}]})
    else:
        rules.append(
            {
                "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
                "ports": [{"protocol": "TCP", "port": 9090}],
            }
        )
    return [
        *_frontend_and_cart(),
        network_policy("allow-frontend", "shop", {"matchLabels": {"app": "cart"}}, ingress=rules),
    ]


@fixture("POL308")
def _pol308(bad: bool) -> list[Obj]:
    policy = network_policy(
        "allow-frontend",
        "shop",
        {"matchLabels": {"app": "cart"}},
        ingress=[
            {
                "from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }
        ],
    )
    if bad:
        flannel = daemonset(
            "kube-flannel-ds",
            "kube-flannel",
            {"app": "flannel"},
            [container("kube-flannel", "docker.io/flannel/flannel:v0.24.2")],
            desired=len(NODES),
        )
        return [*_frontend_and_cart(), namespace("kube-flannel"), flannel, policy]
    # the same cluster with Calico enforcing policy (system() runs calico-node)
    apps = app("cart", nodes=False) + app(
        "frontend", cluster_ip="10.96.10.20", with_namespace=False, nodes=False
    )
    return [*system(), *apps, policy]


@fixture("POL311")
def _pol311(bad: bool) -> list[Obj]:
    # payments allows legacy's billing job; an AdminNetworkPolicy (evaluated first) denies
    # ingress from namespace legacy to payments. Good: the ANP denies another namespace.
    objs = system() + app("payments-api", "payments", nodes=False)
    objs += app("billing", "legacy", cluster_ip="10.96.11.10", nodes=False)
    objs.append(
        network_policy(
            "allow-legacy-billing",
            "payments",
            {"matchLabels": {"app": "payments-api"}},
            ingress=[
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "legacy"}
                            },
                            "podSelector": {"matchLabels": {"app": "billing"}},
                        }
                    ],
                    "ports": [{"protocol": "TCP", "port": 8080}],
                }
            ],
        )
    )
    denied = "legacy" if bad else "sandbox"
    objs.append(
        {
            "apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "AdminNetworkPolicy",
            "metadata": {"name": "deny-to-payments"},
            "spec": {
                "priority": 10,
                "subject": {
                    "namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "payments"}}
                },
                "ingress": [
                    {
                        "name": "deny-from-" + denied,
                        "action": "Deny",
                        "from": [
                            {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": denied}}}
                        ],
                    }
                ],
            },
        }
    )
    return objs


@fixture("POL312")
def _pol312(bad: bool) -> list[Obj]:
    # written to restrict egress (DNS and the database), with Ingress copied into
    # policyTypes: the pods are isolated for ingress with no ingress rule
    policy = network_policy(
        "cart-egress",
        "shop",
        {"matchLabels": {"app": "cart"}},
        egress=[
            {
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                        },
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ],
        policy_types=["Ingress", "Egress"] if bad else ["Egress"],
    )
    return [*system(), *app("cart", nodes=False), policy]


@fixture("SVC211")
def _svc211(bad: bool) -> list[Obj]:
    # the liveness probe moved to 8081 in the manifest; the app serves /healthz on 8080
    objs = app("cart", ports=[port(8080, "http")], restarts=7 if bad else 0)
    for o in objs:
        if o["kind"] in ("Pod", "Deployment"):
            spec = o["spec"] if o["kind"] == "Pod" else o["spec"]["template"]["spec"]
            spec["containers"][0]["livenessProbe"] = {
                "httpGet": {"path": "/healthz", "port": 8081 if bad else "http", "scheme": "HTTP"},
                "periodSeconds": 10,
                "failureThreshold": 3,
            }
    if bad:
        objs += [
            event(
                o,
                "Unhealthy",
                'Liveness probe failed: Get "http://10.244.0.20:8081/healthz": dial tcp '
                "10.244.0.20:8081: connect: connection refused",
                count=21,
            )
            for o in objs
            if o["kind"] == "Pod"
        ]
    return objs


@fixture("SVC212")
def _svc212(bad: bool) -> list[Obj]:
    # blue/green: the Service was switched to green while green's pods are not Ready
    blue = app(
        "ledger-blue",
        labels={"app": "ledger", "version": "blue"},
        with_slice=False,
        cluster_ip="10.96.10.30",
    )
    green = app(
        "ledger-green",
        labels={"app": "ledger", "version": "green"},
        ready=False,
        with_namespace=False,
        nodes=False,
        with_slice=False,
        cluster_ip="10.96.10.31",
    )
    objs = [o for o in (*blue, *green) if o["kind"] != "Service"]
    side = "green" if bad else "blue"
    pods = [o for o in objs if o["kind"] == "Pod" and o["metadata"]["labels"]["version"] == side]
    objs.append(
        service(
            "ledger",
            "shop",
            {"app": "ledger", "version": side},
            [svc_port(80, "http", "http")],
            cluster_ip="10.96.10.10",
        )
    )
    objs.append(
        endpoint_slice(
            "ledger",
            "shop",
            [
                (
                    p["status"]["podIP"],
                    p["metadata"]["name"],
                    p["spec"]["nodeName"],
                    side == "blue",
                )
                for p in pods
            ],
            [{"name": "http", "port": 8080, "protocol": "TCP"}],
        )
    )
    return objs


@fixture("CNI413")
def _cni413(bad: bool) -> list[Obj]:
    # a pod got 10.96.10.10, the ClusterIP of Service shop/cart (a CNI pool overlapping
    # the Service CIDR)
    objs = app("cart") + app(
        "search", cluster_ip="10.96.10.20", with_namespace=False, nodes=False, replicas=1
    )
    for o in objs:
        if o["kind"] == "Pod" and o["metadata"]["name"].startswith("search-"):
            ip = "10.96.10.10" if bad else "10.244.0.40"
            o["status"]["podIP"], o["status"]["podIPs"] = ip, [{"ip": ip}]
        if o["kind"] == "EndpointSlice" and o["metadata"]["name"].startswith("search"):
            o["endpoints"][0]["addresses"] = ["10.96.10.10" if bad else "10.244.0.40"]
    return objs


@fixture("ING812")
def _ing812(bad: bool) -> list[Obj]:
    # ingress controller pods pinned to node-a, which kubeadm marks as excluded from load
    # balancers (a control-plane node); the Service keeps the client IP with Local
    objs = app(
        "edge",
        replicas=2,
        on_nodes=(0, 0) if bad else (0, 1),
        svc_extra={"externalTrafficPolicy": "Local", "type": "LoadBalancer"},
    )
    for o in objs:
        if o["kind"] == "Node" and o["metadata"]["name"] == "node-a":
            o["metadata"]["labels"]["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        if o["kind"] == "Service":
            o["spec"]["ports"][0]["nodePort"] = 31080
            o["spec"]["healthCheckNodePort"] = 32080
            o["status"] = {"loadBalancer": {"ingress": [{"ip": "203.0.113.20"}]}}
    return objs


# --------------------------------------------------------------------------- CNI


@fixture("CNI410")
def _cni410(bad: bool) -> list[Obj]:
    # Calico 3.18 (an IPAM race hands one IP to several pods under fast scale-up)
    # against the current release the other fixtures run.
    objs = system()
    if bad:
        for o in objs:
            if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "calico-node":
                o["spec"]["template"]["spec"]["containers"][0]["image"] = (
                    "docker.io/calico/node:v3.18.4"
                )
    return objs


# --------------------------------------------------------------------------- node-local agents


@fixture("KPX605")
def _kpx605(bad: bool) -> list[Obj]:
    # kube-proxy on node-b crash-loops (a bad ConfigMap edit): the DaemonSet counts 1 of 2
    # ready, and the pod's container waits in CrashLoopBackOff after 14 restarts.
    objs = system()
    if bad:
        for o in objs:
            if o["kind"] == "DaemonSet" and o["metadata"]["name"] == "kube-proxy":
                o["status"]["numberReady"] = 1
                o["status"]["numberAvailable"] = 1
                o["status"]["numberUnavailable"] = 1
            if (
                o["kind"] == "Pod"
                and o["metadata"]["name"].startswith("kube-proxy-")
                and o["spec"]["nodeName"] == "node-b"
            ):
                for c in o["status"]["conditions"]:
                    if c["type"] in ("Ready", "ContainersReady"):
                        c["status"] = "False"
                for st in o["status"]["containerStatuses"]:
                    st.update(
                        ready=False,
                        started=False,
                        restartCount=14,
                        state={"waiting": {"reason": "CrashLoopBackOff"}},
                        lastState={"terminated": {"reason": "Error", "exitCode": 1}},
                    )
    return objs


def dump(objs: list[Obj]) -> str:
    return "---\n".join(yaml.safe_dump(o, sort_keys=False, default_flow_style=False) for o in objs)


def main(argv: list[str] | None = None) -> int:
    only = set(argv or sys.argv[1:])
    for rule_id, (bad, good) in sorted(FIXTURES_BY_ID.items()):
        if only and rule_id not in only:
            continue
        for which, fn in (("bad", bad), ("good", good)):
            folder = FIXTURES / rule_id / which
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "cluster.yaml").write_text(dump(complete(fn())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Write the bundled demo cluster: src/netsleuth/data/demo/ (cluster.yaml, nodes/,
faults.yaml, README.md).

    .venv/bin/python tests/scenarios/_tools/demo.py
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from apps import (
    DNS_PORTS,
    allow_dns,
    default_deny,
    http_app,
    ingress,
    ingress_nginx,
    svc_for,
)
from kube import Cluster, Obj, dump_yaml, http_probe
from system import base, write_nodes

OUT = Path(__file__).resolve().parents[3] / "src" / "netsleuth" / "data" / "demo"
W1, W2, W3 = "worker-1", "worker-2", "worker-3"
REG = "registry.example.com"


def ns_peer(ns: str, pod: dict[str, str] | None = None) -> Obj:
    peer: Obj = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}
    if pod:
        peer["podSelector"] = {"matchLabels": pod}
    return peer


def tcp(port: int) -> list[Obj]:
    return [{"port": port, "protocol": "TCP"}]


def build() -> tuple[Cluster, list[dict[str, Any]]]:
    c = Cluster("demo", nodes=(W1, W2, W3))
    # CoreDNS with the kubeadm default memory limit (170Mi), OOMKilled under a query burst
    # (a zone-transfer-heavy cache): fault F5. The limit alone is no fault, the OOMKills are.
    base(c, coredns_memory="170Mi", static_pods=False, apiserver_ip="192.168.10.5")
    for n, p in enumerate(c.pods_of("kube-system", "coredns")):
        cs = p["status"]["containerStatuses"][0]
        cs["restartCount"] = 3 + n
        cs["state"] = {"running": {"startedAt": "2026-11-22T09:48:12Z"}}
        cs["lastState"] = {
            "terminated": {
                "containerID": "containerd://" + ("5e" if n else "4d") * 32,
                "exitCode": 137,
                "finishedAt": "2026-11-22T09:48:10Z",
                "reason": "OOMKilled",
                "startedAt": "2026-11-21T22:10:31Z",
            }
        }

    # ------------------------------------------------------------ ingress-nginx
    ingress_nginx(c, nodes=[W1], lb_ip="203.0.113.10")

    # ------------------------------------------------------------ shop
    c.namespace("shop", {"team": "shop"})
    http_app(
        c,
        "storefront",
        "shop",
        image=f"{REG}/shop/storefront:3.2.0",
        nodes=[W1],
        env=[
            {"name": "CART_URL", "value": "http://cart"},
            {"name": "CATALOG_URL", "value": "http://catalog"},
            {"name": "SEARCH_URL", "value": "http://search"},
            {"name": "RECOMMENDATIONS_URL", "value": "http://recommendations"},
            {"name": "REPORTS_URL", "value": "http://report-api.legacy"},
            {"name": "REDIS_ADDR", "value": "redis:6379"},
        ],
    )
    svc_for(c, "storefront", "shop", port=80)
    http_app(
        c,
        "cart",
        "shop",
        image=f"{REG}/shop/cart:1.8.0",
        nodes=[W1],
        env=[{"name": "PAYMENTS_URL", "value": "http://payments-api.payments:8080"}],
    )
    svc_for(c, "cart", "shop", port=80)
    http_app(c, "catalog", "shop", image=f"{REG}/shop/catalog:2.0.7", nodes=[W1, W2])
    svc_for(c, "catalog", "shop", port=80)
    # search runs on worker-2, the node with the MTU mismatch (F6).
    http_app(c, "search", "shop", image=f"{REG}/shop/search:0.14.2", nodes=[W2])
    svc_for(c, "search", "shop", port=80)
    # recommendations: the container names its port "web", the Service targets "http" (F3).
    http_app(
        c,
        "recommendations",
        "shop",
        image=f"{REG}/shop/recommendations:1.1.0",
        port_name="web",
        nodes=[W1],
    )
    svc_for(c, "recommendations", "shop", port=80, target="http")
    c.deployment(
        "redis",
        "shop",
        labels={"app": "redis"},
        containers=[
            c.container(
                "redis",
                "docker.io/library/redis:7.2.5",
                ports=[("redis", 6379, "TCP")],
                readiness={
                    "exec": {"command": ["redis-cli", "ping"]},
                    "failureThreshold": 3,
                    "periodSeconds": 10,
                    "successThreshold": 1,
                    "timeoutSeconds": 1,
                },
                resources={
                    "limits": {"memory": "512Mi"},
                    "requests": {"cpu": "100m", "memory": "256Mi"},
                },
            )
        ],
        replicas=1,
        nodes=[W1],
    )
    c.service(
        "redis",
        "shop",
        selector={"app": "redis"},
        ports=[{"name": "redis", "port": 6379, "targetPort": "redis"}],
        labels={"app": "redis"},
    )
    c.secret_ref("shop-example-com-tls", "shop", "kubernetes.io/tls")
    c.secret_ref("api-shop-example-com-tls", "shop", "kubernetes.io/tls")
    ingress(
        c,
        "storefront",
        "shop",
        host="shop.example.com",
        service="storefront",
        port=80,
        tls_secret="shop-example-com-tls",
    )
    # The catalog API Ingress points at the pod port, not the Service port (F4).
    ingress(
        c,
        "catalog-api",
        "shop",
        host="api.shop.example.com",
        service="catalog",
        port=8080,
        tls_secret="api-shop-example-com-tls",
    )
    default_deny(c, "shop")
    allow_dns(c, "shop")
    c.netpol(
        "allow-same-namespace",
        "shop",
        {
            "egress": [{"to": [{"podSelector": {}}]}],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        },
    )
    c.netpol(
        "allow-from-ingress-nginx",
        "shop",
        {
            "ingress": [{"from": [ns_peer("ingress-nginx")], "ports": tcp(8080)}],
            "podSelector": {
                "matchExpressions": [
                    {"key": "app", "operator": "In", "values": ["storefront", "catalog"]}
                ]
            },
            "policyTypes": ["Ingress"],
        },
    )
    c.netpol(
        "allow-egress-payments",
        "shop",
        {
            "egress": [{"ports": tcp(8080), "to": [ns_peer("payments", {"app": "payments-api"})]}],
            "podSelector": {"matchLabels": {"app": "cart"}},
            "policyTypes": ["Egress"],
        },
    )
    c.netpol(
        "allow-egress-legacy-reports",
        "shop",
        {
            "egress": [{"ports": tcp(8080), "to": [ns_peer("legacy", {"app": "report-api"})]}],
            "podSelector": {"matchLabels": {"app": "storefront"}},
            "policyTypes": ["Egress"],
        },
    )

    # ------------------------------------------------------------ payments
    c.namespace("payments", {"team": "payments", "pci": "true"})
    http_app(
        c,
        "payments-api",
        "payments",
        image=f"{REG}/payments/payments-api:2.14.1",
        nodes=[W3],
        probe_path="/readyz",
        env=[
            {"name": "FRAUD_URL", "value": "http://fraud-check:8080"},
            {"name": "LEDGER_URL", "value": "http://ledger:8080"},
        ],
    )
    svc_for(c, "payments-api", "payments", port=8080)
    # fraud-check's pods were relabelled app=fraud-detector; the Service still selects app=fraud-check (F1).
    http_app(
        c,
        "fraud-check",
        "payments",
        image=f"{REG}/payments/fraud-detector:4.0.0",
        nodes=[W3],
        labels={"app": "fraud-detector", "app.kubernetes.io/name": "fraud-detector"},
    )
    svc_for(c, "fraud-check", "payments", port=8080, selector={"app": "fraud-check"})
    http_app(c, "ledger", "payments", image=f"{REG}/payments/ledger:7.3.0", nodes=[W3])
    svc_for(c, "ledger", "payments", port=8080)
    default_deny(c, "payments")
    allow_dns(c, "payments")
    c.netpol(
        "allow-same-namespace",
        "payments",
        {
            "egress": [{"to": [{"podSelector": {}}]}],
            "ingress": [{"from": [{"podSelector": {}}]}],
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
        },
    )
    c.netpol(
        "allow-payments-api-clients",
        "payments",
        {
            "ingress": [
                {
                    "from": [
                        ns_peer("shop", {"app": "cart"}),
                        ns_peer("legacy", {"app": "billing-cron"}),
                    ],
                    "ports": tcp(8080),
                }
            ],
            "podSelector": {"matchLabels": {"app": "payments-api"}},
            "policyTypes": ["Ingress"],
        },
    )

    # ------------------------------------------------------------ legacy
    c.namespace("legacy", {"team": "finance"})
    http_app(
        c,
        "billing-cron",
        "legacy",
        image=f"{REG}/legacy/billing-cron:0.9.4",
        replicas=1,
        nodes=[W2],
        env=[
            {"name": "PAYMENTS_URL", "value": "http://payments-api.payments.svc.cluster.local:8080"}
        ],
    )
    http_app(c, "report-api", "legacy", image=f"{REG}/legacy/report-api:1.22.0", nodes=[W1])
    svc_for(c, "report-api", "legacy", port=80)
    c.netpol("default-deny-egress", "legacy", {"podSelector": {}, "policyTypes": ["Egress"]})
    # Copied from an old blog post: kube-system has no `name` label (F2).
    c.netpol(
        "allow-dns",
        "legacy",
        {
            "egress": [
                {
                    "ports": DNS_PORTS,
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                }
            ],
            "podSelector": {},
            "policyTypes": ["Egress"],
        },
    )
    c.netpol(
        "allow-egress-payments",
        "legacy",
        {
            "egress": [{"ports": tcp(8080), "to": [ns_peer("payments", {"app": "payments-api"})]}],
            "podSelector": {"matchLabels": {"app": "billing-cron"}},
            "policyTypes": ["Egress"],
        },
    )
    c.netpol("default-deny-ingress", "legacy", {"podSelector": {}, "policyTypes": ["Ingress"]})
    # Allows the Service port 80; after DNAT the packets arrive on 8080 (F9).
    c.netpol(
        "allow-from-shop",
        "legacy",
        {
            "ingress": [{"from": [ns_peer("shop", {"app": "storefront"})], "ports": tcp(80)}],
            "podSelector": {"matchLabels": {"app": "report-api"}},
            "policyTypes": ["Ingress"],
        },
    )

    # ------------------------------------------------------------ monitoring
    c.namespace("monitoring", {"team": "platform"})
    c.deployment(
        "prometheus-server",
        "monitoring",
        labels={"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/component": "server"},
        containers=[
            c.container(
                "prometheus-server",
                "quay.io/prometheus/prometheus:v2.54.1",
                args=[
                    "--storage.tsdb.retention.time=15d",
                    "--config.file=/etc/config/prometheus.yml",
                    "--storage.tsdb.path=/data",
                    "--web.enable-lifecycle",
                ],
                ports=[(None, 9090, "TCP")],
                readiness=http_probe("/-/ready", 9090, period=5, failure=3, initial=30),
                resources={
                    "limits": {"memory": "4Gi"},
                    "requests": {"cpu": "500m", "memory": "2Gi"},
                },
            )
        ],
        replicas=1,
        nodes=[W1],
    )
    c.service(
        "prometheus-server",
        "monitoring",
        selector={"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/component": "server"},
        ports=[{"name": "http", "port": 80, "targetPort": 9090}],
        labels={"app.kubernetes.io/name": "prometheus"},
    )
    c.deployment(
        "grafana",
        "monitoring",
        labels={"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana"},
        containers=[
            c.container(
                "grafana",
                "docker.io/grafana/grafana:11.2.0",
                ports=[("grafana", 3000, "TCP")],
                readiness=http_probe("/api/health", 3000),
            )
        ],
        replicas=1,
        nodes=[W2],
    )
    # Copied from the AWS cluster: nothing here implements service.k8s.aws/nlb (F8).
    c.service(
        "grafana",
        "monitoring",
        selector={"app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": "grafana"},
        ports=[{"name": "service", "port": 80, "targetPort": "grafana"}],
        type_="LoadBalancer",
        labels={"app.kubernetes.io/name": "grafana"},
        annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"},
        extra_spec={"loadBalancerClass": "service.k8s.aws/nlb"},
    )
    c.deployment(
        "kube-state-metrics",
        "monitoring",
        labels={"app.kubernetes.io/name": "kube-state-metrics"},
        containers=[
            c.container(
                "kube-state-metrics",
                "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0",
                ports=[("http", 8080, "TCP")],
                readiness=http_probe("/readyz", 8081),
            )
        ],
        replicas=1,
        nodes=[W3],
    )
    c.service(
        "kube-state-metrics",
        "monitoring",
        selector={"app.kubernetes.io/name": "kube-state-metrics"},
        ports=[{"name": "http", "port": 8080, "targetPort": "http"}],
        labels={"app.kubernetes.io/name": "kube-state-metrics"},
    )
    c.deployment(
        "blackbox-exporter",
        "monitoring",
        labels={"app.kubernetes.io/name": "prometheus-blackbox-exporter"},
        containers=[
            c.container(
                "blackbox-exporter",
                "quay.io/prometheus/blackbox-exporter:v0.25.0",
                ports=[("http", 9115, "TCP")],
                readiness=http_probe("/-/healthy", "http"),
            )
        ],
        replicas=1,
        nodes=[W2],
    )
    c.daemonset(
        "prometheus-node-exporter",
        "monitoring",
        labels={"app.kubernetes.io/name": "prometheus-node-exporter"},
        containers=[
            c.container(
                "node-exporter",
                "quay.io/prometheus/node-exporter:v1.8.2",
                args=[
                    "--path.procfs=/host/proc",
                    "--path.sysfs=/host/sys",
                    "--web.listen-address=:9100",
                ],
                ports=[("metrics", 9100, "TCP")],
                readiness=http_probe("/", 9100),
                resources={},
            )
        ],
        priority_class=None,
        created="2026-10-01T12:00:00Z",
    )

    faults: list[dict[str, Any]] = [
        {
            "id": "F1-label-drift",
            "title": "Service payments/fraud-check selects app=fraud-check; its pods are labelled app=fraud-detector",
            "layer": "service",
            "culprit": "Service/payments/fraud-check",
            "trace": {"src": "payments/payments-api", "dst": "payments/fraud-check", "port": 8080},
            "expected_verdict": "broken",
            "expected_broken_layer": "service",
            "rules": ["SVC201"],
        },
        {
            "id": "F2-dns-blocked-by-egress-policy",
            "title": "legacy is default-deny egress and its allow-dns selects kube-system by `name: kube-system`, a label it lacks",
            "layer": "policy-egress",
            "culprit": "NetworkPolicy/legacy/allow-dns",
            "trace": {"src": "legacy/billing-cron", "dst": "payments/payments-api", "port": 8080},
            "expected_verdict": "broken",
            "expected_broken_layer": "dns",
            "rules": ["POL303"],
        },
        {
            "id": "F3-named-port-undeclared",
            "title": "Service shop/recommendations targets port `http`; the container names its port `web`",
            "layer": "target-port",
            "culprit": "Service/shop/recommendations",
            "trace": {"src": "shop/storefront", "dst": "shop/recommendations", "port": 80},
            "expected_verdict": "broken",
            "expected_broken_layer": "target-port",
            "rules": ["SVC203"],
        },
        {
            "id": "F4-ingress-backend-port-missing",
            "title": "Ingress shop/catalog-api routes to catalog:8080; the Service exposes only 80",
            "layer": "ingress",
            "culprit": "Ingress/shop/catalog-api",
            "trace": {"src": "external", "dst": "https://api.shop.example.com/"},
            "expected_verdict": "broken",
            "expected_broken_layer": "ingress",
            "rules": ["ING802"],
        },
        {
            "id": "F5-coredns-oomkilled",
            "title": "CoreDNS was OOMKilled at its 170Mi memory limit (3 and 4 restarts)",
            "layer": "dns",
            "culprit": "Deployment/kube-system/coredns",
            "expected_verdict": "warning",
            "expected_broken_layer": "dns",
            "rules": ["DNS104", "DNS106"],
        },
        {
            "id": "F6-mtu-mismatch-worker-2",
            "title": "worker-2's Calico CNI config and pod veths use MTU 1500 over IPIP on a 1500-byte underlay (should be 1480)",
            "layer": "mtu",
            "culprit": "Node/worker-2",
            "trace": {"src": "shop/storefront", "dst": "shop/search", "port": 80},
            "expected_verdict": "broken",
            "expected_broken_layer": "mtu",
            "rules": ["MTU501", "MTU502"],
        },
        {
            "id": "F7-conntrack-near-full-worker-3",
            "title": "worker-3's conntrack table is 95.7 % full with insert_failed/drop counters rising",
            "layer": "conntrack",
            "culprit": "Node/worker-3",
            "trace": {"src": "shop/cart", "dst": "payments/payments-api", "port": 8080},
            "expected_verdict": "broken",
            "expected_broken_layer": "conntrack",
            "rules": ["CT701", "CT702"],
        },
        {
            "id": "F8-loadbalancer-pending",
            "title": "Service monitoring/grafana is a LoadBalancer of class service.k8s.aws/nlb, which nothing here implements",
            "layer": "loadbalancer",
            "culprit": "Service/monitoring/grafana",
            "trace": {"src": "external", "dst": "monitoring/grafana", "port": 80},
            "expected_verdict": "broken",
            "expected_broken_layer": "loadbalancer",
            "rules": ["ING806"],
        },
        {
            "id": "F9-policy-uses-service-port",
            "title": "legacy/allow-from-shop allows port 80 (the Service port); report-api listens on 8080",
            "layer": "policy-ingress",
            "culprit": "NetworkPolicy/legacy/allow-from-shop",
            "trace": {"src": "shop/storefront", "dst": "legacy/report-api", "port": 80},
            "expected_verdict": "broken",
            "expected_broken_layer": "policy-ingress",
            "rules": ["POL305"],
        },
    ]
    return c, faults


README = """# The netsleuth demo cluster

`netsleuth demo` loads this folder: a small production-like cluster as
`kubectl get -A -o yaml` prints it (`cluster.yaml`) plus what the nodes' own
tools print (`nodes/<node>/`: `ip route`, `ip -d link`, `iptables-save`,
`conntrack -S`, the conntrack count and max, sysctls, resolv.conf and the CNI
config). `faults.yaml` lists the planted faults in machine-readable form.

## The cluster

- 3 worker nodes on a managed control plane (API server 192.168.10.5):
  worker-1 (192.168.10.10, podCIDR 10.244.0.0/24), worker-2 (192.168.10.11,
  10.244.1.0/24), worker-3 (192.168.10.12, 10.244.2.0/24); Kubernetes v1.30.4,
  containerd 1.7.20, Debian 12.
- CNI: Calico v3.28 (`calico-node` DaemonSet, `calico-config` with
  `veth_mtu: 1480`, IPIP over `tunl0`, host-local IPAM on the node podCIDRs).
  Calico enforces NetworkPolicy.
- kube-proxy in iptables mode (`kube-proxy` ConfigMap, `mode: "iptables"`).
- CoreDNS: 2 replicas behind `kube-dns` (10.96.0.10).
- ingress-nginx (2 controllers on worker-1, LoadBalancer 203.0.113.10,
  IngressClass `nginx`), Ingresses for shop.example.com and api.shop.example.com.
- Namespaces: kube-system, ingress-nginx, shop, payments, legacy, monitoring
  (plus default, kube-public, kube-node-lease). __PODS__ pods.
- shop: storefront → cart, catalog, search, recommendations, redis;
  cart → payments/payments-api; storefront → legacy/report-api.
  payments: payments-api → fraud-check, ledger. legacy: billing-cron →
  payments/payments-api. monitoring: Prometheus, Grafana, kube-state-metrics,
  blackbox exporter, node exporter.
- NetworkPolicies: shop and payments are default-deny (ingress and egress)
  with a correct DNS allow, same-namespace allows and explicit cross-namespace
  allows; legacy is default-deny egress and default-deny ingress.

## Healthy paths (the trace must say ok)

```
netsleuth trace shop/storefront shop/cart:80            # same node (worker-1), policies allow it
netsleuth trace external https://shop.example.com/      # ingress-nginx → storefront
netsleuth trace shop/storefront shop/redis:6379
```

## Planted faults

| id | layer | culprit | what is wrong | trace |
| --- | --- | --- | --- | --- |
__ROWS__

### Details

- **F1-label-drift**: `Service/payments/fraud-check` has `selector: {app: fraud-check}`.
  The fraud-check Deployment was renamed in its chart to fraud-detector and its pods now
  carry `app: fraud-detector`; the EndpointSlice is empty. payments-api's calls to
  `http://fraud-check:8080` get connection refused.
- **F2-dns-blocked-by-egress-policy**: `legacy/default-deny-egress` isolates every legacy
  pod for egress; `legacy/allow-dns` allows UDP/TCP 53 only to pods `k8s-app=kube-dns` in
  namespaces labelled `name=kube-system`. kube-system carries only
  `kubernetes.io/metadata.name=kube-system`, so DNS from legacy times out (billing-cron
  cannot resolve payments-api although `allow-egress-payments` and payments'
  `allow-payments-api-clients` allow the TCP connection).
- **F3-named-port-undeclared**: `Service/shop/recommendations` port 80 → `targetPort: http`;
  the recommendations container declares `ports: [{name: web, containerPort: 8080}]`.
  The EndpointSlice lists both ready pods with `ports: null`.
- **F4-ingress-backend-port-missing**: `Ingress/shop/catalog-api` backend
  `service: {name: catalog, port: {number: 8080}}`; Service shop/catalog only exposes 80.
  https://api.shop.example.com answers 503.
- **F5-coredns-oomkilled**: `Deployment/kube-system/coredns` keeps the kubeadm default
  `limits.memory: 170Mi`, and both pods were OOMKilled (last state `OOMKilled`, exit 137,
  3 and 4 restarts). The default limit is not a fault by itself (the scaling guide estimates
  54 MB for this cluster); the OOMKills are. Both pods are ready again: a scan warns. Scan
  only: no trace.
- **F6-mtu-mismatch-worker-2**: worker-2 was built from an old image whose
  `/etc/cni/net.d/10-calico.conflist` has `"mtu": 1500`; its `cali*` veths are at 1500
  (`nodes/worker-2/ip-d-link.txt`) while `tunl0` is 1480 and eth0 is 1500 (IPIP adds 20).
  worker-1 and worker-3 use 1480 like `calico-config` says. storefront (worker-1) → search
  (worker-2): responses bigger than 1480 bytes from search are black-holed.
- **F7-conntrack-near-full-worker-3**: `nodes/worker-3/nf_conntrack_count` 250880 of
  `nf_conntrack_max` 262144 (95.7 %, critical ≥ 95 %); `conntrack -S` shows insert_failed
  and drop on every CPU. cart → payments-api (all payments pods run on worker-3) sees
  intermittent connect timeouts.
- **F8-loadbalancer-pending**: `Service/monitoring/grafana` is `type: LoadBalancer` with
  `loadBalancerClass: service.k8s.aws/nlb` (copied from the AWS cluster); no controller
  implements that class here, so `status.loadBalancer` is `{}` (EXTERNAL-IP `<pending>`).
- **F9-policy-uses-service-port**: `legacy/default-deny-ingress` isolates report-api;
  `legacy/allow-from-shop` allows storefront on TCP **80**, the Service port. After
  kube-proxy's DNAT the packets arrive on 8080 (targetPort `http`), which no rule allows.
  (shop's own egress allow, `allow-egress-legacy-reports`, correctly uses 8080.)

Regenerate with `.venv/bin/python tests/scenarios/_tools/demo.py`.
"""


def main(out: Path = OUT) -> None:
    c, faults = build()
    if out.exists():
        shutil.rmtree(out)
    c.write(out)
    write_nodes(
        c,
        out,
        pod_mtu={W2: 1500},
        cni_mtu={W2: 1500},
        ct={W3: (250880, 262144)},
        ct_counters={W3: {"insert_failed": 4 * 211, "drop": 4 * 1893, "early_drop": 4 * 402}},
    )
    (out / "faults.yaml").write_text(dump_yaml(faults))
    rows = []
    for f in faults:
        t = f.get("trace")
        cmd = (
            f"`netsleuth trace {t['src']} {t['dst']}"
            + (f":{t['port']}" if t.get("port") else "")
            + "`"
            if t
            else "scan only"
        )
        rows.append(f"| {f['id']} | {f['layer']} | `{f['culprit']}` | {f['title']} | {cmd} |")
    (out / "README.md").write_text(
        README.replace("__ROWS__", "\n".join(rows)).replace("__PODS__", str(len(c.pods)))
    )
    if out == OUT:
        print("wrote", out, len(c.pods), "pods")


if __name__ == "__main__":
    main()

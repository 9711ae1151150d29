"""Application building blocks shared by the scenarios and the demo."""

from __future__ import annotations

from typing import Any

from kube import Cluster, Obj, http_probe

DNS_PEER_OK: Obj = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_PORTS: list[Obj] = [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]


def http_app(
    c: Cluster,
    name: str,
    ns: str,
    *,
    image: str,
    port: int = 8080,
    port_name: str | None = "http",
    replicas: int = 2,
    nodes: list[str] | None = None,
    labels: dict[str, str] | None = None,
    ready: bool | list[bool] = True,
    env: list[Obj] | None = None,
    probe_path: str = "/healthz",
    extra_ports: list[tuple[str | None, int, str]] | None = None,
    pod_spec_extra: Obj | None = None,
    pod_annotations: dict[str, str] | None = None,
    containers_extra: list[Obj] | None = None,
    resources: Obj | None = None,
    restarts: int | list[int] = 0,
) -> tuple[Obj, Obj, list[Obj]]:
    labels = labels or {"app": name}
    ports: list[tuple[str | None, int, str]] = [(port_name, port, "TCP"), *list(extra_ports or [])]
    main = c.container(
        name,
        image,
        ports=ports,
        readiness=http_probe(probe_path, port_name or port),
        liveness=http_probe(probe_path, port_name or port, period=20, initial=10),
        env=env,
        resources=resources
        or {"limits": {"memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
    )
    containers = [main, *list(containers_extra or [])]
    return c.deployment(
        name,
        ns,
        labels=labels,
        containers=containers,
        replicas=replicas,
        nodes=nodes,
        ready=ready,
        pod_spec_extra=pod_spec_extra,
        pod_annotations=pod_annotations,
        restarts=restarts,
    )


def client_app(
    c: Cluster,
    name: str,
    ns: str,
    *,
    image: str,
    env: list[Obj] | None = None,
    replicas: int = 2,
    nodes: list[str] | None = None,
    labels: dict[str, str] | None = None,
    port: int = 8080,
    pod_spec_extra: Obj | None = None,
    pod_annotations: dict[str, str] | None = None,
    containers_extra: list[Obj] | None = None,
) -> tuple[Obj, Obj, list[Obj]]:
    """A web front end that also calls other services (it serves on ``port``)."""
    return http_app(
        c,
        name,
        ns,
        image=image,
        port=port,
        replicas=replicas,
        nodes=nodes,
        labels=labels,
        env=env,
        pod_spec_extra=pod_spec_extra,
        pod_annotations=pod_annotations,
        containers_extra=containers_extra,
    )


def svc_for(
    c: Cluster,
    name: str,
    ns: str,
    *,
    port: int,
    target: int | str = "http",
    selector: dict[str, str] | None = None,
    port_name: str = "http",
    **kw: Any,
) -> Obj:
    return c.service(
        name,
        ns,
        selector=selector or {"app": name},
        ports=[{"name": port_name, "port": port, "protocol": "TCP", "targetPort": target}],
        labels={"app": name},
        **kw,
    )


def default_deny(c: Cluster, ns: str, types: tuple[str, ...] = ("Ingress", "Egress")) -> Obj:
    return c.netpol("default-deny", ns, {"podSelector": {}, "policyTypes": list(types)})


def allow_dns(c: Cluster, ns: str, peer: Obj | None = None, name: str = "allow-dns") -> Obj:
    return c.netpol(
        name,
        ns,
        {
            "egress": [{"ports": DNS_PORTS, "to": [peer or DNS_PEER_OK]}],
            "podSelector": {},
            "policyTypes": ["Egress"],
        },
    )


def allow_egress_to(
    c: Cluster,
    name: str,
    ns: str,
    *,
    src: dict[str, str],
    dst_ns: str,
    dst: dict[str, str],
    port: int,
) -> Obj:
    return c.netpol(
        name,
        ns,
        {
            "egress": [
                {
                    "ports": [{"port": port, "protocol": "TCP"}],
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": dst_ns}
                            },
                            "podSelector": {"matchLabels": dst},
                        }
                    ],
                }
            ],
            "podSelector": {"matchLabels": src},
            "policyTypes": ["Egress"],
        },
    )


def allow_ingress_from(
    c: Cluster,
    name: str,
    ns: str,
    *,
    dst: dict[str, str],
    src_ns: str,
    src: dict[str, str],
    port: int | str,
) -> Obj:
    return c.netpol(
        name,
        ns,
        {
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": src_ns}
                            },
                            "podSelector": {"matchLabels": src},
                        }
                    ],
                    "ports": [{"port": port, "protocol": "TCP"}],
                }
            ],
            "podSelector": {"matchLabels": dst},
            "policyTypes": ["Ingress"],
        },
    )


def ingress_nginx(
    c: Cluster,
    *,
    lb_ip: str | None = "203.0.113.10",
    nodes: list[str] | None = None,
    replicas: int = 2,
) -> tuple[Obj, Obj]:
    """ingress-nginx controller (Helm chart layout) and IngressClass ``nginx``."""
    ns = "ingress-nginx"
    c.namespace(
        ns,
        {"app.kubernetes.io/instance": "ingress-nginx", "app.kubernetes.io/name": "ingress-nginx"},
    )
    labels = {
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/instance": "ingress-nginx",
        "app.kubernetes.io/name": "ingress-nginx",
    }
    ctl = c.container(
        "controller",
        "registry.k8s.io/ingress-nginx/controller:v1.11.2",
        args=[
            "/nginx-ingress-controller",
            "--publish-service=$(POD_NAMESPACE)/ingress-nginx-controller",
            "--election-id=ingress-nginx-leader",
            "--controller-class=k8s.io/ingress-nginx",
            "--ingress-class=nginx",
            "--configmap=$(POD_NAMESPACE)/ingress-nginx-controller",
            "--validating-webhook=:8443",
            "--validating-webhook-certificate=/usr/local/certificates/cert",
            "--validating-webhook-key=/usr/local/certificates/key",
        ],
        ports=[("http", 80, "TCP"), ("https", 443, "TCP"), ("webhook", 8443, "TCP")],
        readiness=http_probe("/healthz", 10254),
        liveness=http_probe("/healthz", 10254, period=10, failure=5, initial=10),
        env=[
            {
                "name": "POD_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
            },
            {
                "name": "POD_NAMESPACE",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
            },
            {"name": "LD_PRELOAD", "value": "/usr/local/lib/libmimalloc.so"},
        ],
        resources={"requests": {"cpu": "100m", "memory": "90Mi"}},
    )
    c.configmap(
        "ingress-nginx-controller", ns, {"allow-snippet-annotations": "false"}, labels=labels
    )
    c.deployment(
        "ingress-nginx-controller",
        ns,
        labels=labels,
        containers=[ctl],
        replicas=replicas,
        nodes=nodes,
        pod_spec_extra={
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "ingress-nginx",
            "terminationGracePeriodSeconds": 300,
        },
    )
    svc = c.service(
        "ingress-nginx-controller",
        ns,
        selector=labels,
        ports=[
            {
                "name": "http",
                "port": 80,
                "protocol": "TCP",
                "targetPort": "http",
                "appProtocol": "http",
            },
            {
                "name": "https",
                "port": 443,
                "protocol": "TCP",
                "targetPort": "https",
                "appProtocol": "https",
            },
        ],
        type_="LoadBalancer",
        labels=labels,
    )
    if lb_ip:
        svc["status"] = {"loadBalancer": {"ingress": [{"ip": lb_ip, "ipMode": "VIP"}]}}
    c.service(
        "ingress-nginx-controller-admission",
        ns,
        selector=labels,
        ports=[
            {
                "name": "https-webhook",
                "port": 443,
                "protocol": "TCP",
                "targetPort": "webhook",
                "appProtocol": "https",
            }
        ],
        labels=labels,
    )
    cls = c.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": c.meta(
                "IngressClass",
                "nginx",
                None,
                labels=labels,
                annotations={"ingressclass.kubernetes.io/is-default-class": "true"},
                generation=1,
            ),
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    return svc, cls


def ingress(
    c: Cluster,
    name: str,
    ns: str,
    *,
    host: str,
    service: str,
    port: int | str,
    cls: str | None = "nginx",
    tls_secret: str | None = None,
    path: str = "/",
    lb_ip: str | None = "203.0.113.10",
    annotations: dict[str, str] | None = None,
) -> Obj:
    backend: Obj = {
        "name": service,
        "port": {"number": port} if isinstance(port, int) else {"name": port},
    }
    spec: Obj = {
        "rules": [
            {
                "host": host,
                "http": {
                    "paths": [{"backend": {"service": backend}, "path": path, "pathType": "Prefix"}]
                },
            }
        ]
    }
    if cls:
        spec["ingressClassName"] = cls
    if tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    return c.add(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": c.meta("Ingress", name, ns, annotations=annotations, generation=1),
            "spec": spec,
            "status": {"loadBalancer": {"ingress": [{"ip": lb_ip}]} if lb_ip else {}},
        }
    )

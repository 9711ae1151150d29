"""KPX604: a node's IPVS virtual server for a Service does not match its ready endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, register
from netsleuth.facts.attribution import kube_proxy
from netsleuth.facts.kube_proxy_mode import ProxyMode, node_proxy_mode
from netsleuth.facts.kube_proxy_rules import (
    endpoints_vary_by_node,
    expected_destinations,
    ipvs_destinations,
    ipvs_virtual_servers,
    proxied_services,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="KPX604",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "EndpointSlice"), node_artifacts=("ipvs",)),
)
def kpx_stale_ipvs_rules(model: ClusterModel) -> Iterator[Finding]:
    """A node's IPVS virtual server for a Service does not match its ready endpoints.

    What it checks:
        On nodes in IPVS mode (``ipvsadm -Ln``), for every ClusterIP port:
        the virtual server exists, and its real servers with weight > 0
        equal the ready endpoints from the EndpointSlices (weight-0 real
        servers are terminating endpoints kube-proxy drains on purpose).
        Services with ``internalTrafficPolicy: Local`` or topology-aware routing
        are skipped (per-node endpoint sets).

    Why it breaks traffic:
        IPVS forwards ClusterIP connections to exactly these real servers: a
        missing virtual server leaves the ClusterIP unanswered on that node,
        a stale real server takes a share of connections that fail, and a
        missing one gets no traffic from that node.

    Example:
        ``TCP 10.96.40.2:80 rr -> 10.244.1.4:8080`` on ``worker-1`` while
        the only ready endpoint is ``10.244.2.9:8080``.

    Fix:
        Restart kube-proxy on the node and read its log for the failed sync.

    Confirm live:
        ``ipvsadm -Ln -t 10.96.40.2:80`` on the node;
        ``kubectl get endpointslices -n <ns> -l kubernetes.io/service-name=<svc> -o wide``.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-ipvs ;
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/ipvs/README.md
    """
    # kube-proxy on the node is what to restart: its DaemonSet is the object named.
    proxy_kind, proxy_meta = culprit_subject(kube_proxy(model))
    services = [s for s in proxied_services(model) if not endpoints_vary_by_node(s)]
    for node, art in sorted(model.node_artifacts.items()):
        if not art.ipvs:
            continue
        mode = node_proxy_mode(art)
        if mode is None or mode.mode != ProxyMode.IPVS:
            continue
        vss = ipvs_virtual_servers(art.ipvs)
        for svc in services:
            assert svc.cluster_ip is not None
            family = 6 if ":" in svc.cluster_ip else 4
            problems: list[str] = []
            evidence: list[Evidence] = []
            first_vs = None
            for port in svc.ports:
                want = expected_destinations(model, svc, port, family)
                if want is None:
                    continue
                where = f"{svc.cluster_ip}:{port.port}/{port.protocol}"
                vs = vss.get((svc.cluster_ip, port.protocol, port.port))
                if vs is None:
                    problems.append(f"no IPVS virtual server for {where}")
                    evidence.append(
                        Evidence(f"Node/{node}", "ipvsadm -Ln", f"no virtual server {where}")
                    )
                    continue
                first_vs = first_vs or f"{vs.address}:{vs.port}"
                have = ipvs_destinations(vs)
                stale, missing = sorted(have - want), sorted(want - have)
                if stale or missing:
                    parts = (["stale " + ", ".join(stale[:5])] if stale else []) + (
                        ["missing " + ", ".join(missing[:5])] if missing else []
                    )
                    problems.append(f"{where}: " + "; ".join(parts))
                    evidence.append(
                        Evidence(
                            f"Node/{node}",
                            f"ipvsadm -Ln {where} real servers",
                            ", ".join(sorted(have)) or "none",
                        )
                    )
                    evidence.append(
                        Evidence(
                            f"Service/{svc.namespace}/{svc.name}",
                            "ready endpoints",
                            ", ".join(sorted(want)) or "none",
                        )
                    )
            if not problems:
                continue
            flag = "-u" if svc.ports and svc.ports[0].protocol == "UDP" else "-t"
            yield finding(
                "KPX604",
                model,
                kind=proxy_kind,
                meta=proxy_meta,
                also=(svc.meta,),
                artifacts=True,
                message=f"node {node}: IPVS rules for {svc.namespace}/{svc.name} are out of date: "
                + "; ".join(problems),
                evidence=evidence,
                confirm=(
                    cmd(
                        "ipvsadm",
                        "-Ln",
                        flag,
                        first_vs or svc.cluster_ip + ":" + str(svc.ports[0].port),
                    ).note(f"on {node}"),
                    kubectl(
                        "get",
                        "endpointslices",
                        "-n",
                        svc.namespace,
                        "-l",
                        f"kubernetes.io/service-name={svc.name}",
                        "-o",
                        "wide",
                    ),
                ),
                fix=Fix(
                    text=f"Restart kube-proxy on {node} and read its log for the failed sync.",
                    command=kubectl(
                        "-n",
                        "kube-system",
                        "delete",
                        "pod",
                        "-l",
                        "k8s-app=kube-proxy",
                        "--field-selector",
                        f"spec.nodeName={node}",
                    ),
                ),
            )

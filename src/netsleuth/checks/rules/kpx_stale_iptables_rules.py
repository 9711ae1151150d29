"""KPX603: a node's iptables rules for a Service do not match its ready endpoints."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, register
from netsleuth.facts.attribution import kube_proxy
from netsleuth.facts.kube_proxy_mode import ProxyMode, node_proxy_mode
from netsleuth.facts.kube_proxy_rules import (
    endpoints_vary_by_node,
    expected_destinations,
    iptables_service_rules,
    proxied_services,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="KPX603",
    layer=Layer.KUBE_PROXY,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Service", "EndpointSlice"), node_artifacts=("iptables",)),
)
def kpx_stale_iptables_rules(model: ClusterModel) -> Iterator[Finding]:
    """A node's iptables rules for a Service do not match its ready endpoints.

    What it checks:
        On nodes whose ``iptables-save`` shows kube-proxy in iptables mode,
        for every ClusterIP port: the ``KUBE-SERVICES`` jump to its
        ``KUBE-SVC-*`` chain exists when the Service has ready endpoints, the
        ``KUBE-SEP-*`` DNAT targets equal the ready endpoints
        (``ip:targetPort`` from the EndpointSlices), no ``REJECT … has no
        endpoints`` rule remains for a Service that has them, and no chain
        remains for a ClusterIP no Service holds. Services with
        ``internalTrafficPolicy: Local`` or topology-aware routing are skipped
        (per-node endpoint sets).

    Why it breaks traffic:
        kube-proxy's rules are what a ClusterIP connection actually follows.
        A missing chain sends ClusterIP traffic nowhere, a stale endpoint
        gets a share of new connections that time out or hit another pod
        that reused the IP, and a leftover REJECT refuses every connection.
        It means kube-proxy on that node stopped syncing (crash, lost API
        watch, iptables lock contention).

    Example:
        ``shop/web`` has ready endpoints ``10.244.1.5:8080`` and
        ``10.244.2.7:8080``; ``worker-2``'s ``KUBE-SVC-XYZ`` still DNATs to
        ``10.244.1.4:8080`` (a deleted pod) and lacks ``10.244.2.7``.

    Fix:
        Restart kube-proxy on the node and read its log for the sync error;
        if it keeps failing, look for another process holding the xtables
        lock or a full conntrack/iptables.

    Confirm live:
        ``iptables-save -t nat | grep KUBE-SVC-XYZ`` on the node;
        ``kubectl get endpointslices -n shop -l kubernetes.io/service-name=web -o wide``;
        ``kubectl -n kube-system logs <kube-proxy-pod-on-node> | tail``.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/#proxy-mode-iptables ;
        https://github.com/kubernetes/kubernetes/blob/master/pkg/proxy/iptables/proxier.go
    """
    # kube-proxy on the node is what to restart: its DaemonSet is the object named.
    proxy_kind, proxy_meta = culprit_subject(kube_proxy(model))
    services = [s for s in proxied_services(model) if not endpoints_vary_by_node(s)]
    for node, art in sorted(model.node_artifacts.items()):
        if art.iptables is None:
            continue
        mode = node_proxy_mode(art)
        if mode is None or mode.mode != ProxyMode.IPTABLES:
            continue
        rules = iptables_service_rules(art.iptables)
        seen: set[tuple[str, str, int]] = set()
        for svc in services:
            assert svc.cluster_ip is not None
            family = 6 if ":" in svc.cluster_ip else 4
            problems: list[str] = []
            evidence: list[Evidence] = []
            chain = None
            for port in svc.ports:
                key = (svc.cluster_ip, port.protocol, port.port)
                seen.add(key)
                want = expected_destinations(model, svc, port, family)
                if want is None:
                    continue
                rule = rules.get(key)
                where = f"{svc.cluster_ip}:{port.port}/{port.protocol}"
                if rule is None:
                    if want:
                        problems.append(
                            f"no KUBE-SERVICES rule for {where} ({len(want)} ready endpoint(s))"
                        )
                        evidence.append(
                            Evidence(
                                f"Node/{node}",
                                "iptables-save -t nat KUBE-SERVICES",
                                f"no rule for {where}",
                            )
                        )
                    continue
                chain = rule.chain or chain
                if rule.rejects and want:
                    problems.append(f"{where} still REJECTs as if it had no endpoints")
                    evidence.append(
                        Evidence(
                            f"Node/{node}",
                            "iptables KUBE-SERVICES",
                            f"REJECT {where} ({rule.comment})",
                        )
                    )
                    continue
                stale = sorted(rule.destinations - want)
                missing = sorted(want - rule.destinations)
                if stale or missing:
                    parts = []
                    if stale:
                        parts.append("stale " + ", ".join(stale[:5]))
                    if missing:
                        parts.append("missing " + ", ".join(missing[:5]))
                    problems.append(f"{where} via {rule.chain}: " + "; ".join(parts))
                    evidence.append(
                        Evidence(
                            f"Node/{node}",
                            f"iptables {rule.chain} DNAT targets",
                            ", ".join(sorted(rule.destinations)) or "none",
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
            grep = chain or svc.cluster_ip
            yield finding(
                "KPX603",
                model,
                kind=proxy_kind,
                meta=proxy_meta,
                also=(svc.meta,),
                artifacts=True,
                message=f"node {node}: kube-proxy rules for {svc.namespace}/{svc.name} are out of date: "
                + "; ".join(problems),
                evidence=evidence,
                confirm=(
                    cmd("iptables-save", "-t", "nat").pipe("grep", grep).note(f"on {node}"),
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
                    kubectl(
                        "-n",
                        "kube-system",
                        "get",
                        "pods",
                        "-l",
                        "k8s-app=kube-proxy",
                        "-o",
                        "wide",
                        "--field-selector",
                        f"spec.nodeName={node}",
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
        # chains for ClusterIPs no Service holds (the Service was deleted)
        namespaces_seen = {s.namespace for s in model.services}
        for key, rule in sorted(rules.items()):
            if key in seen or rule.chain is None or key[0] in model.services_by_cluster_ip:
                continue
            owner = (rule.comment or "").split(":", 1)[0].split(" ", 1)[0]
            ns, _, name = owner.partition("/")
            if not name or ns not in namespaces_seen:
                continue  # the input does not cover that namespace: cannot tell deleted from unseen
            yield finding(
                "KPX603",
                model,
                kind=proxy_kind,
                meta=proxy_meta,
                artifacts=True,
                message=f"node {node}: kube-proxy still has {rule.chain} for {key[0]}:{key[2]}/{key[1]} "
                f"({rule.comment}) but no Service holds that ClusterIP",
                evidence=[
                    Evidence(
                        f"Node/{node}",
                        "iptables KUBE-SERVICES",
                        f"{key[0]}:{key[2]} -> {rule.chain}",
                    )
                ],
                confirm=(
                    cmd("iptables-save", "-t", "nat").pipe("grep", rule.chain).note(f"on {node}"),
                    kubectl("get", "svc", "-n", ns, name),
                ),
                fix=Fix(
                    text=f"Restart kube-proxy on {node}; it removes chains of deleted Services on its next full sync.",
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

"""kube-proxy faults from node artifacts: a node in another proxy mode than configured
(KPX601), and iptables or IPVS rules that disagree with a Service's ready
endpoints (KPX603, KPX604). The trace's kube-proxy hop reads the same faults for
the Service and the client's node.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from netsleuth.facts.attribution import kube_proxy
from netsleuth.facts.faults import Fault, culprit_subject
from netsleuth.facts.kube_proxy_mode import (
    ProxyMode,
    cluster_proxy_mode,
    node_proxy_mode,
    node_proxy_modes,
)
from netsleuth.facts.kube_proxy_rules import (
    endpoints_vary_by_node,
    expected_destinations,
    iptables_service_rules,
    ipvs_destinations,
    ipvs_virtual_servers,
    proxied_services,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.objects import Meta


def kpx_mixed_modes_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX601: Nodes run kube-proxy in different modes, or not in the configured one."""
    modes = node_proxy_modes(model)
    if not modes:
        return
    configured = cluster_proxy_mode(model)
    groups: dict[ProxyMode, list[str]] = defaultdict(list)
    for node, info in modes.items():
        groups[info.mode].append(node)
    if configured is not None:
        expected = configured.mode
    elif len(groups) > 1:
        expected = max(groups, key=lambda m: len(groups[m]))  # the majority is the intent
    else:
        return
    for node, info in sorted(modes.items()):
        if info.mode == expected:
            continue
        others = [n for n in groups.get(expected, []) if n != node]
        if configured is not None:
            why = f"the configured mode is {expected.value} ({configured.evidence})"
        else:
            why = f"{len(others)} other node(s) run {expected.value}"
        n = model.nodes.get(node)
        ev = [
            Evidence(
                f"Node/{node}",
                "kube-proxy mode (from its rules)",
                f"{info.mode.value}: {info.evidence}",
            )
        ]
        if configured is not None:
            ev.append(
                Evidence(
                    configured.evidence.split(" ", 1)[0],
                    configured.evidence.split(" ", 1)[-1],
                    configured.mode.value,
                )
            )
        ev += [
            Evidence(f"Node/{o}", "kube-proxy mode (from its rules)", expected.value)
            for o in others[:3]
        ]
        yield Fault(
            layer=Layer.KUBE_PROXY,
            severity=Severity.WARNING,
            kind="Node",
            meta=n.meta if n else Meta(name=node),
            artifacts=True,
            message=f"node {node} runs kube-proxy in {info.mode.value} mode but {why}",
            evidence=ev,
            confirm=(
                kubectl(
                    "-n",
                    "kube-system",
                    "get",
                    "cm",
                    "kube-proxy",
                    "-o",
                    "jsonpath={.data.config\\.conf}",
                ).pipe("grep", "mode"),
                cmd("curl", "-s", "localhost:10249/proxyMode").note(f"on {node}"),
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
                text=f"Restart kube-proxy on {node} so it picks up the {expected.value} mode, and clean the "
                f"{info.mode.value} rules it leaves (kube-proxy --cleanup, or reboot the node).",
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


def kpx_stale_iptables_rules_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX603: A node's iptables rules for a Service do not match its ready endpoints."""
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
            yield Fault(
                layer=Layer.KUBE_PROXY,
                severity=Severity.ERROR,
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
            yield Fault(
                layer=Layer.KUBE_PROXY,
                severity=Severity.ERROR,
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


def kpx_stale_ipvs_rules_faults(model: ClusterModel) -> Iterator[Fault]:
    """KPX604: A node's IPVS virtual server for a Service does not match its ready endpoints."""
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
            yield Fault(
                layer=Layer.KUBE_PROXY,
                severity=Severity.ERROR,
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

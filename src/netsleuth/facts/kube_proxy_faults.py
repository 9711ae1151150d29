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
    NodePortRule,
    comment_owner,
    endpoints_vary_by_node,
    expected_destinations,
    iptables_nodeports,
    iptables_service_rules,
    ipvs_destinations,
    ipvs_virtual_servers,
    proxied_services,
)
from netsleuth.facts.node_evidence import describe, events_on_node, where_seen
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.logs import EventKind
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
    """KPX603: A node's iptables rules for a Service do not match its ready endpoints
    (endpoints, random split, malformed DNAT, NodePorts, old ClusterIPs; kube-proxy's
    logged sync failures on the node as evidence)."""
    # kube-proxy on the node is what to restart: its DaemonSet is the object named.
    proxy_kind, proxy_meta = culprit_subject(kube_proxy(model))
    services = [s for s in proxied_services(model) if not endpoints_vary_by_node(s)]
    for node, art in sorted(model.node_artifacts.items()):
        if art.iptables is None:
            continue
        mode = node_proxy_mode(art)
        if mode is None or mode.mode != ProxyMode.IPTABLES:
            continue
        complete = art.iptables.complete
        rules = iptables_service_rules(art.iptables)
        nodeports = iptables_nodeports(art.iptables)
        has_nodeports_chain = "KUBE-NODEPORTS" in art.iptables.chains.get("nat", {})
        # node ports by the Service their comment names, read once (not per Service)
        nodeports_by_owner: dict[
            tuple[str, str], list[tuple[str, int, NodePortRule, tuple[str, str, str]]]
        ] = {}
        for (np_proto, np_port), np_found in sorted(nodeports.items()):
            np_owner = comment_owner(np_found.comment)
            if np_owner is not None:
                nodeports_by_owner.setdefault((np_owner[0], np_owner[1]), []).append(
                    (np_proto, np_port, np_found, np_owner)
                )
        sync_errors = events_on_node(model, node, (EventKind.KUBE_PROXY_SYNC_ERROR,))
        log_evidence = [
            Evidence(where_seen(e), "kube-proxy log: failed syncs", describe(e))
            for e in sync_errors
        ]
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
                    if want and complete:
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
                missing = sorted(want - rule.destinations) if complete else []
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
                if rule.malformed:
                    problems.append(
                        f"{where} via {rule.chain}: malformed DNAT --to-destination "
                        + ", ".join(repr(d) for d in rule.malformed[:3])
                    )
                    evidence.append(
                        Evidence(
                            f"Node/{node}",
                            f"iptables {rule.chain} DNAT --to-destination",
                            ", ".join(rule.malformed[:3]),
                        )
                    )
                split = _split_problem(rule.shares, rule.fallthrough)
                if split:
                    problems.append(f"{where} via {rule.chain}: {split}")
                    evidence.append(
                        Evidence(
                            f"Node/{node}",
                            f"iptables {rule.chain} --probability",
                            ", ".join(f"{d} {share:.1%}" for d, share in rule.shares[:6])
                            + (f", none {rule.fallthrough:.1%}" if rule.fallthrough > 1e-6 else ""),
                        )
                    )
            # NodePorts: the node opens each one for the Service, and no other.
            if svc.type in ("NodePort", "LoadBalancer"):
                for port in svc.ports:
                    if not port.node_port:
                        continue
                    want = expected_destinations(model, svc, port, family)
                    np_rule = nodeports.get((port.protocol, port.node_port))
                    if np_rule is None and want and complete and has_nodeports_chain:
                        problems.append(
                            f"no KUBE-NODEPORTS rule for node port {port.node_port}/{port.protocol}"
                        )
                        evidence.append(
                            Evidence(
                                f"Node/{node}",
                                "iptables KUBE-NODEPORTS",
                                f"no rule for {port.node_port}/{port.protocol}",
                            )
                        )
            for proto, np, np_rule, np_owner_of in nodeports_by_owner.get(
                (svc.namespace, svc.name), ()
            ):
                ports_now = {
                    (p.protocol, p.node_port)
                    for p in svc.ports
                    if p.node_port and (p.name or "") == np_owner_of[2]
                }
                if (proto, np) not in ports_now:
                    current = ", ".join(f"{n}/{pr}" for pr, n in sorted(ports_now)) or "none"
                    problems.append(
                        f"stale node port {np}/{proto} (the Service's node port is now {current})"
                    )
                    evidence.append(
                        Evidence(
                            f"Node/{node}",
                            "iptables KUBE-NODEPORTS",
                            f"{np}/{proto} -> {np_rule.chain} ({np_rule.comment})",
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
                evidence=[*evidence, *log_evidence],
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
                fix=_restart(
                    node, f"Restart kube-proxy on {node} and read its log for the failed sync."
                ),
            )
        # chains for ClusterIPs no Service holds (the Service was deleted, or deleted and
        # created again with a new ClusterIP)
        namespaces_seen = {s.namespace for s in model.services}
        for key, rule in sorted(rules.items()):
            if key in seen or rule.chain is None or key[0] in model.services_by_cluster_ip:
                continue
            owner = comment_owner(rule.comment)
            if owner is None or owner[0] not in namespaces_seen:
                continue  # the input does not cover that namespace: cannot tell deleted from unseen
            ns, name, _ = owner
            now = model.service(ns, name)
            same_family = [
                ip
                for ip in (now.cluster_ips or (now.cluster_ip,) if now is not None else ())
                if ip and ip != "None" and (":" in ip) == (":" in key[0])
            ]
            if now is not None and same_family:
                message = (
                    f"node {node}: kube-proxy still has {rule.chain} for the old ClusterIP "
                    f"{key[0]}:{key[2]}/{key[1]} of {ns}/{name}, which was created again with "
                    f"ClusterIP {same_family[0]}"
                )
            else:
                message = (
                    f"node {node}: kube-proxy still has {rule.chain} for {key[0]}:{key[2]}/{key[1]} "
                    f"({rule.comment}) but no Service holds that ClusterIP"
                )
            yield Fault(
                layer=Layer.KUBE_PROXY,
                severity=Severity.ERROR,
                kind=proxy_kind,
                meta=proxy_meta,
                also=(now.meta,) if now is not None else (),
                artifacts=True,
                message=message,
                evidence=[
                    Evidence(
                        f"Node/{node}",
                        "iptables KUBE-SERVICES",
                        f"{key[0]}:{key[2]} -> {rule.chain}",
                    ),
                    *log_evidence,
                ],
                confirm=(
                    cmd("iptables-save", "-t", "nat").pipe("grep", rule.chain).note(f"on {node}"),
                    kubectl("get", "svc", "-n", ns, name),
                ),
                fix=_restart(
                    node,
                    f"Restart kube-proxy on {node}; it removes chains of deleted Services on its "
                    "next full sync.",
                ),
            )


def _split_problem(shares: tuple[tuple[str, float], ...], fallthrough: float) -> str | None:
    """What is wrong with a chain's random split, or ``None``."""
    parts = []
    if fallthrough > 1e-6:
        parts.append(
            f"{fallthrough:.1%} of new connections match no endpoint rule (the last jump has "
            "a probability below 1)"
        )
    n = len(shares)
    if n > 1:
        uneven = [(d, s) for d, s in shares if abs(s - 1 / n) > 0.01]
        if uneven:
            parts.append(
                f"uneven split ({', '.join(f'{d} {s:.1%}' for d, s in shares[:6])}; kube-proxy "
                f"gives each of the {n} endpoints {1 / n:.1%})"
            )
    return "; ".join(parts) or None


def _restart(node: str, text: str) -> Fix:
    return Fix(
        text=text,
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

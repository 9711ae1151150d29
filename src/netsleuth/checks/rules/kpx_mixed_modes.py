"""KPX601: nodes run kube-proxy in different modes, or not in the configured one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.kube_proxy_mode import ProxyMode, cluster_proxy_mode, node_proxy_modes
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta


@register(
    id="KPX601",
    layer=Layer.KUBE_PROXY,
    severity=Severity.WARNING,
    needs=Needs(any_kinds=("NodeArtifacts",)),
)
def kpx_mixed_modes(model: ClusterModel) -> Iterator[Finding]:
    """Nodes run kube-proxy in different modes, or not in the configured one.

    What it checks:
        The mode each node's own rules show (IPVS virtual servers, or
        ``KUBE-SVC-*`` chains for iptables, or Cilium's chains without
        either) against the other nodes and against the mode kube-proxy is
        configured with (the DaemonSet's ``--proxy-mode`` or the
        ``kube-proxy`` ConfigMap's ``config.conf`` ``mode``).

    Why it breaks traffic:
        A ConfigMap change reaches only kube-proxy pods restarted after it.
        Nodes left in the old mode keep old rules (an IPVS node still has its
        ``kube-ipvs0`` addresses and iptables leftovers), ``externalTrafficPolicy``,
        session affinity and NodePort behave differently per node, and
        "works from some nodes" reports follow.

    Example:
        ConfigMap says ``mode: ipvs``; ``worker-1`` and ``worker-2`` list IPVS
        virtual servers, ``worker-3`` still has ``KUBE-SVC-*`` chains and no
        virtual servers.

    Fix:
        Restart kube-proxy on the lagging nodes
        (``kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName=<node>``);
        when leaving a mode, run ``kube-proxy --cleanup`` or reboot the node
        so the old mode's rules go away.

    Confirm live:
        ``kubectl -n kube-system get cm kube-proxy -o yaml | grep mode``;
        ``curl -s localhost:10249/proxyMode`` on each node;
        ``ipvsadm -Ln | head`` and ``iptables-save -t nat | grep -c KUBE-SVC`` on each node.

    References:
        https://kubernetes.io/docs/reference/networking/virtual-ips/ ;
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-proxy/
    """
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
        yield finding(
            "KPX601",
            model,
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

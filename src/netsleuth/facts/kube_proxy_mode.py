"""kube-proxy's mode, for the cluster (its ConfigMap) and per node (its rules).

Cluster mode, first match wins:

1. the ``kube-proxy`` DaemonSet's ``--proxy-mode=`` flag (a flag overrides
   the config file);
2. the ``kube-proxy`` ConfigMap's ``config.conf`` ``mode:`` (kubeadm
   writes it there); an empty mode means ``iptables`` on Linux
   (https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/);
3. no kube-proxy at all and ``cilium-config`` ``kube-proxy-replacement``
   ``true``/``strict`` means Cilium's eBPF replacement
   (https://docs.cilium.io/en/stable/network/kubernetes/kubeproxy-free/).

Node mode, from that node's own files: ``ipvsadm -Ln`` listing ClusterIP
virtual servers means ``ipvs``; ``KUBE-SVC-*`` chains in the nat table mean
``iptables``; neither, with Cilium's ``CILIUM_`` chains, means eBPF; an nft
``table ip kube-proxy`` (``nft list ruleset``) means ``nftables``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.node_artifacts import NodeArtifacts


class ProxyMode(enum.StrEnum):
    IPTABLES = "iptables"
    IPVS = "ipvs"
    NFTABLES = "nftables"
    KERNELSPACE = "kernelspace"  # Windows
    EBPF = "ebpf"  # Cilium kube-proxy replacement


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyModeInfo:
    mode: ProxyMode
    evidence: str
    """Where the mode was read: ``ConfigMap/kube-system/kube-proxy data.config.conf mode``."""
    defaulted: bool = False
    """True when nothing set the mode and the Linux default (iptables) applies."""


_MODE_LINE = re.compile(r"^mode:\s*[\"']?([A-Za-z]*)[\"']?\s*$", re.MULTILINE)


def _parse_mode(text: str) -> ProxyMode | None:
    try:
        return ProxyMode(text.strip().lower())
    except ValueError:
        return None


def cluster_proxy_mode(model: ClusterModel) -> ProxyModeInfo | None:
    """The mode kube-proxy is configured with, or ``None`` when the input shows no kube-proxy."""
    ds = model.workload("DaemonSet", "kube-system", "kube-proxy")
    if ds is not None and ds.template is not None:
        for c in ds.template.spec.containers:
            for arg in (*c.command, *c.args):
                if arg.startswith("--proxy-mode="):
                    mode = _parse_mode(arg.split("=", 1)[1])
                    if mode is not None:
                        return ProxyModeInfo(
                            mode=mode, evidence=f"DaemonSet/kube-system/kube-proxy arg {arg}"
                        )
    cm = model.config_map("kube-system", "kube-proxy")
    if cm is not None:
        for key in ("config.conf", "config"):
            text = cm.data.get(key)
            if text is None:
                continue
            m = _MODE_LINE.search(text)
            where = f"ConfigMap/kube-system/kube-proxy data.{key} mode"
            if m and m.group(1):
                mode = _parse_mode(m.group(1))
                if mode is not None:
                    return ProxyModeInfo(mode=mode, evidence=where)
            return ProxyModeInfo(
                mode=ProxyMode.IPTABLES,
                evidence=f'{where} "" (iptables by default)',
                defaulted=True,
            )
    if ds is not None:
        return ProxyModeInfo(
            mode=ProxyMode.IPTABLES,
            evidence="DaemonSet/kube-system/kube-proxy (no mode set)",
            defaulted=True,
        )
    for cfg in model.config_maps:
        if cfg.meta.name == "cilium-config":
            kpr = cfg.data.get("kube-proxy-replacement", "").lower()
            if kpr in ("true", "strict"):
                return ProxyModeInfo(
                    mode=ProxyMode.EBPF,
                    evidence=f"ConfigMap/{cfg.meta.namespace}/cilium-config data.kube-proxy-replacement={kpr}",
                )
    return None


def node_proxy_mode(art: NodeArtifacts) -> ProxyModeInfo | None:
    """The mode a node's own rules show, or ``None`` when its files do not tell."""
    files = ", ".join(art.files) if art.files else f"nodes/{art.node}"
    if art.ipvs:
        return ProxyModeInfo(
            mode=ProxyMode.IPVS,
            evidence=f"node {art.node}: {len(art.ipvs)} IPVS virtual servers ({files})",
        )
    if art.iptables is not None:
        nat = art.iptables.chains.get("nat", {})
        if any(ch.startswith("KUBE-SVC-") for ch in nat):
            return ProxyModeInfo(
                mode=ProxyMode.IPTABLES,
                evidence=f"node {art.node}: KUBE-SVC-* chains in nat ({files})",
            )
        if "KUBE-SERVICES" in nat and any(
            "KUBE-CLUSTER-IP" in r.spec for r in art.iptables.rules if r.chain == "KUBE-SERVICES"
        ):
            return ProxyModeInfo(
                mode=ProxyMode.IPVS,
                evidence=f"node {art.node}: KUBE-CLUSTER-IP ipset match in KUBE-SERVICES",
            )
        if any(ch.startswith("CILIUM_") for t in art.iptables.chains.values() for ch in t):
            return ProxyModeInfo(
                mode=ProxyMode.EBPF,
                evidence=f"node {art.node}: CILIUM_ chains, no KUBE-SVC-* chains",
            )
    if art.nft is not None and any(name == "kube-proxy" for _, name in art.nft.tables):
        # kube-proxy's nftables mode (1.29+) owns `table ip kube-proxy` / `table ip6 kube-proxy`
        return ProxyModeInfo(
            mode=ProxyMode.NFTABLES,
            evidence=f"node {art.node}: nft table kube-proxy ({files})",
        )
    return None


def node_proxy_modes(model: ClusterModel) -> dict[str, ProxyModeInfo]:
    """Mode per node, for nodes whose artifacts tell it."""
    out: dict[str, ProxyModeInfo] = {}
    for node, art in sorted(model.node_artifacts.items()):
        info = node_proxy_mode(art)
        if info is not None:
            out[node] = info
    return out

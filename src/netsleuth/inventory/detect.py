"""Detect the CNI, the kube-proxy mode and CoreDNS from what the model holds.

Used by ``inventory`` and by the checks. Detection reads DaemonSets (and
their pods' images), ConfigMaps and node artifacts; it never guesses beyond
them: an empty answer means "not visible in the input".
"""

from __future__ import annotations

import re

from netsleuth.model.cluster import ClusterModel

# DaemonSet name (or image fragment) -> CNI name. Order matters: canal runs
# calico-node *and* flannel, so it is checked before either.
CNI_SIGNATURES: tuple[tuple[str, str], ...] = (
    ("canal", "canal"),
    ("aws-node", "aws-vpc-cni"),
    ("cilium", "cilium"),
    ("calico-node", "calico"),
    ("kube-flannel", "flannel"),
    ("flannel", "flannel"),
    ("weave-net", "weave"),
    ("antrea-agent", "antrea"),
    ("kube-router", "kube-router"),
    ("azure-cni", "azure-cni"),
    ("ovnkube-node", "ovn-kubernetes"),
)

CNI_CONFIGMAPS = {
    "calico-config": "calico",
    "kube-flannel-cfg": "flannel",
    "cilium-config": "cilium",
    "canal-config": "canal",
    "antrea-config": "antrea",
}


def detect_cni(model: ClusterModel) -> list[str]:
    """CNIs present, by DaemonSet name/image, then ConfigMaps, then node CNI configs."""
    found: list[str] = []

    def add(name: str) -> None:
        if name not in found:
            found.append(name)

    for w in model.workloads:
        if w.kind != "DaemonSet":
            continue
        images = " ".join(c.image for c in (w.template.spec.containers if w.template else ()))
        for sig, cni in CNI_SIGNATURES:
            if sig in w.name or (sig != "flannel" and f"/{sig}" in images):
                add(cni)
                break
    for cm in model.config_maps:
        cm_cni = CNI_CONFIGMAPS.get(cm.meta.name)
        if cm_cni:
            add(cm_cni)
    for art in model.node_artifacts.values():
        for conf in art.cni_configs or ():
            for t in conf.plugin_types:
                for sig, cni in (
                    ("calico", "calico"),
                    ("flannel", "flannel"),
                    ("cilium", "cilium"),
                    ("aws-cni", "aws-vpc-cni"),
                    ("weave", "weave"),
                    ("antrea", "antrea"),
                ):
                    if sig in t:
                        add(cni)
    if "canal" in found:
        found = [c for c in found if c not in ("calico", "flannel")] if "canal" in found else found
    return found


_MODE = re.compile(r"^\s*mode:\s*[\"']?([A-Za-z]*)[\"']?\s*$", re.MULTILINE)


def kube_proxy_mode_from_configmap(model: ClusterModel) -> str | None:
    """``mode`` from the kube-proxy ConfigMap; an empty value means the default, iptables."""
    cm = model.config_map("kube-system", "kube-proxy")
    if cm is None:
        return None
    for key in ("config.conf", "config"):
        text = cm.data.get(key)
        if text:
            m = _MODE.search(str(text))
            if m is None:
                return "iptables"
            return m.group(1) or "iptables"
    return None


def detect_kube_proxy_mode(model: ClusterModel) -> tuple[str | None, str | None]:
    """``(mode, where it was seen)``.

    Cilium with kube-proxy replacement and no kube-proxy DaemonSet is
    reported as ``ebpf (cilium)``.
    """
    cm_mode = kube_proxy_mode_from_configmap(model)
    if cm_mode is not None:
        return cm_mode, "ConfigMap kube-system/kube-proxy"
    cilium = model.config_map("kube-system", "cilium-config")
    has_kp = any(w.kind == "DaemonSet" and w.name == "kube-proxy" for w in model.workloads)
    if (
        cilium is not None
        and cilium.data.get("kube-proxy-replacement") in ("true", "strict")
        and not has_kp
    ):
        return "ebpf (cilium)", "ConfigMap kube-system/cilium-config kube-proxy-replacement"
    modes = set()
    for art in model.node_artifacts.values():
        if art.ipvs:
            modes.add("ipvs")
        elif art.iptables is not None and "KUBE-SERVICES" in art.iptables.chains.get("nat", {}):
            modes.add("iptables")
    if len(modes) == 1:
        return modes.pop(), "node artifacts"
    if len(modes) > 1:
        return "mixed (" + ", ".join(sorted(modes)) + ")", "node artifacts"
    if has_kp:
        return "iptables", "kube-proxy DaemonSet without a ConfigMap (default mode)"
    return None, None


def coredns_replicas(model: ClusterModel) -> str | None:
    """``ready/desired`` of the CoreDNS (or kube-dns) Deployment in kube-system."""
    for w in model.workloads:
        if (
            w.kind == "Deployment"
            and w.namespace == "kube-system"
            and w.name in ("coredns", "kube-dns")
        ):
            if not w.has_status:
                return f"?/{w.replicas}"
            return f"{w.ready_replicas}/{w.replicas}"
    return None

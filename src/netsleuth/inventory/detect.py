"""The inventory's one-line answers (CNI, kube-proxy mode, CoreDNS), built on the
same detection the checks use (:mod:`netsleuth.facts.cni_detect`,
:mod:`netsleuth.facts.kube_proxy_mode`), so ``inventory`` and ``scan`` never
disagree. An empty answer means "not visible in the input".
"""

from __future__ import annotations

from netsleuth.facts.cni_detect import detect_cni as _detect_cni
from netsleuth.facts.kube_proxy_mode import cluster_proxy_mode, node_proxy_modes
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import dns_workload


def detect_cni(model: ClusterModel) -> list[str]:
    """CNI names, each with its encapsulation when known (``calico (ipip)``)."""
    out = []
    for info in _detect_cni(model):
        text = info.name
        if info.encapsulation:
            text += f" ({info.encapsulation})"
        out.append(text)
    return out


def detect_kube_proxy_mode(model: ClusterModel) -> tuple[str | None, str | None]:
    """``(mode, where it was seen)``; per-node modes from node artifacts when they disagree."""
    nodes = node_proxy_modes(model)
    modes = sorted({str(i.mode) for i in nodes.values()})
    cluster = cluster_proxy_mode(model)
    if len(modes) > 1:
        return "mixed (" + ", ".join(modes) + ")", "node artifacts: " + ", ".join(
            f"{n}={i.mode}" for n, i in nodes.items()
        )
    if cluster is not None:
        return str(cluster.mode), cluster.evidence
    if modes:
        return modes[0], "node artifacts"
    return None, None


def coredns_replicas(model: ClusterModel) -> str | None:
    """``ready/desired`` of the CoreDNS (or kube-dns) Deployment in kube-system."""
    w = dns_workload(model)
    if w is None:
        return None
    return f"{w.ready_replicas}/{w.replicas}" if w.has_status else f"?/{w.replicas}"

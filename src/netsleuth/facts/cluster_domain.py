"""The cluster DNS domain (``cluster.local`` unless the cluster was built otherwise), derived
once from what the input shows.

Names under it (``<svc>.<ns>.svc.<domain>``) are what CoreDNS answers and what the kubelet
puts in every ``ClusterFirst`` pod's search list. Where the input says it, in order:

1. the kubelet's configuration, ``clusterDomain`` of the KubeletConfiguration kubeadm
   stores in ``kube-system/kubelet-config`` (``kubelet-config-1.<minor>`` before 1.24), key
   ``kubelet`` (what pods' resolv.conf search list is written from);
2. the CoreDNS Corefile (``kube-system/coredns``), the first zone of its ``kubernetes``
   plugin that is not a reverse zone (``kubernetes cluster.local in-addr.arpa ip6.arpa``),
   or the server block's zone when the plugin names none (what CoreDNS answers for);
3. kubeadm's ClusterConfiguration (``kube-system/kubeadm-config``),
   ``networking.dnsDomain`` (what kubeadm set both from).

A user's ``--cluster-domain`` overrides all of them. When the input shows none,
:data:`DEFAULT_CLUSTER_DOMAIN` (``cluster.local``, the kubelet's and kubeadm's default) is
used and the fact says so (``source == "default"``). Sources that disagree are kept in
:attr:`ClusterDomain.seen`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
"""The kubelet's and kubeadm's default ``clusterDomain``/``dnsDomain``."""

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_KUBELET_DOMAIN = re.compile(r"^clusterDomain:[ \t]*[\"']?([^\"'\s#]+)", re.MULTILINE)
_NETWORKING = re.compile(r"^networking:[ \t]*\n((?:[ \t]+.*(?:\n|$)|[ \t]*\n)*)", re.MULTILINE)
_DNS_DOMAIN = re.compile(r"^[ \t]+dnsDomain:[ \t]*[\"']?([^\"'\s#]+)", re.MULTILINE)
_REVERSE = ("in-addr.arpa", "ip6.arpa")


@dataclass(frozen=True, slots=True)
class ClusterDomain:
    domain: str
    """Without a trailing dot, lower case."""
    source: str
    """Where it comes from: ``kubelet config kube-system/kubelet-config``, ``CoreDNS Corefile
    kube-system/coredns``, ``kubeadm ClusterConfiguration kube-system/kubeadm-config``,
    ``--cluster-domain``, or ``default`` (the input shows none)."""
    seen: tuple[tuple[str, str], ...] = ()
    """Every ``(source, domain)`` the input shows, in the order above."""

    @property
    def from_input(self) -> bool:
        return self.source != "default"


def _clean(value: str) -> str | None:
    d = value.strip().rstrip(".").lower()
    return d if _DOMAIN.match(d) else None


def _kubelet(model: ClusterModel) -> tuple[str, str] | None:
    names = sorted(
        (c for c in model.config_maps if (c.meta.namespace or "") == "kube-system"),
        key=lambda c: (c.meta.name != "kubelet-config", c.meta.name),
    )
    for cm in names:
        if cm.meta.name != "kubelet-config" and not cm.meta.name.startswith("kubelet-config-1."):
            continue
        m = _KUBELET_DOMAIN.search(cm.data.get("kubelet", ""))
        d = _clean(m.group(1)) if m else None
        if d:
            return f"kubelet config kube-system/{cm.meta.name}", d
    return None


def _corefile(model: ClusterModel) -> tuple[str, str] | None:
    from netsleuth.facts.kube_dns import corefile  # kube_dns reads this module's answer

    cf = corefile(model)
    if cf is None:
        return None
    for d in cf.directives:
        if d.name != "kubernetes":
            continue
        zones = list(d.args) or d.block.split()
        for z in zones:
            zone = z.split(":")[0]
            if zone in (".", "") or zone.rstrip(".").endswith(_REVERSE):
                continue
            clean = _clean(zone)
            if clean:
                return f"CoreDNS Corefile kube-system/{cf.config_map.meta.name}", clean
    return None


def _kubeadm(model: ClusterModel) -> tuple[str, str] | None:
    cm = model.config_map("kube-system", "kubeadm-config")
    if cm is None:
        return None
    net = _NETWORKING.search(cm.data.get("ClusterConfiguration", ""))
    m = _DNS_DOMAIN.search(net.group(1)) if net else None
    d = _clean(m.group(1)) if m else None
    return ("kubeadm ClusterConfiguration kube-system/kubeadm-config", d) if d else None


def cluster_domain_fact(model: ClusterModel) -> ClusterDomain:
    """The cluster domain the input shows (memoised per model), else the default."""
    return model.memoised("facts.cluster_domain", lambda: _derive(model))


def _derive(model: ClusterModel) -> ClusterDomain:
    seen = tuple(s for s in (_kubelet(model), _corefile(model), _kubeadm(model)) if s)
    if seen:
        return ClusterDomain(seen[0][1], seen[0][0], seen)
    return ClusterDomain(DEFAULT_CLUSTER_DOMAIN, "default")


def cluster_domain(model: ClusterModel, override: str | None = None) -> str:
    """The cluster domain: ``override`` (the user's ``--cluster-domain``) when given, else
    the one the input shows, else ``cluster.local``."""
    if override:
        return override.strip().rstrip(".").lower()
    return cluster_domain_fact(model).domain

"""Facts about the cluster DNS: its Service, pods and Deployment (identified in
:mod:`netsleuth.model.cluster_dns`, one rule for every layer), its Corefile,
NodeLocal DNSCache, and the resolver each pod gets
(:mod:`netsleuth.facts.dns_resolution`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.facts.dns_resolution import ResolverConfig, resolver_config
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import (
    DNS_NAMESPACE,
    DNS_POD_LABEL,
    DNS_SERVICE_NAMES,
    DNS_WORKLOAD_NAMES,
    dns_pods,
    dns_service,
    dns_service_ip,
    dns_workload,
)
from netsleuth.model.objects import ConfigMap, Container, Meta, Pod, Workload

__all__ = [
    "AMPLIFICATION_WASTED",
    "DNS_NAMESPACE",
    "DNS_POD_LABEL",
    "DNS_SERVICE_NAMES",
    "DNS_WORKLOAD_NAMES",
    "NODELOCAL_NAMES",
    "Corefile",
    "Directive",
    "NdotsAmplification",
    "ResolverConfig",
    "cluster_has_system_view",
    "coredns_containers",
    "corefile",
    "corefile_config_map",
    "dns_pods",
    "dns_service",
    "dns_service_ip",
    "dns_workload",
    "ndots_amplification",
    "nodelocal_daemonset",
    "parse_corefile",
    "pod_resolver",
]

NODELOCAL_NAMES = ("node-local-dns", "nodelocaldns")


def nodelocal_daemonset(model: ClusterModel) -> Workload | None:
    for w in model.workloads:
        if w.kind == "DaemonSet" and w.name in NODELOCAL_NAMES:
            return w
    return None


def cluster_has_system_view(model: ClusterModel) -> bool:
    """Whether the input shows kube-system's workloads or pods (a cluster dump, not one app's manifests).

    DNS checks about what is *missing* only speak when this is true: a
    directory with one application's manifests says nothing about CoreDNS.
    """
    return bool(model.pods_by_namespace.get(DNS_NAMESPACE)) or any(
        w.namespace == DNS_NAMESPACE for w in model.workloads
    )


# --------------------------------------------------------------------------- Corefile


@dataclass(frozen=True, slots=True)
class Directive:
    """One plugin line of a Corefile server block: ``forward . /etc/resolv.conf``."""

    name: str
    args: tuple[str, ...]
    line: int
    """1-based line within the Corefile text."""
    block: str
    """The server block's zone key (``.:53``)."""


@dataclass(frozen=True, slots=True)
class Corefile:
    config_map: ConfigMap
    directives: tuple[Directive, ...]

    def in_block(self, zone_prefix: str = ".") -> list[Directive]:
        return [d for d in self.directives if d.block.split(":")[0] == zone_prefix]

    def has(self, plugin: str, zone_prefix: str = ".") -> bool:
        return any(d.name == plugin for d in self.in_block(zone_prefix))

    def get(self, plugin: str, zone_prefix: str = ".") -> Directive | None:
        return next((d for d in self.in_block(zone_prefix) if d.name == plugin), None)

    def root_block_present(self) -> bool:
        return any(d.block.split(":")[0] == "." for d in self.directives)


_TOKEN = re.compile(r'"[^"]*"|\S+')


def parse_corefile(text: str, cm: ConfigMap) -> Corefile:
    """Server blocks and their top-level plugin lines (nested plugin blocks are skipped).

    Corefile syntax: ``ZONE[:PORT] [ZONE…] {`` opens a server block; each
    line inside is ``plugin args…``, optionally with its own ``{ … }``.
    https://coredns.io/manual/toc/#configuration
    """
    directives: list[Directive] = []
    depth = 0
    block = ""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tokens = [t.strip('"') for t in _TOKEN.findall(line)]
        opens = line.count("{")
        closes = line.count("}")
        if depth == 0:
            if opens:
                block = tokens[0].rstrip("{").strip() or "."
                # "example.org {" : the zone is the first token
            depth += opens - closes
            continue
        if depth == 1 and tokens and tokens[0] not in ("{", "}"):
            args = tuple(t for t in tokens[1:] if t not in ("{", "}"))
            directives.append(Directive(tokens[0], args, lineno, block))
        depth += opens - closes
        depth = max(depth, 0)
    return Corefile(cm, tuple(directives))


COREFILE_CONFIG_MAPS = ("coredns", "rke2-coredns-rke2-coredns")
"""kube-system ConfigMaps holding the cluster DNS's Corefile (kubeadm/EKS/AKS/GKE's CoreDNS;
RKE2's chart)."""


def corefile_config_map(model: ClusterModel) -> ConfigMap | None:
    """The ConfigMap holding the cluster DNS's Corefile (the one to edit), when in the input."""
    for name in COREFILE_CONFIG_MAPS:
        cm = model.config_map(DNS_NAMESPACE, name)
        if cm is not None and cm.data.get("Corefile"):
            return cm
    return None


def corefile(model: ClusterModel) -> Corefile | None:
    cm = corefile_config_map(model)
    if cm is None:
        return None
    return parse_corefile(cm.data["Corefile"], cm)


def coredns_containers(model: ClusterModel) -> tuple[str, Meta, list[Container]] | None:
    """``(kind, meta, containers)`` of CoreDNS: the Deployment template, else a CoreDNS pod."""
    w = dns_workload(model)
    if w is not None and w.template is not None:
        return "Deployment", w.meta, list(w.template.spec.containers)
    pods = dns_pods(model)
    if pods:
        return "Pod", pods[0].meta, list(pods[0].spec.containers)
    return None


def pod_resolver(
    model: ClusterModel, pod: Pod, cluster_domain: str | None = None
) -> ResolverConfig | None:
    """The resolver of a pod whose queries go to the cluster DNS, else ``None``
    (``Default``/``None`` policies, and ``ClusterFirst`` on a host-network pod, which
    falls back to the node's resolv.conf). The same resolver the trace simulates."""
    cfg = resolver_config(model, pod, cluster_domain)
    return cfg if cfg.cluster_dns else None


AMPLIFICATION_WASTED = 3
"""Search-list names tried in vain per lookup from which ndots amplification degrades the
path: the default ClusterFirst search list (3 cluster suffixes) already reaches it."""


@dataclass(frozen=True, slots=True)
class NdotsAmplification:
    """What one lookup of an external ``name`` costs a pod because of ndots."""

    name: str
    ndots: int
    wasted: int
    """Search-list names tried (NXDOMAIN) before the name itself."""
    queries: int
    """Queries per uncached lookup (A and AAAA for every candidate)."""
    nodelocal: bool
    """NodeLocal DNSCache runs: it answers the wasted names from its cache."""

    @property
    def degraded(self) -> bool:
        """A degradation of the path (a warning), not just a cost (a note): several names
        wasted per lookup, every one of them a round trip to CoreDNS."""
        return self.wasted >= AMPLIFICATION_WASTED and not self.nodelocal


def ndots_amplification(
    model: ClusterModel, pod: Pod, name: str, cluster_domain: str | None = None
) -> NdotsAmplification | None:
    """The cost of looking up ``name`` (outside the cluster) from ``pod``, or ``None`` when the
    search list is not walked (absolute name, enough dots, no cluster DNS). DNS113 and the
    trace's dns hop both read it."""
    cfg = pod_resolver(model, pod, cluster_domain)
    if cfg is None or name.endswith(".") or name.count(".") >= cfg.ndots or not cfg.search:
        return None
    return NdotsAmplification(
        name=name,
        ndots=cfg.ndots,
        wasted=len(cfg.search),
        queries=cfg.queries_for(name),
        nodelocal=nodelocal_daemonset(model) is not None,
    )

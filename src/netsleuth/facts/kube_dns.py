"""Finding the cluster DNS (CoreDNS / kube-dns) in the model, and reading its Corefile.

The kube-dns Service is ``kube-system/kube-dns`` on kubeadm, EKS, GKE and
AKS (CoreDNS kept the name for compatibility); some distributions name it
``coredns``. Its pods carry ``k8s-app=kube-dns``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import ConfigMap, Container, Meta, Pod, Service, Workload

DNS_NAMESPACE = "kube-system"
DNS_SERVICE_NAMES = ("kube-dns", "coredns", "rke2-coredns-rke2-coredns")
DNS_WORKLOAD_NAMES = ("coredns", "kube-dns", "rke2-coredns-rke2-coredns")
DNS_POD_LABEL = ("k8s-app", "kube-dns")
NODELOCAL_NAMES = ("node-local-dns", "nodelocaldns")


def dns_service(model: ClusterModel) -> Service | None:
    for name in DNS_SERVICE_NAMES:
        svc = model.service(DNS_NAMESPACE, name)
        if svc is not None:
            return svc
    for svc in model.services:
        if (
            svc.namespace == DNS_NAMESPACE
            and (svc.selector or {}).get(DNS_POD_LABEL[0]) == DNS_POD_LABEL[1]
        ):
            return svc
    return None


def dns_workload(model: ClusterModel) -> Workload | None:
    for name in DNS_WORKLOAD_NAMES:
        w = model.workload("Deployment", DNS_NAMESPACE, name)
        if w is not None:
            return w
    return None


def dns_pods(model: ClusterModel) -> list[Pod]:
    k, v = DNS_POD_LABEL
    return list(model.label_index.get(DNS_NAMESPACE, {}).get(k, {}).get(v, ()))


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


def corefile(model: ClusterModel) -> Corefile | None:
    cm = model.config_map(DNS_NAMESPACE, "coredns")
    if cm is None:
        return None
    text = cm.data.get("Corefile")
    if not text:
        return None
    return parse_corefile(text, cm)


def coredns_containers(model: ClusterModel) -> tuple[str, Meta, list[Container]] | None:
    """``(kind, meta, containers)`` of CoreDNS: the Deployment template, else a CoreDNS pod."""
    w = dns_workload(model)
    if w is not None and w.template is not None:
        return "Deployment", w.meta, list(w.template.spec.containers)
    pods = dns_pods(model)
    if pods:
        return "Pod", pods[0].meta, list(pods[0].spec.containers)
    return None


@dataclass(frozen=True, slots=True)
class PodResolver:
    """The resolv.conf kubelet writes for a pod with cluster DNS."""

    search: tuple[str, ...]
    ndots: int
    options: tuple[tuple[str, str | None], ...]

    def has_option(self, name: str) -> bool:
        return any(k == name for k, _ in self.options)

    def queries_for(self, name: str) -> int:
        """DNS queries one lookup of ``name`` costs when it does not resolve in the cluster.

        glibc tries each search domain before the name itself when the name has
        fewer dots than ``ndots``; A and AAAA are asked for each candidate.
        """
        if name.endswith(".") or name.count(".") >= self.ndots:
            return 2
        return (len(self.search) + 1) * 2


def pod_resolver(pod: Pod, cluster_domain: str = "cluster.local") -> PodResolver | None:
    """The resolver config of a pod whose DNS goes to the cluster DNS, else ``None``.

    ``ClusterFirst`` (the default) and ``ClusterFirstWithHostNet`` on a
    host-network pod use cluster DNS with the search list
    ``<ns>.svc.<domain> svc.<domain> <domain>`` plus the node's search domains
    (not visible here) and ``ndots:5``; ``dnsConfig`` adds searches and
    overrides options. ``ClusterFirst`` on a host-network pod falls back to
    ``Default`` (the node's resolv.conf).
    https://kubernetes.io/docs/concepts/services-networking/dns-pod-service/#pod-s-dns-policy
    """
    policy = pod.spec.dns_policy or "ClusterFirst"
    if policy == "ClusterFirst" and pod.spec.host_network:
        return None
    if policy not in ("ClusterFirst", "ClusterFirstWithHostNet"):
        return None
    ns = pod.namespace
    search = [f"{ns}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]
    options: list[tuple[str, str | None]] = [("ndots", "5")]
    cfg = pod.spec.dns_config
    if cfg is not None:
        search += [s for s in cfg.searches if s not in search]
        for k, v in cfg.options:
            options = [o for o in options if o[0] != k] + [(k, v)]
    ndots = 5
    for k, v in options:
        if k == "ndots" and v is not None and v.isdigit():
            ndots = min(int(v), 15)
    return PodResolver(tuple(search), ndots, tuple(options))

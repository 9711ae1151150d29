"""Breaches of the Prometheus signals, put on the model: which node, which pod, which object.

A series' labels say where it was measured: a ``node`` (or
``kubernetes_node``) label set by relabelling, or the scrape target's
``instance`` (``10.0.1.5:9100``, ``worker-1:9100`` or, with kube-prometheus'
relabelling, the node name itself). The address is matched against node
names, node addresses and pod IPs of the model (a hostNetwork exporter has its
node's address; CoreDNS has a pod IP). Both ``scan --prometheus`` (the metric
checks) and ``trace --prometheus`` read breaches from here, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.facts.kube_dns import DNS_NAMESPACE, corefile_config_map, dns_workload
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.metrics import SIGNAL_BY_NAME, MetricsSnapshot, Sample, Signal
from netsleuth.model.objects import Meta, Pod

NODE_LABELS = ("node", "kubernetes_node", "nodename", "node_name")


@dataclass(frozen=True, slots=True)
class Breach:
    """One breaching series of a signal, placed on the model when its labels allow."""

    signal: Signal
    query: str
    sample: Sample
    node: str | None
    """The model node the series was measured on, when the labels name one."""
    pod: Pod | None = None
    """The model pod behind the scrape target (CoreDNS, a kube-proxy or Cilium agent pod)."""

    @property
    def value(self) -> float:
        return self.sample.value

    @property
    def where(self) -> str:
        """The node when known, else the scrape target as Prometheus labels it."""
        if self.node:
            return self.node
        inst = self.sample.get("instance")
        return f"instance {inst}" if inst else "no instance label"


def _host(instance: str) -> str:
    """``10.0.1.5:9100`` → ``10.0.1.5``; ``[fd00::5]:9100`` → ``fd00::5``; a bare name stays."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.rsplit(":", 1)[0]
    return instance


def _node_addresses(model: ClusterModel) -> dict[str, str]:
    def compute() -> dict[str, str]:
        out: dict[str, str] = {}
        for node in model.nodes.values():
            for a in getattr(node, "addresses", ()):
                out.setdefault(a.address, node.meta.name)
        return out

    return model.memoised("metric_breaches.node_addresses", compute)


def locate(model: ClusterModel, sample: Sample) -> tuple[str | None, Pod | None]:
    """The model node (and pod) a series was measured on, from its labels."""
    for key in NODE_LABELS:
        name = sample.get(key)
        if name and name in model.nodes:
            return name, None
    inst = sample.get("instance")
    if not inst:
        return None, None
    host = _host(inst)
    if host in model.nodes:
        return host, None
    node = _node_addresses(model).get(host)
    pods = [p for p in model.pods_by_ip.get(host, ()) if not p.host_network]
    if pods:
        return pods[0].node_name or node, pods[0]
    if node is not None:
        return node, None
    return None, None


def breaches(model: ClusterModel, snapshot: MetricsSnapshot, name: str) -> list[Breach]:
    """The breaching series of signal ``name`` (empty when not measured or none breach)."""
    res = snapshot.signals.get(name)
    if res is None or not res.measured:
        return []
    sig = SIGNAL_BY_NAME[name]
    out = []
    for sample in res.samples:
        node, pod = locate(model, sample)
        out.append(Breach(sig, res.query, sample, node, pod))
    return out


# --------------------------------------------------------------------------- objects to change


def coredns_deployment(model: ClusterModel) -> tuple[str, Meta]:
    """The CoreDNS Deployment (kind, meta): from the input, else the kubeadm name."""
    w = dns_workload(model)
    if w is not None:
        return w.kind, w.meta
    return "Deployment", Meta(name="coredns", namespace=DNS_NAMESPACE)


def coredns_corefile(model: ClusterModel) -> tuple[str, Meta]:
    """The ConfigMap holding the Corefile (its ``forward`` line), else the Deployment."""
    cm = corefile_config_map(model)
    if cm is not None:
        return "ConfigMap", cm.meta
    return coredns_deployment(model)


def kube_proxy_daemonset(model: ClusterModel) -> tuple[str, Meta]:
    """kube-proxy's DaemonSet (kind, meta): from the input, else the kubeadm name."""
    w = model.workload("DaemonSet", "kube-system", "kube-proxy")
    if w is not None:
        return w.kind, w.meta
    return "DaemonSet", Meta(name="kube-proxy", namespace="kube-system")


def node_meta(model: ClusterModel, node: str) -> Meta:
    n = model.nodes.get(node)
    return n.meta if n is not None else Meta(name=node)

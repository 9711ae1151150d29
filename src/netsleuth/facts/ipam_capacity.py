"""How many pods a node's podCIDR can hold, net of what the IPAM plugin reserves, against
the pods the kubelet admits (maxPods) and the pods on the node now.

Only where pod IPs come from ``Node.spec.podCIDR``
(:func:`netsleuth.facts.cni_detect.node_pod_cidr_ipam`). What each plugin keeps
for itself (assumptions from the plugins' documentation and source, stated in
every finding's evidence):

- **host-local** (flannel, canal, kindnet, the bridge/ptp plugins, Calico
  ``usePodCidr``): the network address, the gateway (``.1``: the range's
  ``gateway`` defaults to the first address and the allocator skips it) and,
  for IPv4, the broadcast address (``rangeEnd`` defaults to the last address
  before it). A /24 holds 253 pods, a /26 61, a /28 13; an IPv6 /120 254.
  https://www.cni.dev/plugins/current/ipam/host-local/
- **Cilium ``ipam: kubernetes``**: its allocator keeps the network address
  and, for IPv4, the broadcast address; the agent then takes one address for
  its router (``cilium_host``) and one for the health endpoint
  (``enable-endpoint-health-checking``, on by default). A /24 holds 252 pods,
  a /26 60. https://docs.cilium.io/en/stable/network/concepts/ipam/kubernetes/
- Calico's own IPAM (blocks borrowed from an IP pool), Cilium cluster-pool and
  the AWS VPC CNI do not allocate from the node podCIDR: no per-node capacity
  is computed for them (not checked, never "ok").

maxPods is the node's ``status.capacity.pods``; without a status, the
kubeadm ConfigMap ``kube-system/kubelet-config`` ``maxPods``; without either,
the kubelet's default 110, said to be assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.facts.cluster_cidrs import IPNetwork, node_pod_cidrs
from netsleuth.facts.cni_detect import node_pod_cidr_ipam
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Node, Pod

KUBELET_DEFAULT_MAX_PODS = 110
"""https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/ (maxPods)."""


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an IPAM plugin keeps out of a node range."""

    plugin: str
    """``host-local`` or ``cilium-kubernetes``."""
    v4: tuple[str, ...]
    v6: tuple[str, ...]
    why: str
    """Why pod IPs come from the node podCIDR here (the CNI and its setting)."""

    def of(self, network: IPNetwork) -> tuple[str, ...]:
        return self.v4 if network.version == 4 else self.v6

    def pod_addresses(self, network: IPNetwork) -> int:
        return max(network.num_addresses - len(self.of(network)), 0)

    def words(self, network: IPNetwork) -> str:
        """``network, gateway and broadcast reserved by host-local``."""
        parts = self.of(network)
        what = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
        return f"{what} reserved by {self.plugin}"


RESERVATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "host-local": (("network", "gateway", "broadcast"), ("network", "gateway")),
    "cilium-kubernetes": (
        ("network", "broadcast", "cilium_host router", "health endpoint"),
        ("network", "cilium_host router", "health endpoint"),
    ),
}


def reservation(model: ClusterModel) -> Reservation | None:
    """The IPAM plugin's reservation, or ``None`` when pods do not take node-range addresses."""
    found = node_pod_cidr_ipam(model)
    if found is None:
        return None
    plugin, why = found
    v4, v6 = RESERVATIONS.get(plugin, RESERVATIONS["host-local"])
    return Reservation(plugin=plugin, v4=v4, v6=v6, why=why)


_MAX_PODS = re.compile(r"^\s*maxPods:\s*(\d+)\s*$", re.MULTILINE)


def max_pods(model: ClusterModel, node: Node) -> tuple[int, str, str]:
    """``(maxPods, object, field)``: where the node's pod limit was read."""
    if node.capacity_pods is not None:
        return node.capacity_pods, f"Node/{node.name}", "status.capacity.pods"
    for c in model.config_maps:
        if c.meta.namespace == "kube-system" and c.meta.name.startswith("kubelet-config"):
            m = _MAX_PODS.search(c.data.get("kubelet", ""))
            if m:
                return (
                    int(m.group(1)),
                    f"ConfigMap/kube-system/{c.meta.name}",
                    "data.kubelet maxPods",
                )
    return (
        KUBELET_DEFAULT_MAX_PODS,
        f"Node/{node.name}",
        "status.capacity.pods (not in the input: the kubelet default 110 is assumed)",
    )


def _holds_address(p: Pod) -> bool:
    """A pod that holds an address of the node range: not hostNetwork, not finished, has an IP."""
    return (
        not p.host_network
        and not p.meta.derived
        and p.phase not in ("Succeeded", "Failed")
        and bool(p.pod_ips)
    )


@dataclass(frozen=True, slots=True)
class NodeCapacity:
    """One node's IPv4/IPv6 pod range against its pod limit and its pods."""

    node: str
    network: IPNetwork
    reservation: Reservation
    usable: int
    """Pod addresses in the range, net of the plugin's reservation."""
    max_pods: int
    max_pods_from: tuple[str, str]
    """``(object, field)`` maxPods was read from."""
    pods: int
    """Pods on the node holding an address (hostNetwork, finished and IP-less pods excluded)."""

    @property
    def cidr(self) -> str:
        return str(self.network)

    @property
    def short(self) -> bool:
        """The range holds fewer pods than the kubelet admits."""
        return self.usable < self.max_pods


def node_capacities(model: ClusterModel) -> tuple[NodeCapacity, ...]:
    """Every node range's capacity, once per model (empty when the CNI does not allocate
    from the node podCIDR, or that is not known)."""

    def compute() -> tuple[NodeCapacity, ...]:
        res = reservation(model)
        if res is None:
            return ()
        out: list[NodeCapacity] = []
        for name, r in node_pod_cidrs(model):
            node = model.nodes[name]
            limit, obj, fld = max_pods(model, node)
            family = [
                p
                for p in model.pods_by_node.get(name, ())
                if _holds_address(p)
                and any((":" in ip) == (r.network.version == 6) for ip in p.pod_ips)
            ]
            out.append(
                NodeCapacity(
                    node=name,
                    network=r.network,
                    reservation=res,
                    usable=res.pod_addresses(r.network),
                    max_pods=limit,
                    max_pods_from=(obj, fld),
                    pods=len(family),
                )
            )
        return tuple(out)

    return model.memoised("facts:node_capacities", compute)


__all__ = [
    "KUBELET_DEFAULT_MAX_PODS",
    "NodeCapacity",
    "Reservation",
    "max_pods",
    "node_capacities",
    "reservation",
]

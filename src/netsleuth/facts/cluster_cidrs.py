"""The address ranges a cluster uses: Service CIDR, pod CIDRs, node addresses.

The Service CIDR is read, most authoritative first, from the user
(``ScanConfig.service_cidr``), the kube-apiserver static pod's
``--service-cluster-ip-range`` flag, or kubeadm's ``kubeadm-config``
ConfigMap (``networking.serviceSubnet``). When none is visible, the
ClusterIPs themselves stand in: an overlap with an actual ClusterIP is a
fact, whereas a guessed range would not be.

The cluster pod CIDR comes from kube-controller-manager's
``--cluster-cidr`` or kubeadm's ``networking.podSubnet``; per-node ranges
from ``Node.spec.podCIDRs``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True, kw_only=True)
class Range:
    """A CIDR and where it was read."""

    network: IPNetwork
    source: str
    """``Pod/kube-system/kube-apiserver-cp1 --service-cluster-ip-range``."""

    @property
    def cidr(self) -> str:
        return str(self.network)


def parse_network(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def overlaps(a: IPNetwork, b: IPNetwork) -> bool:
    """True when the two ranges share an address (never across IP families).

    >>> overlaps(ipaddress.ip_network("10.96.0.0/12"), ipaddress.ip_network("10.100.0.0/16"))
    True
    >>> overlaps(ipaddress.ip_network("10.96.0.0/12"), ipaddress.ip_network("10.244.0.0/16"))
    False
    """
    if isinstance(a, ipaddress.IPv4Network) and isinstance(b, ipaddress.IPv4Network):
        return a.overlaps(b)
    if isinstance(a, ipaddress.IPv6Network) and isinstance(b, ipaddress.IPv6Network):
        return a.overlaps(b)
    return False


def _flag_values(model: ClusterModel, component: str, flag: str) -> list[Range]:
    out: list[Range] = []
    for p in model.pods_by_namespace.get("kube-system", ()):
        if p.labels.get("component") != component and not p.name.startswith(component + "-"):
            continue
        for c in p.spec.containers:
            for arg in (*c.command, *c.args):
                if arg.startswith(flag + "="):
                    for part in arg.split("=", 1)[1].split(","):
                        net = parse_network(part)
                        if net is not None:
                            out.append(
                                Range(network=net, source=f"Pod/kube-system/{p.name} {flag}")
                            )
        if out:
            return out
    return out


_KUBEADM_KEY = re.compile(r"^\s*(serviceSubnet|podSubnet):\s*[\"']?([^\"'\s]+)", re.MULTILINE)


def _kubeadm(model: ClusterModel, key: str) -> list[Range]:
    cm = model.config_map("kube-system", "kubeadm-config")
    if cm is None:
        return []
    out: list[Range] = []
    for m in _KUBEADM_KEY.finditer(cm.data.get("ClusterConfiguration", "")):
        if m.group(1) == key:
            for part in m.group(2).split(","):
                net = parse_network(part)
                if net is not None:
                    out.append(
                        Range(
                            network=net,
                            source=f"ConfigMap/kube-system/kubeadm-config networking.{key}",
                        )
                    )
    return out


def service_cidrs(model: ClusterModel, configured: str | None = None) -> list[Range]:
    """The declared Service CIDRs (empty when the input does not show them)."""
    if configured:
        out = [
            Range(network=n, source="--service-cidr (user)")
            for part in configured.split(",")
            if (n := parse_network(part)) is not None
        ]
        if out:
            return out
    return _flag_values(model, "kube-apiserver", "--service-cluster-ip-range") or _kubeadm(
        model, "serviceSubnet"
    )


def cluster_pod_cidrs(model: ClusterModel) -> list[Range]:
    """The cluster-wide pod CIDR(s), when visible: kube-controller-manager's
    ``--cluster-cidr``, kubeadm's ``podSubnet``, else the CNI's own pool (calico-node
    ``CALICO_IPV4POOL_CIDR``, flannel ``net-conf.json`` ``Network``, cilium-config
    ``cluster-pool-ipv4-cidr``)."""
    found = _flag_values(model, "kube-controller-manager", "--cluster-cidr")
    return found or _kubeadm(model, "podSubnet") or _cni_pools(model)


_FLANNEL_NETWORK = re.compile(r'"Network"\s*:\s*"([^"]+)"')


def _cni_pools(model: ClusterModel) -> list[Range]:
    out: list[Range] = []
    for w in model.workloads:
        if w.kind != "DaemonSet" or w.name != "calico-node" or w.template is None:
            continue
        for c in w.template.spec.containers:
            for k, v in c.env:
                net = (
                    parse_network(v)
                    if k in ("CALICO_IPV4POOL_CIDR", "CALICO_IPV6POOL_CIDR")
                    else None
                )
                if net is not None:
                    out.append(
                        Range(network=net, source=f"DaemonSet/{w.namespace}/{w.name} env {k}")
                    )
    for cm in model.config_maps:
        where = f"ConfigMap/{cm.meta.namespace}/{cm.meta.name}"
        if cm.meta.name == "kube-flannel-cfg" and "net-conf.json" in cm.data:
            m = _FLANNEL_NETWORK.search(cm.data["net-conf.json"])
            net = parse_network(m.group(1)) if m else None
            if net is not None:
                out.append(Range(network=net, source=f"{where} net-conf.json Network"))
        if cm.meta.name == "cilium-config":
            for key in ("cluster-pool-ipv4-cidr", "cluster-pool-ipv6-cidr"):
                for part in cm.data.get(key, "").replace(",", " ").split():
                    net = parse_network(part)
                    if net is not None:
                        out.append(Range(network=net, source=f"{where} {key}"))
    return out


def node_pod_cidrs(model: ClusterModel) -> list[tuple[str, Range]]:
    """``(node, range)`` for every node's spec.podCIDRs."""
    out: list[tuple[str, Range]] = []
    for name, node in sorted(model.nodes.items()):
        for c in node.pod_cidrs:
            net = parse_network(c)
            if net is not None:
                out.append((name, Range(network=net, source=f"Node/{name} spec.podCIDRs")))
    return out


def usable_addresses(prefix_len: int, version: int = 4) -> int:
    """Pod addresses in a node podCIDR: the range less its network and broadcast
    addresses for IPv4 (a /26 holds 62, a /24 254, a /28 14).

    >>> usable_addresses(26)
    62
    """
    size = 1 << ((32 if version == 4 else 128) - prefix_len)
    return max(size - 2, 0) if version == 4 else size - 1


def pod_addresses(network: IPNetwork) -> int:
    """Addresses the IPAM plugin can hand to pods in a node podCIDR, net of what it reserves.

    host-local (flannel, kindnet, the bridge plugin, Calico ``usePodCidr``,
    Cilium ``ipam: kubernetes`` does the same for its router address) never
    allocates the network address, the gateway (``.1`` by default, taken by
    the node's bridge or router interface) or, for IPv4, the broadcast
    address: a /24 holds 253 pods, a /26 61, a /28 13
    (https://www.cni.dev/plugins/current/ipam/host-local/: ``rangeStart``
    defaults to the first address after the network, ``rangeEnd`` to the last
    before broadcast, and ``gateway`` to ``.1``, which the allocator skips).

    >>> import ipaddress
    >>> pod_addresses(ipaddress.ip_network("10.244.0.64/26"))
    61
    >>> pod_addresses(ipaddress.ip_network("10.244.1.0/24"))
    253
    """
    size = network.num_addresses
    reserved = 3 if network.version == 4 else 2
    return max(size - reserved, 0)


def reserved_addresses(network: IPNetwork) -> str:
    """What :func:`pod_addresses` leaves out, in words (for messages)."""
    return "network, gateway and broadcast" if network.version == 4 else "network and gateway"


def prefix_for(pods: int, version: int = 4) -> int:
    """The longest node-CIDR prefix whose range holds ``pods`` pod addresses (110 -> /25).

    >>> prefix_for(110)
    25
    >>> prefix_for(250)
    24
    """
    bits = 32 if version == 4 else 128
    for prefix in range(bits, 0, -1):
        size = 1 << (bits - prefix)
        if size - (3 if version == 4 else 2) >= pods:
            return prefix
    return 0

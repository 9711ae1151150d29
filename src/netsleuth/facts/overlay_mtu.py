"""Encapsulation overhead and the effective pod MTU on a node.

Effective pod MTU = underlay MTU − encapsulation overhead. The overheads
count the outer headers a tunnel adds to each inner IP packet:

=============  ==========  ==========  ======================================
encapsulation  IPv4 outer  IPv6 outer  headers
=============  ==========  ==========  ======================================
vxlan          50          70          outer IP 20/40 + UDP 8 + VXLAN 8 + inner Ethernet 14
geneve         50          70          as VXLAN with no options; options add more
ipip           20          40          outer IP header only
wireguard      60          80          outer IP 20/40 + UDP 8 + WireGuard 32
udp (flannel)  28          48          outer IP + UDP
none           0           0           native routing
=============  ==========  ==========  ======================================

Sources: RFC 7348 (VXLAN), RFC 8926 (Geneve), Calico's MTU table
(https://docs.tigera.io/calico/latest/networking/configuring/mtu), Cilium's
MTU docs (https://docs.cilium.io/en/stable/network/concepts/routing/) and
WireGuard's own 60/80 figure (https://www.wireguard.com/papers/wireguard.pdf,
§ "Messages": 16-byte header + 16-byte tag over UDP).

Geneve is a lower bound: a CNI that adds options needs more headroom, so a
check built on it only fires where even the minimum does not fit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from netsleuth.facts.cni_detect import node_tunnel_devices, primary_cni
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.node_artifacts import LinkInfo, NodeArtifacts

OVERHEAD: dict[str, tuple[int, int]] = {
    "vxlan": (50, 70),
    "geneve": (50, 70),
    "ipip": (20, 40),
    "wireguard": (60, 80),
    "udp": (28, 48),
    "none": (0, 0),
}

# Interface names that are never the underlay.
_VIRTUAL_PREFIXES = (
    "lo",
    "veth",
    "cali",
    "lxc",
    "cilium",
    "flannel",
    "cni",
    "docker",
    "tunl",
    "vxlan",
    "weave",
    "datapath",
    "kube-ipvs",
    "nodelocaldns",
    "genev",
    "wg",
    "antrea",
    "br-",
    "virbr",
    "vethwe",
    "eni",  # aws VPC CNI pod interfaces (eni<hash>); the node's own ENIs are eth*/ens*
)


def overhead(encapsulation: str, ipv6_underlay: bool = False) -> int:
    """Bytes the encapsulation adds. Raises ``KeyError`` for an unknown one."""
    v4, v6 = OVERHEAD[encapsulation]
    return v6 if ipv6_underlay else v4


def effective_pod_mtu(underlay_mtu: int, encapsulation: str, ipv6_underlay: bool = False) -> int:
    """The largest pod MTU whose packets still fit the underlay once encapsulated.

    >>> effective_pod_mtu(1500, "vxlan")
    1450
    >>> effective_pod_mtu(9001, "wireguard", ipv6_underlay=True)
    8921
    """
    return underlay_mtu - overhead(encapsulation, ipv6_underlay)


def is_ipv6(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ipaddress.ip_address(address).version == 6
    except ValueError:
        return False


def _virtual(name: str) -> bool:
    return name.startswith(_VIRTUAL_PREFIXES)


def underlay_link(art: NodeArtifacts) -> LinkInfo | None:
    """The node's uplink: the default route's device, else the first physical-looking
    interface (``eth*``, ``ens*``, ``enp*``, ``eno*``, ``bond*``) with an MTU."""
    links = {link.name: link for link in art.links or ()}
    for r in art.routes or ():
        if r.destination == "default" and r.device and r.device in links and not _virtual(r.device):
            return links[r.device]
    for link in art.links or ():
        if link.mtu is None or _virtual(link.name) or link.kind not in (None, "", "bond", "ether"):
            continue
        if link.name.startswith(("eth", "ens", "enp", "eno", "bond", "em")):
            return link
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PodMtuFact:
    """One place a node shows the pod MTU: a conflist, a pod veth, or a tunnel device."""

    value: int
    where: str
    """``cni/10-flannel.conflist mtu`` or ``ip -d link cali12ab mtu``."""
    is_tunnel_device: bool = False


def pod_mtu_facts(
    art: NodeArtifacts,
    tunnel_devices: Iterable[str],
    *,
    count_veths: bool = True,
    underlay: str | None = None,
) -> list[PodMtuFact]:
    """MTUs this node's own files show for the pod path.

    Host-side veth ends (``veth*``, ``cali*``, ``lxc*``) carry the pod
    interface's MTU; a tunnel device's MTU caps what the overlay sends.
    ``count_veths=False`` for Cilium, which leaves pod interfaces at the
    device MTU and lowers the MTU on the pod's routes instead. ``underlay``
    is the node's uplink, never a pod veth even when it is a veth itself (a
    kind node's ``eth0``, a netsleuth lab node's).
    """
    facts: list[PodMtuFact] = []
    for conf in art.cni_configs or ():
        if conf.mtu:
            facts.append(PodMtuFact(value=conf.mtu, where=f"{conf.file} mtu"))
    tunnels = set(tunnel_devices)
    veth_mtus: dict[int, str] = {}
    for link in art.links or ():
        if link.mtu is None or link.name == underlay:
            continue
        if link.name in tunnels:
            facts.append(
                PodMtuFact(
                    value=link.mtu, where=f"ip -d link {link.name} mtu", is_tunnel_device=True
                )
            )
        elif count_veths and (link.kind == "veth" or link.name.startswith(("veth", "cali", "lxc"))):
            veth_mtus.setdefault(link.mtu, link.name)
    for mtu, name in sorted(veth_mtus.items(), reverse=True):
        facts.append(PodMtuFact(value=mtu, where=f"ip -d link {name} mtu (pod veth)"))
    return facts


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeMtu:
    """What one node's files say about its MTUs."""

    node: str
    underlay_device: str
    underlay_mtu: int
    encapsulation: str | None
    encapsulation_source: str | None
    ipv6: bool
    facts: tuple[PodMtuFact, ...]

    @property
    def effective(self) -> int | None:
        if self.encapsulation is None or self.encapsulation not in OVERHEAD:
            return None
        return effective_pod_mtu(self.underlay_mtu, self.encapsulation, self.ipv6)

    @property
    def pod_mtu(self) -> int | None:
        """The largest pod-side MTU the node shows (conflist or veth), tunnel devices aside."""
        values = [f.value for f in self.facts if not f.is_tunnel_device]
        return max(values) if values else None


# Cilium sets the pod MTU on the pod's routes, not on cilium_vxlan/cilium_geneve,
# whose device MTU stays at the underlay value; those devices say nothing about pods.
_DEVICE_MTU_UNRELIABLE = ("cilium_",)


def _pick_tunnel(
    tunnels: list[tuple[str, str, int | None]], configured: str | None
) -> tuple[str, str, int | None]:
    """The tunnel the CNI uses when a node shows several: the one matching the CNI's
    configured encapsulation, else one other than ``tunl0`` (the kernel creates
    ``tunl0`` whenever the ipip module is loaded, whether or not IP-in-IP is used)."""
    for t in tunnels:
        if configured is not None and t[1] == configured:
            return t
    for t in tunnels:
        if not t[0].startswith("tunl0"):
            return t
    return tunnels[0]


def node_mtus(model: ClusterModel) -> list[NodeMtu]:
    """Per-node MTU facts for nodes with ``ip -d link`` output (computed once per model).

    The encapsulation is the node's own tunnel device when it has one, else
    the detected CNI's setting.
    """
    return list(model.memoised("facts.node_mtus", lambda: tuple(_node_mtus(model))))


def _node_mtus(model: ClusterModel) -> list[NodeMtu]:
    cni = primary_cni(model)
    out: list[NodeMtu] = []
    for name, art in sorted(model.node_artifacts.items()):
        if not art.links:
            continue
        up = underlay_link(art)
        if up is None or up.mtu is None:
            continue
        tunnels = node_tunnel_devices(art.links)
        encap: str | None = None
        source: str | None = None
        if tunnels:
            dev, encap, _ = _pick_tunnel(tunnels, cni.encapsulation if cni else None)
            source = f"node {name} device {dev}"
        elif cni is not None and cni.encapsulation is not None:
            encap, source = cni.encapsulation, cni.encapsulation_source
        node = model.nodes.get(name)
        ipv6 = is_ipv6(node.internal_ip if node else None)
        cilium = cni is not None and cni.name == "cilium"
        facts = pod_mtu_facts(
            art,
            [t[0] for t in tunnels if not t[0].startswith(_DEVICE_MTU_UNRELIABLE)],
            count_veths=not cilium,
            underlay=up.name,
        )
        if cni is not None and cni.configured_mtu and cni.mtu_source:
            value, where = cni.configured_mtu, cni.mtu_source
            if cni.mtu_is_underlay:
                # Cilium's mtu is the underlay's; the pod (route) MTU is that minus the overhead.
                if encap in OVERHEAD:
                    ov = overhead(encap, ipv6)
                    facts.append(
                        PodMtuFact(
                            value=value - ov, where=f"{where} {value} − {ov} (Cilium's route MTU)"
                        )
                    )
            else:
                facts.append(PodMtuFact(value=value, where=where))
        out.append(
            NodeMtu(
                node=name,
                underlay_device=up.name,
                underlay_mtu=up.mtu,
                encapsulation=encap,
                encapsulation_source=source,
                ipv6=ipv6,
                facts=tuple(facts),
            )
        )
    return out

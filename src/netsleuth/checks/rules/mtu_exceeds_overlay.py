"""MTU501: the pod MTU is larger than the underlay MTU minus the encapsulation overhead."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.overlay_mtu import node_mtus, overhead
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Meta, Pod


def ping_targets(model: ClusterModel, node: str) -> tuple[Pod | None, Pod | None]:
    """A running pod on ``node`` and one on another node, for the DF-bit ping."""
    src = next(
        (p for p in model.pods_by_node.get(node, ()) if p.running and p.ip and not p.host_network),
        None,
    )
    dst = next(
        (
            p
            for p in model.pods
            if p.running and p.ip and not p.host_network and p.node_name not in (None, node)
        ),
        None,
    )
    return src, dst


@register(
    id="MTU501", layer=Layer.MTU, severity=Severity.ERROR, needs=Needs(node_artifacts=("links",))
)
def mtu_exceeds_overlay(model: ClusterModel) -> Iterator[Finding]:
    """The pod MTU is larger than the underlay MTU minus the encapsulation overhead.

    What it checks:
        On each node with ``ip -d link``: the underlay MTU (the default
        route's device, else ``eth*``/``ens*``), the encapsulation (the
        node's tunnel device — ``flannel.1``, ``vxlan.calico``, ``tunl0``,
        WireGuard — else the CNI's config), and every pod MTU the node shows
        (CNI conflist ``mtu``, host-side veth MTUs, the tunnel device MTU,
        the CNI ConfigMap's ``mtu``/``veth_mtu``) against underlay MTU −
        overhead (VXLAN 50, Geneve 50 + options, IP-in-IP 20, WireGuard 60
        over IPv4 / 80 over IPv6).

    Why it breaks traffic:
        A full-size pod packet plus the tunnel headers no longer fits the
        node's link: it is dropped, often without an ICMP "fragmentation
        needed" reaching the sender. Small requests work; large responses,
        TLS handshakes with big certificates and gRPC streams hang.

    Example:
        eth0 MTU 1500, VXLAN (``flannel.1``), pod veth MTU 1500: the largest
        pod packet that fits is 1450, so 1500-byte packets vanish.

    Fix:
        Set the CNI's MTU to the effective figure (flannel: the ``mtu`` in
        the CNI conflist / let flannel derive it; Calico ``veth_mtu``;
        Cilium ``mtu``), or raise the underlay MTU (jumbo frames) on every
        node; then restart the CNI agents and recreate pods so their
        interfaces get the new MTU.

    Confirm live:
        ``kubectl exec <pod> -- ping -M do -s <effective-28> <pod-ip-on-other-node>`` succeeds and
        ``-s <pod-mtu-28>`` fails; ``ip -d link show`` on the node.

    References:
        https://docs.tigera.io/calico/latest/networking/configuring/mtu ;
        https://docs.cilium.io/en/stable/network/concepts/routing/ ;
        https://github.com/flannel-io/flannel/blob/master/Documentation/configuration.md ;
        RFC 7348 (VXLAN)
    """
    for nm in node_mtus(model):
        eff = nm.effective
        if eff is None:
            continue
        too_big = [f for f in nm.facts if f.value > eff]
        if not too_big:
            continue
        worst = max(f.value for f in too_big)
        node = model.nodes.get(nm.node)
        meta = node.meta if node is not None else Meta(name=nm.node)
        ov = overhead(nm.encapsulation or "none", nm.ipv6)
        src, dst = ping_targets(model, nm.node)
        src_args = ("-n", src.namespace, src.name) if src else (f"<pod-on-{nm.node}>",)
        dst_ip = dst.ip if dst and dst.ip else "<pod-ip-on-another-node>"
        yield finding(
            "MTU501",
            model,
            kind="Node",
            meta=meta,
            artifacts=True,
            message=f"node {nm.node}: pod MTU {worst} exceeds {eff} = {nm.underlay_device} MTU "
            f"{nm.underlay_mtu} − {ov} ({nm.encapsulation}); packets over {eff} bytes are dropped",
            evidence=[
                Evidence(
                    f"Node/{nm.node}",
                    f"ip -d link {nm.underlay_device} mtu",
                    str(nm.underlay_mtu),
                ),
                Evidence(
                    f"Node/{nm.node}",
                    "encapsulation",
                    f"{nm.encapsulation} ({nm.encapsulation_source})",
                ),
                *(Evidence(f"Node/{nm.node}", f.where, str(f.value)) for f in too_big),
            ],
            confirm=(
                kubectl(
                    "exec", *src_args, "--", "ping", "-c", "3", "-M", "do", "-s", eff - 28, dst_ip
                ).note("fits"),
                kubectl(
                    "exec", *src_args, "--", "ping", "-c", "3", "-M", "do", "-s", worst - 28, dst_ip
                ).note("lost if the MTU is wrong"),
                cmd("ip", "-d", "link", "show").note("on the node"),
            ),
            fix=Fix(
                text=f"Set the CNI MTU to {eff} (or raise {nm.underlay_device} to at least {worst + ov} on every "
                "node), restart the CNI agents and recreate the pods."
            ),
        )

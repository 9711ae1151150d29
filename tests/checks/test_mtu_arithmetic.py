"""MTU arithmetic (table tests) and MTU501/MTU502 on node facts built in the test.

The expected figures are header sums, not outputs of the code under test:
VXLAN = outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50 (IPv6 outer: 70);
IP-in-IP = one outer IPv4 header, 20 (IPv6: 40); WireGuard = IPv4 20 + UDP 8 +
WireGuard data header 16 + auth tag 16 = 60 (IPv6: 80).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netsleuth.checks.base import load_all
from netsleuth.facts.overlay_mtu import effective_pod_mtu, overhead, underlay_link
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.node_artifacts import CniConfig, LinkInfo, NodeArtifacts, RouteEntry
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("underlay", "encap", "ipv6", "expected"),
    [
        (1500, "vxlan", False, 1450),  # the classic flannel/calico VXLAN figure
        (9001, "vxlan", False, 8951),  # AWS jumbo frames
        (1500, "vxlan", True, 1430),  # IPv6 outer header is 20 bytes longer
        (1500, "geneve", False, 1450),  # Geneve without options: same as VXLAN
        (1500, "ipip", False, 1480),  # calico tunl0
        (1500, "ipip", True, 1460),
        (1500, "wireguard", False, 1440),
        (1500, "wireguard", True, 1420),  # wg-quick's default MTU
        (1500, "none", False, 1500),  # native routing: no overhead
        (1460, "vxlan", False, 1410),  # GCE's 1460 uplink
    ],
)
def test_effective_pod_mtu(underlay: int, encap: str, ipv6: bool, expected: int) -> None:
    assert effective_pod_mtu(underlay, encap, ipv6) == expected


def test_unknown_encapsulation_raises() -> None:
    with pytest.raises(KeyError):
        overhead("gre")


def _links(
    eth: int, tunnel_mtu: int | None, veth: int | None, tunnel: str = "flannel.1"
) -> tuple[LinkInfo, ...]:
    out = [LinkInfo(name="lo", mtu=65536), LinkInfo(name="eth0", mtu=eth)]
    if tunnel_mtu is not None:
        out.append(
            LinkInfo(
                name=tunnel,
                mtu=tunnel_mtu,
                kind="vxlan" if tunnel != "tunl0" else "ipip",
                vxlan_id=1,
            )
        )
    if veth is not None:
        out.append(LinkInfo(name="veth1a2b3c4d", mtu=veth, kind="veth"))
    return tuple(out)


def _model(**arts: NodeArtifacts) -> ClusterModel:
    base = load_offline([str(FIXTURES / "MTU501" / "good" / "cluster.yaml")])
    return replace(base, node_artifacts=arts, kinds_present=base.kinds_present | {"NodeArtifacts"})


def _art(
    node: str, links: tuple[LinkInfo, ...], cni: tuple[CniConfig, ...] | None = None
) -> NodeArtifacts:
    return NodeArtifacts(
        node=node,
        links=links,
        cni_configs=cni,
        routes=(RouteEntry(destination="default", gateway="192.168.10.1", device="eth0"),),
    )


def _run(rule_id: str, model: ClusterModel) -> list[str]:
    return [f.message for f in load_all()[rule_id].execute(model)]


def test_underlay_is_the_default_route_device() -> None:
    art = NodeArtifacts(
        node="n",
        links=(LinkInfo(name="ens5", mtu=9001), LinkInfo(name="eth1", mtu=1500)),
        routes=(RouteEntry(destination="default", device="ens5"),),
    )
    link = underlay_link(art)
    assert link is not None and link.name == "ens5"


@pytest.mark.parametrize(
    ("eth", "tunnel", "veth", "fires"),
    [
        (1500, 1450, 1450, False),  # correct VXLAN setup
        (1500, 1500, 1500, True),  # tunnel and pods at the underlay MTU: 50 bytes too big
        (1500, 1450, 1500, True),  # tunnel right but pod veth left at 1500
        (9001, 8951, 8951, False),  # jumbo frames, consistent
        (9001, 1450, 1450, False),  # smaller than needed wastes bandwidth but drops nothing
    ],
)
def test_mtu501_vxlan_table(eth: int, tunnel: int, veth: int, fires: bool) -> None:
    model = _model(**{"worker-1": _art("worker-1", _links(eth, tunnel, veth))})
    assert bool(_run("MTU501", model)) is fires


def test_mtu501_reads_the_conflist_mtu() -> None:
    cni = (
        CniConfig(
            file="cni/10-flannel.conflist",
            name="cbr0",
            plugin_types=("flannel", "portmap"),
            mtu=1500,
        ),
    )
    model = _model(**{"worker-1": _art("worker-1", _links(1500, 1450, None), cni)})
    (msg,) = _run("MTU501", model)
    assert "pod MTU 1500 exceeds 1450" in msg


def test_mtu501_ipip_tunnel() -> None:
    model = _model(**{"worker-1": _art("worker-1", _links(1500, 1500, 1500, tunnel="tunl0"))})
    (msg,) = _run("MTU501", model)
    assert "1480" in msg and "ipip" in msg


def test_mtu502_jumbo_node_next_to_standard_node() -> None:
    model = _model(
        **{
            "worker-1": _art("worker-1", _links(9001, 8951, 8951)),
            "worker-2": _art("worker-2", _links(1500, 1450, 1450)),
        }
    )
    msgs = _run("MTU502", model)
    assert len(msgs) == 1 and "worker-1" in msgs[0] and "8951" in msgs[0] and "1450" in msgs[0]
    assert _run("MTU501", model) == []  # each node is right on its own


def test_mtu502_mixed_uplinks_but_pods_pinned_low_is_fine() -> None:
    model = _model(
        **{
            "worker-1": _art("worker-1", _links(9001, 1450, 1450)),
            "worker-2": _art("worker-2", _links(1500, 1450, 1450)),
        }
    )
    assert _run("MTU502", model) == []


def _cilium_model(mtu: str, **arts: NodeArtifacts) -> ClusterModel:
    base = load_offline([str(FIXTURES / "CNI409" / "good")])
    cms = tuple(
        replace(c, data={**c.data, "mtu": mtu}) if c.meta.name == "cilium-config" else c
        for c in base.config_maps
    )
    return replace(
        base,
        config_maps=cms,
        node_artifacts=arts,
        kinds_present=base.kinds_present | {"NodeArtifacts"},
    )


def _cilium_links(eth: int) -> tuple[LinkInfo, ...]:
    # Cilium keeps pod interfaces and cilium_vxlan at the device MTU and sets the
    # lower MTU on the pod's routes, so a 1500 lxc veth on a 1500 uplink is correct.
    return (
        LinkInfo(name="eth0", mtu=eth),
        LinkInfo(name="cilium_net", mtu=eth, kind="veth"),
        LinkInfo(name="cilium_host", mtu=eth, kind="veth"),
        LinkInfo(name="cilium_vxlan", mtu=eth, kind="vxlan"),
        LinkInfo(name="lxc8e2f1a", mtu=eth, kind="veth"),
    )


def test_cilium_device_mtu_veths_are_not_a_fault() -> None:
    model = _cilium_model("0", **{"worker-1": _art("worker-1", _cilium_links(1500))})
    assert _run("MTU501", model) == []


def test_cilium_mtu_is_the_underlay_and_must_not_exceed_the_nic() -> None:
    fine = _cilium_model("1500", **{"worker-1": _art("worker-1", _cilium_links(1500))})
    assert _run("MTU501", fine) == []
    jumbo = _cilium_model("9001", **{"worker-1": _art("worker-1", _cilium_links(1500))})
    (msg,) = _run("MTU501", jumbo)
    assert "pod MTU 8951 exceeds 1450" in msg


def test_calico_vxlan_node_with_a_leftover_tunl0() -> None:
    """tunl0 exists wherever the ipip module is loaded; the VXLAN device decides the overhead."""
    links = (
        LinkInfo(name="eth0", mtu=1500),
        LinkInfo(name="tunl0", mtu=1480, kind="ipip"),
        LinkInfo(name="vxlan.calico", mtu=1450, kind="vxlan"),
        LinkInfo(name="cali12ab34cd", mtu=1480, kind="veth"),  # pods left at the IP-in-IP figure
    )
    (msg,) = _run("MTU501", _model(**{"worker-1": _art("worker-1", links)}))
    assert "pod MTU 1480 exceeds 1450" in msg and "vxlan" in msg


def test_mtu502_reports_the_node_whose_pod_mtu_drifted() -> None:
    model = _model(
        **{
            "worker-1": _art("worker-1", _links(1500, 1450, 1450)),
            "worker-2": _art("worker-2", _links(1500, 1450, 1500)),
        }
    )
    (msg,) = _run("MTU502", model)
    assert msg.startswith("pods on node worker-2 use MTU 1500") and "worker-1" in msg

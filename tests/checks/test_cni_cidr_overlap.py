"""CIDR overlap (CNI404) as a table, and the Service-CIDR sources it reads."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

import pytest

from netsleuth.checks.base import ScanConfig, load_all
from netsleuth.facts.cluster_cidrs import overlaps, service_cidrs, usable_addresses
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Meta, Node, NodeAddress
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("10.96.0.0/12", "10.96.0.0/24", True),  # inside
        ("10.96.0.0/12", "10.111.255.0/24", True),  # the /12 ends at 10.111.255.255
        ("10.96.0.0/12", "10.112.0.0/24", False),  # first address after the /12
        ("10.244.0.0/16", "10.96.0.0/12", False),  # the kubeadm/flannel defaults are disjoint
        ("192.168.0.0/16", "192.168.10.0/24", True),  # Calico's default pool vs a home/VPN LAN
        ("10.0.0.0/8", "fd00::/8", False),  # families never overlap
        ("10.0.0.1/32", "10.0.0.0/31", True),
    ],
)
def test_overlaps(a: str, b: str, expected: bool) -> None:
    na, nb = ipaddress.ip_network(a), ipaddress.ip_network(b)
    assert overlaps(na, nb) is expected
    assert overlaps(nb, na) is expected  # symmetric


@pytest.mark.parametrize(("prefix", "usable"), [(24, 254), (26, 62), (28, 14), (30, 2)])
def test_usable_addresses(prefix: int, usable: int) -> None:
    assert usable_addresses(prefix) == usable


def _model(fixture: str = "CNI404/good") -> ClusterModel:
    return load_offline([str(FIXTURES / fixture)])


def _run(model: ClusterModel, **cfg: object) -> list[str]:
    return [f.message for f in load_all()["CNI404"].execute(model, ScanConfig(**cfg))]  # type: ignore[arg-type]


def test_service_cidr_from_apiserver_flag() -> None:
    (r,) = service_cidrs(_model())
    assert r.cidr == "10.96.0.0/12" and "--service-cluster-ip-range" in r.source


def test_user_service_cidr_wins() -> None:
    (r,) = service_cidrs(_model(), "10.100.0.0/16")
    assert r.cidr == "10.100.0.0/16"


@pytest.mark.parametrize(
    ("extra", "fires"),
    [
        (("172.16.0.0/12",), False),  # an office VPN range clear of the cluster
        (("10.244.0.0/16",), True),  # equal to the node pod ranges' supernet
        (("10.96.0.0/16",), True),  # inside the Service CIDR
        (("not-a-cidr",), False),  # bad input is ignored, never a crash
    ],
)
def test_extra_cidrs(extra: tuple[str, ...], fires: bool) -> None:
    msgs = [m for m in _run(_model(), extra_cidrs=extra) if "--extra-cidrs" in m]
    assert bool(msgs) is fires


def test_nodes_with_overlapping_pod_cidrs() -> None:
    base = _model()
    nodes = dict(base.nodes)
    w1 = nodes["worker-1"]
    nodes["worker-2"] = replace(
        w1,
        meta=Meta(name="worker-2"),
        pod_cidrs=("10.244.1.128/25",),
        addresses=(NodeAddress(type="InternalIP", address="192.168.10.12"),),
    )
    msgs = _run(replace(base, nodes=nodes))
    assert any("worker-1 and worker-2 have overlapping podCIDRs" in m for m in msgs)


def test_node_address_inside_the_pod_range() -> None:
    base = _model()
    nodes = dict(base.nodes)
    nodes["worker-9"] = Node(
        meta=Meta(name="worker-9"),
        pod_cidrs=("10.244.9.0/24",),
        addresses=(NodeAddress(type="InternalIP", address="10.244.1.77"),),
    )
    msgs = _run(replace(base, nodes=nodes))
    assert any("worker-9 address 10.244.1.77" in m for m in msgs)


def test_clusterips_stand_in_when_no_service_cidr_is_visible() -> None:
    base = _model("CNI404/bad")
    no_apiserver = replace(base, pods=(), pods_by_namespace={})
    msgs = _run(no_apiserver)
    assert any("contains 2 ClusterIP(s) (10.96.0.1, 10.96.0.10)" in m for m in msgs)


def test_flannel_network_is_the_cluster_pod_cidr() -> None:
    """10.244.5.0/24 is in flannel's Network 10.244.0.0/16 though no node has it yet."""
    model = _model("CNI405/good")
    msgs = [m for m in _run(model, extra_cidrs=("10.244.5.0/24",)) if "--extra-cidrs" in m]
    assert len(msgs) == 1 and "10.244.0.0/16" in msgs[0]

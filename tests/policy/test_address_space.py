"""External peers as pieces of the address space: ANP ``networks`` cuts, merged ranges,
and ``diff`` comparing connectivity address by address.

Expected values follow the NetworkPolicy documentation (an ``ipBlock`` peer
admits exactly ``cidr`` minus ``except``; a pod no policy selects allows
everything) and the AdminNetworkPolicy v1alpha1 reference (a ``Deny`` rule
whose ``networks`` peer holds the destination decides; traffic no ANP rule
matches falls through to NetworkPolicy, then BANP, then allow).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import (
    CustomObject,
    IPBlock,
    Meta,
    Namespace,
    NetworkPolicy,
    Node,
    NodeAddress,
    Pod,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy import IPEndpoint, PodEndpoint, evaluate
from netsleuth.policy.connlist import Peer, connectivity, diff


def _ns(name: str) -> Namespace:
    return Namespace(meta=Meta(name=name, labels={"kubernetes.io/metadata.name": name}))


def _pod(name: str, ip: str, ns: str = "a") -> Pod:
    return Pod(
        meta=Meta(name=name, namespace=ns, labels={"app": name}), phase="Running", pod_ips=(ip,)
    )


def _anp_deny(networks: list[str]) -> CustomObject:
    return CustomObject(
        api_version="policy.networking.k8s.io/v1alpha1",
        kind="AdminNetworkPolicy",
        meta=Meta(name="deny-some"),
        spec={
            "priority": 10,
            "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
            "egress": [{"name": "deny", "action": "Deny", "to": [{"networks": networks}]}],
        },
    )


def _lines(model: ClusterModel) -> list[str]:
    return [
        f"{c.src.describe()} -> {c.dst.describe()} : {c.conn_text()}" for c in connectivity(model)
    ]


def test_anp_networks_cut_the_address_space() -> None:
    """An ANP denying one /32: every other address stays reachable, that one is not."""
    model = build_model([_ns("a"), _pod("p", "10.0.0.5"), _anp_deny(["8.8.8.8/32"])])
    assert _lines(model) == [
        # ingress: the ANP has no ingress rule and no NetworkPolicy exists: allow,
        # and the three pieces around 8.8.8.8 merge back into one range.
        "a/p[Pod] -> 0.0.0.0-8.8.8.7[External] : All Connections",
        "a/p[Pod] -> 8.8.8.9-255.255.255.255[External] : All Connections",
        "0.0.0.0-255.255.255.255[External] -> a/p[Pod] : All Connections",
    ]
    p = model.pod("a", "p")
    assert p is not None
    # The reference evaluator agrees on the address inside and just outside the /32.
    assert not evaluate(model, PodEndpoint(p), IPEndpoint("8.8.8.8"), "TCP", 443).allowed
    assert evaluate(model, PodEndpoint(p), IPEndpoint("8.8.8.9"), "TCP", 443).allowed


def test_anp_ipv6_networks() -> None:
    """An IPv6 ``networks`` CIDR brings the IPv6 space in, cut at its bounds."""
    model = build_model([_ns("a"), _pod("p", "10.0.0.5"), _anp_deny(["2001:db8::/32"])])
    assert _lines(model) == [
        "a/p[Pod] -> 0.0.0.0-255.255.255.255[External] : All Connections",
        "a/p[Pod] -> ::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff[External] : All Connections",
        "a/p[Pod] -> 2001:db9::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External] : All Connections",
        "0.0.0.0-255.255.255.255[External] -> a/p[Pod] : All Connections",
        "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External] -> a/p[Pod] : All Connections",
    ]


def test_anp_zero_prefix_ipv6_network_is_listed() -> None:
    """``::/0`` alone has no bound inside the space, but it is IPv6: the range appears."""
    model = build_model([_ns("a"), _pod("p", "10.0.0.5"), _anp_deny(["::/0"])])
    got = _lines(model)
    assert (
        "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External] -> a/p[Pod] : All Connections" in got
    )
    assert not any(line.startswith("a/p[Pod] -> ::") for line in got)  # denied


def _ingress_from_blocks(*blocks: IPBlock) -> NetworkPolicy:
    return NetworkPolicy(
        meta=Meta(name="from-blocks", namespace="a"),
        pod_selector=LabelSelector.from_match_labels({"app": "p"}),
        policy_types=("Ingress",),
        ingress=(PolicyRule(peers=tuple(PolicyPeer(ip_block=b) for b in blocks)),),
    )


def _egress_10(ns: str = "a") -> NetworkPolicy:
    """q's egress only to 10.0.0.0/8: its cut at 10.0.0.0 and 11.0.0.0 splits the space."""
    return NetworkPolicy(
        meta=Meta(name="q-egress", namespace=ns),
        pod_selector=LabelSelector.from_match_labels({"app": "q"}),
        policy_types=("Egress",),
        egress=(PolicyRule(peers=(PolicyPeer(ip_block=IPBlock(cidr="10.0.0.0/8")),)),),
    )


def _base() -> list[ModelObject]:
    return [_ns("a"), _pod("p", "10.0.0.5"), _pod("q", "10.0.0.6")]


def test_equivalent_ip_blocks_do_not_differ() -> None:
    before = build_model([*_base(), _ingress_from_blocks(IPBlock(cidr="0.0.0.0/0"))])
    after = build_model(
        [
            *_base(),
            _ingress_from_blocks(IPBlock(cidr="0.0.0.0/1"), IPBlock(cidr="128.0.0.0/1")),
            _egress_10(),
        ]
    )
    d = diff(connectivity(before), connectivity(after))
    # q's new egress policy changes q's rows only: q still reaches p (10.0.0.5 is in
    # 10.0.0.0/8) and loses every address outside 10.0.0.0/8.
    assert d.gained == () and d.changed == ()
    assert [(c.src.describe(), c.dst.describe()) for c in d.lost] == [
        ("a/q[Pod]", "0.0.0.0-9.255.255.255[External]"),
        ("a/q[Pod]", "11.0.0.0-255.255.255.255[External]"),
    ]
    # p's ingress: 0.0.0.0/0 versus its two halves is the same set of addresses.
    assert not any(c.dst == Peer("Pod", "a", "p") for c in (*d.lost, *d.gained))


def test_narrowed_block_reports_the_addresses_lost() -> None:
    before = build_model([*_base(), _ingress_from_blocks(IPBlock(cidr="0.0.0.0/0"))])
    after = build_model(
        [*_base(), _ingress_from_blocks(IPBlock(cidr="0.0.0.0/0", except_=("192.168.0.0/16",)))]
    )
    d = diff(connectivity(before), connectivity(after))
    assert d.gained == () and d.changed == ()
    assert [(c.src.describe(), c.dst.describe(), c.conn_text()) for c in d.lost] == [
        ("192.168.0.0-192.168.255.255[External]", "a/p[Pod]", "All Connections")
    ]


def _write(dir_: Path, docs: list[dict[str, Any]]) -> Path:
    dir_.mkdir()
    (dir_ / "cluster.yaml").write_text(yaml.safe_dump_all(docs))
    return dir_


def _manifests(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "a"}},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "a", "labels": {"app": "p"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            "status": {"phase": "Running", "podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}]},
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "from-blocks", "namespace": "a"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "p"}},
                "ingress": [{"from": [{"ipBlock": b} for b in blocks]}],
            },
        },
    ]


def test_cli_diff_of_equivalent_blocks_exits_0(tmp_path: Path) -> None:
    before = _write(tmp_path / "before", _manifests([{"cidr": "0.0.0.0/0"}]))
    after = _write(tmp_path / "after", _manifests([{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]))
    r = subprocess.run(
        [sys.executable, "-m", "netsleuth.cli.__main__", "diff", str(before), str(after)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 lost, 0 gained, 0 changed" in r.stdout


def test_removing_the_last_ipv6_block_loses_nothing() -> None:
    """p admits only fd00::/64; without the policy it admits everything. The AFTER list
    alone would not list IPv6 (no IPv6 bound left): both sides are listed alike."""
    from netsleuth.policy.connlist import connectivity_pair
    from netsleuth.policy.diff import diff_models

    before = build_model([*_base(), _ingress_from_blocks(IPBlock(cidr="fd00::/64"))])
    after = build_model(_base())
    d = diff(*connectivity_pair(before, after))
    assert d.lost == () and d.changed == ()
    assert sorted((c.src.describe(), c.dst.describe()) for c in d.gained) == sorted(
        [
            ("a/q[Pod]", "a/p[Pod]"),
            ("0.0.0.0-255.255.255.255[External]", "a/p[Pod]"),
            ("::-fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]", "a/p[Pod]"),
            ("fd00:0:0:1::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]", "a/p[Pod]"),
        ]
    )
    assert diff_models(before, after).diff == d


def test_nodes_peer_cuts_the_address_space_at_node_addresses() -> None:
    """An ANP ``nodes`` peer matches exactly the matching nodes' addresses: allowed on
    TCP 80 to node 172.18.0.2, every other address denied by the ``networks`` rule."""
    model = build_model(
        [
            _ns("a"),
            _pod("p", "10.0.0.5"),
            Node(
                meta=Meta(name="n1", labels={"kubernetes.io/os": "linux"}),
                addresses=(NodeAddress(type="InternalIP", address="172.18.0.2"),),
            ),
            CustomObject(
                api_version="policy.networking.k8s.io/v1alpha1",
                kind="AdminNetworkPolicy",
                meta=Meta(name="nodes-only"),
                spec={
                    "priority": 10,
                    "subject": {
                        "namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}
                    },
                    "egress": [
                        {
                            "name": "node-80",
                            "action": "Allow",
                            "to": [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}],
                            "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}],
                        },
                        {"name": "rest", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]},
                    ],
                },
            ),
        ]
    )
    assert _lines(model) == [
        "a/p[Pod] -> 172.18.0.2/32[External] : TCP 80",
        "0.0.0.0-255.255.255.255[External] -> a/p[Pod] : All Connections",
    ]


def test_adjacent_ranges_with_one_connection_are_merged() -> None:
    """Two /17 halves admitting TCP 80 read as one range; the /24 inside them that also
    admits TCP 443 stays apart (a different connection)."""

    def rule(cidr: str, port: int) -> PolicyRule:
        return PolicyRule(
            peers=(PolicyPeer(ip_block=IPBlock(cidr=cidr)),),
            ports=(PolicyPort(protocol="TCP", port=port),),
        )

    pol = NetworkPolicy(
        meta=Meta(name="x", namespace="a"),
        pod_selector=LabelSelector.from_match_labels({"app": "p"}),
        policy_types=("Ingress",),
        ingress=(
            rule("192.168.0.0/17", 80),
            rule("192.168.128.0/17", 80),
            rule("192.168.0.0/24", 443),
        ),
    )
    model = build_model([_ns("a"), _pod("p", "10.0.0.5"), pol])
    assert _lines(model) == [
        "a/p[Pod] -> 0.0.0.0-255.255.255.255[External] : All Connections",
        "192.168.0.0-192.168.0.255[External] -> a/p[Pod] : TCP 80,443",
        "192.168.1.0-192.168.255.255[External] -> a/p[Pod] : TCP 80",
    ]


SINGLE_ADDRESS = """\
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {kubernetes.io/metadata.name: a}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: a, labels: {app: p}}
spec: {containers: [{name: c}]}
status: {phase: Running, podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: one-address, namespace: a}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{ipBlock: {cidr: 192.0.2.7/32}}]
    ports: [{port: 443, protocol: TCP}]
"""


def test_a_single_address_prints_as_a_host_cidr_in_every_format(tmp_path: Path) -> None:
    """One address is ``192.0.2.7/32[External]`` (as other analysers print it), never
    ``192.0.2.7-192.0.2.7``; the same label in table, csv, md and json, and ``--focus``
    takes it written either way."""
    path = tmp_path / "one.yaml"
    path.write_text(SINGLE_ADDRESS)

    def run(*args: str) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "netsleuth", "connectivity", "-f", str(path), *args],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
        )
        assert r.returncode == 0, r.stderr
        return r.stdout

    for fmt, label in (
        ("table", "192.0.2.7/32[External]"),
        ("csv", "192.0.2.7/32[External]"),
        ("md", "192.0.2.7/32\\[External\\]"),  # Markdown escapes the brackets
    ):
        out = run("-o", fmt)
        assert label in out, (fmt, out)
        assert "192.0.2.7-192.0.2.7" not in out, (fmt, out)
    doc = json.loads(run("-o", "json"))
    dsts = [c["dst"] for c in doc["connections"] if c["src"].get("name") == "p"]
    assert {"ip_range": "192.0.2.7/32"} in dsts
    assert "192.0.2.7-192.0.2.7" not in run("-o", "json")
    # the peer parses back, and --focus takes the range written either way
    peer = Peer("ip_range", None, "192.0.2.7/32")
    assert peer.address_range() == (4, 0xC0000207, 0xC0000207)
    assert peer.matches("192.0.2.7-192.0.2.7") and peer.matches("192.0.2.7")
    assert Peer.for_range(6, 1, 1).name == "::1/128"

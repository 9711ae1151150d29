"""``exposure``: actual exposure (loaded objects), protection, and potential exposure
(what the rules admit, by selector).

Expected values from the NetworkPolicy rules
(https://kubernetes.io/docs/concepts/services-networking/network-policies/):
``namespaceSelector: {}`` selects every namespace, existing or future; a rule
with no ``from`` admits every source; an ingress named port is the port of
that name on the selected (destination) pod; hostNetwork pods are left to
the plugin and netsleuth treats them as the node (no policy selects them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    IPBlock,
    Meta,
    Namespace,
    NetworkPolicy,
    Pod,
    PodSpec,
    PolicyPeer,
    PolicyPort,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy.exposure import Exposure, exposure


def ns(name: str, **labels: str) -> Namespace:
    return Namespace(meta=Meta(name=name, labels={"kubernetes.io/metadata.name": name, **labels}))


def pod(name: str, namespace: str, ip: str, *, host: bool = False) -> Pod:
    ports = (ContainerPort(container_port=8080, name="http"),)
    return Pod(
        meta=Meta(name=name, namespace=namespace, labels={"app": name}),
        spec=PodSpec(containers=(Container(name="c", ports=ports),), host_network=host),
        phase="Running",
        pod_ips=(ip,),
        host_ip="192.168.0.10",
    )


def ingress_policy(*rules: PolicyRule, name: str = "api-in") -> NetworkPolicy:
    return NetworkPolicy(
        meta=Meta(name=name, namespace="shop"),
        pod_selector=LabelSelector.from_match_labels({"app": "api"}),
        policy_types=("Ingress",),
        ingress=rules,
    )


FROM_ANY_NAMESPACE = PolicyRule(
    peers=(PolicyPeer(namespace_selector=LabelSelector()),),
    ports=(PolicyPort(protocol="TCP", port="http"),),
)


def rows(objs: list[ModelObject]) -> dict[str, Exposure]:
    model: ClusterModel = build_model(objs)
    return {r.name: r for r in exposure(model)}


def admitted(r: Exposure, direction: str = "ingress") -> list[tuple[str, str]]:
    d = r.ingress if direction == "ingress" else r.egress
    return [(a.peer.describe(), a.ports_text()) for a in d.admitted]


def test_any_namespace_is_exposure_whatever_the_input_holds() -> None:
    one_ns = rows([ns("shop"), pod("api", "shop", "10.0.0.5"), ingress_policy(FROM_ANY_NAMESPACE)])
    api = one_ns["api"]
    # Loaded objects: no other namespace exists, so nobody reaches it from one...
    assert api.from_namespaces == ()
    # ...but the rule admits any pod of any namespace, on the pod's port named http (8080).
    assert admitted(api) == [("any pod in any namespace", "TCP 8080")]
    assert api.ingress_protected  # isolated, and pods of other namespaces only on 8080
    two_ns = rows(
        [
            ns("shop"),
            ns("tools"),
            pod("api", "shop", "10.0.0.5"),
            pod("debug", "tools", "10.0.1.7"),
            ingress_policy(FROM_ANY_NAMESPACE),
        ]
    )
    # An unrelated namespace changes the first section, not the second.
    assert [p.name for p in two_ns["api"].from_namespaces] == ["debug"]
    assert admitted(two_ns["api"]) == admitted(api)


def test_allow_all_rule_is_not_protection() -> None:
    """``ingress: [{}]`` isolates the pods and admits every source on every port."""
    r = rows([ns("shop"), pod("api", "shop", "10.0.0.5"), ingress_policy(PolicyRule())])["api"]
    assert r.ingress.isolated and not r.ingress_protected
    assert admitted(r) == [("any peer (every pod and every address)", "all ports")]
    assert r.ingress.admitted[0].policies == ("shop/api-in",)


def test_any_namespace_plus_all_ipv4_is_not_protection() -> None:
    rule = PolicyRule(
        peers=(
            PolicyPeer(namespace_selector=LabelSelector()),
            PolicyPeer(ip_block=IPBlock(cidr="0.0.0.0/0")),
        )
    )
    r = rows([ns("shop"), pod("api", "shop", "10.0.0.5"), ingress_policy(rule)])["api"]
    assert r.ingress.isolated and not r.ingress_protected


def test_selectors_and_blocks_are_described() -> None:
    rule = PolicyRule(
        peers=(
            PolicyPeer(
                namespace_selector=LabelSelector.from_match_labels({"team": "y"}),
                pod_selector=LabelSelector.from_match_labels({"app": "x"}),
            ),
            PolicyPeer(pod_selector=LabelSelector.from_match_labels({"app": "web"})),
            PolicyPeer(ip_block=IPBlock(cidr="0.0.0.0/0", except_=("10.0.0.0/8",))),
            PolicyPeer(
                namespace_selector=LabelSelector.from_match_labels(
                    {"kubernetes.io/metadata.name": "ops"}
                )
            ),
        ),
        ports=(PolicyPort(protocol="TCP", port=443), PolicyPort(protocol="UDP")),
    )
    r = rows([ns("shop"), pod("api", "shop", "10.0.0.5"), ingress_policy(rule)])["api"]
    ports = "TCP 443; UDP 1-65535"
    assert admitted(r) == [
        ("any pod in namespace ops", ports),
        ("pods with app=web in namespace shop", ports),
        ("pods with app=x in namespaces with team=y", ports),
        ("0.0.0.0/0 except 10.0.0.0/8", ports),
    ]
    # 0.0.0.0/0 except 10/8 leaves 10/8 out: still protected
    assert r.ingress_protected


def test_named_ports_ingress_resolved_egress_kept_by_name() -> None:
    pol = NetworkPolicy(
        meta=Meta(name="api-both", namespace="shop"),
        pod_selector=LabelSelector.from_match_labels({"app": "api"}),
        policy_types=("Ingress", "Egress"),
        ingress=(
            PolicyRule(
                ports=(
                    PolicyPort(protocol="TCP", port="http"),  # 8080 on api's own pod
                    PolicyPort(protocol="TCP", port="grpc"),  # api has no port named grpc
                )
            ),
        ),
        egress=(PolicyRule(ports=(PolicyPort(protocol="TCP", port="metrics"),)),),
    )
    r = rows([ns("shop"), pod("api", "shop", "10.0.0.5"), pol])["api"]
    assert admitted(r) == [("any peer (every pod and every address)", "TCP 8080")]
    assert admitted(r, "egress") == [
        ("any peer (every pod and every address)", "named metrics/TCP")
    ]
    assert r.ingress_protected and r.egress_protected


def test_host_network_workloads_are_listed_with_a_note() -> None:
    r = rows(
        [
            ns("kube-system"),
            pod("agent", "kube-system", "192.168.0.10", host=True),
            NetworkPolicy(
                meta=Meta(name="deny-all", namespace="kube-system"),
                pod_selector=LabelSelector(),
                policy_types=("Ingress", "Egress"),
            ),
        ]
    )["agent"]
    assert r.host_network
    assert not r.ingress_protected and not r.egress_protected
    assert any("hostNetwork" in n for n in r.ingress.notes)
    assert admitted(r) == [("any peer (every pod and every address)", "all ports")]


def test_cli_json_contract(tmp_path: Path) -> None:
    doc = """
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
status: {phase: Running, podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {}, podSelector: {matchLabels: {role: client}}}]
    ports: [{port: http}]
"""
    (tmp_path / "in.yaml").write_text(doc)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "netsleuth.cli.__main__",
            "exposure",
            "-f",
            str(tmp_path),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    api = json.loads(r.stdout)["workloads"][0]
    assert api["host_network"] is False
    assert api["potential"]["ingress"] == {
        "isolated": True,
        "admits": [
            {
                "peer": {"namespaces": {}, "pods": {"matchLabels": {"role": "client"}}},
                "description": "pods with role=client in any namespace",
                "conn": {"TCP": ["8080"]},
                "policies": ["shop/api-in"],
            }
        ],
        "notes": [],
    }
    assert api["potential"]["egress"]["isolated"] is False
    assert api["potential"]["egress"]["admits"][0]["peer"] == {"any": True}

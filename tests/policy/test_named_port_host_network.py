"""A named port towards a hostNetwork pod: every engine gives the same answer.

Regression for a mismatch Hypothesis found (``test_differential_matrix``): a
named port ``http`` declared as TCP/53 on two containers, a hostNetwork
destination pod at 192.168.1.20 (its node's address) and an egress rule
``ports: [{port: http}]``. The reference evaluator resolved ``http`` on the
hostNetwork pod's containers and allowed TCP/53; the matrix engine (and the
incremental one) gave nothing.

Kubernetes resolves a named port on the destination *pod*. Under
``--host-network node`` (the default) the engines read a hostNetwork pod as
its node's address: no policy selects it, only ``ipBlock`` matches it, and an
address has no container ports. So the named port resolves to nothing and
the rule admits no port towards it: the matrix was right, and the reference
now says so too, for the pod and for its address alike (both are the same
packets on the wire). Under ``--host-network pod`` the pod is an ordinary pod
and ``http`` is TCP/53 again.
"""

from __future__ import annotations

import pytest

from netsleuth.model import build_model
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import (
    Container,
    ContainerPort,
    Meta,
    Namespace,
    NetworkPolicy,
    Pod,
    PodSpec,
    PolicyPort,
    PolicyRule,
)
from netsleuth.model.selectors import LabelSelector
from netsleuth.policy import IPEndpoint, PodEndpoint, evaluate, is_allowed
from netsleuth.policy.connlist import connectivity
from netsleuth.policy.host_network import HostNetworkMode, policy_view
from netsleuth.policy.incremental import IncrementalConnectivity, SetPolicy
from netsleuth.policy.matrix import PolicyMatrix, pod_units

NODE_IP = "192.168.1.20"
HTTP = ContainerPort(container_port=53, name="http", protocol="TCP")


def _pod(name: str, ip: str, *, host: bool, containers: int) -> Pod:
    return Pod(
        meta=Meta(name=name, namespace="c", labels={"app": name}),
        spec=PodSpec(
            containers=tuple(Container(name=f"c{i}", ports=(HTTP,)) for i in range(containers)),
            host_network=host,
        ),
        phase="Running",
        pod_ips=(ip,),
        host_ip=NODE_IP,
    )


EGRESS_HTTP = NetworkPolicy(
    meta=Meta(name="np0", namespace="c"),
    pod_selector=LabelSelector(),
    policy_types=("Egress",),
    egress=(PolicyRule(ports=(PolicyPort(protocol="TCP", port="http"),)),),
)


def _cluster(two_pods: bool) -> tuple[ClusterModel, Pod, Pod]:
    """``two_pods``: the source also declares http=53 (one container each); else the
    hostNetwork destination alone declares it, on two containers."""
    dst = _pod("agent", NODE_IP, host=True, containers=1 if two_pods else 2)
    src = _pod("client", "10.0.0.1", host=False, containers=1 if two_pods else 0)
    ns = Namespace(meta=Meta(name="c", labels={"kubernetes.io/metadata.name": "c"}))
    return build_model([ns, src, dst, EGRESS_HTTP]), src, dst


@pytest.mark.parametrize("two_pods", [False, True])
def test_named_port_to_host_network_pod_resolves_to_nothing(two_pods: bool) -> None:
    model, src, dst = _cluster(two_pods)
    units, of_pod = pod_units(model)
    pm = PolicyMatrix.build(model, units)
    for port in (52, 53, 54):
        assert is_allowed(model, PodEndpoint(src), PodEndpoint(dst), "TCP", port) is False
        assert is_allowed(model, PodEndpoint(src), IPEndpoint(NODE_IP), "TCP", port) is False
        assert pm.allowed(of_pod[src.key], of_pod[dst.key], "TCP", port) is False
    # The reason names the pod and why its name does not resolve.
    why = evaluate(model, PodEndpoint(src), PodEndpoint(dst), "TCP", 53).egress.reason
    assert "denied" in why
    misses = evaluate(model, PodEndpoint(src), PodEndpoint(dst), "TCP", 53).egress.misses
    assert any("hostNetwork" in m.reason and "c/agent" in m.reason for m in misses)
    # Connection list and incremental re-check: client -> agent is not listed.
    pairs = {(c.src.name, c.dst.name) for c in connectivity(model)}
    assert ("client", "agent") not in pairs
    inc = IncrementalConnectivity(model)
    assert {(c.src.name, c.dst.name) for c in inc.connections()} == pairs
    inc.apply([SetPolicy(EGRESS_HTTP)])
    assert {(c.src.name, c.dst.name) for c in inc.connections()} == pairs


@pytest.mark.parametrize("two_pods", [False, True])
def test_host_network_pod_reading_resolves_the_name(two_pods: bool) -> None:
    model, _, _ = _cluster(two_pods)
    view = policy_view(model, HostNetworkMode.POD)
    vsrc = next(p for p in view.pods if p.name == "client")
    vdst = next(p for p in view.pods if p.name == "agent")
    units, of_pod = pod_units(view)
    pm = PolicyMatrix.build(view, units)
    for port, want in ((52, False), (53, True), (54, False)):
        assert is_allowed(view, PodEndpoint(vsrc), PodEndpoint(vdst), "TCP", port) is want
        assert pm.allowed(of_pod[vsrc.key], of_pod[vdst.key], "TCP", port) is want

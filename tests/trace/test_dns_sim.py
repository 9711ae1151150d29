"""The resolver simulation, row by row against resolv.conf semantics.

Reference: kubelet writes ``search <ns>.svc.cluster.local svc.cluster.local
cluster.local`` and ``options ndots:5`` for ClusterFirst pods; glibc tries the
name as given first only when it has at least ndots dots.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netsleuth.facts.dns_resolution import resolve, resolver_config
from netsleuth.sources.load import load_offline

CLUSTER = """\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: web}}
- {apiVersion: v1, kind: Namespace, metadata: {name: payments}}
- apiVersion: v1
  kind: Pod
  metadata: {name: client, namespace: web}
  spec: {nodeName: n1, containers: [{name: c, image: busybox}]}
  status: {phase: Running, podIP: 10.244.1.5}
- apiVersion: v1
  kind: Pod
  metadata: {name: hostnet, namespace: web}
  spec: {nodeName: n1, hostNetwork: true, containers: [{name: c, image: busybox}]}
  status: {phase: Running, podIP: 172.18.0.2}
- apiVersion: v1
  kind: Pod
  metadata: {name: tuned, namespace: web}
  spec:
    nodeName: n1
    containers: [{name: c, image: busybox}]
    dnsConfig: {options: [{name: ndots, value: "2"}, {name: single-request-reopen}]}
  status: {phase: Running, podIP: 10.244.1.6}
- apiVersion: v1
  kind: Service
  metadata: {name: api, namespace: payments}
  spec: {clusterIP: 10.96.1.1, ports: [{port: 80}]}
- apiVersion: v1
  kind: Service
  metadata: {name: db, namespace: payments}
  spec: {clusterIP: None, ports: [{port: 5432}]}
- apiVersion: v1
  kind: Service
  metadata: {name: stripe, namespace: web}
  spec: {type: ExternalName, externalName: api.stripe.com}
- apiVersion: v1
  kind: Service
  metadata: {name: kube-dns, namespace: kube-system}
  spec: {clusterIP: 10.96.0.10, ports: [{name: dns, port: 53, protocol: UDP}]}
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    d: Path = tmp_path_factory.mktemp("dns")
    (d / "c.yaml").write_text(CLUSTER)
    return load_offline([str(d)])


def test_cluster_first_config(model) -> None:  # type: ignore[no-untyped-def]
    cfg = resolver_config(model, model.pod("web", "client"))
    assert cfg.nameservers == ("10.96.0.10",)
    assert cfg.search == ("web.svc.cluster.local", "svc.cluster.local", "cluster.local")
    assert cfg.ndots == 5


@pytest.mark.parametrize(
    ("pod", "name", "attempts", "kind"),
    [
        # Short name in the same namespace: first search suffix answers.
        ("client", "stripe", ["stripe.web.svc.cluster.local"], "external-name"),
        # <svc>.<ns>: 1 dot < ndots 5, so the search list first; the second suffix answers.
        (
            "client",
            "api.payments",
            ["api.payments.web.svc.cluster.local", "api.payments.svc.cluster.local"],
            "service",
        ),
        # A full cluster name still walks the search list first (4 dots < 5): 3 misses, then as given.
        (
            "client",
            "api.payments.svc.cluster.local",
            [
                "api.payments.svc.cluster.local.web.svc.cluster.local",
                "api.payments.svc.cluster.local.svc.cluster.local",
                "api.payments.svc.cluster.local.cluster.local",
                "api.payments.svc.cluster.local",
            ],
            "service",
        ),
        # Trailing dot: absolute, one attempt.
        (
            "client",
            "api.payments.svc.cluster.local.",
            ["api.payments.svc.cluster.local"],
            "service",
        ),
        # External name with 2 dots: 3 wasted search attempts, then upstream (8 queries with AAAA).
        (
            "client",
            "api.stripe.com",
            [
                "api.stripe.com.web.svc.cluster.local",
                "api.stripe.com.svc.cluster.local",
                "api.stripe.com.cluster.local",
                "api.stripe.com",
            ],
            "external",
        ),
        # ndots:2 from dnsConfig: a 2-dot name is tried as given first.
        ("tuned", "api.stripe.com", ["api.stripe.com"], "external"),
        # Headless: answered with the pods' addresses.
        (
            "client",
            "db.payments",
            ["db.payments.web.svc.cluster.local", "db.payments.svc.cluster.local"],
            "headless",
        ),
    ],
)
def test_resolution_walk(model, pod: str, name: str, attempts: list[str], kind: str) -> None:  # type: ignore[no-untyped-def]
    res = resolve(model, model.pod("web", pod), name)
    assert list(res.attempts) == attempts
    assert res.answer is not None and res.answer.kind == kind
    assert res.queries == 2 * len(attempts)


def test_short_name_in_another_namespace_is_nxdomain(model) -> None:  # type: ignore[no-untyped-def]
    # "api" from namespace web: api.web.svc..., api.svc..., api.cluster.local, api → nothing.
    res = resolve(model, model.pod("web", "client"), "api")
    assert not res.resolved
    assert len(res.attempts) == 4


def test_host_network_cluster_first_falls_back_to_default(model) -> None:  # type: ignore[no-untyped-def]
    cfg = resolver_config(model, model.pod("web", "hostnet"))
    assert cfg.effective_policy == "Default"
    assert cfg.note is not None and "ClusterFirstWithHostNet" in cfg.note
    assert not resolve(model, model.pod("web", "hostnet"), "api.payments").resolved

"""End to end: the live source through decode and build_model, as the CLI loads it."""

from __future__ import annotations

from collections.abc import Callable

from live.apiserver import FakeApiServer
from netsleuth.model.cluster import SourceKind
from netsleuth.sources.load import load_live

Server = Callable[..., FakeApiServer]
Kubeconfig = Callable[[FakeApiServer], str]


def test_live_load_builds_the_model(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    model = load_live(kubeconfig=kubeconfig(srv), page_size=2)

    # Counts from tests/live/data, by what the live source reads (see its README).
    assert len(model.namespaces) == 4
    assert len(model.nodes) == 3
    assert len(model.pods) == 7
    assert sorted(w.kind for w in model.workloads) == sorted(
        ["Deployment"] * 3 + ["ReplicaSet"] * 3 + ["StatefulSet", "CronJob", "Job"]
    )
    assert len(model.services) == 5
    assert len(model.endpoint_slices) == 5
    assert model.endpoints == ()  # slices were listable: legacy Endpoints are not read
    assert len(model.network_policies) == 2
    assert len(model.ingresses) == 1 and len(model.ingress_classes) == 1
    assert {(c.meta.namespace, c.meta.name) for c in model.config_maps} == {
        ("kube-system", "coredns"),
        ("kube-system", "kube-proxy"),
    }
    assert len(model.secrets) == 4
    assert [(e.reason, e.involved_name) for e in model.events] == [
        ("Unhealthy", "backend-6b8d5c7f9-q2wxz")
    ]
    assert model.source.kind == SourceKind.LIVE and model.source.server == srv.url
    assert model.source.context == "admin"

    # The objects are usable: a pod's top owner, a service's slices.
    backend = model.pod_by_key[("shop", "backend-6b8d5c7f9-q2wxz")]
    assert model.owner_of_pod[backend.key].describe() == "deployment/shop/backend"
    assert len(model.slices_by_service[("kube-system", "kube-dns")]) == 1
    assert not any(p.level == "degraded" for p in model.problems)


def test_live_load_records_forbidden_resources_in_the_model(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(denied={"networkpolicies": None})
    model = load_live(kubeconfig=kubeconfig(srv), context="viewer")
    assert model.is_forbidden("networkpolicies")
    assert model.network_policies == ()
    assert len(model.pods) == 7
    assert any(p.object == "networkpolicies" for p in model.problems)

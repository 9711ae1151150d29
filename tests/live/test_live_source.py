"""LiveSource against the fake API server: what is read, what is refused, what is never read."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from live.apiserver import FakeApiServer
from live.conftest import DATA, write_kubeconfig
from netsleuth.errors import SourceError
from netsleuth.model.cluster import SourceKind
from netsleuth.model.problems import Level, LoadProblem
from netsleuth.sources.base import RawObject
from netsleuth.sources.live import NETWORK_CONFIG_NAMESPACES, TABLE, LiveSource

Server = Callable[..., FakeApiServer]
Kubeconfig = Callable[[FakeApiServer], str]


def data_objects() -> list[dict[str, Any]]:
    out = []
    for f in sorted(DATA.glob("*.yaml")):
        out.extend(d for d in yaml.load_all(f.read_text(), Loader=yaml.CSafeLoader) if d)
    return out


def key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
    md = obj["metadata"]
    return (obj["apiVersion"], obj["kind"], md.get("namespace") or "", md["name"])


def expected(namespace: str | None = None) -> set[tuple[str, str, str, str]]:
    """What a complete live load must return, by the rules the source documents."""
    cluster_scoped = {"Namespace", "Node", "IngressClass"}
    out = set()
    for o in data_objects():
        kind, ns = o["kind"], o["metadata"].get("namespace")
        if kind == "Event" and o.get("type") != "Warning":
            continue  # listed with fieldSelector=type=Warning
        if kind == "ConfigMap" and ns not in NETWORK_CONFIG_NAMESPACES:
            continue  # application configuration is not read
        if kind == "Endpoints":
            continue  # EndpointSlices are listable, so v1 Endpoints are not read
        if namespace is not None and kind not in cluster_scoped and ns != namespace:
            continue
        out.add(key(o))
    return out


def run(src: LiveSource) -> tuple[list[RawObject], list[LoadProblem]]:
    raws: list[RawObject] = []
    problems: list[LoadProblem] = []
    for item in src.collect():
        if isinstance(item, RawObject):
            raws.append(item)
        else:
            assert isinstance(item, LoadProblem)
            problems.append(item)
    return raws, problems


def only_not_served_warning(problems: list[LoadProblem]) -> list[LoadProblem]:
    """Problems other than the one 'API group not served' warning of a plain cluster."""
    rest = [p for p in problems if not p.message.startswith("API group not served")]
    assert len(problems) - len(rest) <= 1
    return rest


def requests_for(srv: FakeApiServer, fragment: str) -> list[Any]:
    return [r for r in srv.requests if r.path.endswith(fragment) or f"{fragment}?" in r.path]


# --------------------------------------------------------------------------- full load


def test_full_load_returns_every_object_with_kind_version_and_origin(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver()
    src = LiveSource(kubeconfig=kubeconfig(srv), page_size=2)
    raws, problems = run(src)

    got = [key(r.data) for r in raws]
    assert len(got) == len(set(got)), "no object is returned twice"
    assert set(got) == expected()
    assert only_not_served_warning(problems) == []

    by_key = {key(r.data): r for r in raws}
    pod = by_key[("v1", "Pod", "shop", "backend-6b8d5c7f9-q2wxz")]
    assert pod.origin.live and pod.origin.file == "/api/v1/pods"
    assert pod.data["status"]["podIP"] == "10.244.2.11"
    dep = by_key[("apps/v1", "Deployment", "shop", "frontend")]
    assert dep.origin.file == "/apis/apps/v1/deployments"
    cm = by_key[("v1", "ConfigMap", "kube-system", "coredns")]
    assert cm.origin.file == "/api/v1/namespaces/kube-system/configmaps"
    assert "kubernetes cluster.local" in cm.data["data"]["Corefile"]
    ic = by_key[("networking.k8s.io/v1", "IngressClass", "", "nginx")]
    assert ic.origin.file == "/apis/networking.k8s.io/v1/ingressclasses"

    info = src.info()
    assert info.kind == SourceKind.LIVE
    assert info.context == "admin"
    assert info.server == srv.url
    assert info.forbidden == () and info.failed == ()

    # Pagination really happened: limit=2 on every list, and continue tokens were followed.
    lists = [r for r in srv.requests if "limit" in r.query]
    assert lists and all(r.query["limit"] == ["2"] for r in lists)
    pods_continued = [r for r in srv.requests if r.path == "/api/v1/pods" and "continue" in r.query]
    assert len(pods_continued) == 3  # 7 pods in pages of 2: 4 requests, 3 of them continue
    # Events are asked for Warnings only; v1 Endpoints are not read at all.
    assert all(
        r.query.get("fieldSelector") == ["type=Warning"] for r in requests_for(srv, "/events")
    )
    assert requests_for(srv, "/endpoints") == []
    # ConfigMaps are read in kube-system only (the other network namespaces do not exist).
    assert {r.path for r in requests_for(srv, "/configmaps")} == {
        "/api/v1/namespaces/kube-system/configmaps"
    }


def test_progress_reports_counts_and_totals(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    calls: list[tuple[str, int, int | None]] = []
    src = LiveSource(
        kubeconfig=kubeconfig(srv), page_size=3, progress=lambda r, n, t: calls.append((r, n, t))
    )
    run(src)
    pods = [(n, t) for r, n, t in calls if r == "pods"]
    # 7 pods in pages of 3; remainingItemCount gives the total from the first page on.
    assert pods == [(3, 7), (6, 7), (7, 7)]


def test_context_selection(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver(denied={"networkpolicies": None})
    path = kubeconfig(srv)

    as_admin = LiveSource(kubeconfig=path)
    run(as_admin)
    assert as_admin.info().context == "admin" and as_admin.info().forbidden == ()

    as_viewer = LiveSource(kubeconfig=path, context="viewer")
    run(as_viewer)
    assert as_viewer.info().context == "viewer"
    assert as_viewer.info().forbidden == ("networkpolicies",)
    users = {r.user for r in srv.requests}
    assert users == {"kubernetes-admin", "system:serviceaccount:default:viewer"}


def test_unknown_context_is_a_source_error_with_the_known_ones(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver()
    with pytest.raises(SourceError) as err:
        run(LiveSource(kubeconfig=kubeconfig(srv), context="prod"))
    assert err.value.tip is not None and "admin" in err.value.tip and "viewer" in err.value.tip


def test_namespace_restricted_listing(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    src = LiveSource(kubeconfig=kubeconfig(srv), namespace="shop")
    raws, problems = run(src)
    assert {key(r.data) for r in raws} == expected(namespace="shop")
    assert only_not_served_warning(problems) == []

    listed = [r.path for r in srv.requests if "limit" in r.query]
    cluster_scoped = {
        "/api/v1/namespaces",
        "/api/v1/nodes",
        "/apis/networking.k8s.io/v1/ingressclasses",
    }
    for path in listed:
        assert path in cluster_scoped or "/namespaces/shop/" in path, path
    # shop is not a network-configuration namespace: its ConfigMaps are not read.
    assert requests_for(srv, "/configmaps") == []


# --------------------------------------------------------------------------- refusals


def test_forbidden_networkpolicies_degrade_and_the_rest_loads(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(denied={"networkpolicies": None})
    src = LiveSource(kubeconfig=kubeconfig(srv), context="viewer", page_size=4)
    raws, problems = run(src)

    assert {key(r.data) for r in raws} == {k for k in expected() if k[1] != "NetworkPolicy"}
    (problem,) = only_not_served_warning(problems)
    assert problem.level == Level.DEGRADED
    assert problem.message.startswith("forbidden: cannot list networkpolicies (networking.k8s.io)")
    assert "at the cluster scope or in any namespace" in problem.message
    assert 'cannot list resource "networkpolicies"' in problem.message  # the server's reason
    assert problem.object == "networkpolicies"
    assert {"policy engine", "connectivity", "trace policy hops", "policy checks"} <= set(
        problem.affects
    )
    assert src.info().forbidden == ("networkpolicies",)
    assert src.info().failed == ()
    # Before giving up, each namespace was tried (RoleBindings grant per namespace).
    tried = {r.path for r in requests_for(srv, "/networkpolicies")}
    assert tried == {"/apis/networking.k8s.io/v1/networkpolicies"} | {
        f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies"
        for ns in ("default", "kube-system", "shop", "monitoring")
    }


def test_pods_forbidden_in_one_namespace_when_listing_per_namespace(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    # The viewer is granted pods by RoleBindings everywhere but shop, so the
    # cluster-wide list is refused (RBAC cannot grant "all but one namespace").
    srv = apiserver(denied={"pods": {"shop"}})
    src = LiveSource(kubeconfig=kubeconfig(srv), context="viewer", page_size=1)
    raws, problems = run(src)

    pods = {key(r.data) for r in raws if r.data["kind"] == "Pod"}
    assert pods == {k for k in expected() if k[1] == "Pod" and k[2] != "shop"}
    assert {key(r.data) for r in raws if r.data["kind"] != "Pod"} == {
        k for k in expected() if k[1] != "Pod"
    }
    (problem,) = only_not_served_warning(problems)
    assert problem.level == Level.DEGRADED
    assert problem.message.startswith("forbidden: cannot list pods (core) in namespace shop")
    assert problem.object == "pods"
    assert problem.skipped == "Pod objects in shop"
    assert "service checks" in problem.affects
    # A partial pod list would make analyses report false faults: pods count as forbidden.
    assert src.info().forbidden == ("pods",)
    origin_files = {r.origin.file for r in raws if r.data["kind"] == "Pod"}
    assert origin_files == {
        "/api/v1/namespaces/kube-system/pods",
        "/api/v1/namespaces/monitoring/pods",
    }


def test_endpoints_are_the_fallback_when_endpointslices_are_forbidden(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(denied={"endpointslices": None})
    src = LiveSource(kubeconfig=kubeconfig(srv), context="viewer")
    raws, problems = run(src)
    endpoints = {key(r.data)[2:] for r in raws if r.data["kind"] == "Endpoints"}
    assert endpoints == {
        ("default", "kubernetes"),
        ("kube-system", "kube-dns"),
        ("shop", "frontend"),
        ("shop", "backend"),
    }
    assert not any(r.data["kind"] == "EndpointSlice" for r in raws)
    (problem,) = only_not_served_warning(problems)
    assert problem.object == "endpointslices" and "endpoints hop" in problem.affects
    assert src.info().forbidden == ("endpointslices",)


def test_unauthorized_is_a_source_error(apiserver: Server, tmp_path: Path) -> None:
    srv = apiserver()
    kc = write_kubeconfig(tmp_path / "kc", srv.url, {"stale": "expired-token"}, current="stale")
    with pytest.raises(SourceError) as err:
        run(LiveSource(kubeconfig=str(kc)))
    assert "401" in err.value.message and srv.url in err.value.message
    assert err.value.tip is not None and "credentials" in err.value.tip


def test_unreachable_server_is_a_source_error_naming_it(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = f"http://127.0.0.1:{port}"
    kc = write_kubeconfig(tmp_path / "kc", server, {"admin": "t"}, current="admin")
    with pytest.raises(SourceError) as err:
        run(LiveSource(kubeconfig=str(kc), timeout=2, retries=1))
    assert server in err.value.message
    assert err.value.tip is not None


# --------------------------------------------------------------------------- slow and flaky


def test_slow_endpoint_is_bounded_and_recorded_as_failed(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(slow={"nodes": 30.0})
    src = LiveSource(kubeconfig=kubeconfig(srv), timeout=0.5, retries=1)
    raws, problems = run(src)

    assert {key(r.data) for r in raws} == {k for k in expected() if k[1] != "Node"}
    (problem,) = only_not_served_warning(problems)
    assert problem.level == Level.DEGRADED
    assert problem.message.startswith("could not list nodes (core)")
    assert "timed out" in problem.message
    assert "overlay/MTU checks" in problem.affects
    assert src.info().failed == ("nodes",) and src.info().forbidden == ()
    assert len(requests_for(srv, "/nodes")) == 2  # the first try and one retry


def test_flaky_endpoint_is_retried_and_loads(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver(flaky={"services": 2})
    src = LiveSource(kubeconfig=kubeconfig(srv), retries=2)
    raws, problems = run(src)
    assert {key(r.data) for r in raws} == expected()
    assert only_not_served_warning(problems) == []
    assert [r.status for r in requests_for(srv, "/services")] == [503, 503, 200]
    assert src.info().failed == ()


def test_retry_after_is_honoured(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver(flaky={"services": 1}, flaky_retry_after="0")
    raws, _ = run(LiveSource(kubeconfig=kubeconfig(srv), retries=1))
    assert [r.status for r in requests_for(srv, "/services")] == [503, 200]
    assert sum(1 for r in raws if r.data["kind"] == "Service") == 5


def test_flaky_endpoint_beyond_the_retries_fails_alone(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(flaky={"services": 10})
    src = LiveSource(kubeconfig=kubeconfig(srv), retries=1)
    raws, problems = run(src)
    assert {key(r.data) for r in raws} == {k for k in expected() if k[1] != "Service"}
    (problem,) = only_not_served_warning(problems)
    assert "HTTP 503 after 2 attempts" in problem.message
    assert src.info().failed == ("services",)


def test_expired_continue_token_restarts_the_list_once(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(expire_continue={"pods": 1})
    src = LiveSource(kubeconfig=kubeconfig(srv), page_size=2)
    raws, problems = run(src)
    pods = [key(r.data) for r in raws if r.data["kind"] == "Pod"]
    assert len(pods) == len(set(pods)) == 7  # restarted, and nothing returned twice
    assert only_not_served_warning(problems) == []
    statuses = [(r.status, "continue" in r.query) for r in requests_for(srv, "/api/v1/pods")]
    assert statuses[:3] == [(200, False), (410, True), (200, False)]


def test_continue_token_expiring_again_is_a_warning(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(expire_continue={"pods": 2})
    src = LiveSource(kubeconfig=kubeconfig(srv), page_size=2)
    _, problems = run(src)
    (problem,) = only_not_served_warning(problems)
    assert problem.level == Level.WARNING
    assert "continue token expired again" in problem.message and problem.object == "pods"
    assert src.info().failed == ("pods",)


# --------------------------------------------------------------------------- secrets


def _secret_values() -> list[str]:
    """Every secret value in the data, encoded or not, including last-applied annotations."""
    values: list[str] = []
    for o in data_objects():
        if o["kind"] != "Secret":
            continue
        values += list((o.get("data") or {}).values()) + list((o.get("stringData") or {}).values())
        values += list((o["metadata"].get("annotations") or {}).values())
    assert len(values) >= 7
    return values


def test_secrets_are_never_read(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    raws, _ = run(LiveSource(kubeconfig=kubeconfig(srv), page_size=1))

    secret_requests = requests_for(srv, "/secrets")
    assert secret_requests, "secrets are listed (as names and types)"
    for r in secret_requests:
        # The only media type asked for is a Table without objects: a server
        # following the API conventions cannot answer that with Secret data.
        assert r.headers["accept"] == TABLE
        assert r.query.get("includeObject") == ["None"]
        assert "/namespaces/" in r.path
    for body in srv.secret_bodies:
        text = body.decode()
        assert '"kind": "Table"' in text
        for value in _secret_values():
            assert value not in text

    secrets = {key(r.data): r.data for r in raws if r.data["kind"] == "Secret"}
    assert set(secrets) == {k for k in expected() if k[1] == "Secret"}
    for data in secrets.values():
        assert set(data) == {"apiVersion", "kind", "metadata", "type"}
        assert set(data["metadata"]) == {"name", "namespace"}
    assert secrets[("v1", "Secret", "shop", "shop-tls")]["type"] == "kubernetes.io/tls"
    assert secrets[("v1", "Secret", "kube-system", "bootstrap-token-abcdef")]["type"] == (
        "bootstrap.kubernetes.io/token"
    )


# --------------------------------------------------------------------------- optional groups


def test_served_gateway_api_is_listed_and_not_reported_missing(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(optional_groups={"gateway.networking.k8s.io"})
    src = LiveSource(kubeconfig=kubeconfig(srv))
    _, problems = run(src)
    (warning,) = problems
    assert "gateway" not in warning.message and "Gateway API" not in warning.message
    assert "cilium.io" in warning.message and "Cilium" in warning.message
    listed = {r.path for r in srv.requests if "limit" in r.query}
    assert {
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses",
        "/apis/gateway.networking.k8s.io/v1/gateways",
        "/apis/gateway.networking.k8s.io/v1/httproutes",
        "/apis/gateway.networking.k8s.io/v1/grpcroutes",
    } <= listed
    assert "gateways.gateway.networking.k8s.io" not in src.not_served


def test_calico_crds_are_read_when_its_api_server_is_absent(
    apiserver: Server, kubeconfig: Kubeconfig
) -> None:
    srv = apiserver(optional_groups={"crd.projectcalico.org"})
    src = LiveSource(kubeconfig=kubeconfig(srv))
    _, problems = run(src)
    listed = {r.path for r in srv.requests if "limit" in r.query}
    assert "/apis/crd.projectcalico.org/v1/networkpolicies" in listed
    assert "Calico" not in problems[0].message  # one Calico group serves the kinds


def test_stopping_early_does_not_hang(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    it = LiveSource(kubeconfig=kubeconfig(srv), page_size=1, parallel=2).collect()
    first = [next(it) for _ in range(3)]
    it.close()  # the workers see the stop and wind down
    assert len(first) == 3


def test_kinds_returned_match_the_data(apiserver: Server, kubeconfig: Kubeconfig) -> None:
    srv = apiserver()
    raws, _ = run(LiveSource(kubeconfig=kubeconfig(srv)))
    counts = Counter(r.data["kind"] for r in raws)
    assert counts == Counter(k[1] for k in expected())

"""The fake API server answers like a kube-apiserver (checked with a plain HTTP client)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from live.apiserver import FakeApiServer

Server = Callable[..., FakeApiServer]


def get(
    srv: FakeApiServer, path: str, token: str | None = "admin-token", accept: str | None = None
) -> tuple[int, Any]:
    req = urllib.request.Request(srv.url + path)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_discovery_documents(apiserver: Server) -> None:
    srv = apiserver()
    code, core = get(srv, "/api/v1")
    assert code == 200 and core["kind"] == "APIResourceList" and core["groupVersion"] == "v1"
    names = {r["name"] for r in core["resources"]}
    assert {"pods", "pods/status", "namespaces"} <= names
    code, groups = get(srv, "/apis")
    assert groups["kind"] == "APIGroupList"
    apps = next(g for g in groups["groups"] if g["name"] == "apps")
    assert apps["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert get(srv, "/apis/gateway.networking.k8s.io/v1")[0] == 404  # not served by default


def test_unauthenticated_is_401_status(apiserver: Server) -> None:
    code, body = get(apiserver(), "/api/v1/pods", token=None)
    assert code == 401
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_forbidden_body_is_the_real_one(apiserver: Server) -> None:
    srv = apiserver(denied={"networkpolicies": None})
    code, body = get(srv, "/apis/networking.k8s.io/v1/networkpolicies", token="viewer-token")
    assert code == 403
    assert body == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'networkpolicies.networking.k8s.io is forbidden: User "system:serviceaccount:default:viewer" '
        'cannot list resource "networkpolicies" in API group "networking.k8s.io" at the cluster scope',
        "reason": "Forbidden",
        "details": {"group": "networking.k8s.io", "kind": "networkpolicies"},
        "code": 403,
    }


def test_chunking_and_expired_tokens(apiserver: Server) -> None:
    srv = apiserver()
    code, first = get(srv, "/api/v1/pods?limit=3")
    assert first["kind"] == "PodList" and len(first["items"]) == 3
    assert "kind" not in first["items"][0] and "apiVersion" not in first["items"][0]
    assert first["metadata"]["remainingItemCount"] == 4
    token = first["metadata"]["continue"]
    code, second = get(srv, f"/api/v1/pods?limit=3&continue={token}")
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    srv.expire_continue["pods"] = 1
    code, body = get(srv, f"/api/v1/pods?limit=3&continue={token}")
    assert code == 410 and body["reason"] == "Expired"
    assert get(srv, "/api/v1/pods?limit=3&continue=bm90LWpzb24=")[0] == 400


def test_selectors(apiserver: Server) -> None:
    srv = apiserver()
    _, pods = get(srv, "/api/v1/namespaces/shop/pods?labelSelector=app%3Dbackend")
    assert {p["metadata"]["name"] for p in pods["items"]} == {
        "backend-6b8d5c7f9-c5jzk",
        "backend-6b8d5c7f9-q2wxz",
    }
    _, pods = get(srv, "/api/v1/pods?labelSelector=app%20in%20(frontend,backend),app!%3Dfrontend")
    assert len(pods["items"]) == 2
    _, events = get(srv, "/api/v1/events?fieldSelector=type%3DWarning")
    assert [e["reason"] for e in events["items"]] == ["Unhealthy"]
    code, body = get(srv, "/api/v1/events?fieldSelector=spec.bogus%3Dx")
    assert code == 400 and "field label not supported" in body["message"]


def test_tables_and_content_negotiation(apiserver: Server) -> None:
    srv = apiserver()
    table = "application/json;as=Table;v=v1;g=meta.k8s.io"
    _, body = get(srv, "/api/v1/namespaces/shop/secrets?includeObject=None", accept=table)
    assert body["kind"] == "Table"
    assert [c["name"] for c in body["columnDefinitions"]] == ["Name", "Type", "Data", "Age"]
    assert all("object" not in r for r in body["rows"])
    _, body = get(srv, "/api/v1/namespaces/shop/secrets", accept=table)
    assert (
        body["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    )  # includeObject defaults to Metadata
    code, body = get(srv, "/api/v1/pods", accept="application/json;as=Table;v=v9;g=meta.k8s.io")
    assert code == 406 and body["reason"] == "NotAcceptable"

"""Flows are matched to exact workloads, and printed `hubble observe` filters select nothing else.

Fixture: tests/data/flows/prefix/ (``_gen_prefix.py``): in namespace ``shop``, ``web`` calls
``api-gateway`` (allowed, forwarded) and ``api`` (denied by web's egress policy, dropped);
``api-canary``'s pods carry ``app=api`` too, and ``api-gateway``'s name starts with ``api``.
``hubble --to-pod shop/api`` would select all three workloads' pods (a name prefix).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsleuth.cli import app
from netsleuth.flows import Resolver, summarize
from netsleuth.flows.filters import side_filters
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.flows import FlowEndpoint
from netsleuth.sources.hubble import read_flows
from netsleuth.sources.load import load_offline

DATA = Path(__file__).parents[1] / "data" / "flows" / "prefix"
FLOWS = DATA / "hubble-observe.jsonpb"
MODEL = load_offline([str(DATA)])
SHOP_LABELS = (
    "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
    "k8s:io.cilium.k8s.policy.cluster=default",
    "k8s:io.cilium.k8s.policy.serviceaccount=default",
    "k8s:io.kubernetes.pod.namespace=shop",
)


def _pods(model: ClusterModel, prefix: str) -> list[str]:
    return sorted(p.name for p in model.pods if p.namespace == "shop" and p.name.startswith(prefix))


def test_the_fixture_has_the_prefix_trap() -> None:
    # what --to-pod shop/api would select: api, api-canary and api-gateway pods
    owners = {MODEL.owner(p).name for p in MODEL.pods if p.name.startswith("api")}
    assert owners == {"api", "api-canary", "api-gateway"}
    # and the canary's pods come first among those labelled app=api
    first = MODEL.pods_matching("shop", {"app": "api"})[0]
    assert MODEL.owner(first).name == "api-canary"


def test_drops_and_forwards_are_grouped_by_exact_workload() -> None:
    s = summarize(MODEL, read_flows([str(FLOWS)]))
    assert s.counts.as_dict() == {
        "total": 7,
        "forwarded": 3,
        "dropped": 4,
        "redirected": 0,
        "other": 0,
    }
    (group,) = s.drops
    assert (group.src.key, group.dst.key, group.count) == (  # type: ignore[union-attr]
        "deployment/shop/web",
        "deployment/shop/api",
        4,  # three retransmissions to an api pod, one to a new api pod known by labels
    )
    verdicts = {(k[0], k[1], k[3]): o.verdict for k, o in s.pairs.items()}
    assert verdicts == {
        ("deployment/shop/web", "deployment/shop/api-gateway", 8080): "FORWARDED",
        ("deployment/shop/web", "deployment/shop/api", 8080): "DROPPED",
    }


@pytest.mark.parametrize(
    ("labels", "workload"),
    [
        (("k8s:app=api", *SHOP_LABELS), "deployment/shop/api"),
        (("k8s:app=api", *SHOP_LABELS, "k8s:track=canary"), "deployment/shop/api-canary"),
        (("k8s:app=api-gateway", *SHOP_LABELS), "deployment/shop/api-gateway"),
    ],
)
def test_an_endpoint_known_by_labels_is_the_workload_with_exactly_those(
    labels: tuple[str, ...], workload: str
) -> None:
    # an address the model does not hold, no pod name: only the identity's labels
    ep = FlowEndpoint(ip="10.244.2.99", port=8080, namespace="shop", identity=29077, labels=labels)
    side = Resolver(MODEL).side(ep)
    assert side.key == workload


def test_flow_finding_confirms_with_exact_filters() -> None:
    res = CliRunner().invoke(app, ["flows", str(FLOWS), "-f", str(DATA), "-o", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    (finding,) = doc["findings"]
    assert finding["rule_id"] == "POL309"
    hubble = [shlex.split(c) for c in finding["confirm"] if c.startswith("hubble ")]
    assert hubble == [
        [
            "hubble",
            "observe",
            "--verdict",
            "DROPPED",
            "--from-namespace",
            "shop",
            "--from-workload",
            "web",
            "--to-namespace",
            "shop",
            "--to-workload",
            "api",
            "--to-port",
            "8080",
            "--protocol",
            "tcp",
        ]
    ]
    assert "4 flows deployment/shop/web -> deployment/shop/api on TCP 8080" in finding["message"]


def _trace(dst: str) -> dict[str, object]:
    args = ["trace", "shop/web", dst, "--port", "8080", "-f", str(DATA), "--flows", str(FLOWS)]
    res = CliRunner().invoke(app, [*args, "-o", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def _observed(doc: dict[str, object]) -> list[dict[str, object]]:
    hops: list[dict[str, object]] = doc["hops"]  # type: ignore[assignment]
    return [h for h in hops if str(h["summary"]).startswith("observed (Hubble)")]


def test_trace_to_the_gateway_sees_only_the_gateway() -> None:
    (hop,) = _observed(_trace("shop/api-gateway"))
    assert hop["status"] == "ok"
    text = json.dumps(hop)
    assert "deployment/shop/api-gateway TCP/8080 last FORWARDED" in text
    assert "DROPPED" not in text and "deployment/shop/api " not in text


def test_trace_to_api_sees_the_drops_and_confirms_exactly() -> None:
    doc = _trace("shop/api")
    (hop,) = _observed(doc)
    assert hop["status"] == "broken"
    assert "deployment/shop/api TCP/8080 last DROPPED (POLICY_DENIED" in str(hop["summary"])
    assert "api-gateway" not in json.dumps(hop)
    confirms: list[str] = hop["confirm"]  # type: ignore[assignment]
    (confirm,) = confirms
    assert "--to-workload api --to-port 8080" in confirm
    assert "--to-pod" not in confirm and "--from-pod" not in confirm


def test_side_filters() -> None:
    web = MODEL.pods_matching("shop", {"app": "web"})[0]
    svc = MODEL.service("shop", "api")
    assert svc is not None and svc.cluster_ip
    assert side_filters(MODEL, "deployment/shop/api", "to") == [
        "--to-namespace",
        "shop",
        "--to-workload",
        "api",
    ]
    # a bare pod: its name is only a prefix to Hubble, its address makes it exact
    assert side_filters(MODEL, f"pod/shop/{web.name}", "from") == [
        "--from-pod",
        f"shop/{web.name}",
        "--from-ip",
        str(web.ip),
    ]
    # a Service: its ClusterIP (a flow before load balancing), not --to-service (a prefix)
    assert side_filters(MODEL, "service/shop/api", "to") == ["--to-ip", svc.cluster_ip]
    for key in ("world", "address", "reserved:host", "node/worker-1"):
        assert side_filters(MODEL, key, "from") == []

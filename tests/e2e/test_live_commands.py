"""Every command that reads a cluster, run live: kubeconfig → ``kubernetes`` client → fake API server.

The fake server (tests/live/apiserver.py) serves the bundled demo cluster
(``src/netsleuth/data/demo/cluster.yaml``). The strongest honest check is that
the live run and the offline run (``-f cluster.yaml``, the same objects) say
the same thing. Offline uses the one file, not the demo folder, so neither
side has node artifacts (``nodes/<node>/``): a live read cannot see them.

What differs by design, and is therefore not compared:

- ``problems``: a live read warns once that the optional API groups (Gateway
  API, Cilium, Calico, Istio, AdminNetworkPolicy) are not served; offline has
  none. Asserted separately to be that warning only.
- ConfigMaps: live reads them only in the network-configuration namespaces
  (kube-system, CNI and mesh namespaces), so ``ingress-nginx/ingress-nginx-controller``
  (application config) is not read live.
- Findings' ``confidence`` (``observed`` live, ``inferred`` from manifests) and
  their ``file``/``line`` (a manifest has them, the API does not).
- ``source`` (the kubeconfig context and server vs the file path).

``demo`` (bundled files) and ``checks`` (the check registry) read no cluster,
so they have no live mode; tests/test_demo.py and tests/checks cover them.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from e2e.conftest import DEMO, DEMO_CLUSTER, Live, Run, demo_objects
from netsleuth.cli.errors import EXIT_DIFF_LOST, EXIT_OK, EXIT_SOURCE, EXIT_TRACE_BROKEN
from netsleuth.sources.live import NETWORK_CONFIG_NAMESPACES

Cli = Callable[..., Run]

FAULTS: list[dict[str, Any]] = yaml.safe_load((DEMO / "faults.yaml").read_text())
TRACED = [f for f in FAULTS if f.get("trace")]
NODE_FILE_LAYERS = {"mtu", "conntrack"}
"""Faults only node artifacts reveal (veth/tunnel MTUs, conntrack counters): invisible live."""

OFFLINE = ("-f", str(DEMO_CLUSTER))


def doc(r: Run) -> dict[str, Any]:
    """stdout as JSON, parsed with orjson: it must be pure JSON, nothing else."""
    parsed = orjson.loads(r.out)
    assert isinstance(parsed, dict)
    return parsed


def without(d: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in keys}


def assert_only_not_served_warning(problems: list[dict[str, Any]]) -> None:
    """A healthy live read of this server has one problem: the optional groups are not served."""
    assert [(p["level"], p["file"]) for p in problems] == [("warning", "/apis")]
    assert problems[0]["message"].startswith("API group not served:")


def both(cli: Cli, live: Live, *args: str) -> tuple[Run, Run]:
    """The same command live (admin context) and offline on cluster.yaml."""
    return cli(*args, *live.args()), cli(*args, *OFFLINE)


# --------------------------------------------------------------------------- inventory


def test_inventory_live_matches_offline(cli: Cli, live: Live) -> None:
    lr, off = both(cli, live, "inventory", "-o", "json")
    assert (lr.code, off.code) == (EXIT_OK, EXIT_OK), lr.err + off.err
    a, b = doc(lr), doc(off)
    assert a["source"].startswith("live: context admin (http://127.0.0.1:")
    assert_only_not_served_warning(a["problems"])
    assert b["problems"] == []

    # Counts from cluster.yaml (README: 9 namespaces, 3 nodes, 38 pods); ConfigMaps outside the
    # network-config namespaces are not read live.
    assert a["counts_by_kind"]["Pod"] == 38 and a["counts_by_kind"]["Namespace"] == 9
    assert a["counts_by_kind"]["Node"] == 3 and a["counts_by_kind"]["NetworkPolicy"] == 15
    off_kinds = dict(b["counts_by_kind"])
    off_by_ns = copy.deepcopy(b["counts_by_namespace"])
    for ns, kinds in b["counts_by_namespace"].items():
        if ns not in NETWORK_CONFIG_NAMESPACES and "ConfigMap" in kinds:
            off_kinds["ConfigMap"] -= kinds["ConfigMap"]
            del off_by_ns[ns]["ConfigMap"]
    assert b["counts_by_namespace"]["ingress-nginx"]["ConfigMap"] == 1  # the one not read live
    assert a["counts_by_kind"] == off_kinds
    assert a["counts_by_namespace"] == off_by_ns

    # Detection: Calico (calico-node DaemonSet, calico-config), kube-proxy iptables (its ConfigMap).
    assert a["cni"] == b["cni"] and any("calico" in c for c in a["cni"])
    assert a["kube_proxy_mode"] == b["kube_proxy_mode"] == "iptables"
    assert a["kube_proxy_mode_source"] == b["kube_proxy_mode_source"]
    assert a["coredns_replicas"] == b["coredns_replicas"] == "2/2"
    assert a["nodes"] == b["nodes"]
    assert without(a, "source", "problems", "counts_by_kind", "counts_by_namespace") == without(
        b, "source", "problems", "counts_by_kind", "counts_by_namespace"
    )
    assert a["forbidden"] == [] and a["failed"] == []


# --------------------------------------------------------------------------- trace


def trace_args(fault: dict[str, Any]) -> list[str]:
    t = fault["trace"]
    port = ["--port", str(t["port"])] if t.get("port") else []
    return ["trace", str(t["src"]), str(t["dst"]), *port, "-o", "json"]


def broken_layers(d: dict[str, Any]) -> set[str]:
    return {h["layer"] for h in d["hops"] if h["status"] == "broken"}


@pytest.mark.parametrize("fault", TRACED, ids=lambda f: f["id"])
def test_trace_fault_live_matches_offline(cli: Cli, live: Live, fault: dict[str, Any]) -> None:
    lr, off = both(cli, live, *trace_args(fault))
    a, b = doc(lr), doc(off)
    assert lr.code == off.code, lr.err + off.err
    assert lr.code == (EXIT_TRACE_BROKEN if a["verdict"] == "broken" else EXIT_OK)
    # Same query resolution, hops (layer, status, summary, evidence, fix) and verdict.
    assert without(a, "problems") == without(b, "problems")
    assert_only_not_served_warning(a["problems"])
    if fault["layer"] in NODE_FILE_LAYERS:
        # Needs nodes/<node>/ files: neither side has them, so the fault cannot show.
        assert fault["expected_broken_layer"] not in broken_layers(a)
    else:
        assert a["verdict"] == fault["expected_verdict"] == "broken"
        assert fault["expected_broken_layer"] in broken_layers(a)


# --------------------------------------------------------------------------- explain

EXPLAIN_CASES = [
    # (src, dst, port, allowed) — verdicts derived from the demo's policies by hand:
    # legacy/allow-from-shop admits storefront on 80 only; report-api listens on 8080 (F9).
    ("shop/storefront", "legacy/report-api", "tcp/8080", False),
    # storefront's egress to legacy is 8080 only (shop/allow-egress-legacy-reports).
    ("shop/storefront", "legacy/report-api", "tcp/80", False),
    # shop/allow-egress-payments + payments/allow-payments-api-clients.
    ("shop/cart", "payments/payments-api", "tcp/8080", True),
    # legacy/allow-dns selects kube-system by `name: kube-system`, a label it lacks (F2).
    ("legacy/billing-cron", "kube-system/coredns", "udp/53", False),
    # shop/allow-same-namespace, every port.
    ("shop/storefront", "shop/cart", None, True),
]


@pytest.mark.parametrize(("src", "dst", "port", "allowed"), EXPLAIN_CASES)
def test_explain_live_matches_offline(
    cli: Cli, live: Live, src: str, dst: str, port: str | None, allowed: bool
) -> None:
    args = ["explain", src, dst, *(["--port", port] if port else []), "-o", "json"]
    lr, off = both(cli, live, *args)
    assert (lr.code, off.code) == (EXIT_OK, EXIT_OK), lr.err + off.err
    a, b = doc(lr), doc(off)
    assert a["allowed"] is allowed
    # Identical endpoints, verdicts and provenance (the rules that decided, the misses).
    assert without(a, "problems") == without(b, "problems")


# --------------------------------------------------------------------------- connectivity / exposure


def conn_key(c: dict[str, Any]) -> tuple[str, str]:
    def name(p: dict[str, Any]) -> str:
        return f"{p.get('namespace')}/{p.get('name')}" if p.get("name") else str(p)

    return name(c["src"]), name(c["dst"])


def test_connectivity_live_matches_offline(cli: Cli, live: Live) -> None:
    lr, off = both(cli, live, "connectivity", "-o", "json")
    assert (lr.code, off.code) == (EXIT_OK, EXIT_OK), lr.err + off.err
    a, b = doc(lr), doc(off)
    assert a["connections"] == b["connections"]
    assert_only_not_served_warning(a["problems"])
    conns = {conn_key(c): c["conn"] for c in a["connections"]}
    assert conns[("shop/cart", "payments/payments-api")] == {"TCP": ["8080"]}
    assert conns[("legacy/billing-cron", "payments/payments-api")] == {"TCP": ["8080"]}
    assert ("legacy/billing-cron", "kube-system/coredns") not in conns  # F2: DNS blocked


def test_exposure_live_matches_offline(cli: Cli, live: Live) -> None:
    lr, off = both(cli, live, "exposure", "-o", "json")
    assert (lr.code, off.code) == (EXIT_OK, EXIT_OK), lr.err + off.err
    a, b = doc(lr), doc(off)
    assert without(a, "problems") == without(b, "problems")
    rows = {(w["workload"]["namespace"], w["workload"]["name"]): w for w in a["workloads"]}
    assert rows[("monitoring", "grafana")]["ingress_protected"] is False  # no policy in monitoring
    assert rows[("shop", "storefront")]["ingress_protected"] is True  # shop/default-deny


# --------------------------------------------------------------------------- scan


def finding_key(f: dict[str, Any]) -> tuple[str, str, str | None, str]:
    s = f["subject"]
    return f["rule_id"], s["kind"], s.get("namespace"), s["name"]


def test_scan_live_matches_offline(cli: Cli, live: Live) -> None:
    lr, off = both(cli, live, "scan", "-o", "json")
    assert (lr.code, off.code) == (EXIT_OK, EXIT_OK), lr.err + off.err
    a, b = doc(lr), doc(off)
    la = {finding_key(f): f for f in a["findings"]}
    lb = {finding_key(f): f for f in b["findings"]}
    assert set(la) == set(lb)
    by_design = ("confidence", "file", "line")
    for k, f in la.items():
        assert without(f, *by_design) == without(lb[k], *by_design), k
        assert f["confidence"] == "observed" and lb[k]["confidence"] == "inferred"
    assert a["skipped"] == b["skipped"]
    # Every planted fault that does not need node files is named, with its rule, live.
    for fault in FAULTS:
        if fault["layer"] in NODE_FILE_LAYERS:
            assert not any(k[0] in fault["rules"] for k in la), fault["id"]
            continue
        kind, _, rest = fault["culprit"].partition("/")
        ns, _, name = rest.rpartition("/")
        assert any((r, kind, ns or None, name) in la for r in fault["rules"]), fault["id"]


# --------------------------------------------------------------------------- diff


def write_cluster(path: Path, drop: tuple[str, str, str] | None = None) -> Path:
    """cluster.yaml as a List, optionally without the (kind, namespace, name) object."""
    items = [
        o
        for o in demo_objects()
        if drop is None
        or (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) != drop
    ]
    assert drop is None or len(items) == len(demo_objects()) - 1
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": list(items)}))
    return path


def test_diff_live_against_the_same_file_is_empty(cli: Cli, live: Live) -> None:
    for before, after in (("live", str(DEMO_CLUSTER)), (str(DEMO_CLUSTER), "live")):
        r = cli("diff", before, after, *live.args(), "-o", "json")
        assert r.code == EXIT_OK, r.err
        d = doc(r)
        assert (d["lost"], d["gained"], d["changed"]) == ([], [], [])


def test_diff_live_reports_a_connection_the_file_loses(
    cli: Cli, live: Live, tmp_path: Path
) -> None:
    # Without payments/allow-payments-api-clients, payments' default-deny admits only
    # same-namespace ingress: cart and billing-cron lose payments-api on 8080 (their egress
    # policies still allow it, so the loss is on the ingress side).
    tight = write_cluster(
        tmp_path / "tight.yaml", drop=("NetworkPolicy", "payments", "allow-payments-api-clients")
    )
    lost_pairs = [
        ("legacy/billing-cron", "payments/payments-api"),
        ("shop/cart", "payments/payments-api"),
    ]

    r = cli("diff", "live", str(tight), *live.args(), "-o", "json")
    assert r.code == EXIT_DIFF_LOST, r.err
    d = doc(r)
    assert sorted(conn_key(c) for c in d["lost"]) == lost_pairs
    assert d["gained"] == [] and d["changed"] == []
    for c in d["lost"]:
        assert c["before"] == {"TCP": ["8080"]} and c["after"] is None
        assert c["probe"] == {"protocol": "TCP", "port": 8080}
        assert any(line.startswith("ingress: denied") for line in c["why"])
        assert [(p["change"], p["namespace"], p["name"]) for p in c["policy_changes"]] == [
            ("removed", "payments", "allow-payments-api-clients")
        ]

    table = cli("diff", "live", str(tight), *live.args())
    assert table.code == EXIT_DIFF_LOST, table.err
    assert "2 lost, 0 gained, 0 changed" in table.out

    # The other way round the same connections are gained: nothing lost, exit 0.
    r = cli("diff", str(tight), "live", *live.args(), "-o", "json")
    assert r.code == EXIT_OK, r.err
    d = doc(r)
    assert sorted(conn_key(c) for c in d["gained"]) == lost_pairs and d["lost"] == []


def test_diff_live_on_a_directory_copy(cli: Cli, live: Live, tmp_path: Path) -> None:
    """A directory side (as CI would pass a manifests folder) against live."""
    folder = tmp_path / "manifests"
    folder.mkdir()
    shutil.copy(DEMO_CLUSTER, folder / "cluster.yaml")
    r = cli("diff", str(folder), "live", *live.args(), "-o", "json")
    assert r.code == EXIT_OK, r.err
    assert doc(r)["lost"] == []


# --------------------------------------------------------------------------- RBAC: a forbidden kind


@pytest.fixture(scope="module")
def viewer_without_policies(live_with: Callable[..., Live]) -> Live:
    """The viewer user may not list NetworkPolicies anywhere (the admin still may)."""
    return live_with(denied={"networkpolicies": None})


def assert_names_forbidden_policies(problems: list[dict[str, Any]]) -> None:
    degraded = [p for p in problems if p["level"] == "degraded"]
    assert [p["object"] for p in degraded] == ["networkpolicies"]
    assert "forbidden" in degraded[0]["message"]


def test_forbidden_kind_degrades_every_reading_command(
    cli: Cli, viewer_without_policies: Live
) -> None:
    viewer = viewer_without_policies.args("viewer")
    # README "Exit codes": 6 only when the source is unreachable or forbidden as a whole;
    # one refused kind is a degraded input, so the commands run and exit as usual.
    inv = cli("inventory", "-o", "json", *viewer)
    assert inv.code == EXIT_OK, inv.err
    d = doc(inv)
    assert d["forbidden"] == ["networkpolicies"]
    assert "NetworkPolicy" not in d["counts_by_kind"] and d["counts_by_kind"]["Pod"] == 38
    assert_names_forbidden_policies(d["problems"])

    table = cli("inventory", *viewer)
    assert table.code == EXIT_OK and "Forbidden: networkpolicies" in table.out

    scan = cli("scan", "-o", "json", *viewer)
    assert scan.code == EXIT_OK, scan.err
    d = doc(scan)
    assert_names_forbidden_policies(d["problems"])
    skipped = {s["check_id"]: s["reason"] for s in d["skipped"]}
    pol = [c for c in skipped if c.startswith("POL3")]
    assert "POL303" in pol and "POL305" in pol
    assert all("networkpolicies" in skipped[c] for c in pol)
    assert not any(f["rule_id"].startswith("POL3") for f in d["findings"])
    # The checks that need no policies still name their culprits.
    assert {"SVC201", "SVC203", "ING802"} <= {f["rule_id"] for f in d["findings"]}

    for args in (("connectivity",), ("exposure",)):
        r = cli(*args, "-o", "json", *viewer)
        assert r.code == EXIT_OK, r.err
        assert_names_forbidden_policies(doc(r)["problems"])
        # The lists are what the policies that were read allow, and say so.
        assert doc(r)["unreadable_policy_resources"] == ["networkpolicies"]
        table = cli(*args, *viewer)
        assert "verdicts are unknown: networkpolicies could not be listed" in table.out
    for args in (("connectivity",), ("exposure",)):
        assert "unreadable_policy_resources" not in doc(cli(*args, "-o", "json", *OFFLINE))

    # The admin context on the same server reads them: --context selects the credentials.
    admin = cli("inventory", "-o", "json", *viewer_without_policies.args("admin"))
    assert doc(admin)["forbidden"] == [] and doc(admin)["counts_by_kind"]["NetworkPolicy"] == 15


def test_forbidden_policies_make_policy_verdicts_unknown(
    cli: Cli, viewer_without_policies: Live
) -> None:
    viewer = viewer_without_policies.args("viewer")
    f9 = next(f for f in FAULTS if f["id"] == "F9-policy-uses-service-port")
    r = cli(*trace_args(f9), *viewer)
    d = doc(r)
    # Offline and as admin this is broken at policy-ingress; without the policies it cannot be
    # known either way, so the policy hops are unknown, not ok (and the exit is not 5).
    policy = {h["layer"]: h for h in d["hops"] if h["layer"].startswith("policy")}
    assert {layer: h["status"] for layer, h in policy.items()} == {
        "policy-egress": "unknown",
        "policy-ingress": "unknown",
    }
    assert all("networkpolicies could not be listed" in h["summary"] for h in policy.values())
    # Nothing else on the path is broken; the demo's CoreDNS was OOMKilled (F5), a warning on
    # every DNS hop, and a warning outranks unknown in the verdict. Not broken, exit 0.
    others = {h["status"] for h in d["hops"] if not h["layer"].startswith("policy")}
    assert "broken" not in others
    assert d["verdict"] == ("warning" if "warning" in others else "unknown")
    assert r.code == EXIT_OK
    assert_names_forbidden_policies(d["problems"])

    # The healthy ingress path (README): controller → storefront's ingress policy is unknown too.
    healthy = "https://shop.example.com/"
    assert doc(cli("trace", "external", healthy, "-o", "json", *OFFLINE))["verdict"] == "ok"
    r = cli("trace", "external", healthy, "-o", "json", *viewer)
    d = doc(r)
    assert [h["status"] for h in d["hops"] if h["layer"] == "policy-ingress"] == ["unknown"]
    assert d["verdict"] == "unknown" and r.code == EXIT_OK

    ex = cli(
        "explain",
        "shop/storefront",
        "legacy/report-api",
        "--port",
        "tcp/8080",
        "-o",
        "json",
        *viewer,
    )
    assert ex.code == EXIT_OK, ex.err
    d = doc(ex)
    assert d["notes"][0].startswith("verdicts are unknown: networkpolicies could not be listed")
    # Offline this pair is allowed; without the policies neither answer is a verdict.
    assert d["allowed"] is None and d["verdict"] == "unknown"
    assert d["unreadable_policy_resources"] == ["networkpolicies"]
    assert_names_forbidden_policies(d["problems"])
    off = doc(
        cli(
            "explain",
            "shop/storefront",
            "legacy/report-api",
            "--port",
            "tcp/8080",
            "-o",
            "json",
            *OFFLINE,
        )
    )
    assert off["verdict"] == ("allowed" if off["allowed"] else "denied")
    assert off["unreadable_policy_resources"] == []
    table = cli("explain", "shop/storefront", "legacy/report-api", "--port", "tcp/8080", *viewer)
    assert any(line.startswith("? ") for line in table.out.splitlines())
    assert not any(line.startswith(("✔", "✘")) for line in table.out.splitlines())


def test_diff_refuses_a_live_side_without_its_policies(
    cli: Cli, viewer_without_policies: Live
) -> None:
    # Without this, every policy of the file would show as "added" and every connection the
    # default-deny namespaces forbid as "lost" (exit 3): a false alarm caused by RBAC.
    for before, after in (("live", str(DEMO_CLUSTER)), (str(DEMO_CLUSTER), "live")):
        r = cli("diff", before, after, *viewer_without_policies.args("viewer"), "-o", "json")
        assert r.code == EXIT_SOURCE
        assert r.out == ""
        assert "refused to list networkpolicies" in r.err and "Tip:" in r.err


# --------------------------------------------------------------------------- machine output stays clean

JSON_COMMANDS = [
    ("inventory", "-o", "json"),
    (*trace_args(TRACED[0]),),
    ("explain", "shop/cart", "payments/payments-api", "--port", "tcp/8080", "-o", "json"),
    ("connectivity", "-o", "json"),
    ("exposure", "-o", "json"),
    ("scan", "-o", "json"),
    ("scan", "-o", "sarif"),
]


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a[:1] + a[-1:]))
def test_json_output_is_pure_even_on_a_terminal(
    cli: Cli,
    live: Live,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    sarif_validator: Any,
) -> None:
    # Progress is drawn only when stderr is a terminal: pretend it is, so the test would catch a
    # spinner or a "listing pods" line leaking into the JSON.
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    r = cli(*args, *live.args())
    assert r.code in (EXIT_OK, EXIT_TRACE_BROKEN), r.err
    parsed = doc(r)  # orjson parses the whole of stdout
    assert r.err == ""
    if args[-1] == "sarif":
        sarif_validator.validate(parsed)


def test_table_progress_goes_to_stderr_only(
    cli: Cli, live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    r = cli("inventory", *live.args())
    assert r.code == EXIT_OK, r.err
    assert "listing" not in r.out and "connecting to the API server" not in r.out
    assert "Forbidden" not in r.out and "calico" in r.out.lower()

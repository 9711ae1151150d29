"""connectivity / diff / exposure through the CLI on the bundled demo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "src" / "netsleuth" / "data" / "demo"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netsleuth.cli.__main__", *args], capture_output=True, text=True
    )


def test_connectivity_json_shape_and_focus() -> None:
    r = run("connectivity", "-f", str(DEMO), "--focus", "shop/storefront", "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    pairs = {(c["src"].get("name"), c["dst"].get("name")): c["conn"] for c in doc["connections"]}
    # The ingress controller reaches storefront only on its container port (shop's allow-ingress-nginx policy).
    assert pairs[("ingress-nginx-controller", "storefront")] == {"TCP": ["8080"]}
    # storefront's egress is limited to DNS (53/UDP+TCP) towards kube-system.
    assert pairs[("storefront", "coredns")] == {"TCP": ["53"], "UDP": ["53"]}
    assert all(
        "shop/storefront"
        in (
            f"{c['src'].get('namespace')}/{c['src'].get('name')}",
            f"{c['dst'].get('namespace')}/{c['dst'].get('name')}",
        )
        for c in doc["connections"]
    )


def test_diff_exits_3_when_a_policy_change_loses_a_connection(tmp_path: Path) -> None:
    after = tmp_path / "after"
    shutil.copytree(DEMO, after)
    deny = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: lockdown, namespace: monitoring}\n"
        "spec: {podSelector: {}, policyTypes: [Ingress]}\n"
    )
    (after / "zz-lockdown.yaml").write_text(deny)
    r = run("diff", str(DEMO), str(after), "-o", "json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    assert doc["lost"] and all(c["dst"]["namespace"] == "monitoring" for c in doc["lost"])
    assert run("diff", str(DEMO), str(DEMO)).returncode == 0


def test_exposure_names_unprotected_workloads() -> None:
    r = run("exposure", "-f", str(DEMO), "-o", "json")
    assert r.returncode == 0, r.stderr
    rows = {
        (w["workload"]["namespace"], w["workload"]["name"]): w
        for w in json.loads(r.stdout)["workloads"]
    }
    # monitoring has no policies at all: unprotected both ways; shop has a default deny.
    assert rows[("monitoring", "grafana")]["ingress_protected"] is False
    assert rows[("shop", "storefront")]["ingress_protected"] is True

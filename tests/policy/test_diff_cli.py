"""``netsleuth diff`` on a hand-checked pair of versions (tests/policy/data/diff).

AFTER adds ``db-from-web``: db accepts only web, only on its named port
``pg`` (5432/TCP). By NetworkPolicy semantics, then:

- outside addresses lose every connection to db (db is now ingress-isolated
  and no rule admits an ipBlock) → one lost connection;
- web → db narrows from all ports to TCP 5432 → one changed connection;
- db → web and every connection to web are untouched (web is not selected).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "diff"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netsleuth.cli.__main__", *args], capture_output=True, text=True
    )


def test_diff_json_lost_and_changed() -> None:
    r = run("diff", str(DATA / "before"), str(DATA / "after"), "-o", "json")
    assert r.returncode == 3, r.stderr
    doc = json.loads(r.stdout)
    assert [(c["src"], c["dst"]["name"]) for c in doc["lost"]] == [
        ({"ip_range": "0.0.0.0-255.255.255.255"}, "db")
    ]
    lost = doc["lost"][0]
    assert lost["policy_changes"][0]["name"] == "db-from-web"
    assert lost["policy_changes"][0]["file"].endswith("policy.yaml")
    assert any("denied" in line for line in lost["why"])
    assert [(c["src"]["name"], c["dst"]["name"], c["after"]) for c in doc["changed"]] == [
        ("web", "db", {"TCP": ["5432"]})
    ]
    assert doc["gained"] == []


def test_diff_sarif_points_at_the_policy_file(sarif_validator) -> None:  # type: ignore[no-untyped-def]
    r = run("diff", str(DATA / "before"), str(DATA / "after"), "-o", "sarif")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    sarif_validator.validate(doc)
    # the other way round only gains: exit 0, a valid document with no results
    r = run("diff", str(DATA / "after"), str(DATA / "before"), "-o", "sarif")
    assert r.returncode == 0, r.stderr
    back = json.loads(r.stdout)
    sarif_validator.validate(back)
    assert back["runs"][0]["results"] == []
    results = doc["runs"][0]["results"]
    assert len(results) == 1 and results[0]["ruleId"] == "DIFF001"
    loc = results[0]["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"].endswith("policy.yaml")
    assert loc["region"]["startLine"] == 1


def test_no_change_exits_0() -> None:
    r = run("diff", str(DATA / "before"), str(DATA / "before"))
    assert r.returncode == 0, r.stderr
    assert "0 lost, 0 gained, 0 changed" in r.stdout


def test_exposure_and_connectivity_on_after() -> None:
    r = run("exposure", "-f", str(DATA / "after"), "-o", "json")
    assert r.returncode == 0, r.stderr
    rows = {w["workload"]["name"]: w for w in json.loads(r.stdout)["workloads"]}
    # db: only web (same namespace) may reach it; nothing from outside the cluster.
    assert rows["db"]["ingress_protected"] is True
    assert rows["db"]["from_outside_cluster"]["conn"] == {}
    assert rows["web"]["ingress_protected"] is False
    assert rows["web"]["from_outside_cluster"]["conn"] == {"all": True}
    r = run("connectivity", "-f", str(DATA / "after"), "--port", "tcp/5432", "-o", "csv")
    assert r.returncode == 0, r.stderr
    # Every connection allowing TCP 5432; egress is unrestricted everywhere, so outside
    # addresses are reachable, and only web (ingress not isolated) accepts them.
    assert r.stdout.splitlines() == [
        "src,dst,conn",
        "a/db[Pod],a/web[Pod],All Connections",
        "a/db[Pod],0.0.0.0-255.255.255.255[External],All Connections",
        "a/web[Pod],a/db[Pod],TCP 5432",
        "a/web[Pod],0.0.0.0-255.255.255.255[External],All Connections",
        "0.0.0.0-255.255.255.255[External],a/web[Pod],All Connections",
    ]

"""CNI, MTU, kube-proxy, conntrack, Ingress/Gateway and mesh checks: each bad
fixture fires exactly its check (with message, evidence, confirm and fix), each
good fixture is silent. Fixtures may carry node files (``nodes/<node>/``) and a
``scan-config.json`` for checks that take user input."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from observed import with_observed

from netsleuth.checks.base import ScanConfig, load_all, skip_reason
from netsleuth.model.cluster import SourceInfo, SourceKind
from netsleuth.model.findings import Confidence, Finding
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"
IDS = sorted(
    d.name
    for d in FIXTURES.iterdir()
    if d.is_dir() and d.name.startswith(("CNI", "MTU", "KPX", "CT", "ING", "MESH"))
)


def run_fixture(rule_id: str, which: str) -> list[Finding]:
    path = FIXTURES / rule_id / which
    model = load_offline([str(path)])
    check = load_all()[rule_id]
    cfg_file = path / "scan-config.json"
    config = None
    if cfg_file.exists():
        raw = json.loads(cfg_file.read_text())
        config = ScanConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
    config = with_observed(path, model, config)
    reason = skip_reason(check, model, config)
    assert reason is None, f"{rule_id} {which} fixture does not exercise the check: {reason}"
    return list(check.execute(model, config))


@pytest.mark.parametrize("rule_id", IDS)
def test_bad_fixture_fires(rule_id: str) -> None:
    found = run_fixture(rule_id, "bad")
    assert found, f"{rule_id} did not fire on its bad fixture"
    assert {f.rule_id for f in found} == {rule_id}
    for f in found:
        assert f.message and f.evidence and f.confirm and f.fix is not None


@pytest.mark.parametrize("rule_id", IDS)
def test_good_fixture_is_silent(rule_id: str) -> None:
    assert run_fixture(rule_id, "good") == []


def test_live_source_findings_are_observed() -> None:
    model = load_offline([str(FIXTURES / "CNI401" / "bad")])
    live = replace(model, source=SourceInfo(kind=SourceKind.LIVE, context="prod"))
    (f,) = load_all()["CNI401"].execute(live)
    assert f.confidence == Confidence.OBSERVED

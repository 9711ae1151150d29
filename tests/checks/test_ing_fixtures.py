"""ING801-ING811 (ingress, load balancer, Gateway API): each bad fixture fires its check, each good fixture does not."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from netsleuth.checks.base import ScanConfig, load_all, skip_reason
from netsleuth.model.findings import Finding
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"
IDS = [
    "ING801",
    "ING802",
    "ING803",
    "ING804",
    "ING805",
    "ING806",
    "ING807",
    "ING808",
    "ING809",
    "ING810",
    "ING811",
]


def run_fixture(rule_id: str, which: str) -> list[Finding]:
    path = FIXTURES / rule_id / which
    if (path / "nodes").is_dir() and importlib.util.find_spec(
        "netsleuth.sources.node_artifacts"
    ) is None:
        pytest.skip("netsleuth.sources.node_artifacts (node file parsers) is not in this tree")
    model = load_offline([str(path)])
    check = load_all()[rule_id]
    reason = skip_reason(check, model)
    assert reason is None, f"{rule_id} {which} fixture does not exercise the check: {reason}"
    cfg = path / "scan-config.json"
    config = ScanConfig(**json.loads(cfg.read_text())) if cfg.exists() else None
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

"""Golden scan outputs for the scenario clusters in tests/scenarios/.

Each scenario folder (with ``scenario.yaml``) is scanned with every
registered check; the table and the JSON are compared to
``tests/golden/scan/<scenario>.txt`` and ``.json`` (``pytest
--update-goldens`` rewrites them, to be reviewed like any diff). Healthy
controls (``healthy-*``) must produce no error-level finding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netsleuth.checks.base import load_all, run_checks
from netsleuth.cli.common import problems_json
from netsleuth.model.findings import Severity
from netsleuth.render.console import capture_console
from netsleuth.render.findings_json import findings_document
from netsleuth.render.findings_table import render_findings
from netsleuth.render.jsonout import dumps_json
from netsleuth.sources.load import load_offline

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
NAMES = (
    sorted(p.name for p in SCENARIOS.glob("*") if (p / "scenario.yaml").is_file())
    if SCENARIOS.is_dir()
    else []
)


def _scan(name: str) -> tuple[str, str, list[str]]:
    folder = SCENARIOS / name
    if (folder / "nodes").is_dir():
        pytest.importorskip(
            "netsleuth.sources.node_artifacts", reason="node artifact loader not available yet"
        )
    model = load_offline([str(folder)])
    result = run_checks(model, load_all().values())
    console, buf = capture_console(120)
    render_findings(result, result.findings, console)
    root = str(ROOT) + "/"
    table = buf.getvalue().replace(root, "")
    doc = findings_document(result, result.findings, problems_json(model.problems))
    text = dumps_json(doc).replace(root, "")
    errors = [
        f"{f.rule_id} {f.subject.ref()}: {f.message}"
        for f in result.findings
        if f.severity is Severity.ERROR
    ]
    return table, text, errors


@pytest.mark.skipif(not NAMES, reason="no scenarios in tests/scenarios yet")
@pytest.mark.parametrize("name", NAMES or ["-"])
def test_scan_golden(name: str, golden) -> None:  # type: ignore[no-untyped-def]
    table, text, errors = _scan(name)
    json.loads(text)
    golden(f"scan/{name}.txt", table)
    golden(f"scan/{name}.json", text)
    if name.startswith("healthy-"):
        assert not errors, f"healthy control {name} has error findings: {errors}"


def _expected_rules(name: str) -> set[str]:
    import yaml

    spec = yaml.safe_load((SCENARIOS / name / "scenario.yaml").read_text()) or {}
    return set((spec.get("scan") or {}).get("expect_rules") or ())


@pytest.mark.skipif(not NAMES, reason="no scenarios in tests/scenarios yet")
@pytest.mark.parametrize("name", NAMES or ["-"])
def test_scan_reports_the_scenario_rules(name: str) -> None:
    """Independent of the goldens (which the tool writes): every rule a scenario's
    ``scan.expect_rules`` names is reported (no test read them: DNS113 did not fire on
    its own scenario), and every error-level finding is a declared rule: a new error on
    a scenario fails here until it is judged (a true consequence of the fault goes into
    ``expect_rules`` with a line in the scenario's README saying why; a false alarm is
    fixed in its check)."""
    model = load_offline([str(SCENARIOS / name)])
    result = run_checks(model, load_all().values())
    got = {f.rule_id for f in result.findings}
    expected = _expected_rules(name)
    assert expected <= got, f"{name}: {sorted(expected - got)} not reported"
    errors = {f.rule_id for f in result.findings if f.severity is Severity.ERROR}
    assert errors <= expected, (
        f"{name}: error findings not in expect_rules: {sorted(errors - expected)}"
    )

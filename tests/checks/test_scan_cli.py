"""`netsleuth scan` and `netsleuth checks` end to end: options, exit codes, JSON, SARIF, table."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netsleuth.checks.base import load_all, run_checks
from netsleuth.cli import app
from netsleuth.cli.errors import EXIT_FINDINGS, EXIT_USAGE, run_app
from netsleuth.model.findings import Finding
from netsleuth.render.console import capture_console
from netsleuth.render.findings_table import render_findings
from netsleuth.render.sarif import sarif_document
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def scan(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["scan", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def scan_json(*args: str) -> dict[str, object]:
    code, out = scan(*args, "-o", "json")
    assert code == 0, out
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


def test_json_shape() -> None:
    doc = scan_json("-f", str(FIXTURES / "SVC201" / "bad"))
    assert set(doc) == {"findings", "inconclusive", "skipped", "problems"}
    [f] = doc["findings"]  # type: ignore[misc]
    assert set(f) >= {
        "rule_id",
        "layer",
        "severity",
        "confidence",
        "subject",
        "message",
        "evidence",
        "confirm",
        "fix",
    }
    assert f["rule_id"] == "SVC201" and f["severity"] == "error" and f["confidence"] == "inferred"
    assert f["subject"] == {"kind": "Service", "namespace": "shop", "name": "cart"}
    assert {"object": "Service/shop/cart", "field": "spec.selector", "value": "app=cart-api"} in f[
        "evidence"
    ]
    assert f["fix"]["text"] and f["confirm"]
    assert f["file"].endswith("cluster.yaml") and isinstance(f["line"], int)
    # SVC206 needs EndpointSlices present... they are, so it ran; checks needing node files are skipped
    assert all(set(s) == {"check_id", "reason"} for s in doc["skipped"])  # type: ignore[union-attr]


def test_fail_on_sets_exit_code() -> None:
    bad = str(FIXTURES / "SVC201" / "bad")
    assert scan("-f", bad, "--fail-on", "error")[0] == EXIT_FINDINGS
    assert scan("-f", bad, "--fail-on", "warning")[0] == EXIT_FINDINGS
    assert scan("-f", bad)[0] == 0
    # SVC209 fires a warning only: error threshold not reached
    churn = str(FIXTURES / "SVC209" / "bad")
    assert scan("-f", churn, "--fail-on", "error")[0] == 0
    assert scan("-f", churn, "--fail-on", "warning")[0] == EXIT_FINDINGS
    # ignoring the check removes the finding and the failure
    assert scan("-f", bad, "--fail-on", "error", "--ignore", "SVC2")[0] == 0


def test_select_min_severity_and_namespace() -> None:
    path = str(FIXTURES / "DNS114" / "bad")  # DNS114 warning + DNS111 info
    ids = {f["rule_id"] for f in scan_json("-f", path)["findings"]}  # type: ignore[union-attr, index]
    assert ids == {"DNS114", "DNS111"}
    ids = {f["rule_id"] for f in scan_json("-f", path, "--min-severity", "warning")["findings"]}  # type: ignore[union-attr, index]
    assert ids == {"DNS114"}
    ids = {f["rule_id"] for f in scan_json("-f", path, "--select", "DNS111")["findings"]}  # type: ignore[union-attr, index]
    assert ids == {"DNS111"}
    # -n shop keeps the shop workload's finding, drops kube-system's
    ids = {f["rule_id"] for f in scan_json("-f", path, "-n", "shop")["findings"]}  # type: ignore[union-attr, index]
    assert ids == {"DNS114"}


def test_bad_extra_cidrs_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "netsleuth",
            "scan",
            "-f",
            str(FIXTURES / "SVC201" / "good"),
            "--extra-cidrs",
            "10.8.0.0/16,not-a-cidr",
        ],
    )
    assert run_app(app) == EXIT_USAGE
    assert "not-a-cidr" in capsys.readouterr().err


def test_sarif_validates_and_points_at_the_manifest(sarif_validator) -> None:  # type: ignore[no-untyped-def]
    code, out = scan(
        "-f",
        str(FIXTURES / "SVC203" / "bad"),
        "-o",
        "sarif",
        "--docs-url",
        "https://example.org/checks/",
    )
    assert code == 0
    doc = json.loads(out)
    sarif_validator.validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    # rules come from the registry, not from the results
    assert [r["id"] for r in rules] == sorted(load_all())
    rule = next(r for r in rules if r["id"] == "SVC203")
    assert rule["helpUri"] == "https://example.org/checks/SVC203.md"
    assert "## Why it breaks traffic" in rule["help"]["markdown"]
    assert rule["defaultConfiguration"]["level"] == "error"
    [res] = run["results"]
    assert res["ruleId"] == "SVC203" and rules[res["ruleIndex"]]["id"] == "SVC203"
    loc = res["locations"][0]["physicalLocation"]
    path = Path(loc["artifactLocation"]["uri"])
    assert path.name == "cluster.yaml"
    # the line points at the Service document's first line
    lines = path.read_text().splitlines()
    start = loc["region"]["startLine"]
    doc_text = "\n".join(lines[start - 1 : start + 3])
    assert "kind: Service" in doc_text or "apiVersion: v1" in doc_text
    assert any("name: cart" in ln for ln in lines[start - 1 : start + 6])


def test_sarif_of_every_fixture_validates(sarif_validator) -> None:  # type: ignore[no-untyped-def]
    checks = list(load_all().values())
    rules: object = None
    for folder in sorted(FIXTURES.glob("*/bad")):
        if (folder / "nodes").is_dir():
            continue
        model = load_offline([str(folder)])
        result = run_checks(model, checks)
        doc = sarif_document(result, result.findings, checks)
        # The rule descriptors (every check) are the same in every document: validated in
        # full once, then only compared (schema-validating ~200 descriptors 87 times was
        # most of this test's time).
        driver = doc["runs"][0]["tool"]["driver"]
        if rules is None:
            rules = driver["rules"]
        else:
            assert driver["rules"] == rules, folder
            driver["rules"] = driver["rules"][:1]
        sarif_validator.validate(doc)


def test_table_golden(golden, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    checks = list(load_all().values())
    # Relative paths: the rendered text (and its wrapping) must not depend on the checkout path.
    monkeypatch.chdir(FIXTURES)
    for name in ("DNS114", "SVC203", "SVC207"):
        model = load_offline([f"{name}/bad"])
        # only this engineer's checks, so other checks' additions do not churn these goldens
        result = run_checks(model, [c for c in checks if c.id.startswith(("DNS", "SVC", "POL"))])
        console, buf = capture_console(120)
        render_findings(result, result.findings, console)
        golden(f"scan/fixture-{name}.txt", buf.getvalue())


def test_no_findings_table() -> None:
    model = load_offline([str(FIXTURES / "SVC201" / "good")])
    result = run_checks(model, [load_all()["SVC201"]])
    console, buf = capture_console(100)
    render_findings(result, result.findings, console)
    assert buf.getvalue() == "No findings.\n0 findings: 0 error, 0 warning, 0 info\n"


def test_checks_list_and_page() -> None:
    result = runner.invoke(app, ["checks"])
    assert result.exit_code == 0
    assert (
        "DNS101" in result.stdout and "SVC203" in result.stdout and "target-port" in result.stdout
    )
    page = runner.invoke(app, ["checks", "svc203"])
    assert page.exit_code == 0
    assert page.stdout.startswith("# SVC203: ")
    for section in (
        "## What it checks",
        "## Why it breaks traffic",
        "## Confirm live",
        "## References",
    ):
        assert section in page.stdout


def test_checks_unknown_id(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["netsleuth", "checks", "NOPE999"])
    assert run_app(app) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "NOPE999" in err and "Tip:" in err


def test_write_docs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["checks", "--write-docs", str(tmp_path)])
    assert result.exit_code == 0
    assert (tmp_path / "README.md").exists() and (tmp_path / "DNS101.md").exists()
    assert len(list(tmp_path.glob("*.md"))) == len(load_all()) + 1


def test_progress_bar_runs_the_same_checks() -> None:
    from netsleuth.checks.base import ScanConfig
    from netsleuth.cli.commands.scan import scan_with_progress
    from netsleuth.model.findings import Severity

    model = load_offline([str(FIXTURES / "SVC203" / "bad")])
    kw = dict(
        select=("SVC",),
        ignore=(),
        config=ScanConfig(),
        namespace=None,
        min_severity=Severity.INFO,
        docs_base_uri=None,
    )
    quiet = scan_with_progress(model, progress=False, **kw)  # type: ignore[arg-type]
    drawn = scan_with_progress(model, progress=True, **kw)  # type: ignore[arg-type]
    assert quiet == drawn


@pytest.mark.parametrize("rule_id", ["DNS103", "SVC201", "POL302"])
def test_live_input_is_observed(rule_id: str) -> None:
    import dataclasses

    from netsleuth.model.cluster import SourceInfo, SourceKind
    from netsleuth.model.findings import Confidence

    offline = load_offline([str(FIXTURES / rule_id / "bad")])
    live = dataclasses.replace(offline, source=SourceInfo(kind=SourceKind.LIVE))
    [f] = [f for f in run_checks(live, [load_all()[rule_id]]).findings]
    assert f.confidence is Confidence.OBSERVED


def test_adding_a_check_elsewhere_leaves_the_scan_table_unchanged() -> None:
    """A scan golden must not change when a check is added that finds nothing here, or that
    is skipped for data this input already lacks: the table counts no checks and lists
    missing data once, not per check."""
    from netsleuth.checks.base import Check, Needs
    from netsleuth.model.findings import Layer, Severity

    model = load_offline([str(ROOT / "tests" / "scenarios" / "conntrack-full")])
    checks = list(load_all().values())

    def nothing(_model: object) -> Iterator[Finding]:
        return iter(())

    def check(rule_id: str, layer: Layer, needs: Needs) -> Check:
        return Check(
            id=rule_id,
            name=rule_id.lower(),
            layer=layer,
            severity=Severity.WARNING,
            needs=needs,
            run=nothing,
            doc="A check added elsewhere.",
            module="tests",
        )

    extra = [
        check("ZZZ901", Layer.DNS, Needs()),
        check(
            "ZZZ902", Layer.POLICY_INGRESS, Needs(kinds=("NetworkPolicy",), require_present=True)
        ),
    ]
    outputs = []
    for selected in (checks, checks + extra):
        console, buf = capture_console(120)
        result = run_checks(model, selected)
        render_findings(result, result.findings, console)
        outputs.append(buf.getvalue())
    assert "no NetworkPolicy objects in the input" in outputs[0]  # already missing here
    assert outputs[0] == outputs[1]


def test_write_docs_refuses_a_foreign_folder_and_touches_only_its_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """It deleted every other *.md in the folder and overwrote README.md."""
    (tmp_path / "README.md").write_text("# my project\n")
    (tmp_path / "notes.md").write_text("mine\n")
    (tmp_path / "XYZ999.md").write_text("my page that looks like a check ID\n")
    monkeypatch.setattr(sys, "argv", ["netsleuth", "checks", "--write-docs", str(tmp_path)])
    assert run_app(app) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "not a folder of check pages" in err and "--force" in err
    assert (tmp_path / "README.md").read_text() == "# my project\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "XYZ999.md", "notes.md"]

    result = runner.invoke(app, ["checks", "--write-docs", str(tmp_path), "--force"])
    assert result.exit_code == 0
    assert (tmp_path / "notes.md").read_text() == "mine\n"
    assert (tmp_path / "XYZ999.md").read_text() == "my page that looks like a check ID\n"
    assert (tmp_path / "DNS101.md").read_text().startswith("# DNS101: ")


def test_write_docs_rerun_removes_only_stale_generated_pages(tmp_path: Path) -> None:
    assert runner.invoke(app, ["checks", "--write-docs", str(tmp_path)]).exit_code == 0
    stale = tmp_path / "DNS999.md"
    stale.write_text("# DNS999: a check that no longer exists\n")
    (tmp_path / "extra.md").write_text("kept\n")
    assert runner.invoke(app, ["checks", "--write-docs", str(tmp_path)]).exit_code == 0
    assert not stale.exists() and (tmp_path / "extra.md").read_text() == "kept\n"


def test_write_docs_never_writes_through_a_symlink(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    assert runner.invoke(app, ["checks", "--write-docs", str(docs)]).exit_code == 0
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (docs / "DNS101.md").unlink()
    (docs / "DNS101.md").symlink_to(outside)
    (docs / "README.md").unlink()
    (docs / "README.md").symlink_to(outside)
    result = runner.invoke(app, ["checks", "--write-docs", str(docs), "--force"])
    assert result.exit_code == 0
    assert outside.read_text() == "precious\n"
    assert not (docs / "DNS101.md").is_symlink()
    assert (docs / "DNS101.md").read_text().startswith("# DNS101: ")

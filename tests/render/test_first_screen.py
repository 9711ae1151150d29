"""The first screen of ``scan`` and ``demo`` (table only): faults by layer, the worst first;
skipped checks in one line unless ``-v``; what to run next at the end."""

from __future__ import annotations

import shlex
from pathlib import Path

import orjson

from netsleuth.checks.scan import scan
from netsleuth.render.findings_json import scan_json
from netsleuth.render.findings_table import scan_table
from netsleuth.render.output import Output, RenderContext
from netsleuth.sources.load import load_offline

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
COMMAND = shlex.join(["netsleuth", "scan", "-f", str(DEMO)])


def _scan_text(verbose: bool = False) -> list[str]:
    report = scan(load_offline([str(DEMO)]))
    out, buf = Output.buffer(width=100, verbose=verbose, context=RenderContext(command=COMMAND))
    scan_table(report, out)
    return buf.getvalue().split("\n")


def test_scan_opens_with_faults_by_layer_worst_first() -> None:
    lines = _scan_text()
    assert lines[0].startswith("13 findings: 8 errors, 4 warnings, 1 info. By layer")
    overview = lines[1 : lines.index("")]
    layers = [ln.split()[0] for ln in overview]
    assert layers[-1] == "dns"  # warnings and info only: after every layer with an error
    assert all("error" in ln for ln in overview[:-1])
    assert overview[0].split()[0] in ("conntrack", "mtu")  # an error and a warning each
    # the details follow, the most severe first
    assert lines[len(overview) + 2].startswith("ERRORS (8)")


def test_skipped_checks_are_one_line_unless_verbose() -> None:
    lines = _scan_text()
    not_checked = [ln for ln in lines if ln.startswith("Not checked")]
    assert not_checked == ["Not checked: 4 kinds of data absent from the input (-v lists them)"]
    verbose = _scan_text(verbose=True)
    at = verbose.index("Not checked (data absent from the input):")
    assert verbose[at + 1].startswith("  no Event objects")
    assert f"    $ {COMMAND} -v" in lines
    assert f"    $ {COMMAND} -v" not in verbose  # already verbose: nothing to suggest


def test_scan_ends_with_what_to_run_next() -> None:
    lines = _scan_text()
    at = lines.index("What to run next:")
    nxt = [ln.strip() for ln in lines[at:] if ln.strip().startswith("$ ")]
    assert nxt[0] == "$ netsleuth checks CT701"  # the worst finding's check
    assert nxt[1].startswith("$ netsleuth trace ")
    assert all(shlex.split(c[2:])[0] == "netsleuth" for c in nxt)


def test_json_has_no_first_screen() -> None:
    report = scan(load_offline([str(DEMO)]))
    out, buf = Output.buffer(width=100)
    scan_json(report, out)
    doc = orjson.loads(buf.getvalue())
    assert "What to run next" not in buf.getvalue()
    assert len(doc["skipped"]) > 4  # every skipped check, not the one-line summary


def test_no_findings_says_so_first() -> None:
    model = load_offline([str(ROOT / "tests" / "scenarios" / "healthy-same-node")])
    report = scan(model)
    out, buf = Output.buffer(width=100, context=RenderContext(command="netsleuth scan -f x"))
    scan_table(report, out)
    if not report.findings:
        assert buf.getvalue().startswith("No faults found.\n")
    else:
        assert "By layer, the worst first:" in buf.getvalue().split("\n")[0]


def test_demo_opens_with_the_overview_and_ends_with_next() -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "netsleuth", "demo"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    assert "faults netsleuth finds" in lines[0]
    assert lines[1].startswith("13 findings: 8 errors")
    tail = lines[lines.index("What to run next:") :]
    assert "    $ netsleuth checks CT701" in tail
    assert "    $ netsleuth trace payments/payments-api payments/fraud-check --port 8080" in tail
    assert "    $ netsleuth demo -v" in tail
    assert "Not checked: 4 kinds of data absent from the input (-v lists them)" in lines

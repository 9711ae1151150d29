"""``netsleuth report`` takes the options that change what ``scan`` finds and what
``connectivity`` allows, defined once (:mod:`netsleuth.cli.scan_options`,
:mod:`netsleuth.cli.common`, :mod:`netsleuth.cli.observed`), and its page shows
what those commands show with the same options.

Expected findings, checked by hand on the demo (``src/netsleuth/data/demo``):
its nodes' podCIDRs are 10.244.{0,1,2}.0/24 inside the kubeadm pod CIDR
10.244.0.0/16, so ``--extra-cidrs 10.244.0.0/16`` (a VPN on the pod range)
is one CNI404 finding, and ``--service-cidr 10.244.0.0/16`` (a Service range
on top of the pods) adds CNI404 for the cluster and each node plus CNI413 for
the pods addressed inside it; neither fires without the option.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from netsleuth.cli import app
from netsleuth.cli.errors import run_app

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"

# What the report does not take, and why: these shape one command's output, not the analysis.
NOT_ON_REPORT = {
    "scan": {
        "output": "the report's -o is the file it writes",
        "fail_on": "an exit-code gate for CI (scan's job)",
        "docs_url": "SARIF helpUri only",
        "verbose": "the page always lists every skipped check",
    },
    "connectivity": {
        "output": "the report's -o is the file it writes",
        "focus": "filters the listed connections (connectivity -o html --focus draws that map)",
        "port": "filters the listed connections; the map shows every allowed port",
    },
}


def _params(name: str) -> dict[str, Any]:
    from typer.main import get_command

    cmd = get_command(app).commands[name]  # type: ignore[attr-defined]
    return {p.name: p for p in cmd.params if p.name}


def _definition(p: Any) -> dict[str, Any]:
    return {
        "decls": sorted(p.opts),
        "help": getattr(p, "help", None),
        "default": p.default,
        "type": repr(p.type),
        "multiple": p.multiple,
    }


@pytest.mark.parametrize("command", ["scan", "connectivity"])
def test_report_takes_every_analysis_option_of(command: str) -> None:
    """Every option of scan/connectivity that changes the analysis is on report, defined alike."""
    theirs, ours = _params(command), _params("report")
    skipped = NOT_ON_REPORT[command]
    assert set(skipped) <= set(theirs), "a listed exception no longer exists: update the list"
    for name, p in theirs.items():
        if name in skipped or p.param_type_name != "option":
            continue
        assert name in ours, f"report lacks {command}'s {'/'.join(p.opts)}"
        assert _definition(ours[name]) == _definition(p), name


def cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["netsleuth", *args])
    code = run_app(app)
    out = capsys.readouterr()
    return code, out.out, out.err


def _scan_ids(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], options: list[str]
) -> list[str]:
    code, doc, err = cli(monkeypatch, capsys, "scan", "-f", str(DEMO), *options, "-o", "json")
    assert code == 0, err
    return sorted(f["rule_id"] for f in json.loads(doc)["findings"])


def _report_ids(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    out: Path,
) -> list[str]:
    code, _, err = cli(monkeypatch, capsys, "report", "-f", str(DEMO), *options, "-o", str(out))
    assert code == 0, err
    return sorted(re.findall(r'<code class="rule">(\w+)</code>', out.read_text()))


@pytest.mark.parametrize(
    ("options", "added"),
    [
        (["--extra-cidrs", "10.244.0.0/16"], ["CNI404"]),
        (["--service-cidr", "10.244.0.0/16"], ["CNI404"] * 4 + ["CNI413"]),
    ],
    ids=["extra-cidrs", "service-cidr"],
)
def test_report_shows_what_scan_shows_with_the_cidr_options(
    options: list[str],
    added: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    narrow = ["--select", "CNI4"]
    without = _scan_ids(monkeypatch, capsys, narrow)
    assert without == []  # the demo has no CNI40x/41x finding of its own
    want = _scan_ids(monkeypatch, capsys, [*narrow, *options])
    assert want == sorted(added)
    assert _report_ids(monkeypatch, capsys, [*narrow, *options], tmp_path / "r.html") == want


@pytest.mark.parametrize(
    "options",
    [["--extra-cidrs", "10.8.0.0/16,not-a-cidr"], ["--service-cidr", "10.96.0.0/33"]],
    ids=["extra-cidrs", "service-cidr"],
)
def test_report_refuses_a_bad_cidr_before_loading(
    options: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "r.html"
    code, _, err = cli(
        monkeypatch, capsys, "report", "-f", str(tmp_path / "missing"), *options, "-o", str(out)
    )
    assert code == 2
    assert "not a CIDR" in err and "missing" not in err  # the options fail first
    assert not out.exists()


def test_report_asks_prometheus_as_scan_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--prometheus reaches the scan the page shows: a server that does not answer is a
    problem on the page naming it, its checks are listed as skipped, the report is written."""
    from prometheus.promlab import free_port

    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there (loopback only)
    out = tmp_path / "r.html"
    code, _, err = cli(
        monkeypatch, capsys, "report", "-f", str(DEMO), "--prometheus", url, "-o", str(out)
    )
    assert code == 0, err
    assert f"Prometheus at {url}: cannot connect" in err
    page = out.read_text()
    problems = page.split('<section id="problems">', 1)[1]
    assert f"Prometheus at {url}" in problems and "cannot connect" in problems
    assert "<code>CT731</code>" in problems  # a metric check, skipped with the reason

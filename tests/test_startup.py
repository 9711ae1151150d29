"""Start-up stays cheap: ``--version`` and every ``--help`` load no model, engine or client.

Every run of netsleuth pays its imports first (issue 9: 0.45 s before this
was enforced). Command modules import typer and :mod:`netsleuth.cli.common`
at the top and the library inside the command function. This test runs the
CLI with ``-X importtime`` and fails naming the module that came in, so a
new command cannot quietly bring the model back to start-up. Timings are
measured by ``bench/bench_startup.py``, not asserted here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from netsleuth.cli import command_modules

# Never at start-up: the heavy third-party packages, and the library below the CLI.
HEAVY = re.compile(
    r"^(numpy|kubernetes|yaml|jinja2|pydantic|rich|urllib3|markdown_it"
    r"|netsleuth\.(model\.(cluster|objects|selectors|intervals)|policy\.(reference|matrix|anp)"
    r"|checks|facts|sources|trace|inventory|lab|probe|flows|alerts)"
    r"|netsleuth\.render\.(?!formats$|output$|jsonout$))"
)


def _imported(*args: str) -> list[str]:
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "netsleuth", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "100"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return [
        m.group(1)
        for m in re.finditer(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", r.stderr, re.M)
    ]


@pytest.mark.parametrize(
    "args",
    [["--version"], ["--help"], *([name, "--help"] for name in command_modules())],
    ids=lambda a: " ".join(a),
)
def test_startup_imports_nothing_heavy(args: list[str]) -> None:
    heavy = sorted({m for m in _imported(*args) if HEAVY.match(m)})
    assert not heavy, (
        f"`netsleuth {' '.join(args)}` imports {heavy} at start-up: import them inside the "
        "command function (or under TYPE_CHECKING for annotations)"
    )


def test_version_does_not_even_import_typer() -> None:
    assert "typer" not in _imported("--version")


def test_min_severity_choices_are_the_severities() -> None:
    from netsleuth.cli.common import SeverityChoice
    from netsleuth.model.findings import Severity

    assert [s.value for s in SeverityChoice] == [
        s.value for s in sorted(Severity, key=lambda s: s.rank)
    ]


@pytest.mark.parametrize("fmt", ["json", "csv", "md", "dot"])
def test_connectivity_machine_formats_import_no_rich_and_no_exposure(fmt: str) -> None:
    """A machine format of ``connectivity`` draws nothing: rich (and the exposure engine,
    which only ``exposure`` uses) stay out of the process; so do the node-capture
    sniffers when the input is one manifest file."""
    demo = Path(__file__).resolve().parents[1] / "src" / "netsleuth" / "data" / "demo"
    mods = set(_imported("connectivity", "-f", str(demo / "cluster.yaml"), "-o", fmt))
    assert "netsleuth.policy.connlist" in mods  # the command ran
    assert not {m for m in mods if m == "rich" or m.startswith("rich.")}
    assert "netsleuth.policy.exposure" not in mods
    assert "netsleuth.sources.node_bundle" not in mods


def test_the_cli_runs_openblas_on_one_thread_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """numpy's OpenBLAS thread pool costs CPU at start and netsleuth never calls BLAS."""
    import os

    from netsleuth.cli import main

    monkeypatch.setattr(sys, "argv", ["netsleuth", "--version"])
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    main()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    main()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"
    assert capsys.readouterr().out.startswith("netsleuth ")

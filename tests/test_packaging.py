"""The package as a user gets it: a wheel installed into a fresh venv, without extras.

This catches what an editable dev install hides: an imported distribution that
``pyproject.toml`` does not declare (a dev tool pulling it in), data files left
out of the wheel, an entry point that does not start.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO_FAULTS = yaml.safe_load(
    (ROOT / "src" / "netsleuth" / "data" / "demo" / "faults.yaml").read_text()
)

# One worker builds the wheel and venv once (tests/conftest.py ONE_WORKER_MODULES).
pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["COLUMNS"] = "200"
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _ok(r: subprocess.CompletedProcess[str], what: str) -> str:
    assert r.returncode == 0, (
        f"{what} exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    )
    return r.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel and its declared dependencies; returns its bin/."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src-copy"
    # Build from a copy: pip writes build/ and *.egg-info beside the sources, and
    # the suite runs in parallel with the editable install of this tree.
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    dist = tmp / "dist"
    _ok(
        _run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                "-w",
                str(dist),
                str(src),
            ],
            tmp,
        ),
        "pip wheel",
    )
    wheels = list(dist.glob("netsleuth-*.whl"))
    assert len(wheels) == 1, wheels
    venv = tmp / "venv"
    # No pip (nor setuptools) inside the venv: the dev venv's pip installs into it
    # (`pip --python`). That spares ensurepip and the resolver of an old bundled pip
    # (together about a minute of the suite), and the venv holds nothing but the wheel
    # and its declared dependencies. --no-compile: byte-compiling the kubernetes client's
    # thousands of modules is not what this test is about.
    _ok(_run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp), "python -m venv")
    bin_ = venv / "bin"
    _ok(_pip(bin_, "install", "--quiet", "--no-compile", str(wheels[0])), "pip install")
    return bin_


def _pip(bin_: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the dev venv's pip against the fresh venv's interpreter."""
    return _run([sys.executable, "-m", "pip", "--python", str(bin_ / "python"), *args], bin_.parent)


def test_dependencies_are_consistent_and_dev_tools_absent(installed: Path, tmp_path: Path) -> None:
    _ok(_pip(installed, "check"), "pip check")
    where = _ok(
        _run(
            [
                str(installed / "python"),
                "-c",
                "import importlib.util as u, netsleuth; print(netsleuth.__file__);"
                "print(u.find_spec('pytest') is None, u.find_spec('hypothesis') is None)",
            ],
            tmp_path,
        ),
        "import netsleuth",
    ).split()
    assert where[0].startswith(str(installed.parent)), f"imported from {where[0]}, not the venv"
    assert where[1:] == ["True", "True"], "dev tools leaked into the runtime install"


def test_version(installed: Path, tmp_path: Path) -> None:
    out = _ok(_run([str(installed / "netsleuth"), "--version"], tmp_path), "netsleuth --version")
    assert out.strip() == "netsleuth 0.1.0"


def test_demo_runs_and_traces_every_planted_fault(installed: Path, tmp_path: Path) -> None:
    out = _ok(_run([str(installed / "netsleuth"), "demo"], tmp_path), "netsleuth demo")
    for fault in DEMO_FAULTS:
        t = fault.get("trace")
        if t:
            assert f"netsleuth trace {t['src']} {t['dst']}" in out, fault["id"]
    assert "Verdict: broken" in out


def test_scan_of_the_installed_demo_names_every_planted_rule(
    installed: Path, tmp_path: Path
) -> None:
    demo = _ok(
        _run(
            [
                str(installed / "python"),
                "-c",
                "from importlib.resources import files; print(files('netsleuth') / 'data' / 'demo')",
            ],
            tmp_path,
        ),
        "locate demo data",
    ).strip()
    assert demo.startswith(str(installed.parent)), "the demo data is not inside the wheel"
    r = _run([str(installed / "netsleuth"), "scan", "-f", demo, "-o", "json"], tmp_path)
    _ok(r, "netsleuth scan")
    import json

    found = {f["rule_id"] for f in json.loads(r.stdout)["findings"]}
    planted = {rule for fault in DEMO_FAULTS for rule in fault.get("rules", ())}
    assert planted <= found, f"planted rules not found: {sorted(planted - found)}"

"""The CLI's one error funnel: messages, tips and documented exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SMOKE = """\
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: x, labels: {app: a}}
spec: {nodeName: n1, containers: [{name: c, image: busybox}]}
status: {phase: Running, podIP: 10.1.0.2}
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netsleuth.cli.__main__", *args], capture_output=True, text=True
    )


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(SMOKE)
    r = run("inventory", "--bogus")
    assert r.returncode == 2 and "No such option" in r.stderr
    r = run("inventory", "-f", str(tmp_path), "-o", "csv")
    assert r.returncode == 2 and "'csv' is not one of 'table', 'json', 'yaml'" in r.stderr


def test_query_error_exit_2_with_tip(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(SMOKE)
    r = run("trace", "x/aa", "x/b", "-f", str(tmp_path))
    assert r.returncode == 2
    assert "Error: no pod, workload or service named x/aa" in r.stderr
    assert "Tip: Did you mean: x/a?" in r.stderr


def test_missing_file_is_a_source_error_exit_6(tmp_path: Path) -> None:
    r = run("inventory", "-f", str(tmp_path / "absent.yaml"))
    assert r.returncode == 6 and "no such file or directory" in r.stderr and "Tip:" in r.stderr


def test_version() -> None:
    r = run("--version")
    assert r.returncode == 0 and r.stdout.startswith("netsleuth ")

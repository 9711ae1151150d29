"""The bundled demo: every planted fault is diagnosed at its layer, and `netsleuth demo` runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.checks.base import load_all, run_checks
from netsleuth.model.findings import Verdict
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace

DEMO = Path(__file__).resolve().parents[1] / "src" / "netsleuth" / "data" / "demo"
FAULTS = yaml.safe_load((DEMO / "faults.yaml").read_text())


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_offline([str(DEMO)])


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.get("trace")], ids=lambda f: f["id"])
def test_fault_trace_breaks_at_its_layer(model: Any, fault: dict[str, Any]) -> None:
    t = fault["trace"]
    res = trace(model, str(t["src"]), str(t["dst"]), port=t.get("port"))
    assert res.verdict is Verdict.BROKEN
    assert fault["expected_broken_layer"] in {
        str(h.layer) for h in res.hops if h.status is Verdict.BROKEN
    }


def test_every_fault_culprit_is_named_by_the_scan(model: Any) -> None:
    """Each planted fault's culprit is the subject of a finding (named first, not buried in the
    evidence), filed under the fault's layer."""
    result = run_checks(model, load_all().values())
    named = {(f.subject.ref(), str(f.layer)) for f in result.findings}
    for fault in FAULTS:
        assert (fault["culprit"], fault["layer"]) in named, (fault["id"], sorted(named))


def test_demo_command_runs() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "netsleuth.cli.__main__", "demo"], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "Verdict: broken" in r.stdout and "Misconfigurations" in r.stdout
    # F5 (CoreDNS OOMKilled, Ready again) is said once, by the scan, about the Deployment;
    # the traces through DNS stay on their own fault instead of repeating it.
    assert r.stdout.count("CoreDNS pods keep restarting") == 1
    assert r.stdout.count("was OOMKilled") == 1


@pytest.mark.parametrize("fault", [f for f in FAULTS if f.get("trace")], ids=lambda f: f["id"])
def test_fault_trace_stays_on_its_fault(model: Any, fault: dict[str, Any]) -> None:
    """Every broken or degraded hop of a planted fault's trace names that fault's culprit:
    another fault of the cluster (CoreDNS OOMKilled, worker-2's MTU drift) is not repeated
    on paths it does not decide."""
    t = fault["trace"]
    res = trace(model, str(t["src"]), str(t["dst"]), port=t.get("port"))
    off = [
        (str(h.layer), h.change.ref() if h.change else None, h.summary)
        for h in res.hops
        if h.status in (Verdict.BROKEN, Verdict.WARNING)
        and (h.change is None or h.change.ref() != fault["culprit"])
    ]
    assert not off, off

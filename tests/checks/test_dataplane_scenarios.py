"""The CNI/MTU/kube-proxy/conntrack/ingress/mesh checks against the scenario clusters.

Each scenario in ``tests/scenarios/<name>/`` plants one fault (its README says
which). The checks of the matching family must name it, and none of this
family's checks may raise on any scenario. A scenario not yet in the tree
skips with its name.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.cni_detect import primary_cni
from netsleuth.sources.load import load_offline

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
FAMILIES = ("CNI", "MTU", "KPX", "CT", "ING", "MESH")

# scenario -> rule IDs of which at least one must fire (the same fault seen from different sides).
EXPECTED: dict[str, tuple[str, ...]] = {
    "crossnode-mtu-vxlan": ("MTU501", "MTU502"),
    "cni-not-ready": ("CNI401", "CNI402", "CNI403"),
    "pod-cidr-exhausted": ("CNI405", "CNI406", "CNI407"),
    "kube-proxy-stale-rules": ("KPX603", "KPX604"),
    "conntrack-full": ("CT701",),
    "ingress-class-missing": ("ING801",),
    "loadbalancer-pending": ("ING806",),
    "mesh-strict-mtls-outside-client": ("MESH903",),
    "gateway-api-broken": ("ING808", "ING809", "ING811"),
}


def _load(name: str):  # type: ignore[no-untyped-def]
    path = SCENARIOS / name
    if not path.is_dir():
        pytest.skip(f"scenario {name} is not in the tree yet")
    if (path / "nodes").is_dir() and importlib.util.find_spec(
        "netsleuth.sources.node_artifacts"
    ) is None:
        pytest.skip(
            f"scenario {name} has node files and netsleuth.sources.node_artifacts is not in the tree yet"
        )
    return load_offline([str(path)])


def _ours() -> list:  # type: ignore[type-arg]
    return [c for cid, c in load_all().items() if cid.startswith(FAMILIES)]


def _readme_must_report(name: str) -> set[str]:
    """IDs the scenario's README says ``netsleuth scan`` must report."""
    readme = SCENARIOS / name / "README.md"
    if not readme.exists():
        return set()
    m = re.search(r"must report (.*)", readme.read_text())
    return set(re.findall(r"`([A-Z]+\d+)`", m.group(1))) if m else set()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_scenario_fault_is_reported(name: str) -> None:
    model = _load(name)
    result = run_checks(model, _ours())
    assert not result.errors, result.errors
    fired = {f.rule_id for f in result.findings}
    want = EXPECTED[name]
    assert fired & set(want), (
        f"{name}: none of {want} fired; got {sorted(fired)}; skipped {result.skipped}"
    )
    required = {i for i in _readme_must_report(name) if i.startswith(FAMILIES)}
    assert required <= fired, f"{name}: README requires {sorted(required)}, got {sorted(fired)}"


def test_flannel_scenario_is_detected_as_flannel() -> None:
    model = _load("flannel-with-policies")
    info = primary_cni(model)
    assert info is not None and info.name == "flannel"


def test_no_family_check_raises_on_any_scenario() -> None:
    if not SCENARIOS.is_dir() or not any(p.is_dir() for p in SCENARIOS.iterdir()):
        pytest.skip("no scenarios in the tree yet")
    has_parser = importlib.util.find_spec("netsleuth.sources.node_artifacts") is not None
    for path in sorted(p for p in SCENARIOS.iterdir() if p.is_dir()):
        if (path / "nodes").is_dir() and not has_parser:
            continue
        result = run_checks(load_offline([str(path)]), _ours())
        assert not result.errors, f"{path.name}: {result.errors}"

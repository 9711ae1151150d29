"""CT701 thresholds (80 % warning, 95 % error) and CT702 counters, on node facts built in the test."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from netsleuth.checks.base import load_all
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Severity
from netsleuth.model.node_artifacts import ConntrackStats, NodeArtifacts
from netsleuth.sources.load import load_offline

FIXTURES = Path(__file__).parent / "fixtures"


def model_with(stats: ConntrackStats | None, sysctls: dict[str, str] | None = None) -> ClusterModel:
    base = load_offline([str(FIXTURES / "CT701" / "good" / "cluster.yaml")])
    art = NodeArtifacts(node="worker-1", conntrack=stats, sysctls=sysctls)
    return replace(
        base, node_artifacts={"worker-1": art}, kinds_present=base.kinds_present | {"NodeArtifacts"}
    )


@pytest.mark.parametrize(
    ("count", "limit", "severity"),
    [
        (1_000, 262_144, None),
        (209_715, 262_144, None),  # 79.99 %: below the warning line
        (209_716, 262_144, Severity.WARNING),  # 80.0 %
        (249_036, 262_144, Severity.WARNING),  # 94.99 %
        (249_037, 262_144, Severity.ERROR),  # 95.0 %
        (262_144, 262_144, Severity.ERROR),  # full
    ],
)
def test_ct701_thresholds(count: int, limit: int, severity: Severity | None) -> None:
    found = list(load_all()["CT701"].execute(model_with(ConntrackStats(count=count, max=limit))))
    assert [f.severity for f in found] == ([severity] if severity else [])


def test_ct701_reads_sysctls_when_the_proc_files_are_absent() -> None:
    model = model_with(
        None,
        {"net.netfilter.nf_conntrack_count": "250000", "net.netfilter.nf_conntrack_max": "262144"},
    )
    (f,) = load_all()["CT701"].execute(model)
    assert f.severity == Severity.ERROR and "nf_conntrack_tcp_timeout_established" in (
        f.fix.text if f.fix else ""
    )


@pytest.mark.parametrize(
    ("stats", "fires", "needle"),
    [
        (ConntrackStats(insert_failed=0, drop=0), False, ""),
        (ConntrackStats(insert_failed=1863), True, "insert_failed=1863"),
        (ConntrackStats(drop=12, early_drop=3), True, "drop=12 early_drop=3"),
    ],
)
def test_ct702_counters(stats: ConntrackStats, fires: bool, needle: str) -> None:
    found = list(load_all()["CT702"].execute(model_with(stats)))
    assert bool(found) is fires
    if fires:
        assert needle in found[0].message

"""Reuse the scan's checks inside a trace: the MTU, kube-proxy, conntrack and
CNI checks already know how to read node artifacts, so a trace runs the
relevant ones and keeps the findings about the nodes and Service on its path.
"""

from __future__ import annotations

from collections.abc import Iterable

from netsleuth.checks.base import ScanResult, load_all, run_checks, select_checks
from netsleuth.facts.cni_detect import CniInfo, detect_cni
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding


def _scan(model: ClusterModel, prefixes: tuple[str, ...]) -> ScanResult:
    def run() -> ScanResult:
        return run_checks(model, select_checks(load_all().values(), select=prefixes))

    return model.memoised("trace.scan:" + ",".join(prefixes), run)


def findings_about(
    model: ClusterModel, prefixes: Iterable[str], refs: Iterable[str]
) -> list[Finding]:
    """Findings of the checks with these ID prefixes whose subject or evidence names one of ``refs``."""
    wanted = set(refs)
    result = _scan(model, tuple(sorted(prefixes)))
    out = []
    for f in result.findings:
        if f.subject.ref() in wanted or any(e.object in wanted for e in f.evidence):
            out.append(f)
    return out


def checks_ran(model: ClusterModel, prefixes: Iterable[str]) -> bool:
    """Whether at least one check with these prefixes had the data it needs (was not skipped)."""
    return bool(_scan(model, tuple(sorted(prefixes))).checks_run)


def cni_infos(model: ClusterModel) -> list[CniInfo]:
    return detect_cni(model)

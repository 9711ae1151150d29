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

_CACHE: list[tuple[ClusterModel, tuple[str, ...], ScanResult]] = []


def _scan(model: ClusterModel, prefixes: tuple[str, ...]) -> ScanResult:
    for m, p, r in _CACHE:
        if m is model and p == prefixes:
            return r
    checks = select_checks(load_all().values(), select=prefixes)
    result = run_checks(model, checks)
    _CACHE.append((model, prefixes, result))
    del _CACHE[:-8]
    return result


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


_CNI_CACHE: list[tuple[ClusterModel, list[CniInfo]]] = []


def cni_infos(model: ClusterModel) -> list[CniInfo]:
    """``detect_cni`` once per model: it scans every pod's labels, too slow to repeat per trace."""
    for m, infos in _CNI_CACHE:
        if m is model:
            return infos
    infos = detect_cni(model)
    _CNI_CACHE.append((model, infos))
    del _CNI_CACHE[:-4]
    return infos

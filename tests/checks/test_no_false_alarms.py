"""No alarms on defaults or on what the input cannot show.

``scan`` runs on every folder of the published manifests in
``tests/data/corpus/real-manifests`` (nobody here wrote them) and on the healthy
scenarios, whose kube-system is what kubeadm/kind install with their defaults
(CoreDNS's 170Mi memory limit, the kubeadm Corefile, kube-proxy iptables, static
control-plane pods, Calico/Flannel/kindnet). Any error fails, and so does any
warning: the corpus README lists what is *not* a fault in those manifests
(LoadBalancer Services with no address before they are applied, one-shot admission
Jobs), and a healthy cluster has nothing to warn about. Warnings a careful reader
would agree with are allowed below, each with its reason (none today).

The inconclusive list is allowed: saying "the input cannot tell" is the honest
answer for manifests. ``tests/data/accuracy/`` adds inputs written here for the
cases the issue names (operator-managed workloads in manifests, OpenShift DNS…),
each described in its README.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from corpus.paths import CORPUS
from netsleuth.checks.base import ScanResult, load_all, run_checks
from netsleuth.model.findings import Severity
from netsleuth.sources.load import load_offline

ROOT = Path(__file__).resolve().parents[2]
REAL = CORPUS / "real-manifests"
OURS = ROOT / "tests" / "data" / "accuracy"
SCENARIOS = ROOT / "tests" / "scenarios"

# (input, rule id) -> why a reader would call that warning true
ALLOWED_WARNINGS: dict[tuple[str, str], str] = {}

CASES = [
    pytest.param(p, id=f"real-manifests/{p.name}") for p in sorted(REAL.iterdir()) if p.is_dir()
]
CASES += [pytest.param(p, id=f"accuracy/{p.name}") for p in sorted(OURS.iterdir()) if p.is_dir()]
CASES += [
    pytest.param(p, id=f"scenario/{p.name}")
    for p in sorted(SCENARIOS.glob("healthy-*"))
    if (p / "scenario.yaml").is_file()
]


def _scan(folder: Path) -> ScanResult:
    return run_checks(load_offline([str(folder)]), load_all().values())


@pytest.mark.parametrize("folder", CASES)
def test_no_error_and_no_false_warning(folder: Path) -> None:
    result = _scan(folder)
    assert not result.errors, result.errors
    bad = [
        f"{f.rule_id} {f.severity} {f.subject.ref()}: {f.message}"
        for f in result.findings
        if f.severity is Severity.ERROR
        or (f.severity is Severity.WARNING and (folder.name, f.rule_id) not in ALLOWED_WARNINGS)
    ]
    assert not bad, "\n".join(bad)


def test_the_cases_cover_the_corpus_and_a_kubeadm_and_a_kind_cluster() -> None:
    names = {p.values[0].name for p in CASES}  # type: ignore[union-attr]
    assert {"microservices-demo", "ingress-nginx", "argo-cd"} <= names
    assert {"healthy-kind", "healthy-cross-node", "healthy-same-node"} <= names

"""AdminNetworkPolicy / BaselineAdminNetworkPolicy conformance (network-policy-api v0.1.7).

Every probe of every subtest is one test id: ``cluster-model.yaml`` plus the
subtest's ``policies.yaml`` (the complete policy state), the client pod
opening ``protocol/port`` to the server pod. The server's IP in the probe
must be the server pod's address (a hostNetwork pod's is its node IP).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus.paths import CORPUS
from netsleuth.model.cluster import ClusterModel
from netsleuth.policy import PodEndpoint, endpoint_ips, evaluate, explain_text
from netsleuth.sources.load import load_offline

ANP = CORPUS / "anp-conformance"


def _probes() -> list[Any]:
    out = []
    for exp in sorted(ANP.glob("cases/*/*/expected.yaml")):
        doc = yaml.safe_load(exp.read_text())
        case = exp.parent.relative_to(ANP / "cases")
        for n, probe in enumerate(doc["probes"]):
            pid = (
                f"{case.parts[0][:2]}/{case.parts[1][:2]}/{n}:"
                f"{probe['client'].split('/')[1]}->{probe['server'].split('/')[1]}"
                f":{probe['protocol']}/{probe['port']}"
            )
            out.append(pytest.param(exp.parent, probe, id=pid))
    return out


@cache
def _model(case_dir: Path) -> ClusterModel:
    return load_offline([str(ANP / "cluster-model.yaml"), str(case_dir / "policies.yaml")])


@pytest.mark.parametrize(("case_dir", "probe"), _probes())
def test_anp_probe(case_dir: Path, probe: dict[str, Any]) -> None:
    model = _model(case_dir)
    assert not model.problems, model.problems
    client = model.pod(*probe["client"].split("/"))
    server = model.pod(*probe["server"].split("/"))
    assert client is not None and server is not None
    assert probe["server_ip"] in endpoint_ips(PodEndpoint(server))
    d = evaluate(model, PodEndpoint(client), PodEndpoint(server), probe["protocol"], probe["port"])
    want = probe["expected"] == "allowed"
    assert d.allowed == want, "\n".join(explain_text(d))


def test_admin_policies_decode_without_problems() -> None:
    """Every policy file of the suite decodes into the typed form with no problem."""
    from netsleuth.policy import admin_policies

    for pol in sorted(ANP.glob("cases/*/*/policies.yaml")):
        ap = admin_policies(_model(pol.parent))
        assert ap.problems == (), (pol, ap.problems)
        assert ap, pol

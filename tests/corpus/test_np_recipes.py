"""ahmetb/kubernetes-network-policy-recipes: every probe (42), including the trap recipe 14.

Input of a probe: the case's ``cluster.yaml`` plus exactly the policy files in
``policies_applied``. A probe to a Service is a connection to each backend
pod on ``pod_port`` (the resolved targetPort: NetworkPolicy sees pod ports,
never Service ports — recipe 09); every backend must give the expected
verdict. External addresses are :class:`IPEndpoint`.

Recipe 14 is the trap: its text claims the ``app=foo`` pod can still reach
the in-cluster ``web`` Service, but its policy allows only DNS egress, so
under Kubernetes semantics the connection is blocked; the corpus's
``expected`` (and this test) follow the semantics.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus.paths import CORPUS
from netsleuth.model.cluster import ClusterModel
from netsleuth.policy import (
    Endpoint,
    IPEndpoint,
    PodEndpoint,
    endpoint_for_ip,
    evaluate,
    explain_text,
)
from netsleuth.sources.load import load_offline

RECIPES = CORPUS / "np-recipes"


def _probes() -> list[Any]:
    out = []
    for exp in sorted([*RECIPES.glob("*/expected.yaml"), *RECIPES.glob("*/*/expected.yaml")]):
        doc = yaml.safe_load(exp.read_text())
        cluster = (exp.parent / doc["cluster"]).resolve()
        rel = exp.parent.relative_to(RECIPES)
        for n, probe in enumerate(doc["probes"]):
            out.append(pytest.param(exp.parent, cluster, probe, id=f"{rel}#{n}"))
    return out


@cache
def _model(cluster: Path, policies: tuple[Path, ...]) -> ClusterModel:
    return load_offline([str(cluster), *map(str, policies)])


def _endpoints(model: ClusterModel, spec: dict[str, Any]) -> list[Endpoint]:
    if "pod" in spec:
        pod = model.pod(*spec["pod"].split("/"))
        assert pod is not None, spec
        return [PodEndpoint(pod)]
    if "service" in spec:
        svc = model.service(*spec["service"].split("/"))
        assert svc is not None and svc.selector, spec
        pods = model.pods_matching(svc.namespace, svc.selector)
        assert pods, f"service {spec['service']} has no backend pods"
        return [PodEndpoint(p) for p in pods]
    if "external" in spec:
        return [IPEndpoint(spec["external"]["ip"])]
    return [endpoint_for_ip(model, spec["ip"])]


@pytest.mark.parametrize(("case_dir", "cluster", "probe"), _probes())
def test_recipe_probe(case_dir: Path, cluster: Path, probe: dict[str, Any]) -> None:
    model = _model(cluster, tuple(case_dir / f for f in probe["policies_applied"]))
    assert not model.problems, model.problems
    port = probe.get("pod_port", probe["port"])
    want = probe["expected"] == "allowed"
    (src,) = _endpoints(model, probe["from"])
    for dst in _endpoints(model, probe["to"]):
        d = evaluate(model, src, dst, probe["protocol"], port)
        assert d.allowed == want, "\n".join(explain_text(d))

"""``trace`` and ``scan`` of the same input agree about the objects on the traced path.

Both read the same facts (``netsleuth/facts``), so for every scenario, for the
real manifests (every caller → Service pair their workloads name) and for the
cases below:

- every hop that is ``broken`` or ``warning`` has an error or warning finding in
  the same layer that names one of the hop's objects (its evidence, or the
  object it says to change). A symptom hop is explained by its cause: when the
  trace names root-cause hops, the hop holds if one of them holds;
- every error or warning finding about an object the trace examined in that
  layer (an object of a hop of the finding's layer) has a ``broken`` or
  ``warning`` hop in that layer naming one of the finding's objects.

Info findings and the trace's notes are risks, not faults: they are not compared.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from netsleuth.checks.base import ScanResult, load_all, run_checks
from netsleuth.facts.ownership import workload_subject
from netsleuth.facts.policy_facts import service_clients
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Finding, Severity, Verdict
from netsleuth.sources.load import load_offline
from netsleuth.trace import trace
from netsleuth.trace.result import Hop, TraceResult

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
REAL = ROOT / "tests" / "data" / "corpus" / "real-manifests"
BAD = (Verdict.BROKEN, Verdict.WARNING)


def _hop_objects(h: Hop) -> set[str]:
    objs = {e.object for e in h.evidence}
    if h.change is not None:
        objs.add(h.change.ref())
    return objs


def _finding_objects(f: Finding) -> set[str]:
    return {f.subject.ref(), *(e.object for e in f.evidence)}


def disagreements(result: TraceResult, scan: ScanResult) -> list[str]:
    """What one says about the path and the other does not (empty when they agree)."""
    faults = [f for f in scan.findings if f.severity is not Severity.INFO]
    bad = [h for h in result.hops if h.status in BAD]

    def reported(h: Hop) -> bool:
        objs = _hop_objects(h)
        return any(f.layer is h.layer and _finding_objects(f) & objs for f in faults)

    causes = [h for h in bad if h.root_cause]
    out = []
    for h in bad:
        if reported(h):
            continue
        if not h.root_cause and causes and any(reported(c) for c in causes):
            continue  # a symptom of a cause the scan reports
        out.append(
            f"trace: {h.layer} {h.status} ({h.summary[:120]}) about {sorted(_hop_objects(h))} "
            f"has no {h.layer} finding in the scan"
        )
    for f in faults:
        fobjs = _finding_objects(f)
        seen = [h for h in result.hops if h.layer is f.layer and _hop_objects(h) & fobjs]
        if seen and not any(h.status in BAD for h in seen):
            out.append(
                f"scan: {f.rule_id} {f.severity} about {f.subject.ref()} ({f.message[:120]}) "
                f"but the trace's {f.layer} hop is {seen[0].status}: {seen[0].summary[:80]}"
            )
    return out


def _scan(model: ClusterModel) -> ScanResult:
    return model.memoised("test.scan", lambda: run_checks(model, list(load_all().values())))


def _scenario_cases() -> list[Any]:
    out = []
    for spec_file in sorted(SCENARIOS.glob("*/scenario.yaml")):
        spec = yaml.safe_load(spec_file.read_text()) or {}
        t = spec.get("trace")
        queries = t if isinstance(t, list) else [t] if isinstance(t, dict) else []
        for n, q in enumerate(queries):
            out.append(pytest.param(spec_file.parent, q, id=f"{spec_file.parent.name}-{n}"))
    return out


@pytest.mark.parametrize(("folder", "query"), _scenario_cases())
def test_scenario_trace_and_scan_agree(folder: Path, query: dict[str, Any]) -> None:
    model = load_offline([str(folder)])
    result = trace(
        model,
        str(query["src"]),
        str(query["dst"]),
        port=query.get("port"),
        protocol=str(query.get("protocol", "TCP")),
    )
    assert disagreements(result, _scan(model)) == []


@pytest.fixture(scope="module", params=sorted(p.name for p in REAL.iterdir() if p.is_dir()))
def real(request: pytest.FixtureRequest) -> ClusterModel:
    return load_offline([str(REAL / request.param)])


def test_real_manifests_trace_and_scan_agree(real: ClusterModel) -> None:
    """Every Service a workload of the real manifests names in its env/args, traced from
    that workload (manifests only: pods derived from templates)."""
    scan = _scan(real)
    problems = []
    traced = 0
    for (ns, svc), clients in sorted(service_clients(real).items()):
        pod, port = clients[0]
        kind, meta = workload_subject(real, pod)
        src = f"{meta.namespace}/{meta.name}" if kind != "Pod" else f"{pod.namespace}/{pod.name}"
        result = trace(real, src, f"{ns}/{svc}", port=port)
        traced += 1
        problems += [f"{src} -> {ns}/{svc}: {d}" for d in disagreements(result, scan)]
    assert problems == []
    if real.namespaces.get("default") is not None and real.service("default", "cartservice"):
        assert traced >= 10  # microservices-demo: every *_ADDR of every service


def test_ingress_tls_secret_in_another_namespace(tmp_path: Path) -> None:
    """The issue's example: a dump where the Ingress's TLS Secret exists only in another
    namespace. The trace reported it and the scan did not; both read one fact now."""
    doc = yaml.load(
        (SCENARIOS / "healthy-ingress" / "cluster.yaml").read_text(), Loader=yaml.CSafeLoader
    )
    for item in doc["items"]:
        if item["kind"] == "Secret" and item["metadata"]["name"] == "shop-example-com-tls":
            item["metadata"]["namespace"] = "cert-manager"
    doc["items"].append(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "cert-manager",
                "labels": {"kubernetes.io/metadata.name": "cert-manager"},
            },
        }
    )
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    model = load_offline([str(tmp_path)])
    result = trace(model, "external", "https://shop.example.com/")
    scan = _scan(model)
    assert result.verdict is Verdict.BROKEN
    ing = [f for f in scan.findings if f.rule_id == "ING804"]
    assert [f.subject.ref() for f in ing] == ["Ingress/shop/storefront"]
    assert "exists in cert-manager" in ing[0].message
    assert disagreements(result, scan) == []
    # The test has teeth: without ING804 the broken ingress hop is unexplained.
    without = replace(scan, findings=tuple(f for f in scan.findings if f.rule_id != "ING804"))
    assert any("trace: ingress broken" in d for d in disagreements(result, without))


def test_ingress_controller_not_ready_reported_by_both(tmp_path: Path) -> None:
    """The trace's ingress hop and ING810 find the controller pods with one fact
    (``facts.ingress_refs.controller_pods``): no controller pod Ready is broken in the
    trace and an error in the scan, about the same pods."""
    doc = yaml.load(
        (SCENARIOS / "healthy-ingress" / "cluster.yaml").read_text(), Loader=yaml.CSafeLoader
    )
    for item in doc["items"]:
        if item["kind"] == "Pod" and item["metadata"]["name"].startswith(
            "ingress-nginx-controller"
        ):
            for c in item["status"]["conditions"]:
                if c["type"] in ("Ready", "ContainersReady"):
                    c["status"] = "False"
            for s in item["status"]["containerStatuses"]:
                s["ready"] = False
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    model = load_offline([str(tmp_path)])
    result = trace(model, "external", "https://shop.example.com/")
    scan = _scan(model)
    ing = [h for h in result.hops if h.layer.value == "ingress"]
    assert ing and ing[0].status is Verdict.BROKEN
    assert "no ingress controller pod is Ready" in ing[0].summary
    assert [f.rule_id for f in scan.findings if f.rule_id == "ING810"] == ["ING810"]
    assert disagreements(result, scan) == []


def test_ingress_controller_partly_ready_is_a_warning_in_both(tmp_path: Path) -> None:
    """One of the two ingress-nginx controller pods not Ready: ING810 warns (capacity down,
    health checks flap) and the trace's ingress hop is a warning naming the same pod and
    Deployment; both read ``facts.ingress_refs.controller_readiness``. Before, the trace
    said ``ok`` and the agreement failed on the scan's side."""
    doc = yaml.load(
        (SCENARIOS / "healthy-ingress" / "cluster.yaml").read_text(), Loader=yaml.CSafeLoader
    )
    down = next(
        i
        for i in doc["items"]
        if i["kind"] == "Pod" and i["metadata"]["name"].startswith("ingress-nginx-controller")
    )
    for c in down["status"]["conditions"]:
        if c["type"] in ("Ready", "ContainersReady"):
            c["status"] = "False"
    for s in down["status"]["containerStatuses"]:
        s["ready"] = False
    (tmp_path / "cluster.yaml").write_text(yaml.safe_dump(doc))
    model = load_offline([str(tmp_path)])
    result = trace(model, "external", "https://shop.example.com/")
    scan = _scan(model)
    (hop,) = [h for h in result.hops if h.layer.value == "ingress"]
    assert hop.status is Verdict.WARNING
    assert "1 of 2 ingress-nginx controller pods Ready" in hop.summary
    assert down["metadata"]["name"] in hop.summary
    assert hop.change is not None and hop.change.kind == "Deployment"
    (ing810,) = [f for f in scan.findings if f.rule_id == "ING810"]
    assert ing810.severity is Severity.WARNING
    assert ing810.subject.ref() == hop.change.ref()
    assert result.verdict is Verdict.WARNING
    assert disagreements(result, scan) == []

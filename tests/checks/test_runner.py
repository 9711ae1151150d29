"""The runner: skipped checks are values, failing checks are recorded, config reaches config checks."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import (
    Check,
    Needs,
    ScanConfig,
    confidence_for,
    finding,
    register,
    run_checks,
    select_checks,
    skip_reason,
)
from netsleuth.model.cluster import SourceInfo, SourceKind, build_model
from netsleuth.model.findings import Confidence, Finding, Layer, Severity
from netsleuth.model.node_artifacts import NodeArtifacts, ResolvConf
from netsleuth.model.objects import Meta, Namespace, Service


def _check(
    id_: str, needs: Needs | None = None, run: object = None, takes_config: bool = False
) -> Check:
    def nothing(*_args: object) -> Iterator[Finding]:
        return iter(())

    return Check(
        id=id_,
        name="t",
        layer=Layer.DNS,
        severity=Severity.WARNING,
        needs=needs or Needs(),
        run=run or nothing,
        doc="t",
        module="tests",
        takes_config=takes_config,
    )  # type: ignore[arg-type]


def test_forbidden_resource_skips_with_reason() -> None:
    model = build_model([], source=SourceInfo(kind=SourceKind.LIVE, forbidden=("networkpolicies",)))
    reason = skip_reason(_check("X1", Needs(kinds=("NetworkPolicy",))), model)
    assert reason is not None and "networkpolicies" in reason and "forbidden" in reason


def test_missing_kind_skips_only_when_required() -> None:
    model = build_model([Namespace(meta=Meta(name="a"))])
    assert skip_reason(_check("X1", Needs(kinds=("Service",))), model) is None
    assert skip_reason(_check("X1", Needs(kinds=("Service",), require_present=True)), model) == (
        "no Service objects in the input"
    )
    assert "none of" in (
        skip_reason(_check("X1", Needs(any_kinds=("Pod", "Deployment"))), model) or ""
    )


def test_node_artifacts_needed() -> None:
    empty = build_model([])
    c = _check("X1", Needs(node_artifacts=("resolv_conf",)))
    assert "node artifacts" in (skip_reason(c, empty) or "")
    with_files = build_model(
        [NodeArtifacts(node="n1", resolv_conf=ResolvConf(nameservers=("10.0.0.2",)))]
    )
    assert skip_reason(c, with_files) is None


def test_skipped_and_failed_are_values_and_the_scan_goes_on() -> None:
    def boom(_model: object) -> Iterator[Finding]:
        raise KeyError("bug")

    model = build_model([], source=SourceInfo(forbidden=("services",)))
    result = run_checks(
        model, [_check("A1", Needs(kinds=("Service",))), _check("B1", run=boom), _check("C1")]
    )
    assert [s.check_id for s in result.skipped] == ["A1"]
    assert [e.check_id for e in result.errors] == ["B1"] and "KeyError" in result.errors[0].reason
    assert result.checks_run == ("C1",)


def test_config_reaches_checks_that_ask_for_it() -> None:
    seen: list[ScanConfig] = []

    def wants(_model: object, config: ScanConfig) -> Iterator[Finding]:
        seen.append(config)
        return iter(())

    cfg = ScanConfig(extra_cidrs=("10.8.0.0/16",))
    run_checks(build_model([]), [_check("A1", run=wants, takes_config=True)], cfg)
    run_checks(build_model([]), [_check("A1", run=wants, takes_config=True)])
    assert seen == [cfg, ScanConfig()]


def test_register_with_config_and_finding_helper() -> None:
    @register(id="ZZZ999", layer=Layer.SERVICE, severity=Severity.INFO, config=True)
    def probe_check(model: object, config: ScanConfig) -> Iterator[Finding]:
        """t"""
        return iter(())

    from netsleuth.checks.base import REGISTRY

    try:
        assert REGISTRY["ZZZ999"].takes_config
        model = build_model([])
        meta = Meta(name="s", namespace="ns")
        f = finding(
            "ZZZ999", model, kind="Service", meta=meta, message="m", severity=Severity.ERROR
        )
        assert (f.layer, f.severity, f.confidence) == (
            Layer.SERVICE,
            Severity.ERROR,
            Confidence.INFERRED,
        )
        assert f.subject.ref() == "Service/ns/s"
    finally:
        del REGISTRY["ZZZ999"]


def test_confidence_levels() -> None:
    live = build_model([], source=SourceInfo(kind=SourceKind.LIVE))
    offline = build_model([])
    m = Meta(name="x")
    assert confidence_for(live, m) is Confidence.OBSERVED
    assert confidence_for(offline, m) is Confidence.INFERRED
    assert confidence_for(live, Meta(name="x", derived=True)) is Confidence.INFERRED
    assert confidence_for(live, m, artifacts=True) is Confidence.ARTIFACTS


def test_select_and_ignore_by_prefix() -> None:
    checks = [_check(i) for i in ("DNS101", "DNS102", "SVC201", "SVC210", "POL301")]
    assert [c.id for c in select_checks(checks, ["dns"])] == ["DNS101", "DNS102"]
    assert [c.id for c in select_checks(checks, ["SVC2"], ["SVC210"])] == ["SVC201"]
    assert [c.id for c in select_checks(checks, [], ["DNS", "POL301"])] == ["SVC201", "SVC210"]


def test_findings_sorted_by_severity_then_id() -> None:
    svc = Service(meta=Meta(name="a", namespace="n"))
    model = build_model([svc])

    def emit(sev: Severity, rid: str) -> object:
        def run(_m: object) -> Iterator[Finding]:
            from netsleuth.model.findings import Subject

            yield Finding(
                rule_id=rid,
                layer=Layer.DNS,
                severity=sev,
                confidence=Confidence.INFERRED,
                subject=Subject("Service", "n", "a"),
                message="m",
            )

        return run

    result = run_checks(
        model,
        [
            _check("A", run=emit(Severity.INFO, "A")),
            _check("B", run=emit(Severity.ERROR, "B")),
            _check("C", run=emit(Severity.WARNING, "C")),
        ],
    )
    assert [f.rule_id for f in result.findings] == ["B", "C", "A"]

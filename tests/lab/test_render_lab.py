"""probe and conformance tables print names as text, without root."""

from __future__ import annotations

from netsleuth.model.findings import Verdict
from netsleuth.probe.conformance import ConformanceReport, PairResult
from netsleuth.probe.report import ProbeHop, ProbeReport
from netsleuth.render.conformance_out import conformance_document, render_conformance
from netsleuth.render.console import capture_console
from netsleuth.render.probe_table import render_probe


def test_probe_table_prints_names_as_text() -> None:
    rep = ProbeReport(
        src="ns/[/]evil",
        dst="ns/[bold]svc",
        backend="lab t",
        hops=(
            ProbeHop(
                hop="endpoint",
                target="10.0.0.1:80",
                verdict=Verdict.BROKEN,
                observed="timeout 1/1",
                details=("attempt 1: timeout",),
            ),
        ),
        commands=("ip netns exec 'netsleuth-t-p-ns.x' getent ahosts svc",),
    )
    console, buf = capture_console()
    render_probe(rep, console)
    out = buf.getvalue()
    assert "probe ns/[/]evil → ns/[bold]svc  (lab t)" in out
    assert "Verdict: broken" in out
    assert "attempt 1: timeout" in out  # a broken hop's details are shown
    assert "$ ip netns exec 'netsleuth-t-p-ns.x' getent ahosts svc" in out


def test_conformance_table_and_json() -> None:
    bad = PairResult(
        src="a/[x]",
        dst="b/y",
        dst_ip="10.0.0.2",
        protocol="TCP",
        port=80,
        predicted="allowed",
        observed="blocked",
        observed_detail="timed out after 1500 ms",
        prediction_reasons=("egress: allowed",),
    )
    good = PairResult(
        src="a/[x]",
        dst="b/y",
        dst_ip="10.0.0.2",
        protocol="UDP",
        port=53,
        predicted="denied",
        observed="blocked",
        observed_detail="timed out",
    )
    rep = ConformanceReport(lab="t", results=(bad, good), findings=())
    console, buf = capture_console()
    render_conformance(rep, console)
    out = buf.getvalue()
    assert "conformance lab t: 2 probes, 1 agree, 1 disagree" in out
    assert "a/[x] → b/y 80/TCP" in out and "predicted allowed:" in out
    doc = conformance_document(rep)
    assert (doc["pairs"], doc["agree"], len(doc["disagree"])) == (2, 1, 1)
    assert doc["disagree"][0]["observed_detail"] == "timed out after 1500 ms"

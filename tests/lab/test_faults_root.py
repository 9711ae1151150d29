"""Each fault of ``lab inject`` (root): the probe sees it, and ``scan``/``trace`` on
``lab capture`` name it where node files can show it.

One lab for the module; each test injects one fault, probes, captures, reads
the capture with scan and trace, and clears the fault.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import SCENARIOS
from lab.labtools import assert_clean, need_root, new_lab_name
from netsleuth.cli import app
from netsleuth.lab import build, faults, inject
from netsleuth.lab.capture import capture
from netsleuth.lab.state import load
from netsleuth.model.findings import Verdict
from netsleuth.probe.in_lab import probe_in_lab
from netsleuth.probe.report import ProbeReport
from netsleuth.sources.load import load_offline

pytestmark = pytest.mark.root

SCEN = SCENARIOS / "healthy-cross-node"
# The scenario's manifests without its hand-written nodes/ folder: the capture is the
# node evidence (node files of two sources for one node are merged).
MANIFESTS = SCEN / "cluster.yaml"
SRC, DST = "checkout/checkout-web", "payments/payments-api"


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    need_root()
    name = new_lab_name()
    build.up(load_offline([str(SCEN)]), name, paths=[str(SCEN)])
    try:
        yield name
    finally:
        build.down(name)
        assert_clean(name)


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_offline([str(SCEN)])


def _inject(model, lab: str, kind: str, **params: Any) -> None:  # type: ignore[no-untyped-def]
    st = load(lab)
    assert st is not None and st.plan is not None
    inject.clear(model, lab)
    f = faults.make_fault(kind, faults.apply_model_faults(model, []), st.plan, **params)
    inject.inject(model, lab, f)


def _probe(model, lab: str, **kw: Any) -> ProbeReport:  # type: ignore[no-untyped-def]
    st = load(lab)
    assert st is not None
    return probe_in_lab(
        faults.apply_model_faults(model, st.faults),
        lab,
        SRC,
        DST,
        port=8080,
        timeout=0.5,
        dns_timeout=0.5,
        **kw,
    )


def _capture(model, lab: str, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    st = load(lab)
    assert st is not None
    capture(model, st, tmp_path)
    return tmp_path


def _scan(cap: Path) -> set[str]:
    r = CliRunner().invoke(app, ["scan", "-f", str(MANIFESTS), "-f", str(cap), "-o", "json"])
    assert r.exit_code == 0, r.output
    return {f["rule_id"] for f in json.loads(r.output)["findings"]}


def _trace(cap: Path) -> dict[str, str]:
    r = CliRunner().invoke(
        app,
        ["trace", SRC, DST, "--port", "8080", "-f", str(MANIFESTS), "-f", str(cap), "-o", "json"],
    )
    assert r.exit_code in (0, 5), r.output
    out: dict[str, str] = {}
    for h in json.loads(r.output)["hops"]:
        if h["status"] not in ("ok", "skipped"):
            out.setdefault(h["layer"], h["status"])
    return out


def _hops(rep: ProbeReport, hop: str) -> list[Verdict]:
    return [h.verdict for h in rep.hops if h.hop == hop]


def test_healthy_capture_is_clean(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inject.clear(model, lab)
    cap = _capture(model, lab, tmp_path)
    files = sorted(p.name for p in (cap / "nodes" / "worker-1").iterdir())
    assert files == [
        "conntrack-S.txt",
        "ip-d-link.txt",
        "ip-route.txt",
        "iptables-save.txt",
        "nf_conntrack_count",
        "nf_conntrack_max",
        "resolv.conf",
        "sysctl.txt",
    ]
    # no kube-proxy, MTU, conntrack or policy finding on a healthy lab's own files
    assert not {r for r in _scan(cap) if r[:3] in ("KPX", "MTU", "CT7", "POL", "SVC")}
    assert _trace(cap) == {}


def test_stale_sep(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "stale-sep", service=DST, node="worker-1")
    rep = _probe(model, lab)
    svc = next(h for h in rep.hops if h.hop == "service")
    assert svc.verdict is Verdict.BROKEN and "timeout" in svc.observed
    assert set(_hops(rep, "endpoint")) == {Verdict.OK}  # the pods themselves answer
    cap = _capture(model, lab, tmp_path)
    assert "KPX603" in _scan(cap)
    assert _trace(cap).get("kube-proxy") == "broken"


def test_no_endpoints(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "no-endpoints", service=DST)
    rep = _probe(model, lab)
    svc = next(h for h in rep.hops if h.hop == "service")
    # kube-proxy REJECTs, but checkout's default-deny egress drops the packet to the
    # bare ClusterIP first (it was never DNATed to a pod the policy allows)
    assert svc.verdict is Verdict.BROKEN and "connected" not in svc.observed
    assert not _hops(rep, "endpoint")
    assert any("no ready endpoints" in n for n in rep.notes)
    cap = _capture(model, lab, tmp_path)
    assert (cap / "lab-faults.yaml").exists()
    assert "SVC201" in _scan(cap)
    # a selector matching no pod is a fault of the Service (the object to change): filed under service
    assert _trace(cap).get("service") == "broken"


def test_dns_policy(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "dns-policy", namespace="checkout")
    rep = _probe(model, lab)
    dns = next(h for h in rep.hops if h.hop == "dns")
    assert dns.verdict is Verdict.BROKEN and "timed out" in dns.observed
    cap = _capture(model, lab, tmp_path)
    assert "POL303" in _scan(cap)
    assert _trace(cap).get("dns") == "broken"


def test_mtu(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "mtu", node="worker-2")
    rep = _probe(model, lab)
    mtu = [h for h in rep.hops if h.hop == "mtu"]
    assert mtu and all(h.verdict is Verdict.BROKEN and "black hole" in h.observed for h in mtu)
    # small packets still pass: the Service answers
    assert next(h for h in rep.hops if h.hop == "service").verdict is Verdict.OK
    cap = _capture(model, lab, tmp_path)
    assert "MTU501" in _scan(cap)
    assert _trace(cap).get("mtu") == "broken"


def test_conntrack_full(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "conntrack-full", node="worker-2", max_entries=64)
    rep = _probe(model, lab)
    assert set(_hops(rep, "endpoint")) == {Verdict.BROKEN}
    cap = _capture(model, lab, tmp_path)
    assert (cap / "nodes" / "worker-2" / "nf_conntrack_max").read_text().strip() == "64"
    assert int((cap / "nodes" / "worker-2" / "nf_conntrack_count").read_text()) >= 64
    assert "CT701" in _scan(cap)
    assert _trace(cap).get("conntrack") == "broken"


def test_dns_drop(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "dns-drop")
    rep = _probe(model, lab)
    dns = next(h for h in rep.hops if h.hop == "dns")
    assert dns.verdict is Verdict.BROKEN and "timed out" in dns.observed
    cap = _capture(model, lab, tmp_path)
    # the drop is in cp-1's iptables-save (where the CoreDNS pods run)
    assert "--dport 53" in (cap / "nodes" / "cp-1" / "iptables-save.txt").read_text()
    assert "DNS116" in _scan(cap)
    assert _trace(cap).get("dns") == "broken"


def test_dns_slow(lab: str, model) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "dns-slow")
    rep = probe_in_lab(model, lab, SRC, DST, port=8080, timeout=0.5, dns_timeout=1.2)
    dns = next(h for h in rep.hops if h.hop == "dns")
    assert dns.verdict is Verdict.WARNING and "slowly" in dns.observed


def test_dns_slow_is_not_a_firewall_drop(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a rule that loses some packets (xt_recent) is not a blanket drop: DNS116 stays quiet
    _inject(model, lab, "dns-slow")
    assert "DNS116" not in _scan(_capture(model, lab, tmp_path))


def test_no_route(lab: str, model, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "no-route", node="worker-1", to="worker-2")
    rep = _probe(model, lab)
    assert set(_hops(rep, "endpoint")) == {Verdict.BROKEN}
    cap = _capture(model, lab, tmp_path)
    assert "10.244.2.0/24" not in (cap / "nodes" / "worker-1" / "ip-route.txt").read_text()
    assert "10.244.2.0/24" in (cap / "nodes" / "cp-1" / "ip-route.txt").read_text()
    assert "CNI412" in _scan(cap)
    assert _trace(cap).get("node") == "broken"


def test_clear_restores(lab: str, model) -> None:  # type: ignore[no-untyped-def]
    _inject(model, lab, "mtu", node="worker-2")
    inject.clear(model, lab)
    rep = _probe(model, lab)
    assert rep.verdict is not Verdict.BROKEN, [(h.hop, h.observed) for h in rep.hops]

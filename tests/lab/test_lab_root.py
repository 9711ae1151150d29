"""A real lab (root): up, traffic, conformance, down, and nothing left behind.

One lab per module (building one takes well under a second); every test
here reads it, the last checks the teardown.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SCENARIOS
from lab.labtools import assert_clean, host_iptables, host_links, leftovers, need_root, new_lab_name
from netsleuth.cli import app
from netsleuth.lab import build, host, names
from netsleuth.lab.state import load
from netsleuth.model.findings import Verdict
from netsleuth.probe.in_lab import conformance_in_lab, probe_in_lab
from netsleuth.sources.load import load_offline

pytestmark = pytest.mark.root

SCEN = SCENARIOS / "healthy-cross-node"


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    need_root()
    name = new_lab_name()
    links, rules = host_links(), host_iptables()
    result = CliRunner().invoke(app, ["lab", "up", "-f", str(SCEN), "--name", name])
    try:
        assert result.exit_code == 0, result.output
        yield name
    finally:
        build.down(name)
        assert_clean(name)
        # the host namespace is never touched
        assert host_links() == links
        assert host_iptables() == rules


@pytest.fixture(scope="module")
def model():  # type: ignore[no-untyped-def]
    return load_offline([str(SCEN)])


def _netns_exec(ns: str, *argv: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, check=True
    ).stdout


def test_namespaces_and_state(lab: str) -> None:
    st = load(lab)
    assert st is not None and st.status == "up" and st.plan is not None
    present = set(build.lab_netns_present(lab))
    assert present == set(st.netns)
    assert all(ns.startswith(names.lab_prefix(lab)) for ns in present)
    assert len(st.plan.nodes) == 3 and len(st.plan.pods) == 6
    status = build.status(lab)
    assert status.healthy, status


def test_node_looks_like_a_real_node(lab: str) -> None:
    st = load(lab)
    assert st is not None and st.plan is not None
    w1 = st.plan.node("worker-1")
    assert w1 is not None
    saved = _netns_exec(w1.netns, "iptables-save")
    # the rules as kube-proxy writes them, read back from the kernel
    assert (
        '-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP"'
        in saved
    )
    assert "KUBE-SVC-TCOU7JCQXEZGVUNU" in saved
    link = _netns_exec(w1.netns, "ip", "-d", "link", "show", "flannel.1")
    assert "vxlan id 1" in link and "dstport 8472" in link and "mtu 1480" in link
    route = _netns_exec(w1.netns, "ip", "route")
    assert "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink" in route


def test_probe_service_path(lab: str, model) -> None:  # type: ignore[no-untyped-def]
    rep = probe_in_lab(
        model, lab, "checkout/checkout-web", "payments/payments-api", port=8080, timeout=0.5
    )
    by_hop = {(h.hop, h.verdict) for h in rep.hops}
    assert ("dns", Verdict.OK) in by_hop
    dns = next(h for h in rep.hops if h.hop == "dns")
    # the pod's resolver walked its search list: payments-api.payments.checkout... first (NXDOMAIN)
    assert any(
        "payments-api.payments.checkout.svc.cluster.local A" in d and "NXDOMAIN" in d
        for d in dns.details
    )
    svc = next(h for h in rep.hops if h.hop == "service")
    assert svc.verdict is Verdict.OK and "connected 6/6" in svc.observed
    eps = [h for h in rep.hops if h.hop == "endpoint"]
    assert len(eps) == 2 and all(h.verdict is Verdict.OK for h in eps)
    # payments' policies admit only TCP 8080: ICMP is dropped, so the path MTU is
    # measured with TCP segments to that port, and the path carries the pod MTU
    mtu = [h for h in rep.hops if h.hop == "mtu"]
    assert mtu and all(h.verdict is Verdict.OK and "TCP segments" in h.observed for h in mtu)
    assert all("1480-byte" in h.observed for h in mtu)


def test_probe_denied_by_policy(lab: str, model) -> None:  # type: ignore[no-untyped-def]
    # checkout's egress allows DNS and payments only: CoreDNS's metrics port is dropped
    rep = probe_in_lab(
        model, lab, "checkout/checkout-web", "kube-system/kube-dns", port=9153, timeout=0.3
    )
    assert rep.verdict is Verdict.BROKEN
    ep = [h for h in rep.hops if h.hop == "endpoint"]
    assert ep and all("timeout" in h.observed for h in ep)


def test_conformance_agrees(lab: str, model) -> None:  # type: ignore[no-untyped-def]
    rep = conformance_in_lab(model, lab, timeout=0.5)
    assert rep.pairs == 45
    assert rep.disagree == (), [r for r in rep.disagree]
    allowed = {
        (r.src.split("/")[0], r.dst.split("/")[0], r.port)
        for r in rep.results
        if r.observed == "allowed"
    }
    blocked = {
        (r.src.split("/")[0], r.dst.split("/")[0], r.port)
        for r in rep.results
        if r.observed == "blocked"
    }
    assert ("checkout", "payments", 8080) in allowed
    assert ("checkout", "kube-system", 53) in allowed
    assert ("payments", "checkout", 8080) in blocked


def test_conformance_cli_json(lab: str) -> None:
    result = CliRunner().invoke(
        app, ["conformance", "--lab", lab, "--timeout", "0.5", "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) >= {"pairs", "agree", "disagree", "findings"}
    assert doc["pairs"] == doc["agree"] == 45 and doc["disagree"] == [] and doc["findings"] == []


def test_a_second_up_is_refused(lab: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "netsleuth.cli", "lab", "up", "-f", str(SCEN), "--name", lab],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"lab {lab} already exists" in proc.stderr
    assert build.status(lab).healthy


def test_crashed_lab_is_removed_by_prefix() -> None:
    """A lab whose state file is gone (a crash, a reboot of /run) is still found and removed."""
    need_root()
    name = new_lab_name()
    model = load_offline([str(SCENARIOS / "healthy-same-node")])
    build.up(model, name)
    assert leftovers(name)["processes"]
    (Path(names.state_dir(name)) / "state.json").unlink()
    report = build.down(name)
    assert report.netns and report.processes
    assert_clean(name)


def test_down_of_an_unknown_lab_finds_nothing() -> None:
    need_root()
    report = build.down(new_lab_name())
    assert not report.found_anything


def test_host_module_refuses_foreign_namespaces() -> None:
    with pytest.raises(ValueError, match="not lab"):
        host.require_owned("abc", "netsleuth-abcd-wan")
    with pytest.raises(ValueError, match="not lab"):
        host.require_owned("abc", "cni-1234")

"""Every node-level scenario is diagnosed the same when its node files are saved the way
operators save them: renamed, or merged into one capture per node under a folder named
after the node (not ``nodes/``), with shell-prompt headers of different styles.

The original layout (``nodes/<node>/iptables-save.txt``…) is the reference: the scan
must report the same findings (rule, severity, subject, message with file names cut
out) and the scenario's trace must give the same verdict and hop statuses.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from netsleuth.checks.base import load_all, run_checks
from netsleuth.model.cluster import ClusterModel
from netsleuth.sources.load import load_offline
from netsleuth.trace.tracer import trace

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"

# The command each file of netsleuth's own layout holds (the headers a person would type).
COMMANDS = {
    "ip-route.txt": "ip route",
    "ip-6-route.txt": "ip -6 route",
    "ip-d-link.txt": "ip -d link show",
    "ip-d-link.json": "ip -j -d link",
    "iptables-save.txt": "iptables-save",
    "ip6tables-save.txt": "ip6tables-save",
    "ipvsadm-Ln.txt": "ipvsadm -Ln",
    "conntrack-S.txt": "conntrack -S",
    "nf_conntrack": "cat /proc/net/stat/nf_conntrack",
    "nf_conntrack_count": "cat /proc/sys/net/netfilter/nf_conntrack_count",
    "nf_conntrack_max": "cat /proc/sys/net/netfilter/nf_conntrack_max",
    "sysctl.txt": "sysctl -a",
    "resolv.conf": "cat /etc/resolv.conf",
}
# How operators name the same files when they save them one by one.
RENAMED = {
    "ip-route.txt": "routes",
    "ip-6-route.txt": "routes-v6.out",
    "ip-d-link.txt": "ip-link.txt",
    "ip-d-link.json": "links.json",
    "iptables-save.txt": "iptables-save-nat.txt",
    "ip6tables-save.txt": "v6-rules.txt",
    "ipvsadm-Ln.txt": "ipvs.txt",
    "conntrack-S.txt": "conntrack-stats.txt",
    "nf_conntrack": "ct-proc-stat.txt",
    "nf_conntrack_count": "conntrack_count.txt",
    "nf_conntrack_max": "conntrack-max",
    "sysctl.txt": "kernel-params.log",
    "resolv.conf": "dns.txt",
}
PROMPTS = ("$ {}", "root@{node}:~# {}", "+ {}", "=== {} ===", "[root@{node} ~]# {}")


def node_scenarios() -> list[Path]:
    found = sorted(p for p in SCENARIOS.iterdir() if (p / "nodes").is_dir())
    return [*found, DEMO]


def copy_without_nodes(src: Path, dst: Path) -> None:
    for item in src.iterdir():
        if item.name == "nodes":
            continue
        if item.is_dir():
            shutil.copytree(item, dst / item.name)
        else:
            shutil.copy(item, dst / item.name)


def merged(scenario: Path, dst: Path) -> Path:
    """One capture per node, ``<dst>/support-bundle/<node>/<node>-capture.txt``."""
    copy_without_nodes(scenario, dst)
    for i, node_dir in enumerate(sorted((scenario / "nodes").iterdir())):
        prompt = PROMPTS[i % len(PROMPTS)]
        parts: list[str] = []
        for f in sorted(node_dir.rglob("*")):
            if not f.is_file() or f.suffix == ".md":
                continue
            rel = f.relative_to(node_dir)
            if rel.parts[0] == "cni":
                header = f"==> /etc/cni/net.d/{f.name} <=="
            else:
                header = prompt.format(COMMANDS[f.name], node=node_dir.name)
            body = f.read_text()
            parts.append(header + "\n" + body + ("" if body.endswith("\n") else "\n"))
        out = dst / "support-bundle" / node_dir.name
        out.mkdir(parents=True)
        (out / f"{node_dir.name}-capture.txt").write_text("".join(parts))
    return dst


def renamed(scenario: Path, dst: Path) -> Path:
    """The files kept apart but renamed, in ``<dst>/<node>/`` (no ``nodes/`` folder)."""
    copy_without_nodes(scenario, dst)
    for node_dir in sorted((scenario / "nodes").iterdir()):
        out = dst / node_dir.name
        out.mkdir()
        for f in sorted(node_dir.rglob("*")):
            if not f.is_file() or f.suffix == ".md":
                continue
            rel = f.relative_to(node_dir)
            if rel.parts[0] == "cni":
                target = out / "etc-cni" / f.name
                target.parent.mkdir(exist_ok=True)
            else:
                target = out / RENAMED[f.name]
            shutil.copy(f, target)
    return dst


_FILE = re.compile(r"\S*(?:\.conflist|\.conf)\b:?")


def findings(model: ClusterModel) -> list[tuple[str, str, str, str]]:
    result = run_checks(model, list(load_all().values()))
    return sorted(
        (f.rule_id, str(f.severity), f.subject.ref(), _FILE.sub("<file>", f.message))
        for f in result.findings
    )


def traced(model: ClusterModel, scenario: Path) -> list[tuple[str, str]] | None:
    desc = scenario / "scenario.yaml"
    if not desc.exists():
        return None
    q = (yaml.safe_load(desc.read_text()) or {}).get("trace")
    if not q:
        return None
    res = trace(model, q["src"], q["dst"], port=q.get("port"), protocol=q.get("protocol", "TCP"))
    return [(str(res.verdict), "")] + [(str(h.layer), str(h.status)) for h in res.hops]


@pytest.mark.parametrize("scenario", node_scenarios(), ids=lambda p: p.name)
@pytest.mark.parametrize("layout", [merged, renamed], ids=["merged", "renamed"])
def test_node_scenario_diagnosed_the_same(scenario: Path, layout, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reference = load_offline([str(scenario)])
    variant = load_offline([str(layout(scenario, tmp_path))])
    assert sorted(variant.node_artifacts) == sorted(reference.node_artifacts)
    # nothing in the captures went unrecognised
    assert [p.describe() for p in variant.problems] == [p.describe() for p in reference.problems]
    got = findings(variant)
    assert got == findings(reference)
    desc = scenario / "scenario.yaml"
    expect = ((yaml.safe_load(desc.read_text()) or {}).get("scan") or {}) if desc.exists() else {}
    for rule in expect.get("expect_rules") or ():
        if not rule.startswith(("KPX", "CT", "MTU", "CNI")):
            continue  # node files are what this test is about
        assert rule in {f[0] for f in got}, f"{scenario.name}: {rule} not reported"
    assert traced(variant, scenario) == traced(reference, scenario)
    for node, art in reference.node_artifacts.items():
        got = variant.node_artifacts[node]
        # the parsed facts are the same, whatever the files were called
        assert (
            got.iptables == art.iptables
            if art.iptables is None
            else (got.iptables is not None and got.iptables.rules == art.iptables.rules)
        )
        assert got.links == art.links and got.routes == art.routes
        assert got.conntrack is not None or art.conntrack is None
        if art.conntrack is not None and got.conntrack is not None:
            assert (got.conntrack.count, got.conntrack.max, got.conntrack.drop) == (
                art.conntrack.count,
                art.conntrack.max,
                art.conntrack.drop,
            )
        assert got.sysctls == art.sysctls and got.resolv_conf == art.resolv_conf
        assert [c.mtu for c in got.cni_configs or ()] == [c.mtu for c in art.cni_configs or ()]

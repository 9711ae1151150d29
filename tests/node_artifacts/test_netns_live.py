"""The collector's command list run for real in a kube-proxy-shaped network namespace
(``netns_node.py``), its outputs fed to the loader as ``netsleuth collect`` writes them
(``nodes/<node>/<NN>-<slug>.txt``, each starting with ``$ <command>``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from netsleuth.model.node_artifacts import EvidenceKind as K
from netsleuth.sources.load import load_offline
from node_artifacts.netns_node import have_tools, kube_node, run_command_list

pytestmark = pytest.mark.root


@pytest.fixture(scope="module")
def outputs():  # type: ignore[no-untyped-def]
    why = have_tools()
    if why:
        pytest.skip(f"cannot build the test node: {why}")
    with kube_node("live") as node:
        yield run_command_list(node)


def test_live_outputs_parse_into_the_planted_node(outputs, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    node_dir = tmp_path / "nodes" / "worker-1"
    node_dir.mkdir(parents=True)
    for i, (slug, out) in enumerate(outputs.items()):
        text = f"$ {out.command}\n{out.stdout}"
        if out.returncode != 0:
            text += f"# netsleuth collect: `{out.command}` exited {out.returncode}: {out.stderr.strip()[:200]}\n"
        (node_dir / f"{i:02d}-{slug}.txt").write_text(text)
    m = load_offline([str(tmp_path)])
    art = m.node_artifacts["worker-1"]
    # the commands that cannot run on this machine say so; nothing is unrecognised
    failed = {o.command.split()[0] for o in outputs.values() if o.returncode != 0}
    for p in m.problems:
        assert p.message.startswith("`"), p.describe()
        assert p.message.split("`")[1].split()[0] in failed
    kinds = {e.kind for e in art.evidence}
    assert {
        K.IP_LINK,
        K.IP_ADDR,
        K.IP_ROUTE,
        K.IP_RULE,
        K.IPTABLES_SAVE,
        K.NFT_RULESET,
        K.CONNTRACK_STATS,
        K.CONNTRACK_COUNT,
        K.SYSCTL,
        K.RESOLV_CONF,
        K.CNI_CONFLIST,
        K.HOST_LOCAL_IPAM,
        K.ETHTOOL_STATS,
        K.DATE,
        K.UPTIME,
    } <= kinds
    links = {link.name: link for link in art.links or ()}
    assert (links["flannel.1"].kind, links["flannel.1"].vxlan_port) == ("vxlan", 8472)
    assert {a.address for a in art.addresses or () if a.interface == "kube-ipvs0"} == {
        "10.96.0.1",
        "10.96.0.10",
    }
    assert any(
        r.destination == "10.244.3.0/24" and r.table == "local" and r.type == "local"
        for r in art.routes or ()
    )
    ipt = art.iptables
    assert ipt is not None and ipt.backend == "nf_tables"
    dnat = {r.to_destination for r in ipt.rules if r.target == "DNAT"}
    assert {"10.244.1.5:53", "10.244.2.7:53", "10.244.1.6:8080", "[fd00:10:244:1::5]:53"} <= dnat
    assert {(d.family, d.backend) for d in art.iptables_dumps} >= {(4, "legacy"), (6, "nf_tables")}
    assert art.nft is not None and ("ip", "kube-proxy") in art.nft.tables
    assert art.conntrack is not None and len(art.conntrack.samples) == 2
    assert art.conntrack.count is not None
    assert art.sysctls and art.sysctls["net.ipv4.ip_forward"] == "1"
    assert {a.address for a in art.ipam or ()} == {"10.244.1.5", "10.244.1.9"}
    assert art.captured_at is not None and art.uptime is not None
    assert art.netns == "node"

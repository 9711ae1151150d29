"""network-config-analyzer (NCA) connectivity maps, as pair lines, against our connection list.

Scope: the K8s-only ``connectivityMap`` queries whose expected output is the
pair form (``txt_no_fw_rules``: ``src => dst : conn``). The grouped "fw
rules" maps are in ``test_nca_fw_rules.py``; Calico and Istio suites use
policy dialects we do not implement.

Differences of model, normalised before comparing:

- NCA's "All connections" covers every IP protocol; ours TCP, UDP and SCTP.
  ``All but {...}`` becomes the complement within TCP/UDP/SCTP.
- NCA lists no self-loops either; a line whose src equals its dst is dropped.
- Address ranges: NCA merges adjacent ranges that share a connection on the
  destination side only (``pod => 0.0.0.0-255.255.255.255`` but
  ``0.0.0.0-9.255.255.255 => pod`` and ``10.0.0.0-10.255.255.255 => pod``).
  Both outputs are cut at the union of their bounds before comparing
  (:func:`nca_common.refine`); that changes the spelling, not the meaning.
- kube-dns "livesim": when policies point at ``k8s-app: kube-dns`` and the
  input has no such pod, NCA adds a simulated ``kube-system/kube-dns-livesim``
  pod (docs/SimulatingLiveClusterMissingResources.md). netsleuth derives the
  same thing for DNS questions (:func:`netsleuth.model.cluster_dns.with_kube_dns`,
  pod ``coredns-derived``); the connection list shows only the input, so the
  test adds the derived kube-dns in exactly that situation and names it as
  NCA does.

hostNetwork pods: Kubernetes leaves NetworkPolicy on them to the plugin
(https://kubernetes.io/docs/concepts/services-networking/network-policies/#networkpolicy-and-hostnetwork-pods):
a plugin either applies pod/namespace selectors to them like to any pod, or
ignores them in selectors and treats their traffic as the node's ("the most
common implementation"). netsleuth's default is the second; NCA assumes the
first, which netsleuth offers as ``--host-network pod``. The comparison runs
netsleuth in that mode.

A case that disagrees otherwise fails with the differing lines (it was an
xfail, so a regression could not fail the suite).
"""

from __future__ import annotations

from typing import Any

import pytest

from corpus.nca_common import (
    Scheme,
    Triple,
    conn_key,
    corpus_root,
    load_config,
    nca_livesim,
    nca_queries,
    parse_pair_lines,
    parse_range,
    refers_to_kube_dns,
    refine,
    show,
    without_host_network,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.cluster_dns import has_kube_dns
from netsleuth.policy.connlist import connectivity

LIVESIM_DNS = "kube-system/kube-dns-livesim[Pod]"
DERIVED_DNS = "kube-system/coredns-derived[Pod]"


def _cases() -> list[Any]:
    root = corpus_root()
    out = []
    for q in nca_queries():
        oc = q.get("output_configuration") or {}
        if (
            q["suite"] == "k8s_testcases"
            and q["query_type"] == "connectivityMap"
            and oc.get("outputFormat") == "txt_no_fw_rules"
            and q.get("expected_output")
        ):
            out.append(pytest.param((root, q), id=q["query_name"]))
    return out


def _ours(model: ClusterModel) -> set[Triple]:
    out: set[Triple] = set()
    for c in connectivity(model):
        s, d = c.src.describe(), c.dst.describe()
        rename = {DERIVED_DNS: LIVESIM_DNS}
        src = parse_range(c.src.name) if c.src.kind == "ip_range" else rename.get(s, s)
        dst = parse_range(c.dst.name) if c.dst.kind == "ip_range" else rename.get(d, d)
        assert src is not None and dst is not None
        out.add((src, dst, conn_key(dict(c.ports))))
    return out


def _compare(model: ClusterModel, want: set[Triple]) -> tuple[set[Triple], set[Triple]]:
    w, g = refine(want, _ours(model))
    return w - g, g - w


@pytest.mark.parametrize("case", _cases())
def test_nca_connectivity_pairs(case: Any) -> None:
    root, q = case
    model = load_config(Scheme.read(root, q["scheme"]), q["configs"][0])
    text = (root / q["expected_output"]).read_text()
    want = {t for t in parse_pair_lines(text.splitlines()) if t[0] != t[1]}
    if LIVESIM_DNS in text:
        # NCA's simulated kube-dns (see the module docstring).
        assert not has_kube_dns(model) and refers_to_kube_dns(model)
        model = nca_livesim(model)
    # NCA's reading of hostNetwork pods (see the module docstring): --host-network pod.
    missing, extra = _compare(without_host_network(model), want)
    assert not missing and not extra, (
        f"{len(want)} expected pairs: {len(missing)} missing ({show(missing)}), "
        f"{len(extra)} extra ({show(extra)})"
    )

"""network-config-analyzer (NCA) grouped "fw rules" connectivity maps against our engine.

Scope: the ``fw_rules_tests`` ``connectivityMap`` queries over K8s-only
configs whose expected output is ``txt`` or ``yaml`` (the csv/md/dot/json
variants render the same maps again; ``subset`` outputs print part of the
map). Calico and Istio configs are skipped as unsupported dialects.

NCA prints each map as grouped rules (``src_ns: [..] src_pods: [..] dst_ns:
[..] dst_pods: [..] conn: ..``, pods as ``*``, owner or pod names, or label
expressions such as ``app in (a,b)`` or ``!has(tier) or tier=x``). The grouping
is one of many equivalent compressions, so each rule is expanded to
(src pod, dst pod, ports) triples over the config's pods
(``nca_common.expand_fw_rules``) and compared with our engine's pod-level
connections (``nca_common.pod_connections``), address ranges cut at common
bounds. Normalised as in ``test_nca_connectivity``: TCP/UDP/SCTP only, pod
self-connections left out, NCA's kube-dns livesim.

hostNetwork pods: NCA applies selectors to them like to any pod (Kubernetes
leaves this to the plugin; netsleuth's default ignores them), so the
comparison runs netsleuth with ``--host-network pod``. Any disagreement fails
the test with the differing triples (it was an xfail, which cannot fail).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus.nca_common import (
    PodConnections,
    Scheme,
    corpus_root,
    dialects,
    expand_fw_rules,
    load_config,
    nca_livesim,
    nca_queries,
    pod_connections,
    refine,
    sections,
    show,
    without_host_network,
)
from corpus.test_nca_semantic_diff import yaml_rule_lines

SYSTEM_NS = ("kube-system/", "kube-public/", "openshift")


def _cases() -> list[Any]:
    root = corpus_root()
    out = []
    for q in nca_queries():
        oc = q.get("output_configuration") or {}
        fmt = oc.get("outputFormat") or "txt"
        if (
            q["suite"] == "fw_rules_tests"
            and q["query_type"] == "connectivityMap"
            and q.get("expected_output")
            and q["configs"]
            and fmt in ("txt", "yaml")
        ):
            name = Path(q["expected_output"]).name
            marks = []
            if oc.get("subset"):
                marks.append(pytest.mark.skip(reason="subset output: part of the map only"))
            out.append(pytest.param((root, q, fmt), id=name, marks=marks))
    return out


@cache
def _pods(root: Path, scheme: str, ref: str, nca_host: bool, livesim: bool) -> PodConnections:
    model = load_config(Scheme.read(root, scheme), ref)
    found = dialects(model)
    if found:
        pytest.skip(f"unsupported dialect: {', '.join(found)}")
    if livesim and not model.pods_by_namespace.get("kube-system"):
        model = nca_livesim(model)
    return pod_connections(without_host_network(model) if nca_host else model)


def _app_pod(peer: object) -> bool:
    return isinstance(peer, str) and not peer.startswith(SYSTEM_NS)


def _expected(path: Path, fmt: str, configs: list[str]) -> dict[str, list[str]]:
    """Config name -> its fw-rule lines."""
    if fmt == "yaml":
        doc = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        out: dict[str, list[str]] = {}
        for item in doc:
            cfgs = item.get("configs") or configs
            lines = [ln for ex in item.get("explanation") or [] for ln in yaml_rule_lines(ex)]
            out.setdefault(cfgs[0], []).extend(lines)
        return out
    out = {}
    current = configs[0]
    for header, lines in sections(path.read_text()):
        if "config: " in header:
            current = header.rsplit("config: ", 1)[1].rstrip(":").strip()
        out.setdefault(current, []).extend(lines)
    return out


def _problems(
    root: Path, q: dict[str, Any], expected: dict[str, list[str]], nca_host: bool
) -> list[str]:
    oc = q.get("output_configuration") or {}
    out = []
    for ref, lines in expected.items():
        # NCA adds its kube-dns livesim in some inputs and not in others (poc1 has policies
        # towards kube-dns and no livesim in its map); follow the expected output.
        livesim = any(re.search(r"kube-system(?![\w-])|livesim", ln) for ln in lines)
        pc = _pods(root, q["scheme"], ref, nca_host, livesim)
        if pc.model.ingresses:
            pytest.skip("Ingress: NCA adds connections from the ingress controller pod it finds")
        want = expand_fw_rules(pc.model, lines)
        if isinstance(want, str):
            pytest.skip(want)
        got = pc.triples()
        if oc.get("fwRulesFilterSystemNs"):
            # NCA's output option (undocumented; read from poc3's expected map): a
            # connection is printed only when one end is a pod outside system namespaces.
            got = {t for t in got if _app_pod(t[0]) or _app_pod(t[1])}
        w, g = refine(want, got)
        if w != g:
            out.append(
                f"{ref}: {len(w)} expected triples, missing {show(w - g, 4)}; "
                f"extra {show(g - w, 4)}"
            )
    return out


@pytest.mark.parametrize("case", _cases())
def test_nca_fw_rules_connectivity_map(case: Any) -> None:
    root, q, fmt = case
    expected = _expected(root / q["expected_output"], fmt, q["configs"])
    assert expected, "no rules read from the expected output"
    # NCA's reading of hostNetwork pods: netsleuth's --host-network pod.
    problems = _problems(root, q, expected, True)
    assert not problems, " | ".join(problems)

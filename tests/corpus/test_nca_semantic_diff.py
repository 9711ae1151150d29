"""network-config-analyzer (NCA) ``semanticDiff`` queries against our engine.

NCA's semantic diff sorts the changed connections between two configs into
ten categories (``nca_common.CATEGORIES``): connections lost with removed
pods, new with added pods, and, between pods present in both topologies
(by namespace/name) or between such a pod and an address range, the ports
removed and the ports added. Its numeric result is the number of non-empty
categories, summed over every pair of the listed configs (first = before).

We compute the categories from our engine's pod-level connection lists
(``nca_common.pod_connections``; the workload-level list folds pods of a
DaemonSet together, which would hide a pod removed from it) and check:

- ``test_nca_semantic_diff_count``: the number of categories, for every
  K8s-only query with a numeric ``expected`` (one case per query, not per
  output format);
- ``test_nca_semantic_diff_output``: the connections of every category, for
  the queries whose expected output is pair lines (``txt_no_fw_rules``:
  folded to workloads) or grouped fw rules (``txt`` and ``yaml``: expanded to
  pod-level triples over that category's topology).

Model differences normalised (see ``test_nca_connectivity``): TCP/UDP/SCTP
only, address ranges cut at common bounds. The known model differences are an
explicit allowlist (``MODEL_DIFFERENCES``), marked strict xfail: such a case
that starts agreeing fails (XPASS) until it is taken off the list. Any other
disagreement fails the test with the differing lines.
"""

from __future__ import annotations

import itertools
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus.nca_common import (
    ALL,
    CATEGORIES,
    PodConnections,
    Scheme,
    Triple,
    corpus_root,
    dialects,
    expand_fw_rules,
    fold,
    load_config,
    nca_livesim,
    nca_queries,
    parse_pair_lines,
    pod_connections,
    refine,
    sections,
    semantic_diff,
    show,
    without_host_network,
)
from netsleuth.policy.connlist import connectivity

SUITES = ("k8s_testcases", "fw_rules_tests")


HOST_NETWORK = (
    "NCA model difference: NCA applies selectors to hostNetwork pods like to any pod; "
    "netsleuth ignores them in selectors and treats their traffic as the node's "
    "(Kubernetes leaves this to the plugin). With hostNetwork cleared the results are equal"
)


OTHER_PROTOCOLS = (
    "NCA model difference: NCA's connections cover every IP protocol; a rule listing "
    "TCP, UDP and SCTP on all ports still denies ICMP and the rest there, so replacing it "
    "by an allow-all rule adds connections for NCA only. Kubernetes NetworkPolicy speaks of "
    "TCP, UDP and SCTP only; what a plugin does with other protocols is not specified"
)
MODEL_DIFFERENCES = {
    # np3's two policies differ only in protocols other than TCP/UDP/SCTP (read them:
    # k8s_testcases/example_policies/withEndPort/withEndPort-networkpolicy3.yaml).
    ("withEndPort-scheme.yaml", "semantic_diff"): OTHER_PROTOCOLS,
}


@cache
def _pods(root: Path, scheme: str, ref: str, nca_host: bool = False) -> PodConnections:
    """Our pod-level connections; ``nca_host``: with hostNetwork cleared (NCA's reading)."""
    model = load_config(Scheme.read(root, scheme), ref)
    found = dialects(model)
    if found:
        pytest.skip(f"unsupported dialect: {', '.join(found)}")
    model = nca_livesim(model)
    return pod_connections(without_host_network(model) if nca_host else model)


def _has_host_network(root: Path, scheme: str, refs: list[str]) -> bool:
    return any(p.spec.host_network for r in refs for p in _pods(root, scheme, r).model.pods)


@cache
def _diff(
    root: Path, scheme: str, before: str, after: str, nca_host: bool = False
) -> dict[str, frozenset[Triple]]:
    d = semantic_diff(_pods(root, scheme, before, nca_host), _pods(root, scheme, after, nca_host))
    return {k: frozenset(v) for k, v in d.items()}


def _selected(q: dict[str, Any]) -> bool:
    return (
        q["suite"] in SUITES
        and q["query_type"] == "semanticDiff"
        and not q["expected_not_executed"]
        and bool(q["configs"])
    )


def _count_cases() -> list[Any]:
    root = corpus_root()
    seen = set()
    out = []
    for q in nca_queries():
        key = (q["scheme"], q["query_name"], tuple(q["configs"] or ()))
        if not _selected(q) or q["expected"] is None or key in seen:
            continue
        seen.add(key)
        name = f"{q['suite'].split('_')[0]}-{Path(q['scheme']).stem}-{q['query_name']}"
        known = MODEL_DIFFERENCES.get((Path(q["scheme"]).name, q["query_name"]))
        marks = [pytest.mark.xfail(strict=True, reason=known)] if known else []
        out.append(pytest.param((root, q), id=name, marks=marks))
    return out


def _output_cases() -> list[Any]:
    root = corpus_root()
    out = []
    for q in nca_queries():
        fmt = (q.get("output_configuration") or {}).get("outputFormat") or "txt"
        if _selected(q) and q.get("expected_output") and fmt in ("txt", "txt_no_fw_rules", "yaml"):
            name = f"{q['suite'].split('_')[0]}-{Path(q['expected_output']).name}"
            out.append(pytest.param((root, q, fmt), id=name))
    return out


def _pairs(configs: list[str]) -> list[tuple[str, str]]:
    return list(itertools.combinations(configs, 2))


@pytest.mark.parametrize("case", _count_cases())
def test_nca_semantic_diff_count(case: Any) -> None:
    root, q = case

    def count(nca_host: bool) -> tuple[int, str]:
        total = 0
        per_pair = []
        for before, after in _pairs(q["configs"]):
            d = _diff(root, q["scheme"], before, after, nca_host)
            cats = [c for c, v in d.items() if v]
            total += len(cats)
            per_pair.append(f"{before}->{after}: {cats}")
        return total, "; ".join(per_pair)

    # NCA's reading of hostNetwork pods: netsleuth's --host-network pod.
    total, detail = count(True)
    if total == q["expected"]:
        return
    raise AssertionError(f"NCA counts {q['expected']} categories, we {total}: {detail}")


def _yaml_sections(path: Path) -> list[tuple[str, list[str]]]:
    """The yaml variant's explanation as (category, fw-rule lines) like the txt variant."""
    doc = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
    return [
        (item["description"], yaml_rule_lines(item)) for item in doc[0].get("explanation") or []
    ]


def yaml_rule_lines(item: dict[str, Any]) -> list[str]:
    """The ``rules`` of one yaml explanation item as NCA's txt fw-rule lines."""
    lines = []
    for r in item.get("rules") or []:
        src = (
            f"src: {','.join(r['src_ip_block'])}"
            if "src_ip_block" in r
            else f"src_ns: [{','.join(r['src_ns'])}] src_pods: [{','.join(r['src_pods'])}]"
        )
        dst = (
            f"dst: {','.join(r['dst_ip_block'])}"
            if "dst_ip_block" in r
            else f"dst_ns: [{','.join(r['dst_ns'])}] dst_pods: [{','.join(r['dst_pods'])}]"
        )
        lines.append(f"{src} {dst} conn: {_yaml_conn(r['connection'])}")
    return lines


def _yaml_conn(conn: list[Any]) -> str:
    """The yaml form of a connection back to NCA's text form."""
    parts = []
    for c in conn:
        if c == "All connections" or c == {"All connections": None}:
            return "All connections"
        if isinstance(c, dict) and "All but" in c:
            return "All but " + ",".join(_yaml_item(x) for x in c["All but"])
        parts.append(_yaml_item(c))
    return ",".join(parts)


def _yaml_item(c: dict[str, Any]) -> str:
    fields = [f"protocols:{c['protocols']}"]
    if c.get("dst_ports"):
        fields.append("dst_ports:" + ",".join(str(p) for p in c["dst_ports"]))
    return "{" + ",".join(fields) + "}"


def _category(header: str) -> tuple[str, str | None]:
    name = header.split(" (based on", 1)[0].rstrip(" :")
    config = None
    if "config: " in header:
        config = header.split("config: ", 1)[1].rstrip(" :)").rstrip(")")
    return name, config


@pytest.mark.parametrize("case", _output_cases())
def test_nca_semantic_diff_output(case: Any) -> None:
    root, q, fmt = case
    path = root / q["expected_output"]
    pairs = _pairs(q["configs"])
    if fmt == "yaml":
        if len(pairs) != 1:
            pytest.skip("yaml output of a multi-pair query lists no pair per category")
        found = _yaml_sections(path)
    else:
        found = sections(path.read_text())
    # Split the output per config pair: the txt output prints "A and B are not ..." lines.
    expected: dict[tuple[str, str], dict[str, list[str]]] = {p: {} for p in pairs}
    current = pairs[0]
    for header, lines in found:
        name, _ = _category(header)
        for line in [header, *lines]:
            for b, a in pairs:
                if line.startswith(f"{b} and {a} "):
                    current = (b, a)
        if name in CATEGORIES:
            expected[current][name] = [ln for ln in lines if "=>" in ln or ln.startswith("src")]
    problems, checked = _compare(root, q["scheme"], fmt, expected, True)
    if not problems:
        assert checked or all(
            not v for p in pairs for v in _diff(root, q["scheme"], *p, True).values()
        )
        return
    raise AssertionError(" | ".join(problems))


def _compare(
    root: Path,
    scheme: str,
    fmt: str,
    expected: dict[tuple[str, str], dict[str, list[str]]],
    nca_host: bool,
) -> tuple[list[str], int]:
    problems = []
    checked = 0
    for (before, after), cats in expected.items():
        ours = _diff(root, scheme, before, after, nca_host)
        pb, pa = _pods(root, scheme, before, nca_host), _pods(root, scheme, after, nca_host)
        for cat in CATEGORIES:
            lines = cats.get(cat, [])
            topo = pb if cat.startswith(("Lost", "Removed")) else pa
            got_pods = set(ours[cat])
            if fmt == "txt_no_fw_rules":
                want = parse_pair_lines(lines)
                got = fold(topo, got_pods)
            else:
                exp = expand_fw_rules(topo.model, lines)
                if isinstance(exp, str):
                    pytest.skip(exp)
                want, got = exp, got_pods
            w, g = refine(want, got)
            checked += len(w)
            if w != g:
                problems.append(
                    f"{before}->{after} {cat}: missing {show(w - g, 3)}; extra {show(g - w, 3)}"
                )
    return problems, checked


def test_pod_level_folds_to_the_connection_list() -> None:
    """Our pod-level view (used above) is the workload connection list unfolded."""
    root = corpus_root()
    rel = "tests/k8s_testcases/example_policies/tests-different-topologies/"
    scheme = rel + "semanticDiff-different-topologies-scheme.yaml"
    for ref in ("config_a", "config_b_with_ipBlock"):
        pc = _pods(root, scheme, ref)
        folded = {t for t in fold(pc, pc.triples()) if t[0] != t[1]}
        listed = set()
        for c in connectivity(pc.model):
            s = c.src.describe() if c.src.kind != "ip_range" else None
            d = c.dst.describe() if c.dst.kind != "ip_range" else None
            ports = {p: v for p, v in c.ports if p in ALL}
            listed.add((s, d, tuple(sorted((p, v.ranges) for p, v in ports.items()))))
        folded_named = {
            (s if isinstance(s, str) else None, d if isinstance(d, str) else None, c)
            for s, d, c in folded
        }
        assert folded_named == listed

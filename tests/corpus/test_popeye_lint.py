"""popeye's network lint fixtures (``tests/data/corpus/popeye-lint``) against ``netsleuth scan``.

For each case the cluster is exactly the union of the case's input files. Every
expected popeye issue is classified below:

- a network fault: our scan (all registered checks) must report the same
  object with a finding of the same meaning (a rule family plus, where one
  rule covers several faults, words of its message);
- out of scope or judged wrong: recorded with the reason, not scored.

A network-fault row whose rule family has no registered check yet skips with
that reason (the families are written by different people), so the test
never passes by default and starts scoring as soon as the family lands.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus.paths import CORPUS
from netsleuth.checks.base import REGISTRY, load_all, run_checks
from netsleuth.model.findings import Finding
from netsleuth.sources.load import load_offline


@dataclass(frozen=True)
class Meaning:
    name: str
    family: str
    """Rule ID prefix whose checks can report it (``ING8``, ``POL``)."""
    matches: Callable[[Finding], bool]
    same_detail: Callable[[str, Finding], bool] = lambda _msg, _f: True
    """Given popeye's message, does our finding name the same detail (which selector)?"""


def _rule(rule_id: str, *words: str) -> Callable[[Finding], bool]:
    return lambda f: f.rule_id == rule_id and all(w in f.message for w in words)


def _policy_selects_nothing(f: Finding) -> bool:
    summary = REGISTRY[f.rule_id].summary.lower() if f.rule_id in REGISTRY else ""
    return (
        f.rule_id.startswith("POL")
        and "match" in summary
        and ("nothing" in summary or " no " in summary)
    )


_SELECTOR = re.compile(r"selector: (\S+)")


def _names_the_selector(popeye_message: str, f: Finding) -> bool:
    """Our finding names the same selector, by its label value (popeye renders ``app=p2``
    or ``app-In-ns-bozo``; we render ``app=p2`` / ``app in (ns-bozo)``)."""
    m = _SELECTOR.search(popeye_message)
    if m is None:
        return True
    value = re.split(r"=|-In-|-NotIn-", m.group(1))[-1]
    return re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", f.message) is not None


SELECTS_NOTHING = Meaning(
    "NetworkPolicy selector matches no pod/namespace",
    "POL",
    _policy_selects_nothing,
    _names_the_selector,
)
ING_SERVICE_MISSING = Meaning(
    "Ingress backend Service does not exist", "ING8", _rule("ING802", "does not exist")
)
ING_PORT_UNDEFINED = Meaning(
    "Ingress backend port not on the Service",
    "ING8",
    lambda f: (
        f.rule_id == "ING802" and ("does not define" in f.message or "gives no port" in f.message)
    ),
)
ING_NO_PORT = Meaning("Ingress backend gives no port", "ING8", _rule("ING802", "gives no port"))
GW_CLASS_MISSING = Meaning(
    "Gateway's GatewayClass does not exist", "ING8", _rule("ING811", "does not exist")
)
ROUTE_GATEWAY_MISSING = Meaning(
    "route parentRef Gateway does not exist", "ING8", _rule("ING808", "does not exist")
)
ROUTE_SERVICE_MISSING = Meaning(
    "route references a Service that does not exist (parentRef or backendRef)",
    "ING8",
    lambda f: (
        f.rule_id in ("ING808", "ING809")
        and "Service" in f.message
        and "does not exist" in f.message
    ),
)
ROUTE_PORT_MISSING = Meaning(
    "route backendRef port not on the Service", "ING8", _rule("ING809", "has no port")
)

# (linter, POP code, message fragment or "") -> Meaning, or the reason it is not scored.
CLASSIFY: list[tuple[str, str, str, Meaning | str]] = [
    ("NetworkPolicy", "POP-1200", "", SELECTS_NOTHING),
    ("NetworkPolicy", "POP-1201", "", SELECTS_NOTHING),
    (
        "NetworkPolicy",
        "POP-1202",
        "app=pod-bozo",
        "judged a duplicate: np3's peer is namespaceSelector app In (ns-bozo) AND podSelector "
        "app=pod-bozo; with no namespace matching, the peer matches nothing whatever its podSelector, "
        "and we report the peer once, by its namespaceSelector (scored as POP-1201)",
    ),
    ("NetworkPolicy", "POP-1202", "", SELECTS_NOTHING),
    ("NetworkPolicy", "POP-1208", "", SELECTS_NOTHING),
    (
        "NetworkPolicy",
        "POP-1203",
        "",
        "informational: a deny-all or allow-all policy is a deliberate choice, not a misconfiguration",
    ),
    (
        "NetworkPolicy",
        "POP-1206",
        "",
        "judged wrong as a fault: an ipBlock names addresses outside the pod network on purpose "
        "(external CIDRs); containing no pod IP is the normal case",
    ),
    (
        "NetworkPolicy",
        "POP-1207",
        "",
        "judged wrong as a fault: same as POP-1206, for an ipBlock except",
    ),
    (
        "Service",
        "POP-1109",
        "",
        "availability advice (a single endpoint), not a network fault: traffic to the Service works",
    ),
    ("Ingress", "POP-1401", "", ING_SERVICE_MISSING),
    ("Ingress", "POP-1402", "", ING_PORT_UNDEFINED),
    ("Ingress", "POP-1404", "", ING_NO_PORT),
    (
        "Ingress",
        "POP-1403",
        "",
        "style advice (prefer a named port); a numeric Service port is valid",
    ),
    (
        "Ingress",
        "POP-1400",
        "",
        "not covered: the model keeps status.loadBalancer.ingress addresses only, not per-port error "
        "strings; the fixture's error ('boom') is a synthetic status with no address",
    ),
    (
        "Ingress",
        "POP-666",
        "",
        "popeye's own internal error (local object references unsupported), per the corpus README",
    ),
    ("Gateway", "POP-407", "GatewayClass", GW_CLASS_MISSING),
    ("GatewayClass", "POP-400", "", "informational: an unused GatewayClass breaks no traffic"),
    ("HTTPRoute", "POP-407", "Gateway", ROUTE_GATEWAY_MISSING),
    ("HTTPRoute", "POP-407", "Service", ROUTE_SERVICE_MISSING),
    ("HTTPRoute", "POP-1106", "", ROUTE_PORT_MISSING),
    (
        "CiliumNetworkPolicy",
        "POP-1700",
        "",
        "out of scope: the case's cluster has CiliumEndpoint objects and no Pods, so a pod-based "
        "analysis would find every policy selecting nothing, including cnp1/cnp4 that popeye passes",
    ),
    (
        "CiliumClusterwideNetworkPolicy",
        "POP-1700",
        "",
        "out of scope: as for CiliumNetworkPolicy POP-1700 (no Pods in the case)",
    ),
    (
        "CiliumClusterwideNetworkPolicy",
        "POP-1701",
        "",
        "out of scope: the case has no Node objects, so every nodeSelector matches nothing",
    ),
    (
        "CiliumEndpoint",
        "POP-1702",
        "",
        "out of scope: Cilium agent bookkeeping (CiliumEndpoint), not network configuration",
    ),
    (
        "CiliumEndpoint",
        "POP-1703",
        "",
        "out of scope: Cilium agent bookkeeping (CiliumEndpoint), not network configuration",
    ),
    (
        "CiliumEndpoint",
        "POP-1704",
        "",
        "out of scope: Cilium agent bookkeeping (CiliumEndpoint), not network configuration",
    ),
    (
        "CiliumIdentity",
        "POP-1603",
        "",
        "out of scope: Cilium identity labels, not network configuration",
    ),
    (
        "CiliumIdentity",
        "POP-1604",
        "",
        "out of scope: Cilium identity labels, not network configuration",
    ),
    (
        "CiliumIdentity",
        "POP-307",
        "",
        "out of scope: a missing ServiceAccount is an RBAC/identity matter",
    ),
]

_CODE = re.compile(r"\[(POP-\d+)\]")


def classify(linter: str, message: str) -> Meaning | str:
    m = _CODE.search(message)
    if m is None:
        return "popeye issue without a code (an empty record in the corpus)"
    code = m.group(1)
    for lint, c, fragment, outcome in CLASSIFY:
        if lint == linter and c == code and fragment in message:
            return outcome
    raise AssertionError(f"unclassified popeye issue {linter} {message!r}: add a row to CLASSIFY")


def _cases(corpus: Path) -> list[dict[str, object]]:
    return json.loads((corpus / "popeye-lint" / "cases.json").read_text())  # type: ignore[no-any-return]


def _subject_matches(f: Finding, linter: str, obj: str) -> bool:
    ns, _, name = obj.rpartition("/")
    return f.subject.kind == linter and f.subject.name == name and (f.subject.namespace or "") == ns


CASE_IDS = [c["id"] for c in _cases(CORPUS)]


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_popeye_case(case_id: str, corpus_dir: Path) -> None:
    case = next(c for c in _cases(corpus_dir) if c["id"] == case_id)
    base = corpus_dir / "popeye-lint"
    model = load_offline([str(base / i["file"]) for i in case["inputs"]])  # type: ignore[index,union-attr]
    checks = load_all()
    result = run_checks(model, checks.values())
    linter = str(case["linter"])
    scored = missing = 0
    not_yet: list[str] = []
    failures: list[str] = []
    for exp in case["expected"]:  # type: ignore[union-attr]
        for issue in exp["issues"]:
            outcome = classify(linter, str(issue.get("message", "")))
            if isinstance(outcome, str):
                continue
            if not any(c.startswith(outcome.family) for c in checks):
                not_yet.append(
                    f"{exp['object']}: {outcome.name} (no {outcome.family}* check registered)"
                )
                continue
            scored += 1
            hits = [
                f
                for f in result.findings
                if _subject_matches(f, linter, exp["object"])
                and outcome.matches(f)
                and outcome.same_detail(str(issue["message"]), f)
            ]
            if not hits:
                missing += 1
                failures.append(f"{exp['object']}: expected {outcome.name} ({issue['message']})")
    if failures:
        got = "\n".join(f"  {f.rule_id} {f.subject.ref()}: {f.message}" for f in result.findings)
        pytest.fail(
            f"{missing} of {scored} popeye network faults not reported:\n"
            + "\n".join(failures)
            + f"\nfindings:\n{got}"
        )
    if not_yet and scored == 0:
        pytest.skip("; ".join(not_yet))


def test_every_corpus_issue_is_classified(corpus_dir: Path) -> None:
    """A corpus update with a new popeye code must get a row (scored or with a reason)."""
    for case in _cases(corpus_dir):
        for exp in case["expected"]:  # type: ignore[union-attr]
            for issue in exp["issues"]:
                classify(str(case["linter"]), str(issue.get("message", "")))


def test_no_false_positives_on_objects_popeye_passes(corpus_dir: Path) -> None:
    """Objects popeye asserts clean (no issues) get no finding of a scored meaning from us."""
    meanings = [m for *_, m in CLASSIFY if isinstance(m, Meaning)]
    checks = load_all()
    extra: list[str] = []
    for case in _cases(corpus_dir):
        base = corpus_dir / "popeye-lint"
        model = load_offline([str(base / i["file"]) for i in case["inputs"]])  # type: ignore[index,union-attr]
        result = run_checks(model, checks.values())
        for exp in case["expected"]:  # type: ignore[union-attr]
            if exp["issues"]:
                continue
            for f in result.findings:
                if _subject_matches(f, str(case["linter"]), exp["object"]) and any(
                    m.matches(f) for m in meanings
                ):
                    extra.append(f"{case['id']} {exp['object']}: {f.rule_id} {f.message}")
    assert not extra, "findings on objects popeye passes:\n" + "\n".join(extra)


def test_popeye_tally(corpus_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Counts over the whole corpus (printed with ``-s``); every scored fault must be matched."""
    checks = load_all()
    base = corpus_dir / "popeye-lint"
    total = scored = matched = excluded = pending = 0
    for case in _cases(corpus_dir):
        model = load_offline([str(base / i["file"]) for i in case["inputs"]])  # type: ignore[index,union-attr]
        result = run_checks(model, checks.values())
        linter = str(case["linter"])
        for exp in case["expected"]:  # type: ignore[union-attr]
            for issue in exp["issues"]:
                total += 1
                outcome = classify(linter, str(issue.get("message", "")))
                if isinstance(outcome, str):
                    excluded += 1
                elif not any(c.startswith(outcome.family) for c in checks):
                    pending += 1
                else:
                    scored += 1
                    matched += any(
                        _subject_matches(f, linter, exp["object"])
                        and outcome.matches(f)
                        and outcome.same_detail(str(issue["message"]), f)
                        for f in result.findings
                    )
    with capsys.disabled():
        print(
            f"\npopeye-lint: {total} expected issues; {scored} scored network faults, {matched} matched; "
            f"{excluded} out of scope / judged wrong (reasons in CLASSIFY); {pending} await an unregistered rule family"
        )
    assert matched == scored


def test_selector_detail_must_name_the_same_selector() -> None:
    from netsleuth.model.findings import Confidence, Layer, Severity, Subject

    f = Finding(
        rule_id="POL304",
        layer=Layer.POLICY_INGRESS,
        severity=Severity.WARNING,
        confidence=Confidence.INFERRED,
        subject=Subject("NetworkPolicy", "default", "np3"),
        message="spec.ingress[0].from[1].namespaceSelector app in (ns-bozo) matches no namespace",
    )
    assert _names_the_selector(
        "[POP-1201] No namespaces match ingress namespace selector: app-In-ns-bozo", f
    )
    assert not _names_the_selector("[POP-1202] No pods match ingress pod selector: app=pod-bozo", f)
    assert not _names_the_selector(
        "[POP-1208] No pods match egress pod selector: app=ns in namespace: x", f
    )

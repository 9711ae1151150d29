"""YAML typed as Kubernetes reads it, and the fast parser held to the reference loader.

Kubernetes (kubectl, the API server) reads YAML with sigs.k8s.io/yaml: go-yaml v2
decodes it, the value goes through JSON. ``K8sLoader`` (libyaml + those rules)
is the reference; ``yaml_k8s.load`` takes the Rust parser wherever
``yaml_k8s.risky`` finds nothing, and must give exactly the same values.
"""

from __future__ import annotations

import math
from itertools import product
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from netsleuth.model.problems import LoadProblem
from netsleuth.sources import manifests, yaml_k8s
from netsleuth.sources.base import RawObject
from netsleuth.sources.load import decode_all
from netsleuth.sources.manifests import iter_yaml_documents

REPO = Path(__file__).resolve().parents[2]


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (``True == 1`` and ``1.0 == 1`` do not count)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return {(type(k), k) for k in a} == {(type(k), k) for k in b} and all(
            same(a[k], b[k]) for k in a
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def ref(text: str) -> Any:
    return yaml.load(text, Loader=yaml_k8s.K8sLoader)


# go-yaml v2's resolve() (then JSON: an integral float is an integer), value by value.
GO_YAML_V2 = [
    ("yes", True),
    ("Yes", True),
    ("YES", True),
    ("on", True),
    ("ON", True),
    ("true", True),
    ("no", False),
    ("Off", False),
    ("FALSE", False),
    ("~", None),
    ("null", None),
    ("NULL", None),
    ("0755", 493),  # Go's ParseInt(s, 0, 64): a leading 0 is octal
    ("0x1F", 31),
    ("-0x1F", -31),
    ("0o17", 15),
    ("0b101", 5),
    ("+12", 12),
    ("-0", 0),
    ("1_000", 1000),  # go-yaml removes "_" before parsing
    ("08", 8),  # not octal: yamlStyleFloat reads 8.0, JSON makes it 8
    ("1e3", 1000),  # a float to go-yaml (PyYAML: the string "1e3")
    ("1.0", 1),
    ("1.5", 1.5),
    (".5", 0.5),
    ("1.", 1),
    ("9223372036854775807", 9223372036854775807),
    ("18446744073709551615", 18446744073709551615),  # ParseUint
    ("18446744073709551616", 1.8446744073709552e19),  # beyond uint64: a float
    ("1e400", "1e400"),  # ParseFloat out of range: a string
    (".inf", math.inf),
    ("-.Inf", -math.inf),
    ("1:20", "1:20"),  # no base 60 (PyYAML: 80)
    ("2024-01-01T00:00:00Z", "2024-01-01T00:00:00Z"),  # timestamps stay strings
    ("2024-01-01", "2024-01-01"),
    ("=", "="),  # YAML 1.1's value tag: a string to kubectl
    ("0bc0f84205", "0bc0f84205"),  # a pod-template-hash, not binary
    ("10.0.0.1", "10.0.0.1"),
    ("v1.30", "v1.30"),
    ("500m", "500m"),
    ("yesno", "yesno"),
    # Deliberately YAML 1.2 / PyYAML, not go-yaml v2 (which reads them as booleans):
    # the k8s e2e and cyclonus corpora name namespaces x, y, z unquoted.
    ("y", "y"),
    ("n", "n"),
    ("Y", "Y"),
]


@pytest.mark.parametrize(("plain", "value"), GO_YAML_V2)
def test_plain_scalars_are_typed_as_go_yaml_v2_through_json(plain: str, value: Any) -> None:
    assert same(yaml_k8s.go_plain(plain), value)
    assert same(ref(f"a: {plain}\n")["a"], value)
    assert same(yaml_k8s.load(f"a: {plain}\n")["a"], value)
    assert same(yaml_k8s.load(f'a: "{plain}"\n')["a"], plain)  # quoted: always a string


def test_keys_become_json_keys_and_merge_keys_merge() -> None:
    doc = "80: a\ntrue: b\n1.5: c\nbase: &b {x: 1}\nm:\n  <<: *b\n  y: 2\n"
    for load in (ref, yaml_k8s.load):
        got = load(doc)
        assert same(
            got, {"80": "a", "true": "b", "1.5": "c", "base": {"x": 1}, "m": {"x": 1, "y": 2}}
        )


def test_explicit_tags_are_checked_against_the_value() -> None:
    assert ref("a: !!str 12\n") == {"a": "12"}
    assert same(ref("a: !!float 1\n"), {"a": 1})
    with pytest.raises(yaml.YAMLError):
        ref("a: !!int abc\n")


def test_unquoted_creation_timestamp_is_a_string_not_a_bad_field() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
        "  creationTimestamp: 2018-12-11T16:42:12Z\n"
    )
    objects, problems = decode_all(iter_yaml_documents(text, "ns.yaml"))
    assert problems == []
    assert objects[0].meta.creation_timestamp == "2018-12-11T16:42:12Z"  # type: ignore[union-attr]


# Tokens of every shape the two readers might disagree on, in every place a scalar can be.
TOKENS = [p for p, _ in GO_YAML_V2] + [
    "",
    "a",
    "x y",
    "-1",
    "1",
    "123456789012345678",
    "1234567890123456789",
    "0",
    "00",
    "0x",
    "0b",
    "0o8",
    "+.inf",
    ".NaN",
    "1e",
    "1.2.3",
    "1_0.5",
    "-",
    "True",
    "Null",
    "!!str x",
    "&a x",
    "*a",
    "<<",
    "@x",
    "%x",
    "? x",
    "'yes'",
    '"1.0"',
    "1 # c",
    "yes # c",
    "on\t",
    "no\r",
]
CONTEXTS = [
    "a: {}\n",
    "- {}\n",
    "a:\n  {}\n",
    "a: [{}]\n",
    "a: [b, {}]\n",
    "a: {{b: {}}}\n",
    "{}: v\n",
    "- {}: v\n",
    "a: {{{}: v}}\n",
    "{}\n",
]


REFUSED: list[str] = []


def _agree(text: str) -> None:
    try:
        want = ref(text)
    except (yaml.YAMLError, ValueError, TypeError):
        want = "error"
    fast = yaml_k8s.load_fast(text)
    if fast is yaml_k8s.NOT_FAST:
        return  # K8sLoader reads it: agrees by construction
    if want == "error":
        REFUSED.append(text)
        return
    assert same(fast, want), f"{text!r}: fast {fast!r} != reference {want!r}"


def test_fast_parser_agrees_with_the_reference_wherever_it_is_used() -> None:
    used = 0
    for token, ctx in product(TOKENS, CONTEXTS):
        text = ctx.format(token, token)
        _agree(text)
        used += yaml_k8s.load_fast(text) is not yaml_k8s.NOT_FAST
    assert used > 100  # the fast path is taken for ordinary scalars


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "80", "x-y"]),
            st.text(alphabet="0123456789+-._eExXoObBaynNtTfFlu~:# ", min_size=0, max_size=8),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fast_parser_agrees_on_generated_scalars(pairs: list[tuple[str, str]]) -> None:
    _agree("".join(f"{k}{i}: {v}\n" for i, (k, v) in enumerate(pairs)))
    _agree("l:\n" + "".join(f"- {v}\n" for _, v in pairs))
    _agree("f: [" + ", ".join(v for _, v in pairs) + "]\n")


def _corpus_files() -> list[Path]:
    roots = [REPO / "tests", REPO / "src" / "netsleuth" / "data"]
    return sorted(p for r in roots for p in r.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_every_corpus_document_reads_the_same_through_the_fast_path() -> None:
    """The fast path (Rust where risky() finds nothing) equals the reference on every
    YAML document in the repository; most documents take the fast path."""
    docs = fast = 0
    for path in _corpus_files():
        text = path.read_text(errors="replace")
        for body in manifests._DOC_SEP.split(text):
            if not body.strip() or body.lstrip().startswith("..."):
                continue
            try:
                want = ref(body)
            except Exception:
                continue
            docs += 1
            got = yaml_k8s.load_fast(body)
            if got is yaml_k8s.NOT_FAST:
                continue
            fast += 1
            assert same(got, want), f"{path}: a document reads differently"
    assert docs > 3000
    assert fast > docs * 0.8


# --- big kubectl Lists, parsed a slice at a time -------------------------------------


def _pod(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"web-{i}", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "ports": [{"containerPort": 80 + i}]}]},
        **extra,
    }


def _kubectl_list(items: list[dict[str, Any]]) -> str:
    # PyYAML's block style is kubectl's layout: keys sorted, "- " at the parent's indent.
    return yaml.safe_dump(
        {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}},
        sort_keys=True,
        default_flow_style=False,
    )


def _read(text: str) -> tuple[list[RawObject], list[LoadProblem]]:
    out = list(iter_yaml_documents(text, "list.yaml"))
    return (
        [o for o in out if isinstance(o, RawObject)],
        [p for p in out if isinstance(p, LoadProblem)],
    )


@pytest.fixture
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "CHUNKED_YAML_MIN_CHARS", 10)
    monkeypatch.setattr(manifests, "_YAML_CHUNK_CHARS", 300)


def _whole(text: str) -> tuple[list[RawObject], list[LoadProblem]]:
    big = manifests.CHUNKED_YAML_MIN_CHARS
    manifests.CHUNKED_YAML_MIN_CHARS = 1 << 40
    try:
        return _read(text)
    finally:
        manifests.CHUNKED_YAML_MIN_CHARS = big


@pytest.mark.usefixtures("small_slices")
def test_sliced_list_equals_one_parse_values_and_lines() -> None:
    items = [_pod(i) for i in range(40)]
    items[17]["metadata"]["annotations"] = {"flag": "yes", "n": 1.5}  # quoted by the dumper
    text = _kubectl_list(items).replace("'yes'", "yes")  # a plain yes: this slice is risky
    objs, probs = _read(text)
    whole, wprobs = _whole(text)
    assert probs == wprobs == []
    assert [o.data for o in objs] == [o.data for o in whole]
    assert [o.origin.line for o in objs] == [o.origin.line for o in whole]
    assert objs[17].data["metadata"]["annotations"]["flag"] is True
    lines = text.split("\n")
    assert all(lines[o.origin.line - 1].startswith("- apiVersion") for o in objs)  # type: ignore[operator]


@pytest.mark.usefixtures("small_slices")
def test_a_cut_inside_a_multiline_string_costs_speed_not_values() -> None:
    items = [_pod(i) for i in range(30)]
    text = _kubectl_list(items)
    # A double-quoted string whose continuation line starts "- " at column 0.
    at = text.index("\n  spec:", text.index("name: web-5")) + 1
    text = text[:at] + '  note: "first\n- second"\n' + text[at:]
    objs, probs = _read(text)
    assert probs == []
    assert len(objs) == 30
    assert objs[5].data["note"] == "first - second"
    assert [o.data for o in objs] == [o.data for o in _whole(text)[0]]


@pytest.mark.usefixtures("small_slices")
def test_a_broken_item_keeps_the_items_before_it_and_names_its_line() -> None:
    text = _kubectl_list([_pod(i) for i in range(30)])
    at = text.index("  name: web-20\n")
    text = text[:at] + "  name: [web-20\n" + text[at + len("  name: web-20\n") :]
    objs, probs = _read(text)
    assert 0 < len(objs) <= 20
    assert len(probs) == 1
    assert "items list" in probs[0].message
    assert probs[0].origin.line is not None
    assert probs[0].origin.line >= text.count("\n", 0, at)


def test_without_the_rust_parser_everything_is_read_by_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _kubectl_list([_pod(i) for i in range(3)])
    fast = yaml_k8s.load(text)
    monkeypatch.setattr(yaml_k8s, "_yaml_rs", None)
    assert yaml_k8s.load_fast(text) is yaml_k8s.NOT_FAST
    assert same(yaml_k8s.load(text), fast)


# --- the risk scan, one distinct line at a time ----------------------------------------


def _one_scan(text: str, start: int, end: int) -> list[int]:
    return sorted(m.start() for rx in yaml_k8s._RISKY for m in rx.finditer(text, start, end))


@pytest.fixture
def by_line_always(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_k8s, "_BY_LINE_MIN_CHARS", 0)
    monkeypatch.setattr(yaml_k8s, "_BY_LINE_MAX_DISTINCT", 1.0)


@pytest.mark.usefixtures("by_line_always")
@pytest.mark.parametrize("find_max", [0, 1000])
def test_risk_marks_by_distinct_line_equal_one_scan_on_every_corpus_file(
    find_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Marks found per distinct line and placed at each copy (by search or by a loop over
    the lines) are the marks of one scan, for the whole text and for ranges inside it."""
    monkeypatch.setattr(yaml_k8s, "_FIND_MAX_LINES", find_max)
    marked = 0
    for path in _corpus_files():
        text = path.read_text(errors="replace")
        n = len(text)
        for start, end in ((0, n), (1, n - 1), (n // 3, n // 2)):
            want = _one_scan(text, start, max(start, end))
            assert yaml_k8s.risky_at(text, start, max(start, end)) == want, path
            marked += bool(want)
    assert marked > 100


_RISK_ATOMS = [
    *("yes", "no", "on", "Off", "true", "~", "null", "1", "0x1F", "1.5", "0755", "1e3", "1_0"),
    *("&a", "*a", "!t", "%", "@", "`", "?", "<<", ":", ": ", "- ", "#c", "...", "---"),
    *("[", "]", "{", "}", ",", "|", ">", "|-", " ", "\t", "\r", "\n", "\n  ", "key", "v"),
]


@pytest.mark.usefixtures("by_line_always")
@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_RISK_ATOMS), max_size=40),
    st.integers(1, 4),
    st.data(),
)
def test_risk_marks_by_distinct_line_equal_one_scan_on_generated_text(
    atoms: list[str], copies: int, data: st.DataObject
) -> None:
    text = "".join(atoms) * copies  # repeated lines, as in a dump of replicas
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for find_max in (0, 1000):
        yaml_k8s._FIND_MAX_LINES, keep = find_max, yaml_k8s._FIND_MAX_LINES
        try:
            assert yaml_k8s.risky_at(text, start, end) == _one_scan(text, start, end)
        finally:
            yaml_k8s._FIND_MAX_LINES = keep

"""Node evidence parsers never crash on hostile captures (Hypothesis).

Real captures (the test data beside this file and the scenarios' node folders)
are mutated the way a hostile or unlucky file would be: digits swapped for
Unicode digits (``mtu ¹⁵⁰⁰`` raised in ``int()`` after ``isdigit()``), numbers
thousands of digits long (``int()`` refuses over 4,300), lines cut, deep
JSON, NUL and control bytes, ``null`` where an object is expected. Reading
must end with the evidence it could use and problems for the rest, never an
exception; every number that comes out is an ordinary int.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from netsleuth.model.problems import LoadProblem
from netsleuth.sources.node_bundle import NodeEvidence

HERE = Path(__file__).parent
ROOT = HERE.parents[1]


def _captures() -> list[tuple[str, str]]:
    files = [p for p in sorted((HERE / "data").rglob("*")) if p.is_file()]
    files += [
        p
        for p in sorted((ROOT / "tests" / "scenarios").glob("*/nodes/*/**/*"))
        if p.is_file() and p.stat().st_size < 200_000
    ][:60]
    out = []
    for p in files:
        if p.suffix == ".md":
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        out.append((p.name, text))
    return out


CAPTURES = _captures()
UNICODE_DIGITS = "¹²³⁴⁵⁶⁷⁸⁹⁰٣۵߂१৩੫௭๑໒"
ODD = st.sampled_from(
    [
        "9" * 5000,
        "-" + "9" * 4400,
        "1e999999",
        "NaN",
        "null",
        '{"flags": null}',
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        "\x00\x1b]8;;http://x\x07",
        "\u202e\u2066",
        "０１２",
        "mtu ¹⁵⁰⁰",
        "nf_conntrack_count ²",
        "",
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name, text = draw(st.sampled_from(CAPTURES))
    lines = text.split("\n")[:400]
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["digits", "insert", "cut", "replace_number", "truncate"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if op == "digits":
            table = str.maketrans("0123456789", "".join(draw(st.permutations(UNICODE_DIGITS))[:10]))
            lines[i] = lines[i].translate(table)
        elif op == "insert":
            lines.insert(i, draw(st.one_of(ODD, st.text(max_size=80))))
        elif op == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif op == "replace_number":
            words = lines[i].split(" ")
            j = draw(st.integers(0, len(words) - 1))
            words[j] = draw(ODD)
            lines[i] = " ".join(words)
        else:
            lines = lines[:i]
    return name, "\n".join(lines)


def _ints(value: object, depth: int = 0) -> list[int]:
    if depth > 50:
        return []
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _ints(v, depth + 1)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _ints(v, depth + 1)]
    if hasattr(value, "__dataclass_fields__"):
        return [n for f in value.__dataclass_fields__ for n in _ints(getattr(value, f), depth + 1)]
    return []


@given(mutated())
def test_mutated_captures_never_crash(capture: tuple[str, str]) -> None:
    name, text = capture
    ev = NodeEvidence("worker-1", "fuzz")
    ev.add_text(text, f"fuzz/{name}", name)
    art, problems = ev.build()
    assert all(isinstance(p, LoadProblem) for p in problems)
    assert art.node == "worker-1"
    # numbers parsed from text are bounded (a 5,000-digit value is a problem, not a value)
    assert all(abs(n) < 1 << 128 for n in _ints(art))


@given(st.text(max_size=400), st.sampled_from([n for n, _ in CAPTURES] + ["", "x.json"]))
def test_arbitrary_text_never_crashes(text: str, name: str) -> None:
    ev = NodeEvidence("n", "fuzz")
    ev.add_text(text, f"fuzz/{name}", name)
    _, problems = ev.build()
    assert all(isinstance(p, LoadProblem) for p in problems)


def test_every_seed_capture_is_recognised() -> None:
    """The fuzz starts from captures the parsers read (else it would only test the sniffer)."""
    assert len(CAPTURES) >= 40
    for name, text in CAPTURES:
        ev = NodeEvidence("n", "seed")
        ev.add_text(text, name, name)
        _, problems = ev.build()
        assert ev.sections and not problems, name

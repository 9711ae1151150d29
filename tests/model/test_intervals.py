"""Property tests for the interval algebra (ports and IP sets), checked against plain Python sets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from netsleuth.model.intervals import ALL_PORTS, IntervalSet, IPSet, parse_cidr

SMALL = 64  # a small universe so sets can be compared element by element

ranges = st.lists(
    st.tuples(st.integers(0, SMALL), st.integers(0, SMALL)).map(lambda t: (min(t), max(t))),
    max_size=6,
)
interval_sets = ranges.map(IntervalSet.of)


def elems(s: IntervalSet) -> set[int]:
    return {x for lo, hi in s for x in range(lo, hi + 1)}


def is_normalised(s: IntervalSet) -> bool:
    return all(lo <= hi for lo, hi in s) and all(
        a[1] + 1 < b[0] for a, b in zip(s.ranges, s.ranges[1:], strict=False)
    )


@given(ranges)
def test_of_normalises(rs: list[tuple[int, int]]) -> None:
    s = IntervalSet.of(rs)
    assert is_normalised(s)
    assert elems(s) == {x for lo, hi in rs for x in range(lo, hi + 1)}


@given(interval_sets, interval_sets)
def test_union_commutes_and_is_set_union(a: IntervalSet, b: IntervalSet) -> None:
    assert a | b == b | a
    assert elems(a | b) == elems(a) | elems(b)
    assert is_normalised(a | b)


@given(interval_sets, interval_sets, interval_sets)
def test_union_and_intersection_associate(a: IntervalSet, b: IntervalSet, c: IntervalSet) -> None:
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)


@given(interval_sets, interval_sets)
def test_intersection_and_difference_match_sets(a: IntervalSet, b: IntervalSet) -> None:
    assert elems(a & b) == elems(a) & elems(b)
    assert elems(a - b) == elems(a) - elems(b)
    assert is_normalised(a & b) and is_normalised(a - b)


@given(interval_sets, interval_sets)
def test_difference_laws(a: IntervalSet, b: IntervalSet) -> None:
    assert (a - b) & b == IntervalSet()  # nothing of b survives
    assert (a - b) | (a & b) == a  # a splits into the part outside b and the part inside
    assert (a - b).issubset(a)
    assert a - a == IntervalSet()
    assert a - IntervalSet() == a


@given(interval_sets, interval_sets)
def test_de_morgan_within_universe(a: IntervalSet, b: IntervalSet) -> None:
    u = IntervalSet.single(0, SMALL)
    assert u - (a | b) == (u - a) & (u - b)
    assert u - (a & b) == (u - a) | (u - b)


@given(interval_sets, st.integers(-1, SMALL + 1))
def test_contains_matches_membership(s: IntervalSet, x: int) -> None:
    assert (x in s) == (x in elems(s))


@given(interval_sets)
def test_size_and_describe(s: IntervalSet) -> None:
    assert s.size() == len(elems(s))
    assert len(s.describe()) == len(s.ranges)


@given(st.integers(0, 255), st.integers(24, 32), st.integers(0, 255))
def test_except_removes_exactly_its_range(third: int, prefix: int, host: int) -> None:
    """cidr minus except: every address of the except is gone, every other one stays."""
    block = IPSet.from_cidr("10.0.0.0/16")
    ex_text = f"10.0.{third}.{host}/{prefix}"
    ex = IPSet.from_cidr(ex_text)
    rest = block - ex
    _, lo, hi = parse_cidr(ex_text)
    assert rest.v4.size() == block.v4.size() - (hi - lo + 1)
    for probe in (lo, hi):
        assert probe not in rest.v4
    for probe in (lo - 1, hi + 1):
        assert (probe in rest.v4) == (probe in block.v4)


def test_cidr_host_bits_and_families() -> None:
    # Host bits set are accepted as the API server accepts them: 10.0.1.11/4 is 0.0.0.0/4.
    assert IPSet.from_cidr("10.0.1.11/4") == IPSet.from_cidr("0.0.0.0/4")
    both = IPSet.everything()
    assert both.contains_ip("::1") and both.contains_ip("255.255.255.255")
    v6 = IPSet.from_cidr("fd00::/8")
    assert not v6.contains_ip("10.0.0.1") and v6.contains_ip("fd00::1")
    assert (both - v6).contains_ip("10.0.0.1") and not (both - v6).contains_ip("fd12::1")


def test_port_edges() -> None:
    assert ALL_PORTS.size() == 65535 and 0 not in ALL_PORTS and 65535 in ALL_PORTS
    assert IntervalSet.single(90, 80).is_empty()  # an inverted range is empty
    assert IntervalSet.of([(1, 3), (4, 6)]).ranges == ((1, 6),)  # adjacent ranges merge

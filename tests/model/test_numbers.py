"""ASCII-only, bounded integer parsing for every parser of untrusted text."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netsleuth.model import numbers
from netsleuth.model.numbers import NumberError, is_ascii_digits, parse_int, to_int


def test_doctests() -> None:
    failures, tried = doctest.testmod(numbers, verbose=False)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize(
    "text",
    ["²", "¹⁵⁰⁰", "١٥٠٠", "１２", "1_000", "0x10", "1e3", "", " ", "-", "+", "1.5", "∞", "٣"],
)
def test_non_ascii_or_non_integer_text_is_refused(text: str) -> None:
    assert parse_int(text) is None
    with pytest.raises(NumberError):
        to_int(text)


def test_huge_numbers_are_refused_without_converting() -> None:
    # int() raises ValueError past 4,300 digits; the length check comes first.
    assert parse_int("9" * 100_000) is None
    assert parse_int("0" * 50 + "7") == 7  # leading zeros are not magnitude
    with pytest.raises(NumberError, match="out of range"):
        to_int("1" * 30)


def test_range_and_sign() -> None:
    assert parse_int("65535", lo=1, hi=65535) == 65535
    assert parse_int("0", lo=1, hi=65535) is None
    assert parse_int("-1") is None
    assert parse_int("-1", lo=-1) == -1
    assert parse_int("+5") == 5
    assert parse_int(None) is None


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_round_trip(n: int) -> None:
    assert parse_int(str(n), lo=-(2**63)) == n


@given(st.text(max_size=30))
def test_never_raises_anything_but_number_error(text: str) -> None:
    try:
        v = to_int(text, lo=-100, hi=100)
    except NumberError:
        return
    assert -100 <= v <= 100
    assert is_ascii_digits(text.strip().lstrip("+-"))

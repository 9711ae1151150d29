"""Numbers read from untrusted text: ASCII digits only, bounded length and range.

``str.isdigit()`` accepts ``²`` and ``١``: ``"¹⁵⁰⁰".isdigit()`` is true and
``int("¹⁵⁰⁰")`` raises, while ``int("١٥٠٠")`` quietly gives 1500. ``int()`` on
a 5,000-digit string raises too (Python's limit on int/str conversion), and
smaller huge values overflow every later use. Every parser of files, flags
and API fields goes through these helpers instead:

>>> parse_int("1500")
1500
>>> parse_int("¹⁵⁰⁰") is None, parse_int("١٥٠٠") is None
(True, True)
>>> parse_int("70000", hi=65535) is None
True
>>> parse_int(" -3 ", lo=-10)
-3
>>> parse_int("9" * 5000) is None
True
>>> is_ascii_digits("08"), is_ascii_digits(""), is_ascii_digits("8a")
(True, False, False)
"""

from __future__ import annotations

INT64_MAX = 2**63 - 1
"""The default upper bound: the largest value a Kubernetes int64 field or a kernel counter holds."""


def is_ascii_digits(text: str) -> bool:
    """True when ``text`` is one or more ASCII digits ``0``–``9`` (nothing else, no sign)."""
    return bool(text) and text.isascii() and text.isdigit()


class NumberError(ValueError):
    """A number that is not ASCII digits, or out of range. The message says which."""


def to_int(text: str, *, lo: int = 0, hi: int = INT64_MAX, strip: bool = True) -> int:
    """``text`` as an integer in ``[lo, hi]``, or :class:`NumberError` saying why not.

    Accepts optional surrounding whitespace (when ``strip``) and a leading
    ``-`` only when ``lo`` is negative (or ``+``). The length is checked
    before converting, so a megabyte of digits costs nothing.
    """
    s = text.strip() if strip else text
    sign = 1
    if s[:1] in ("-", "+"):
        if s[0] == "-":
            if lo >= 0:
                raise NumberError(f"{_shown(text)} is negative (expected {lo}..{hi})")
            sign = -1
        s = s[1:]
    if not is_ascii_digits(s):
        raise NumberError(f"{_shown(text)} is not a number in ASCII digits")
    limit = max(abs(lo), abs(hi))
    if len(s.lstrip("0")) > len(str(limit)):
        raise NumberError(f"{_shown(text)} is out of range {lo}..{hi}")
    value = sign * int(s)
    if not lo <= value <= hi:
        raise NumberError(f"{_shown(text)} is out of range {lo}..{hi}")
    return value


def parse_int(text: str | None, *, lo: int = 0, hi: int = INT64_MAX) -> int | None:
    """Like :func:`to_int`, but ``None`` for anything that is not a number in range."""
    if text is None:
        return None
    try:
        return to_int(text, lo=lo, hi=hi)
    except NumberError:
        return None


def _shown(text: str) -> str:
    """The offending text for a message: escaped and cut to a readable length."""
    from netsleuth.model.untrusted import visible

    shown = visible(text if len(text) <= 40 else text[:37] + "...")
    return repr(shown)

"""Interval algebra for port sets and IP address sets.

Both ports and IP addresses are integers, so one immutable
:class:`IntervalSet` of closed ``[lo, hi]`` ranges serves both. Sets are kept
normalised (sorted, disjoint, non-adjacent ranges merged), so equality of two
sets is equality of their tuples.

IP sets keep IPv4 and IPv6 apart (:class:`IPSet`); a CIDR is parsed the way
the API server accepts it in ``ipBlock.cidr``: host bits may be set
(``10.0.1.11/4`` is ``0.0.0.0/4``), see the upstream e2e test
"should support a 'policy-type' ... ipBlock with except".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

PORT_MIN = 1
PORT_MAX = 65535
IPV4_MAX = (1 << 32) - 1
IPV6_MAX = (1 << 128) - 1


@dataclass(frozen=True, slots=True)
class IntervalSet:
    """A normalised union of closed integer intervals."""

    ranges: tuple[tuple[int, int], ...] = ()

    @staticmethod
    def of(ranges: Iterable[tuple[int, int]]) -> IntervalSet:
        items = sorted((lo, hi) for lo, hi in ranges if lo <= hi)
        out: list[tuple[int, int]] = []
        for lo, hi in items:
            if out and lo <= out[-1][1] + 1:
                if hi > out[-1][1]:
                    out[-1] = (out[-1][0], hi)
            else:
                out.append((lo, hi))
        return IntervalSet(tuple(out))

    @staticmethod
    def single(lo: int, hi: int | None = None) -> IntervalSet:
        return (
            IntervalSet(((lo, lo if hi is None else hi),))
            if (hi is None or lo <= hi)
            else IntervalSet()
        )

    def is_empty(self) -> bool:
        return not self.ranges

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, value: int) -> bool:
        # Binary search: sets can hold thousands of ranges (ipBlock excepts).
        lo, hi = 0, len(self.ranges)
        while lo < hi:
            mid = (lo + hi) // 2
            a, b = self.ranges[mid]
            if value < a:
                hi = mid
            elif value > b:
                lo = mid + 1
            else:
                return True
        return False

    def union(self, other: IntervalSet) -> IntervalSet:
        if not other.ranges:
            return self
        if not self.ranges:
            return other
        return IntervalSet.of(self.ranges + other.ranges)

    __or__ = union

    def intersection(self, other: IntervalSet) -> IntervalSet:
        out: list[tuple[int, int]] = []
        i = j = 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    __and__ = intersection

    def difference(self, other: IntervalSet) -> IntervalSet:
        if not other.ranges or not self.ranges:
            return self
        out: list[tuple[int, int]] = []
        j = 0
        b = other.ranges
        for lo, hi in self.ranges:
            cur = lo
            while j < len(b) and b[j][1] < cur:
                j += 1
            k = j
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet(tuple(out))

    __sub__ = difference

    def issubset(self, other: IntervalSet) -> bool:
        return not (self - other).ranges

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.ranges)

    def describe(self) -> list[str]:
        """Ranges as strings: ``["80", "8000-8080"]``."""
        return [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ranges]


ALL_PORTS = IntervalSet.single(PORT_MIN, PORT_MAX)


def parse_ip(text: str) -> tuple[int, int]:
    """``(version, value)`` of an IP address. Raises ``ValueError``."""
    addr = ipaddress.ip_address(text.strip())
    return addr.version, int(addr)


def parse_cidr(text: str) -> tuple[int, int, int]:
    """``(version, first, last)`` of a CIDR, host bits allowed. Raises ``ValueError``."""
    net = ipaddress.ip_network(text.strip(), strict=False)
    return net.version, int(net.network_address), int(net.broadcast_address)


def format_ip(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def format_ip_range(version: int, lo: int, hi: int) -> str:
    """``first-last``; a single address as a host CIDR (``192.0.2.7/32``, ``2001:db8::1/128``),
    as other analysers print one address."""
    if lo == hi:
        return f"{format_ip(version, lo)}/{32 if version == 4 else 128}"
    return f"{format_ip(version, lo)}-{format_ip(version, hi)}"


def parse_ip_range(text: str) -> tuple[int, int, int]:
    """``(version, first, last)`` of ``first-last``, ``a.b.c.d/n`` or one address. Raises
    ``ValueError``."""
    if "/" in text:
        return parse_cidr(text)
    first, _, last = text.partition("-")
    v, lo = parse_ip(first)
    v2, hi = parse_ip(last or first)
    if v2 != v:
        raise ValueError(f"{text!r} mixes IPv4 and IPv6")
    return v, lo, hi


@dataclass(frozen=True, slots=True)
class IPSet:
    """A set of IPv4 and IPv6 addresses, as two interval sets."""

    v4: IntervalSet = IntervalSet()
    v6: IntervalSet = IntervalSet()

    @staticmethod
    def from_cidr(text: str) -> IPSet:
        version, lo, hi = parse_cidr(text)
        iv = IntervalSet.single(lo, hi)
        return IPSet(v4=iv) if version == 4 else IPSet(v6=iv)

    @staticmethod
    def everything() -> IPSet:
        return IPSet(IntervalSet.single(0, IPV4_MAX), IntervalSet.single(0, IPV6_MAX))

    def contains_ip(self, text_or_parsed: str | tuple[int, int]) -> bool:
        version, value = (
            parse_ip(text_or_parsed) if isinstance(text_or_parsed, str) else text_or_parsed
        )
        return value in (self.v4 if version == 4 else self.v6)

    def union(self, other: IPSet) -> IPSet:
        return IPSet(self.v4 | other.v4, self.v6 | other.v6)

    def intersection(self, other: IPSet) -> IPSet:
        return IPSet(self.v4 & other.v4, self.v6 & other.v6)

    def difference(self, other: IPSet) -> IPSet:
        return IPSet(self.v4 - other.v4, self.v6 - other.v6)

    __or__ = union
    __and__ = intersection
    __sub__ = difference

    def is_empty(self) -> bool:
        return not self.v4 and not self.v6

    def describe(self) -> list[str]:
        """Ranges as ``first-last`` strings (a single address alone)."""
        out = []
        for version, s in ((4, self.v4), (6, self.v6)):
            for lo, hi in s:
                a = format_ip(version, lo)
                out.append(a if lo == hi else f"{a}-{format_ip(version, hi)}")
        return out

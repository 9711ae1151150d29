"""Addresses outside the cluster that the user did not give: reason over ranges, not a stand-in.

When a question names "outside" without an address (``explain external shop/web``, a trace
to a name whose address the input does not hold), the answer may depend on the address.
The policies that select the pod in that direction cut the address space only at the
edges of the CIDRs they name (NetworkPolicy ``ipBlock`` cidr/except, AdminNetworkPolicy and
BaselineAdminNetworkPolicy ``networks``): between two edges every address gets the same
verdict. :func:`address_classes` cuts the space at those edges and at the edges of the
private ranges, so each class is wholly public or wholly private, and gives one member of
each class to evaluate. The caller then states the answer for every public address, or the
ranges where it differs, and never cites an address it made up.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.intervals import IPV4_MAX, IPV6_MAX, IntervalSet, format_ip
from netsleuth.model.objects import Pod
from netsleuth.policy.semantics import Direction

PRIVATE_RANGES = (
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "fc00::/7",
    "fe80::/10",
    "::1/128",
)
"""RFC 1918, shared address space, loopback, link-local, unique-local: not reachable as the
public internet, so a verdict "for any public address" leaves them out (and says so)."""

_PRIVATE = tuple(ipaddress.ip_network(n) for n in PRIVATE_RANGES)

MAX_ADDRESS_CLASSES = 256
"""Beyond this many classes the cut is abandoned (the caller says the verdict depends)."""


def is_private(ip: str) -> bool:
    """``ip`` is in one of :data:`PRIVATE_RANGES`."""
    a = ipaddress.ip_address(ip)
    return any(a.version == n.version and a in n for n in _PRIVATE)


@dataclass(frozen=True, slots=True)
class AddressClass:
    """Addresses ``lo..hi`` (one IP version) that every selecting policy treats alike."""

    version: int
    lo: int
    hi: int
    private: bool

    @property
    def sample(self) -> str:
        """One member, to evaluate the class with (never shown as "the" address)."""
        return format_ip(self.version, self.lo)


def policy_cidrs(model: ClusterModel, pod: Pod, direction: Direction) -> list[str]:
    """The CIDRs named by the policies that select ``pod`` in ``direction``."""
    from netsleuth.policy.reference import admin_policies_selecting, policies_selecting

    cidrs: list[str] = []
    for pol in policies_selecting(model, pod, direction):
        rules = pol.egress if direction is Direction.EGRESS else pol.ingress
        for rule in rules:
            for peer in rule.peers:
                if peer.ip_block is not None:
                    cidrs += [peer.ip_block.cidr, *peer.ip_block.except_]
    for admin in admin_policies_selecting(model, pod, direction):
        arules = admin.egress if direction is Direction.EGRESS else admin.ingress
        for arule in arules:
            for apeer in arule.peers:
                cidrs += list(getattr(apeer, "networks", None) or ())
    return list(dict.fromkeys(cidrs))


def address_classes(
    cidrs: Iterable[str], *, ipv6: bool = False
) -> tuple[tuple[AddressClass, ...], bool]:
    """The address space cut at every edge of ``cidrs`` and of the private ranges.

    IPv4 always, IPv6 when ``ipv6`` (the pod has an IPv6 address). The flag is ``True`` when
    more than :data:`MAX_ADDRESS_CLASSES` classes would be needed (the classes are then
    empty: the caller cannot answer for every address)."""
    cuts: dict[int, set[int]] = {4: {0}, 6: {0}}
    for cidr in (*PRIVATE_RANGES, *cidrs):
        try:
            net = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            continue  # an invalid CIDR matches nothing; the engine says so
        lo, hi = int(net.network_address), int(net.broadcast_address)
        cuts[net.version] |= {lo, hi + 1}
    out: list[AddressClass] = []
    for version, top in ((4, IPV4_MAX), (6, IPV6_MAX)):
        if version == 6 and not ipv6:
            continue
        edges = sorted(c for c in cuts[version] if c <= top)
        for i, lo in enumerate(edges):
            hi = edges[i + 1] - 1 if i + 1 < len(edges) else top
            out.append(AddressClass(version, lo, hi, is_private(format_ip(version, lo))))
        if len(out) > MAX_ADDRESS_CLASSES:
            return (), True
    return tuple(out), False


def cidr_list(classes: Iterable[AddressClass]) -> list[str]:
    """The classes as CIDRs, adjacent ones merged: ``["198.51.100.0/24", "203.0.113.0/25"]``."""
    by_version: dict[int, list[tuple[int, int]]] = {}
    for c in classes:
        by_version.setdefault(c.version, []).append((c.lo, c.hi))
    parts: list[str] = []
    for version in sorted(by_version):
        cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        for lo, hi in IntervalSet.of(by_version[version]):
            parts += [str(n) for n in ipaddress.summarize_address_range(cls(lo), cls(hi))]
    return parts


def range_list(classes: Iterable[AddressClass]) -> list[str]:
    """The classes as merged ranges, compact for JSON: a CIDR when the range is one,
    else ``first-last``."""
    out: list[str] = []
    by_version: dict[int, list[tuple[int, int]]] = {}
    for c in classes:
        by_version.setdefault(c.version, []).append((c.lo, c.hi))
    for version in sorted(by_version):
        cls = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
        for lo, hi in IntervalSet.of(by_version[version]):
            nets = list(ipaddress.summarize_address_range(cls(lo), cls(hi)))
            out.append(str(nets[0]) if len(nets) == 1 else f"{cls(lo)}-{cls(hi)}")
    return out


def describe_ranges(classes: Iterable[AddressClass], limit: int = 6) -> str:
    """``198.51.100.0/24, 203.0.113.0/25`` (:func:`cidr_list`, at most ``limit`` shown)."""
    parts = cidr_list(classes)
    if len(parts) > limit:
        return ", ".join(parts[:limit]) + f" and {len(parts) - limit} more range(s)"
    return ", ".join(parts)

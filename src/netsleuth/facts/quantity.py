"""Kubernetes resource quantities (``100m``, ``256Mi``, ``1G``) as numbers.

https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
"""

from __future__ import annotations

import re

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_RE = re.compile(r"^\s*([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*$")


def parse_quantity(text: str | None) -> float | None:
    """The value in base units (cores for CPU, bytes for memory); ``None`` if unparsable.

    >>> parse_quantity("100m")
    0.1
    >>> parse_quantity("256Mi")
    268435456.0
    """
    if text is None:
        return None
    m = _RE.match(str(text))
    if m is None:
        return None
    number, suffix = m.groups()
    try:
        value = float(number)
    except ValueError:
        return None
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    if suffix in _DECIMAL:
        return value * _DECIMAL[suffix]
    return None

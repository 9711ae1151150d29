"""The one ``--port`` syntax of every command: a number or a port name, with an optional protocol.

Accepted forms (case-insensitive protocol, either order)::

    80          8080/tcp      tcp/8080      udp/53      sctp/9000
    http        http/tcp      tcp/http      udp/dns

A number is 1-65535 (ASCII digits). A name is a Kubernetes port name
(IANA_SVC_NAME: at most 15 lower-case letters, digits and ``-``, at least
one letter, no leading, trailing or double ``-``), looked up on the
destination pod's container ports (or the Service's port names). Without a
protocol the port is TCP, as in a Kubernetes port list.

>>> parse_port("tcp/8080"), parse_port("8080/TCP"), parse_port("80")
(PortSpec(protocol='TCP', port=8080, explicit_protocol=True), \
PortSpec(protocol='TCP', port=8080, explicit_protocol=True), \
PortSpec(protocol='TCP', port=80, explicit_protocol=False))
>>> parse_port("udp/dns")
PortSpec(protocol='UDP', port='dns', explicit_protocol=True)
>>> str(parse_port("http")), str(parse_port("53/udp"))
('http/TCP', '53/UDP')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.errors import QueryError
from netsleuth.model.numbers import NumberError, to_int

PROTOCOLS = ("TCP", "UDP", "SCTP")
_NAME = re.compile(r"^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?=[a-z0-9])){0,14}$")
_TIP = "give 80, tcp/80, 80/tcp, udp/53 or a port name (http, udp/dns)"


@dataclass(frozen=True, slots=True)
class PortSpec:
    """A destination port: a number or a port name, and its protocol."""

    protocol: str
    port: int | str
    explicit_protocol: bool = False
    """The text named the protocol (``tcp/80``), rather than defaulting to TCP (``80``)."""

    @property
    def number(self) -> int | None:
        return self.port if isinstance(self.port, int) else None

    @property
    def name(self) -> str | None:
        return self.port if isinstance(self.port, str) else None

    def with_protocol(self, protocol: str | None) -> PortSpec:
        """Apply a separate ``--protocol``; a conflict with the port's own protocol is an error."""
        if protocol is None:
            return self
        proto = parse_protocol(protocol)
        if self.explicit_protocol and proto != self.protocol:
            raise QueryError(
                f"--port {self} and --protocol {protocol} disagree",
                tip=f"give the protocol once, e.g. --port {proto.lower()}/{self.port}",
            )
        return PortSpec(proto, self.port, True)

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol}"


def parse_protocol(text: str) -> str:
    proto = text.strip().upper()
    if proto not in PROTOCOLS:
        raise QueryError(f"unknown protocol {text!r}", tip="use tcp, udp or sctp")
    return proto


def _port_value(text: str, whole: str) -> int | str:
    first = text[:1]
    if first and (first in "+-" or (first.isascii() and first.isdigit())):
        try:
            return to_int(text, lo=1, hi=65535, strip=False)
        except NumberError:
            raise QueryError(f"bad port {whole!r}: a port number is 1-65535", tip=_TIP) from None
    if _NAME.match(text):
        return text
    raise QueryError(
        f"bad port {whole!r}: not a number and not a port name "
        "(up to 15 lower-case letters, digits and '-')",
        tip=_TIP,
    )


def parse_port(text: str) -> PortSpec:
    """``--port`` text -> :class:`PortSpec` (see the module docstring for the forms)."""
    raw = text.strip()
    if not raw:
        raise QueryError("empty --port", tip=_TIP)
    if "/" in raw:
        a, _, b = raw.partition("/")
        if a.upper() in PROTOCOLS:
            return PortSpec(a.upper(), _port_value(b, text), True)
        if b.upper() in PROTOCOLS:
            return PortSpec(b.upper(), _port_value(a, text), True)
        raise QueryError(
            f"bad port {text!r}: no protocol (tcp, udp, sctp) beside the '/'", tip=_TIP
        )
    if raw.upper() in PROTOCOLS:
        raise QueryError(f"bad port {text!r}: a protocol without a port", tip=_TIP)
    return PortSpec("TCP", _port_value(raw, text), False)

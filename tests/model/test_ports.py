"""The one --port syntax (model/ports.py): every spelling, and every rejection with a reason."""

from __future__ import annotations

import pytest

from netsleuth.errors import QueryError
from netsleuth.model.ports import PortSpec, parse_port


@pytest.mark.parametrize(
    ("text", "protocol", "port", "explicit"),
    [
        ("80", "TCP", 80, False),  # no protocol: TCP, as a Kubernetes port list defaults
        ("tcp/80", "TCP", 80, True),
        ("80/tcp", "TCP", 80, True),
        ("TCP/8080", "TCP", 8080, True),
        ("53/UDP", "UDP", 53, True),
        ("udp/53", "UDP", 53, True),
        ("sctp/9000", "SCTP", 9000, True),
        ("65535", "TCP", 65535, False),
        ("1", "TCP", 1, False),
        ("http", "TCP", "http", False),  # a port name, looked up on the destination
        ("udp/dns", "UDP", "dns", True),
        ("dns-tcp/tcp", "TCP", "dns-tcp", True),
        ("metrics-9090", "TCP", "metrics-9090", False),
        (" tcp/80 ", "TCP", 80, True),
    ],
)
def test_accepted_forms(text: str, protocol: str, port: int | str, explicit: bool) -> None:
    assert parse_port(text) == PortSpec(protocol, port, explicit)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0", "1-65535"),
        ("70000", "1-65535"),
        ("tcp/0", "1-65535"),
        ("-1", "1-65535"),
        ("²", "not a number and not a port name"),  # a Unicode digit is not a port
        ("८०", "not a number and not a port name"),
        ("icmp/1", "no protocol"),
        ("tcp/", "not a number and not a port name"),
        ("tcp", "a protocol without a port"),
        ("", "empty"),
        ("HTTP", "not a number and not a port name"),  # port names are lower case
        ("a-very-long-port-name", "not a number and not a port name"),  # > 15 characters
        ("web--ui", "not a number and not a port name"),
        ("-web", "1-65535"),
        ("8080", None),
    ],
)
def test_rejected_forms_say_why(text: str, why: str | None) -> None:
    if why is None:
        assert parse_port(text).number == 8080
        return
    with pytest.raises(QueryError) as err:
        parse_port(text)
    assert why in err.value.message
    assert err.value.tip and "tcp/80" in err.value.tip


def test_separate_protocol_applies_or_conflicts() -> None:
    assert parse_port("53").with_protocol("udp") == PortSpec("UDP", 53, True)
    assert parse_port("udp/53").with_protocol("UDP") == PortSpec("UDP", 53, True)
    with pytest.raises(QueryError, match="disagree"):
        parse_port("tcp/53").with_protocol("udp")
    with pytest.raises(QueryError, match="unknown protocol"):
        parse_port("53").with_protocol("icmp")
    assert str(parse_port("udp/dns")) == "dns/UDP"

"""The probe agent's resolver and DNS wire format, without root."""

from __future__ import annotations

import struct

import pytest

from netsleuth.probe import agent


def test_parse_resolv_conf_like_glibc() -> None:
    conf = agent.parse_resolv_conf(
        "search a.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.96.0.10\n# comment\nnameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\n"
        "options ndots:5 timeout:2 attempts:3 single-request-reopen\n"
    )
    assert conf["nameservers"] == ["10.96.0.10", "1.1.1.1", "2.2.2.2"]  # glibc reads 3 at most
    assert conf["search"] == ["a.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert (conf["ndots"], conf["timeout"], conf["attempts"]) == (5, 2, 3)


@pytest.mark.parametrize(
    ("name", "ndots", "expected"),
    [
        # fewer dots than ndots: the search list first, the name as given last
        ("api", 5, ["api.ns.svc.cluster.local", "api.svc.cluster.local", "api"]),
        # ndots:5 makes even api.stripe.com walk the list first (the ndots trap)
        (
            "api.stripe.com",
            5,
            [
                "api.stripe.com.ns.svc.cluster.local",
                "api.stripe.com.svc.cluster.local",
                "api.stripe.com",
            ],
        ),
        # at least ndots dots: as given first
        (
            "api.stripe.com",
            2,
            [
                "api.stripe.com",
                "api.stripe.com.ns.svc.cluster.local",
                "api.stripe.com.svc.cluster.local",
            ],
        ),
        # a trailing dot: absolute only
        ("api.stripe.com.", 5, ["api.stripe.com"]),
    ],
)
def test_candidates(name: str, ndots: int, expected: list[str]) -> None:
    assert agent.candidates(name, ["ns.svc.cluster.local", "svc.cluster.local"], ndots) == expected


def test_dns_wire_round_trip() -> None:
    q = agent.encode_query(0x1234, "web.shop.svc.cluster.local", 1)
    assert q[:2] == b"\x12\x34" and q[-4:] == b"\x00\x01\x00\x01"
    # an answer as a server writes it: the question, then A 10.0.0.7 via a name pointer
    header = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0)
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 30, 4) + bytes([10, 0, 0, 7])
    resp = agent.decode_response(header + q[12:] + answer)
    assert resp["id"] == 0x1234 and resp["rcode"] == "NOERROR"
    assert resp["answers"] == [{"type": "A", "value": "10.0.0.7", "ttl": 30}]
    nx = agent.decode_response(struct.pack("!HHHHHH", 7, 0x8183, 1, 0, 0, 0) + q[12:])
    assert nx["rcode"] == "NXDOMAIN" and nx["answers"] == []


def test_checksum_of_an_echo_request() -> None:
    # RFC 1071: the checksum of a packet carrying its own checksum is 0
    header = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"abcd"
    c = agent._checksum(header)
    assert agent._checksum(struct.pack("!BBHHH", 8, 0, c, 1, 1) + b"abcd") == 0

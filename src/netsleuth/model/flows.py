"""Observed traffic: one Hubble flow as a typed value, and Hubble's enums.

The names and numbers follow Cilium's flow protobuf
(``api/v1/flow/flow.proto``: ``Verdict``, ``DropReason``, ``FlowType``,
``TrafficDirection``) and the descriptions Hubble prints in ``-o compact``
lines (Cilium ``pkg/monitor/api/drop.go``). ``tests/data/flows/README.md``
says where every field of the JSON form comes from.

A :class:`Flow` is what :mod:`netsleuth.sources.hubble` yields; raw JSON
never leaves the source. Fields Hubble leaves out are empty strings,
``None`` or ``0`` — never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from netsleuth.model.problems import Origin

COMPACT_YEAR = 2000
"""Compact lines have no year; a leap year, so ``Feb 29`` parses. Only differences are used."""

# Verdict enum of flow.proto (protojson prints the name).
VERDICTS = (
    "VERDICT_UNKNOWN",  # 0
    "FORWARDED",  # 1
    "DROPPED",  # 2
    "ERROR",  # 3
    "AUDIT",  # 4
    "REDIRECTED",  # 5: to the L7 proxy; not a failure
    "TRACED",  # 6
    "TRANSLATED",  # 7
)

# DropReason enum of flow.proto: number -> (enum name, description printed by
# `hubble observe -o compact`, from Cilium's monitor drop.go error codes).
DROP_REASONS: dict[int, tuple[str, str]] = {
    0: ("DROP_REASON_UNKNOWN", "Unknown reason"),
    130: ("INVALID_SOURCE_MAC", "Invalid source mac"),
    131: ("INVALID_DESTINATION_MAC", "Invalid destination mac"),
    132: ("INVALID_SOURCE_IP", "Invalid source ip"),
    133: ("POLICY_DENIED", "Policy denied"),
    134: ("INVALID_PACKET_DROPPED", "Invalid packet"),
    135: ("CT_TRUNCATED_OR_INVALID_HEADER", "CT: Truncated or invalid header"),
    136: ("CT_MISSING_TCP_ACK_FLAG", "CT: Missing TCP ACK flag"),
    137: ("CT_UNKNOWN_L4_PROTOCOL", "CT: Unknown L4 protocol"),
    138: ("CT_CANNOT_CREATE_ENTRY_FROM_PACKET", "CT: Can't create entry from packet"),
    139: ("UNSUPPORTED_L3_PROTOCOL", "Unsupported L3 protocol"),
    140: ("MISSED_TAIL_CALL", "Missed tail call"),
    141: ("ERROR_WRITING_TO_PACKET", "Error writing to packet"),
    142: ("UNKNOWN_L4_PROTOCOL", "Unknown L4 protocol"),
    143: ("UNKNOWN_ICMPV4_CODE", "Unknown ICMPv4 code"),
    144: ("UNKNOWN_ICMPV4_TYPE", "Unknown ICMPv4 type"),
    145: ("UNKNOWN_ICMPV6_CODE", "Unknown ICMPv6 code"),
    146: ("UNKNOWN_ICMPV6_TYPE", "Unknown ICMPv6 type"),
    147: ("ERROR_RETRIEVING_TUNNEL_KEY", "Error retrieving tunnel key"),
    148: ("ERROR_RETRIEVING_TUNNEL_OPTIONS", "Error retrieving tunnel options"),
    149: ("INVALID_GENEVE_OPTION", "Invalid Geneve option"),
    150: ("UNKNOWN_L3_TARGET_ADDRESS", "Unknown L3 target address"),
    151: ("STALE_OR_UNROUTABLE_IP", "Stale or unroutable IP"),
    152: ("NO_MATCHING_LOCAL_CONTAINER_FOUND", "No matching local container found"),
    153: ("ERROR_WHILE_CORRECTING_L3_CHECKSUM", "Error while correcting L3 checksum"),
    154: ("ERROR_WHILE_CORRECTING_L4_CHECKSUM", "Error while correcting L4 checksum"),
    155: ("CT_MAP_INSERTION_FAILED", "CT: Map insertion failed"),
    156: ("INVALID_IPV6_EXTENSION_HEADER", "Invalid IPv6 extension header"),
    157: ("IP_FRAGMENTATION_NOT_SUPPORTED", "IP fragmentation not supported"),
    158: ("SERVICE_BACKEND_NOT_FOUND", "Service backend not found"),
    160: (
        "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT",
        "No tunnel/encapsulation endpoint (datapath BUG!)",
    ),
    161: ("FAILED_TO_INSERT_INTO_PROXYMAP", "Failed to insert into proxymap"),
    162: ("REACHED_EDT_RATE_LIMITING_DROP_HORIZON", "Reached EDT rate-limiting drop horizon"),
    163: ("UNKNOWN_CONNECTION_TRACKING_STATE", "Unknown connection tracking state"),
    164: ("LOCAL_HOST_IS_UNREACHABLE", "Local host is unreachable"),
    165: (
        "NO_CONFIGURATION_AVAILABLE_TO_PERFORM_POLICY_DECISION",
        "No configuration available to perform policy decision",
    ),
    166: ("UNSUPPORTED_L2_PROTOCOL", "Unsupported L2 protocol"),
    167: ("NO_MAPPING_FOR_NAT_MASQUERADE", "No mapping for NAT masquerade"),
    168: ("UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE", "Unsupported protocol for NAT masquerade"),
    169: ("FIB_LOOKUP_FAILED", "FIB lookup failed"),
    170: ("ENCAPSULATION_TRAFFIC_IS_PROHIBITED", "Encapsulation traffic is prohibited"),
    171: ("INVALID_IDENTITY", "Invalid identity"),
    172: ("UNKNOWN_SENDER", "Unknown sender"),
    173: ("NAT_NOT_NEEDED", "NAT not needed"),
    174: ("IS_A_CLUSTERIP", "Is a ClusterIP"),
    175: ("FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND", "First logical datagram fragment not found"),
    176: ("FORBIDDEN_ICMPV6_MESSAGE", "Forbidden ICMPv6 message"),
    177: ("DENIED_BY_LB_SRC_RANGE_CHECK", "Denied by LB src range check"),
    178: ("SOCKET_LOOKUP_FAILED", "Socket lookup failed"),
    179: ("SOCKET_ASSIGN_FAILED", "Socket assign failed"),
    180: (
        "PROXY_REDIRECTION_NOT_SUPPORTED_FOR_PROTOCOL",
        "Proxy redirection not supported for protocol",
    ),
    181: ("POLICY_DENY", "Policy denied by denylist"),
    182: ("VLAN_FILTERED", "VLAN traffic disallowed by VLAN filter"),
    183: ("INVALID_VNI", "Incorrect VNI from VTEP"),
    184: ("INVALID_TC_BUFFER", "Failed to update or lookup TC buffer"),
    185: ("NO_SID", "No SID was found for the IP address"),
    186: ("MISSING_SRV6_STATE", "SRv6 state was removed during tail call"),
    187: ("NAT46", "L3 translation from IPv4 to IPv6 failed (NAT46)"),
    188: ("NAT64", "L3 translation from IPv6 to IPv4 failed (NAT64)"),
    189: ("AUTH_REQUIRED", "Authentication required"),
    190: ("CT_NO_MAP_FOUND", "No conntrack map found"),
    191: ("SNAT_NO_MAP_FOUND", "No nat map found"),
    192: ("INVALID_CLUSTER_ID", "Invalid ClusterID"),
    193: (
        "UNSUPPORTED_PROTOCOL_FOR_DSR_ENCAP",
        "Unsupported packet protocol for DSR encapsulation",
    ),
    194: ("NO_EGRESS_GATEWAY", "No egress gateway found"),
    195: ("UNENCRYPTED_TRAFFIC", "Traffic is unencrypted"),
    196: ("TTL_EXCEEDED", "TTL exceeded"),
    197: ("NO_NODE_ID", "No node ID found"),
    198: ("DROP_RATE_LIMITED", "Rate limited"),
    199: ("IGMP_HANDLED", "IGMP handled"),
    200: ("IGMP_SUBSCRIBED", "IGMP subscribed"),
    201: ("MULTICAST_HANDLED", "Multicast handled"),
    202: ("DROP_HOST_NOT_READY", "Host datapath not ready"),
    203: ("DROP_EP_NOT_READY", "Endpoint policy program not available"),
    204: ("DROP_NO_EGRESS_IP", "No Egress IP configured"),
    205: ("DROP_PUNT_PROXY", "Punt to proxy"),
}
DROP_REASON_BY_NAME: dict[str, int] = {name: code for code, (name, _) in DROP_REASONS.items()}
DROP_REASON_BY_DESCRIPTION: dict[str, str] = {
    desc.lower(): name for _, (name, desc) in DROP_REASONS.items()
} | {
    # Newer Cilium releases print other words for two codes whose enum names stayed.
    "fragmentation needed": "CT_MISSING_TCP_ACK_FLAG",
    "nat 46/64 not enabled": "FAILED_TO_INSERT_INTO_PROXYMAP",
}

POLICY_DROP_REASONS = frozenset({"POLICY_DENIED", "POLICY_DENY", "AUTH_REQUIRED"})
"""Drops decided by policy: NetworkPolicy/CiliumNetworkPolicy deny, deny lists, mutual auth."""

NOT_FAILURE_DROP_REASONS = frozenset(
    {"IGMP_HANDLED", "IGMP_SUBSCRIBED", "MULTICAST_HANDLED", "NAT_NOT_NEEDED", "DROP_PUNT_PROXY"}
)
"""'Drops' that are the datapath consuming a packet on purpose, not a failure."""

# Reserved security identities (Cilium pkg/identity/numericidentity.go).
RESERVED_IDENTITIES: dict[int, str] = {
    1: "host",
    2: "world",
    3: "unmanaged",
    4: "health",
    5: "init",
    6: "remote-node",
    7: "kube-apiserver",
    8: "ingress",
    9: "world-ipv4",
    10: "world-ipv6",
}


def drop_reason_name(code: int | None) -> str | None:
    """``133`` -> ``POLICY_DENIED``; unknown numbers keep their number visible."""
    if code is None:
        return None
    entry = DROP_REASONS.get(code)
    return entry[0] if entry else f"DROP_REASON_{code}"


def drop_reason_description(name: str) -> str:
    code = DROP_REASON_BY_NAME.get(name)
    return DROP_REASONS[code][1] if code is not None else name


class FlowEndpoint(NamedTuple):
    """One side of a flow, as Hubble identified it (``Endpoint`` plus the IP and port).

    An immutable named tuple rather than a frozen dataclass: ``netsleuth flows``
    builds two per flow, and a frozen dataclass's ``__init__`` (one
    ``object.__setattr__`` per field) cost more than parsing the JSON line.

    ``labels`` are Cilium's ``source:key=value`` strings (``k8s:app=web``,
    ``reserved:world``). ``workload``/``workload_kind`` come from the first
    entry of ``workloads``. ``service`` is ``namespace/name`` when Hubble
    resolved the address to a Service.
    """

    ip: str = ""
    port: int = 0
    namespace: str = ""
    pod_name: str = ""
    identity: int = 0
    labels: tuple[str, ...] = ()
    workload: str = ""
    workload_kind: str = ""
    service: str = ""
    names: tuple[str, ...] = ()
    """DNS names Hubble associated with the IP (``source_names``/``destination_names``)."""

    @property
    def reserved(self) -> str | None:
        """The reserved identity (``world``, ``host``…), or ``None`` for an endpoint identity."""
        name = RESERVED_IDENTITIES.get(self.identity)
        if name is not None:
            return name
        for label in self.labels:
            if label.startswith("reserved:"):
                return label[len("reserved:") :]
        return None

    def describe(self) -> str:
        if self.namespace and self.pod_name:
            host = f"{self.namespace}/{self.pod_name}"
        elif self.namespace and self.service:
            host = self.service
        else:
            host = self.ip or "?"
        return f"{host}:{self.port}" if self.port else host


class Flow(NamedTuple):
    """One observed flow event (an immutable named tuple, as :class:`FlowEndpoint`).

    ``time_text`` is the timestamp as printed; ``time`` is it in seconds
    since the epoch (``None`` when absent or unreadable). ``protocol`` is ``TCP``,
    ``UDP``, ``SCTP``, ``ICMPv4``, ``ICMPv6`` or ``""``. ``is_reply`` is
    ``None`` when Hubble could not tell (the compact arrow ``<>``).
    ``tcp_flags`` lists the set flags (``SYN``, ``ACK``…).
    """

    verdict: str
    src: FlowEndpoint
    dst: FlowEndpoint
    time_text: str = ""
    drop_reason: str | None = None
    protocol: str = ""
    is_reply: bool | None = None
    direction: str = ""
    node: str = ""
    flow_type: str = ""
    event_type: int | None = None
    tcp_flags: tuple[str, ...] = ()
    summary: str = ""
    observation_point: str = ""
    """``trace_observation_point`` (``TO_ENDPOINT``, ``TO_OVERLAY``…), upper case."""
    file: str = ""
    line: int = 0

    @property
    def origin(self) -> Origin:
        return Origin(file=self.file or None, line=self.line or None)

    @property
    def time(self) -> float | None:
        """Seconds since the epoch, parsed on demand (most flows never need it)."""
        return parse_flow_time(self.time_text)

    @property
    def is_new_connection(self) -> bool:
        """The first packet of a connection, not a reply (so policy decides it).

        ``is_reply`` false; or unknown with a TCP SYN without ACK.
        """
        if self.is_reply is not None:
            return not self.is_reply
        return "SYN" in self.tcp_flags and "ACK" not in self.tcp_flags

    @property
    def delivered(self) -> bool:
        """Seen where the destination receives it: past both egress and ingress policy."""
        return self.direction == "INGRESS" or self.observation_point == "TO_ENDPOINT"


@dataclass(frozen=True, slots=True)
class LostEvents:
    """A ``lost_events`` record: Hubble could not keep up; counts are a lower bound."""

    source: str
    count: int
    node: str = ""
    origin: Origin = Origin()


def parse_flow_time(text: str) -> float | None:
    """RFC 3339 (JSON) or ``Jan _2 15:04:05.000`` (compact, year unknown) -> epoch seconds."""
    if not text:
        return None
    try:
        if text[0].isdigit():
            return datetime.fromisoformat(text).timestamp()
        fmt = "%Y %b %d %H:%M:%S.%f" if "." in text else "%Y %b %d %H:%M:%S"
        return datetime.strptime(f"{COMPACT_YEAR} {text}", fmt).replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None

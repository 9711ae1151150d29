"""Timed evidence from logs: the kernel ring buffer and the network components' containers.

A log is not read line by line by the analyses: the source recognises the
lines that mean something for the packet path (``nf_conntrack: table full,
dropping packet``, a kube-proxy sync that failed, CoreDNS upstream timeouts
and forwarding loops, CNI IPAM failures) and keeps one :class:`LogEvent` per
kind of line, with how often it occurred and when it was first and last seen.
Those come from node files (``dmesg``, ``kube-proxy.log``…) and from the
container logs of a ``kubectl cluster-info dump`` (:class:`ContainerLog`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from netsleuth.model.problems import Origin


class EventKind(enum.StrEnum):
    CONNTRACK_TABLE_FULL = "conntrack-table-full"
    """kernel: ``nf_conntrack: nf_conntrack: table full, dropping packet``."""
    OVER_MTU_DROP = "over-mtu-drop"
    """kernel (Open vSwitch datapath): ``ovs-system: dropped over-mtu packet: 1514 > 1450``."""
    NEIGHBOUR_TABLE_OVERFLOW = "neighbour-table-overflow"
    """kernel: ``neighbour: arp_cache: neighbor table overflow!`` (gc_thresh3 reached)."""
    IPVS_NO_DESTINATION = "ipvs-no-destination"
    """kernel: ``IPVS: rr: TCP 10.96.0.10:53 - no destination available``."""
    KUBE_PROXY_SYNC_ERROR = "kube-proxy-sync-error"
    """kube-proxy could not write its rules (iptables-restore failed, sync error)."""
    COREDNS_UPSTREAM_TIMEOUT = "coredns-upstream-timeout"
    """CoreDNS ``[ERROR] plugin/errors: … read udp …->…:53: i/o timeout``."""
    COREDNS_LOOP = "coredns-loop"
    """CoreDNS ``plugin/loop: Loop (…) detected``: its upstream is itself."""
    CNI_IPAM_ERROR = "cni-ipam-error"
    """An address could not be allocated (range exhausted, IPAM datastore errors)."""
    CNI_ERROR = "cni-error"
    """Another error of a CNI agent (sandbox setup, route or interface programming)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEvent:
    """Every line of one kind in one log: how many, an example, first and last seen."""

    kind: EventKind
    source: str
    """The evidence kind of the log (``dmesg``, ``kube-proxy-log``, ``coredns-log``…)."""
    count: int
    example: str
    """The first such line (its message part), cut to 300 characters; untrusted text."""
    file: str
    line: int
    last_line: int
    first_time: str | None = None
    """The timestamp as written (``[12345.678901]``, ``I0515 10:11:12.345678``, RFC 3339)."""
    last_time: str | None = None
    first_epoch: float | None = None
    """Seconds since the epoch, when the log's timestamps (and, for dmesg, the capture's
    ``date`` and ``/proc/uptime``) allow it."""
    last_epoch: float | None = None
    node: str | None = None
    pod: str | None = None
    """``namespace/name`` of the pod whose container wrote it, for container logs."""
    container: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ContainerLog:
    """The log of one container, as ``kubectl cluster-info dump`` (or a bundle) saved it."""

    namespace: str
    pod: str
    container: str
    origin: Origin = Origin()
    source: str | None = None
    """The component the lines are from (``kube-proxy-log``, ``coredns-log``,
    ``cni-log``), ``None`` for other containers."""
    lines: int = 0
    events: tuple[LogEvent, ...] = ()

    kind = "ContainerLog"

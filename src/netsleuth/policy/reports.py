"""``connectivity`` and ``exposure`` as library calls returning report values for the renderers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from netsleuth.model.cluster import ClusterModel, WorkloadRef
from netsleuth.model.ports import PortSpec
from netsleuth.model.problems import LoadProblem
from netsleuth.policy.connlist import Connection, Peer, connectivity
from netsleuth.policy.coverage import known_connections, unknown_namespaces, unreadable_policies
from netsleuth.policy.semantics import resolve_named_port

if TYPE_CHECKING:  # exposure (and the reference engine it uses) only for exposure_report
    from netsleuth.policy.exposure import Exposure


@dataclass(frozen=True, slots=True)
class ConnectivityReport:
    connections: list[Connection]
    problems: tuple[LoadProblem, ...] = ()
    unreadable: tuple[str, ...] = ()
    """Policy resources that could not be read: the list is what the others allow."""
    notes: tuple[str, ...] = ()
    """Which connections are held back as unknown (an invalid policy was left out)."""
    focus: str | None = None
    port: PortSpec | None = None
    namespace: str | None = None
    """What chose ``connections`` (``--focus``, ``--port``, ``-n``); None: not narrowed."""


@dataclass(frozen=True, slots=True)
class ExposureReport:
    rows: list[Exposure]
    problems: tuple[LoadProblem, ...] = ()
    unreadable: tuple[str, ...] = ()


def _named_port_numbers(model: ClusterModel, peer: Peer, spec: PortSpec) -> set[int]:
    """The numbers the destination workload's pods give the port name ``spec.name``."""
    if peer.kind in ("ip_range", "pseudo") or peer.namespace is None or spec.name is None:
        return set()
    numbers: set[int] = set()
    for pod in model.pods_of_workload(WorkloadRef(peer.kind, peer.namespace, peer.name)):
        n = resolve_named_port(pod, spec.name, spec.protocol)
        if n is not None:
            numbers.add(n)
    return numbers


def connectivity_report(
    model: ClusterModel,
    *,
    focus: str | None = None,
    port: PortSpec | None = None,
    namespace: str | None = None,
) -> ConnectivityReport:
    """Allowed connections (``netsleuth connectivity``).

    ``port``: keep connections that allow it; a port name is looked up on the
    destination workload's pods (a connection to a workload without that
    name is left out). ``namespace``: connections with a side in it.
    """
    number = port.number if port is not None else None
    conns = connectivity(
        model,
        focus=focus,
        port=(port.protocol, number) if port is not None and number is not None else None,
    )
    if port is not None and port.name is not None:
        cache: dict[Peer, set[int]] = {}
        kept = []
        for c in conns:
            nums = cache.get(c.dst)
            if nums is None:
                nums = cache[c.dst] = _named_port_numbers(model, c.dst, port)
            allowed = dict(c.ports).get(port.protocol)
            if allowed is not None and any(n in allowed for n in nums):
                kept.append(c)
        conns = kept
    if namespace is not None:
        conns = [c for c in conns if namespace in (c.src.namespace, c.dst.namespace)]
    # never list as allowed what a left-out (invalid) policy could deny
    conns, held = known_connections(model, conns)
    return ConnectivityReport(
        conns,
        model.problems,
        unreadable_policies(model),
        (held,) if held else (),
        focus=focus,
        port=port,
        namespace=namespace,
    )


def exposure_report(model: ClusterModel, *, namespace: str | None = None) -> ExposureReport:
    """Per workload, what reaches it from other namespaces and from outside (``netsleuth exposure``)."""
    from netsleuth.policy.exposure import exposure

    rows = [x for x in exposure(model) if namespace in (None, x.namespace)]
    gaps = unknown_namespaces(model)
    if gaps is None or gaps:
        # a left-out (invalid) policy could change what reaches these workloads
        rows = [] if gaps is None else [x for x in rows if x.namespace not in gaps]
    return ExposureReport(rows, model.problems, unreadable_policies(model))

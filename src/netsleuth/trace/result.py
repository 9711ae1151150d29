"""What a trace returns: the query, the hops in path order, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from netsleuth.model.commands import Command
from netsleuth.model.findings import Evidence, Fix, Layer, Subject, Verdict
from netsleuth.model.problems import LoadProblem


@dataclass(frozen=True, slots=True, kw_only=True)
class Hop:
    layer: Layer
    status: Verdict
    summary: str
    evidence: tuple[Evidence, ...] = ()
    confirm: tuple[Command, ...] = ()
    fix: Fix | None = None
    detail: tuple[str, ...] = ()
    """Extra lines for the table view (the resolver's attempts, policy provenance…)."""
    root_cause: bool = False
    """This hop names the object in another layer that broke an earlier hop."""
    change: Subject | None = None
    """The object a person changes to fix this hop (a Deployment, not its pod; the Service; the
    CNI DaemonSet; the control-plane static pod carrying a flag), named first when the hop is
    broken or degraded."""
    change_field: str = ""
    """What to change on it (``spec.selector``, ``--node-cidr-mask-size``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceQuery:
    src: str
    dst: str
    port: int | str | None
    protocol: str
    src_resolved: str
    dst_resolved: str
    path: str
    """same-node, cross-node, pod-to-service, pod-to-external, ingress, loadbalancer."""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Risk:
    """A cluster-wide risk seen on the way that does not decide this path (CoreDNS
    sizing, no NodeLocal DNSCache, a podCIDR filling up): a note, never a hop status."""

    layer: Layer
    summary: str
    evidence: tuple[Evidence, ...] = ()
    fix: Fix | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceResult:
    query: TraceQuery
    hops: tuple[Hop, ...]
    problems: tuple[LoadProblem, ...] = field(default_factory=tuple)
    risks: tuple[Risk, ...] = ()
    nodes: tuple[str, ...] = ()
    """The nodes the traced path goes through, in path order: the source pod's, the
    destination's (the backend or pod the node hops follow, the ingress controller pod's),
    then any other node a hop names (``Node/<name>`` in its evidence). ``netsleuth collect
    --path`` collects on these."""

    @property
    def verdict(self) -> Verdict:
        """From the path's own hops: ``broken`` if any hop is broken, else ``warning``, else
        ``unknown``, else ``ok``. ``not-checked`` and ``skipped`` hops never change it; a
        path on which nothing could be verified is ``unknown``."""
        statuses = {h.status for h in self.hops}
        for v in (Verdict.BROKEN, Verdict.WARNING, Verdict.UNKNOWN, Verdict.OK):
            if v in statuses:
                return v
        return Verdict.UNKNOWN

    @property
    def not_checked(self) -> tuple[Hop, ...]:
        """The hops whose data was absent: what to collect to check them."""
        return tuple(h for h in self.hops if h.status is Verdict.NOT_CHECKED)

    @property
    def first_broken(self) -> Hop | None:
        for h in self.hops:
            if h.status is Verdict.BROKEN:
                return h
        return None

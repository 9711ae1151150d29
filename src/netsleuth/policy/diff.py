"""Semantic diff of two cluster versions: connections lost, gained and changed.

Both sides are computed by the matrix engine (:mod:`netsleuth.policy.connlist`)
and compared connection by connection (same src/dst peers). Each lost or
changed connection carries *why*: the reference evaluator's explanation on
the AFTER side for one port that was allowed before
(:func:`netsleuth.policy.explain_text`), and the policies that changed
between the two versions and select one of its ends, with their file and
line when the input came from files.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.intervals import format_ip
from netsleuth.model.objects import NetworkPolicy
from netsleuth.model.problems import LoadProblem, Origin
from netsleuth.policy.connlist import (
    ConnDiff,
    Connection,
    Peer,
    WorkloadMatrix,
    connectivity,
    diff,
    workload_matrix,
)
from netsleuth.policy.decision import Endpoint, IPEndpoint, PodEndpoint
from netsleuth.policy.provenance import explain_text
from netsleuth.policy.reference import evaluate


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """A NetworkPolicy added, removed or modified between the two versions."""

    change: str  # added | removed | modified
    namespace: str
    name: str
    origin: Origin

    def describe(self) -> str:
        return f"NetworkPolicy {self.namespace}/{self.name} {self.change}"


@dataclass(frozen=True, slots=True)
class Explained:
    """A lost or changed connection with its provenance."""

    before: Connection
    after: Connection | None
    probe: tuple[str, int]
    why: tuple[str, ...]
    changes: tuple[PolicyChange, ...]


@dataclass(frozen=True, slots=True)
class DiffReport:
    diff: ConnDiff
    lost: tuple[Explained, ...]
    changed: tuple[Explained, ...]
    policy_changes: tuple[PolicyChange, ...]
    problems: tuple[LoadProblem, ...] = ()
    """Load problems of both sides (renderers list them)."""
    notes: tuple[str, ...] = ()
    """Why some changes are unknown (a side holds a policy the API server would reject)."""


def policy_changes(before: ClusterModel, after: ClusterModel) -> tuple[PolicyChange, ...]:
    def index(m: ClusterModel) -> dict[tuple[str, str], NetworkPolicy]:
        return {(p.namespace, p.name): p for p in m.network_policies}

    b, a = index(before), index(after)
    out = []
    for key in sorted(b.keys() | a.keys()):
        if key not in a:
            out.append(PolicyChange("removed", *key, b[key].meta.origin))
        elif key not in b:
            out.append(PolicyChange("added", *key, a[key].meta.origin))
        else:
            pb, pa = b[key], a[key]
            if (pb.pod_selector, pb.policy_types, pb.ingress, pb.egress) != (
                pa.pod_selector,
                pa.policy_types,
                pa.ingress,
                pa.egress,
            ):
                out.append(PolicyChange("modified", *key, pa.meta.origin))
    return tuple(out)


def _endpoint(wm: WorkloadMatrix, peer: Peer) -> Endpoint | None:
    r = peer.address_range()
    if r is not None:
        # Any address of the range stands for it (the range is a piece both sides
        # treat alike); avoid the unspecified address 0.0.0.0 / ::.
        v, lo, hi = r
        return IPEndpoint(format_ip(v, lo if lo or lo == hi else lo + 1))
    try:
        return wm.representative[wm.index(peer)]
    except ValueError:
        return None


def _lost_port(before: Connection, after: Connection | None) -> tuple[str, int]:
    """A (protocol, port) allowed before and not after."""
    if after is not None:
        now = dict(after.ports)
        for proto, s in before.ports:
            gone = s - now[proto] if proto in now else s
            if gone:
                return proto, gone.ranges[0][0]
    return before.first_port()


def _relevant(changes: tuple[PolicyChange, ...], ends: list[Endpoint]) -> tuple[PolicyChange, ...]:
    namespaces = {e.pod.namespace for e in ends if isinstance(e, PodEndpoint)}
    return tuple(c for c in changes if c.namespace in namespaces)


def diff_models(before: ClusterModel, after: ClusterModel) -> DiffReport:
    """Compare the connectivity of two versions, with reasons for what was lost or narrowed."""
    wb, wa = workload_matrix(before), workload_matrix(after)
    d = diff(connectivity(before, wm=wb), connectivity(after, wm=wa))
    changes = policy_changes(before, after)

    def explain(c: Connection, now: Connection | None) -> Explained:
        proto, port = _lost_port(c, now)
        src, dst = _endpoint(wa, c.src), _endpoint(wa, c.dst)
        why: tuple[str, ...] = ()
        ends = [e for e in (src, dst) if e is not None]
        if src is not None and dst is not None:
            why = tuple(explain_text(evaluate(after, src, dst, proto, port)))
        elif src is None or dst is None:
            gone = c.src if src is None else c.dst
            why = (f"{gone.describe()} no longer exists in AFTER",)
        return Explained(c, now, (proto, port), why, _relevant(changes, ends))

    return DiffReport(
        diff=d,
        lost=tuple(explain(c, None) for c in d.lost),
        changed=tuple(explain(x, y) for x, y in d.changed),
        policy_changes=changes,
        problems=before.problems + after.problems,
    )

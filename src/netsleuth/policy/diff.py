"""Semantic diff of two cluster versions: connections lost, gained and changed.

Both sides are computed by the matrix engine (:mod:`netsleuth.policy.connlist`),
or, when the versions differ only in NetworkPolicies and labels, just the rows
and columns the differences touch (:mod:`netsleuth.policy.incremental`), and
compared connection by connection (same src/dst peers; address ranges address
by address). Each lost or
changed connection carries *why*: the reference evaluator's explanation on
the AFTER side for one port that was allowed before
(:func:`netsleuth.policy.explain_text`), and the policies that changed
between the two versions and select one of its ends, with their file and
line when the input came from files.
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel, WorkloadRef
from netsleuth.model.intervals import format_ip
from netsleuth.model.objects import NetworkPolicy
from netsleuth.model.problems import LoadProblem, Origin
from netsleuth.policy.connlist import ConnDiff, Connection, Peer, connectivity_pair, diff
from netsleuth.policy.decision import Endpoint, IngressControllerEndpoint, IPEndpoint, PodEndpoint
from netsleuth.policy.incremental import diff_incremental
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


def _endpoint(model: ClusterModel, peer: Peer) -> Endpoint | None:
    """An endpoint standing for ``peer`` in ``model``: a pod of the workload (one with an IP
    when there is one), an address of the range, the pseudo-peer; ``None`` when gone."""
    r = peer.address_range()
    if r is not None:
        # Any address of the range stands for it (the range is a piece both sides
        # treat alike); avoid the unspecified address 0.0.0.0 / ::.
        v, lo, hi = r
        return IPEndpoint(format_ip(v, lo if lo or lo == hi else lo + 1))
    if peer.kind == "pseudo":
        return IngressControllerEndpoint()
    if peer.kind == "Pod":
        pod = model.pod(peer.namespace or "", peer.name)
        if pod is not None and model.owner(pod) == WorkloadRef("Pod", pod.namespace, pod.name):
            return PodEndpoint(pod)
    pods = model.pods_of_workload(WorkloadRef(peer.kind, peer.namespace or "", peer.name))
    if not pods:
        return None
    with_ip = [p for p in pods if p.pod_ips]
    return PodEndpoint((with_ip or pods)[0])


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
    """Compare the connectivity of two versions, with reasons for what was lost or narrowed.

    When the versions differ only in NetworkPolicies, namespace labels and pod labels,
    only the rows and columns those differences touch are computed
    (:func:`~netsleuth.policy.incremental.diff_incremental`); otherwise both whole
    connection lists are.
    """
    d = diff_incremental(before, after)
    if d is None:
        d = diff(*connectivity_pair(before, after))
    changes = policy_changes(before, after)
    ends_cache: dict[Peer, Endpoint | None] = {}

    def endpoint(peer: Peer) -> Endpoint | None:
        if peer not in ends_cache:
            ends_cache[peer] = _endpoint(after, peer)
        return ends_cache[peer]

    def explain(c: Connection, now: Connection | None) -> Explained:
        proto, port = _lost_port(c, now)
        src, dst = endpoint(c.src), endpoint(c.dst)
        why: tuple[str, ...] = ()
        ends = [e for e in (src, dst) if e is not None]
        if src is not None and dst is not None:
            why = tuple(explain_text(evaluate(after, src, dst, proto, port)))
        else:
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

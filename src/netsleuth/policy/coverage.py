"""Whether the policy inputs are complete: verdicts over unread or invalid policies are unknown.

Two ways a policy can be missing from the model:

- a policy resource could not be listed (RBAC, a failed request): every
  verdict is unknown (:func:`unreadable_policies` names the resource);
- a policy was left out because the API server would have rejected it
  (``sources.policy_validation``; its load problem carries the object's
  key). An invalid NetworkPolicy only ever selects pods of its own
  namespace, so verdicts for pods of that namespace (their ingress and
  their egress) are unknown; an invalid AdminNetworkPolicy or
  BaselineAdminNetworkPolicy, or one whose decoding reported a problem,
  makes every verdict unknown.

Evaluating without a policy treats it as absent, which can err either way
(a NetworkPolicy only removes connections, an ANP Allow can give them
back), so such verdicts are reported as unknown, never as allowed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol, TypeVar

from netsleuth.model.cluster import ClusterModel

if TYPE_CHECKING:
    from netsleuth.policy.diff import DiffReport

POLICY_RESOURCES = ("networkpolicies", "adminnetworkpolicies", "baselineadminnetworkpolicies")
"""The policy kinds the engine evaluates, by the resource name a live source records."""

_ADMIN_KINDS = ("AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


@dataclass(frozen=True, slots=True)
class InvalidPolicy:
    """A policy left out (or only partly read) because it is not valid."""

    kind: str
    namespace: str | None
    """``None`` for the cluster-scoped admin policies: then every verdict is unknown."""
    name: str

    def describe(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.kind} {where} (invalid, left out)"


def invalid_policies(model: ClusterModel) -> tuple[InvalidPolicy, ...]:
    """Policies the load left out as invalid, and admin policies that decoded with problems."""
    return model.memoised("policy.coverage.invalid", lambda: _invalid(model))


def _invalid(model: ClusterModel) -> tuple[InvalidPolicy, ...]:
    out: list[InvalidPolicy] = []
    for p in model.problems:
        if p.key is None:
            continue
        kind, ns, name = p.key
        if kind == "NetworkPolicy":
            out.append(InvalidPolicy(kind, ns or "default", name))
        elif kind in _ADMIN_KINDS:
            out.append(InvalidPolicy(kind, None, name))
    if model.custom_of_kind(*_ADMIN_KINDS):
        from netsleuth.policy.anp import decode_admin_policy

        for obj in model.custom_of_kind(*_ADMIN_KINDS):
            _, problems = decode_admin_policy(obj)
            if problems:
                out.append(InvalidPolicy(obj.kind, None, obj.meta.name))
    return tuple(dict.fromkeys(out))


def unknown_namespaces(model: ClusterModel) -> frozenset[str] | None:
    """Namespaces whose pods' policy verdicts are unknown; ``None`` when every verdict is."""
    bad = invalid_policies(model)
    if any(p.namespace is None for p in bad):
        return None
    return frozenset(p.namespace for p in bad if p.namespace is not None)


def unreadable_policies(
    model: ClusterModel, namespaces: Iterable[str | None] | None = None
) -> tuple[str, ...]:
    """What makes a policy verdict unknown, as text for notes and JSON.

    The policy resources the source could not list (forbidden or failed)
    always; the invalid policies that were left out when they can change a
    verdict for pods of ``namespaces`` (every one when ``namespaces`` is
    ``None``: whole-cluster views).
    """
    out = [r for r in POLICY_RESOURCES if model.is_forbidden(r)]
    wanted = None if namespaces is None else set(namespaces)
    for p in invalid_policies(model):
        if p.namespace is None or wanted is None or p.namespace in wanted:
            out.append(p.describe())
    return tuple(out)


def unreadable_note(unreadable: tuple[str, ...]) -> str:
    """The sentence every command prints when policy kinds are missing."""
    listed = [u for u in unreadable if u in POLICY_RESOURCES]
    invalid = [u for u in unreadable if u not in POLICY_RESOURCES]
    parts = []
    if listed:
        parts.append(f"{', '.join(listed)} could not be listed (forbidden or failed)")
    if invalid:
        parts.append(", ".join(invalid))
    return f"verdicts are unknown: {'; '.join(parts)}; what follows treats them as absent"


class _Peer(Protocol):
    @property
    def namespace(self) -> str | None: ...


class _Conn(Protocol):
    @property
    def src(self) -> _Peer: ...

    @property
    def dst(self) -> _Peer: ...


C = TypeVar("C", bound=_Conn)


def known_connections(model: ClusterModel, conns: Sequence[C]) -> tuple[list[C], str | None]:
    """The connections no left-out policy could change, and a note on the ones held back.

    A connection whose source or destination workload sits in a namespace
    with an invalid NetworkPolicy is not listed (its verdict is unknown);
    with an invalid admin policy none is.
    """
    gaps = unknown_namespaces(model)
    if gaps is None:
        return [], "no connection is listed: an admin network policy is invalid (see the problems)"
    if not gaps:
        return list(conns), None
    kept = [c for c in conns if c.src.namespace not in gaps and c.dst.namespace not in gaps]
    held = len(conns) - len(kept)
    note = (
        f"connections from or to namespace(s) {', '.join(sorted(gaps))} are unknown, not listed "
        f"({held} held back): an invalid NetworkPolicy there was left out"
    )
    return kept, note


def known_diff(before: ClusterModel, after: ClusterModel, report: DiffReport) -> DiffReport:
    """``report`` without the changes a left-out (invalid) policy on either side could explain."""
    from netsleuth.policy.connlist import ConnDiff

    gb, ga = unknown_namespaces(before), unknown_namespaces(after)
    if gb is None or ga is None:
        return replace(
            report,
            diff=ConnDiff(lost=(), gained=(), changed=()),
            lost=(),
            changed=(),
        )
    gaps = gb | ga
    if not gaps:
        return report

    def ok(src_ns: str | None, dst_ns: str | None) -> bool:
        return src_ns not in gaps and dst_ns not in gaps

    d = report.diff
    return replace(
        report,
        diff=ConnDiff(
            lost=tuple(c for c in d.lost if ok(c.src.namespace, c.dst.namespace)),
            gained=tuple(c for c in d.gained if ok(c.src.namespace, c.dst.namespace)),
            changed=tuple((x, y) for x, y in d.changed if ok(x.src.namespace, x.dst.namespace)),
        ),
        lost=tuple(e for e in report.lost if ok(e.before.src.namespace, e.before.dst.namespace)),
        changed=tuple(
            e for e in report.changed if ok(e.before.src.namespace, e.before.dst.namespace)
        ),
    )

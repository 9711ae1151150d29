"""Whether the policy inputs are complete: verdicts over unreadable policy kinds are unknown."""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel

POLICY_RESOURCES = ("networkpolicies", "adminnetworkpolicies", "baselineadminnetworkpolicies")
"""The policy kinds the engine evaluates, by the resource name a live source records."""


def unreadable_policies(model: ClusterModel) -> tuple[str, ...]:
    """Policy resources the source could not list (forbidden or failed).

    Evaluating without them treats them as absent, which can only err towards
    "allowed": a verdict computed that way is unknown, not allowed.
    """
    return tuple(r for r in POLICY_RESOURCES if model.is_forbidden(r))


def unreadable_note(unreadable: tuple[str, ...]) -> str:
    """The sentence every command prints when policy kinds are missing."""
    return (
        f"verdicts are unknown: {', '.join(unreadable)} could not be listed (forbidden or "
        "failed); what follows treats them as absent"
    )

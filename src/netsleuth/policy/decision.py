"""Endpoints and the engine's result types: verdicts that carry their provenance.

A :class:`Decision` answers one question — may ``src`` open a connection to
``dst`` on ``protocol/port``? — and says why, per direction, in values
(:class:`RuleMatch`, :class:`PeerMiss`, :class:`TierDecision`) that
``explain``, ``trace``, ``diff`` and the HTML map all print the same way
(:func:`netsleuth.policy.provenance.explain_text`).
"""

from __future__ import annotations

from dataclasses import dataclass

from netsleuth.model.intervals import IntervalSet
from netsleuth.model.objects import Pod
from netsleuth.policy.semantics import Direction

# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True, slots=True)
class PodEndpoint:
    """A pod as source or destination.

    A ``hostNetwork`` pod is addressed by its node's IP: no NetworkPolicy or
    ANP subject selects it, and as a peer only ``ipBlock`` (and ANP
    ``networks``/``nodes``) can match it.
    """

    pod: Pod

    def describe(self) -> str:
        return f"pod {self.pod.namespace}/{self.pod.name}" + (
            " (hostNetwork)" if self.pod.host_network else ""
        )


@dataclass(frozen=True, slots=True)
class IPEndpoint:
    """An address that is not a (non-hostNetwork) pod: outside the cluster, or a node."""

    ip: str
    label: str = ""
    """When set, the endpoint stands for a class of addresses the user did not give (e.g.
    "an external address", see :mod:`netsleuth.policy.external`): ``ip`` is only the member
    it is evaluated with, and reasons name the label, never ``ip``."""

    def describe(self) -> str:
        return self.label or f"address {self.ip}"


@dataclass(frozen=True, slots=True)
class IngressControllerEndpoint:
    """The ingress controller, when its pods are not in the input.

    Treated as a pod of an unknown namespace with unknown labels, i.e. as
    "coming from outside the destination's namespace". It matches a peer
    only when the peer would match *any* pod of *any* namespace: a rule
    with no ``from``, or a peer ``namespaceSelector: {}`` whose
    ``podSelector`` is absent or empty. ``ipBlock`` matches it only when
    ``ip`` is known and inside the block. When the controller pods are in
    the input, use them (:func:`netsleuth.policy.ingress_controller_endpoints`).
    """

    ingress_class: str | None = None
    ip: str | None = None

    def describe(self) -> str:
        cls = f" of class {self.ingress_class}" if self.ingress_class else ""
        return f"ingress controller{cls} (pseudo-peer, pods not in the input)"


Endpoint = PodEndpoint | IPEndpoint | IngressControllerEndpoint


def endpoint_pod(ep: Endpoint) -> Pod | None:
    """The pod behind an endpoint, or ``None``."""
    return ep.pod if isinstance(ep, PodEndpoint) else None


# --------------------------------------------------------------------------- provenance values


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """A policy by kind, namespace (``None`` for cluster-scoped) and name."""

    kind: str  # NetworkPolicy, AdminNetworkPolicy, BaselineAdminNetworkPolicy
    namespace: str | None
    name: str

    def describe(self) -> str:
        short = {
            "NetworkPolicy": "netpol",
            "AdminNetworkPolicy": "anp",
            "BaselineAdminNetworkPolicy": "banp",
        }.get(self.kind, self.kind)
        return f"{short} {self.namespace}/{self.name}" if self.namespace else f"{short} {self.name}"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule, peer and port entry that matched the connection.

    Indexes are 0-based positions in the policy's ``ingress``/``egress``
    list, the rule's ``from``/``to`` list and its ``ports`` list. ``peer``
    is ``None`` when the rule has no peers (every peer); ``port`` is
    ``None`` when the rule has no ports (every port). ``rule_name`` and
    ``action`` are set for ANP/BANP rules.
    """

    policy: PolicyRef
    direction: Direction
    rule: int
    peer: int | None
    port: int | None
    rule_name: str | None = None
    action: str | None = None
    peer_text: str = ""
    port_text: str = ""

    def describe(self) -> str:
        rule = f"{self.direction.lower()} rule #{self.rule + 1}" + (
            f" '{self.rule_name}'" if self.rule_name else ""
        )
        peer = self.peer_text or ("any peer" if self.peer is None else f"peer #{self.peer + 1}")
        port = self.port_text or ("any port" if self.port is None else f"port #{self.port + 1}")
        act = f" [{self.action}]" if self.action else ""
        return f"{self.policy.describe()} {rule}{act}: {peer}, {port}"


@dataclass(frozen=True, slots=True)
class PeerMiss:
    """A candidate rule (or one of its peers) that did not match, and why."""

    policy: PolicyRef
    direction: Direction
    rule: int
    peer: int | None
    reason: str
    rule_name: str | None = None

    def describe(self) -> str:
        where = f"{self.direction.lower()} rule #{self.rule + 1}" + (
            f" '{self.rule_name}'" if self.rule_name else ""
        )
        if self.peer is not None:
            where += f" peer #{self.peer + 1}"
        return f"{self.policy.describe()} {where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class TierDecision:
    """What an admin tier (ANP or BANP) said for one direction.

    ``action`` is ``Allow``, ``Deny``, ``Pass`` (ANP only) or ``None`` when no
    rule of the tier matched (the next tier decides). ``subjects`` are the
    policies of the tier whose subject selects the pod.
    """

    tier: str  # AdminNetworkPolicy | BaselineAdminNetworkPolicy
    action: str | None
    rule: RuleMatch | None
    subjects: tuple[PolicyRef, ...] = ()
    misses: tuple[PeerMiss, ...] = ()


class DecidedBy:
    """Which layer settled a direction (string constants, stable in JSON)."""

    ADMIN = "AdminNetworkPolicy"
    NETWORK_POLICY = "NetworkPolicy"
    BASELINE = "BaselineAdminNetworkPolicy"
    DEFAULT = "default"
    NOT_A_POD = "not-a-pod"


@dataclass(frozen=True, slots=True)
class DirectionDecision:
    """The verdict of one side: egress of the source, or ingress of the destination.

    - ``isolated``: some NetworkPolicy selects the pod for this direction.
    - ``selecting``: those NetworkPolicies.
    - ``allowed_by``: every NetworkPolicy rule/peer/port that admits the
      connection (all of them, not only the first: they are additive).
    - ``misses``: NetworkPolicy rules of the selecting policies that did
      not admit it, with the reason.
    - ``admin`` / ``baseline``: the ANP and BANP tiers' say (``None`` when
      the tier was not consulted, e.g. BANP after a NetworkPolicy decided).
    - ``decided_by``: a :class:`DecidedBy` constant; ``reason``: one line.
    """

    direction: Direction
    allowed: bool
    isolated: bool
    decided_by: str
    reason: str
    selecting: tuple[PolicyRef, ...] = ()
    allowed_by: tuple[RuleMatch, ...] = ()
    misses: tuple[PeerMiss, ...] = ()
    admin: TierDecision | None = None
    baseline: TierDecision | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """May ``src`` connect to ``dst`` on ``protocol/port``: egress AND ingress."""

    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int
    egress: DirectionDecision
    ingress: DirectionDecision

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed


@dataclass(frozen=True, slots=True)
class DirectionPorts:
    """One side's verdict over every port: what it allows, and what decided it.

    ``allowed_by`` and ``reasons`` are gathered over every stretch of ports
    on which the verdict is constant (duplicates removed, first seen first).
    """

    direction: Direction
    allowed: dict[str, IntervalSet]
    isolated: bool
    selecting: tuple[PolicyRef, ...]
    decided_by: tuple[str, ...]
    allowed_by: tuple[RuleMatch, ...]
    reasons: tuple[str, ...]
    misses: tuple[PeerMiss, ...] = ()
    """Misses that hold on every port (peer mismatches), i.e. not about ports."""


@dataclass(frozen=True, slots=True)
class PortsDecision:
    """Every port/protocol verdict between ``src`` and ``dst``."""

    src: Endpoint
    dst: Endpoint
    egress: DirectionPorts
    ingress: DirectionPorts
    combined: dict[str, IntervalSet]
    unresolved_named_ports: tuple[str, ...] = ()

"""The reference evaluator: one (src, dst, protocol, port) question, answered with reasons.

Small and direct on purpose: it is the definition the fast matrix engine is
held to. Every step follows the Kubernetes documentation
(https://kubernetes.io/docs/concepts/services-networking/network-policies/)
and the AdminNetworkPolicy v1alpha1 API (see :mod:`netsleuth.policy.anp`).

The algorithm, per direction (egress of the source, ingress of the
destination; the connection is allowed iff both are):

1. The side is not a pod (an address, the ingress-controller pseudo-peer)
   or is a ``hostNetwork`` pod → nothing selects it: allowed.
2. ANP tier: ANPs whose subject selects the pod, by priority, rules in
   order; the first rule whose peer and port match decides. ``Allow``/
   ``Deny`` are final; ``Pass`` (or no match) goes on.
3. NetworkPolicy tier: the pod is *isolated* in this direction iff some
   NetworkPolicy of its namespace selects it (``podSelector``) and names
   the direction in its effective ``policyTypes``. Isolated → allowed iff
   any rule of any selecting policy admits the peer and the port (policies
   are additive, order does not matter). A policy that selects the pod
   for Egress but has no egress rules allows nothing.
4. Not isolated → BANP tier (first matching rule: Allow/Deny), else
   default allow.

Peer matching (NetworkPolicy):

- ``podSelector`` only: pods of the *policy's* namespace matching it.
- ``namespaceSelector`` only: every pod of the matching namespaces
  (``{}``: all namespaces).
- both in one peer: AND (pods matching ``podSelector`` inside namespaces
  matching ``namespaceSelector``); two peers in one rule are OR.
- ``ipBlock``: ``cidr`` minus ``except``, compared with the peer's IP
  addresses — including pod IPs, as the upstream e2e suite expects
  (cases 35/36: ``<podIP>/4`` with an ``except`` of one pod's /32). CNIs
  differ here; we follow upstream.
- A rule with no ``from``/``to`` matches every peer, pods and addresses.
- A peer object with no field at all (``{}`` inside ``from``) is rejected
  by the API server; here it matches nothing.

Assumptions the model cannot tell us:

- **hostNetwork pods** use the node's network namespace: NetworkPolicy and
  ANP subjects do not select them (most CNIs ignore them), and as peers
  pod/namespace selectors never match them; only ``ipBlock`` (and ANP
  ``networks``/``nodes``) on their IP (the node IP) does.
- **Pods without an IP** (pending, manifests-only derived pods) are
  selected and matched by labels as usual; an ``ipBlock`` never matches
  them because they have no address.
- **Addresses** (:class:`IPEndpoint`) are never selected by any policy;
  they are matched only by ``ipBlock``/``networks``, and by ANP ``nodes``
  when they are the address of a node in the model. Use
  :func:`endpoint_for_ip` to turn an address that belongs to a pod into
  that pod first.
"""

from __future__ import annotations

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.intervals import PORT_MAX, PORT_MIN, IntervalSet, IPSet
from netsleuth.model.objects import NetworkPolicy, Node, Pod, PolicyPeer, PolicyRule
from netsleuth.policy.anp import (
    ANP_KIND,
    BANP_KIND,
    AdminPeer,
    AdminPolicy,
    AdminPort,
    AdminRule,
    admin_policies,
)
from netsleuth.policy.decision import (
    DecidedBy,
    Decision,
    DirectionDecision,
    DirectionPorts,
    Endpoint,
    IngressControllerEndpoint,
    IPEndpoint,
    PeerMiss,
    PodEndpoint,
    PolicyRef,
    PortsDecision,
    RuleMatch,
    TierDecision,
    endpoint_pod,
)
from netsleuth.policy.semantics import (
    PROTOCOLS,
    Direction,
    cidr_set,
    describe_ip_block,
    describe_port_entry,
    format_labels,
    ip_block_set,
    ip_in_set,
    normalise_protocol,
    port_entry_mismatch,
    port_entry_set,
    resolve_named_port,
    selector_mismatch,
)

# --------------------------------------------------------------------------- selection


def policy_ref(policy: NetworkPolicy) -> PolicyRef:
    return PolicyRef("NetworkPolicy", policy.namespace, policy.name)


def admin_ref(policy: AdminPolicy) -> PolicyRef:
    return PolicyRef(policy.kind, None, policy.name)


def selectable(pod: Pod) -> bool:
    """Whether policies can select ``pod`` at all (hostNetwork pods are not)."""
    return not pod.host_network


def policy_selects(policy: NetworkPolicy, pod: Pod, direction: Direction) -> bool:
    """``policy`` isolates ``pod`` in ``direction``: same namespace, ``podSelector``
    matches, and the effective ``policyTypes`` names the direction.

    ``policyTypes`` omitted defaults to ``[Ingress]`` plus ``Egress`` when the
    policy has an ``egress`` section; the model stores that effective value.
    So a policy with only ``ingress`` rules never isolates egress, and
    ``policyTypes: [Egress]`` with no rules denies all egress.
    """
    return (
        selectable(pod)
        and policy.namespace == pod.namespace
        and str(direction) in policy.policy_types
        and policy.pod_selector.matches(pod.labels)
    )


def policies_selecting(
    model: ClusterModel, pod: Pod, direction: Direction
) -> tuple[NetworkPolicy, ...]:
    """The NetworkPolicies that isolate ``pod`` in ``direction`` (input order)."""
    return tuple(p for p in model.policies_in(pod.namespace) if policy_selects(p, pod, direction))


def admin_subject_matches(model: ClusterModel, policy: AdminPolicy, pod: Pod) -> bool:
    s = policy.subject
    if s is None or not selectable(pod):
        return False
    if not s.namespace_selector.matches(model.namespace_labels(pod.namespace)):
        return False
    return s.pod_selector is None or s.pod_selector.matches(pod.labels)


def admin_policies_selecting(
    model: ClusterModel, pod: Pod, direction: Direction
) -> tuple[AdminPolicy, ...]:
    """ANPs (priority order) then BANPs whose subject selects ``pod`` and that
    have rules in ``direction``."""
    ap = admin_policies(model)
    return tuple(
        p
        for p in (*ap.anps, *ap.banps)
        if (p.ingress if direction is Direction.INGRESS else p.egress)
        and admin_subject_matches(model, p, pod)
    )


def endpoint_for_ip(model: ClusterModel, ip: str) -> Endpoint:
    """The non-hostNetwork pod that owns ``ip``, else an :class:`IPEndpoint`."""
    for pod in model.pods_by_ip.get(ip, ()):
        if not pod.host_network:
            return PodEndpoint(pod)
    return IPEndpoint(ip)


# --------------------------------------------------------------------------- peer facts


def endpoint_ips(ep: Endpoint) -> tuple[str, ...]:
    """The addresses an endpoint uses on the wire (a hostNetwork pod: its node IP)."""
    if isinstance(ep, PodEndpoint):
        if ep.pod.pod_ips:
            return ep.pod.pod_ips
        if ep.pod.host_network and ep.pod.host_ip:
            return (ep.pod.host_ip,)
        return ()
    if isinstance(ep, IPEndpoint):
        return (ep.ip,)
    return (ep.ip,) if ep.ip else ()


def _ip_text(ep: Endpoint) -> str:
    ips = endpoint_ips(ep)
    return ", ".join(ips) if ips else "no IP"


def _with_ips(ep: Endpoint) -> str:
    """``address 192.0.2.7`` / ``pod ns/x (10.0.0.5)``; a labelled address class alone (its
    ``ip`` is only the member it is evaluated with)."""
    if isinstance(ep, IPEndpoint) and ep.label:
        return ep.label
    return f"{_describe(ep)} ({_ip_text(ep)})"


def np_peer_mismatch(
    model: ClusterModel, policy: NetworkPolicy, peer: PolicyPeer, other: Endpoint
) -> str | None:
    """Why NetworkPolicy ``peer`` of ``policy`` does not match ``other``, or ``None``."""
    if peer.ip_block is not None:
        ips = endpoint_ips(other)
        if not ips:
            return f"ipBlock {describe_ip_block(peer.ip_block)}: {_describe(other)} has no IP"
        if cidr_set(peer.ip_block.cidr) is None:
            return f"ipBlock cidr {peer.ip_block.cidr!r} is not a valid CIDR"
        if ip_in_set(ips, ip_block_set(peer.ip_block)):
            return None
        return f"{_with_ips(other)} is not in ipBlock {describe_ip_block(peer.ip_block)}"
    ns_sel, pod_sel = peer.namespace_selector, peer.pod_selector
    if ns_sel is None and pod_sel is None:
        return "empty peer (no podSelector, namespaceSelector or ipBlock) matches nothing"
    if isinstance(other, IngressControllerEndpoint):
        if ns_sel is not None and ns_sel.is_empty and (pod_sel is None or pod_sel.is_empty):
            return None
        return (
            "the ingress controller's namespace and labels are unknown (its pods are not in the "
            "input); only namespaceSelector: {} matches it"
        )
    if isinstance(other, IPEndpoint):
        return f"{_describe(other)} is not a pod; only ipBlock matches addresses"
    pod = other.pod
    if pod.host_network:
        return f"pod {pod.namespace}/{pod.name} uses hostNetwork; only ipBlock (node IP) matches it"
    if ns_sel is None:
        if pod.namespace != policy.namespace:
            return (
                f"podSelector without namespaceSelector only matches pods of namespace "
                f"{policy.namespace}, not {pod.namespace}"
            )
    else:
        ns_labels = model.namespace_labels(pod.namespace)
        why = selector_mismatch(ns_sel, ns_labels)
        if why is not None:
            return (
                f"namespace {pod.namespace} labels {format_labels(ns_labels)} do not match "
                f"namespaceSelector {ns_sel.describe()} ({why})"
            )
    if pod_sel is not None:
        why = selector_mismatch(pod_sel, pod.labels)
        if why is not None:
            return (
                f"pod {pod.namespace}/{pod.name} labels {format_labels(pod.labels)} do not match "
                f"podSelector {pod_sel.describe()} ({why})"
            )
    return None


def describe_np_peer(policy: NetworkPolicy, peer: PolicyPeer) -> str:
    if peer.ip_block is not None:
        return f"ipBlock {describe_ip_block(peer.ip_block)}"
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaceSelector {peer.namespace_selector.describe()}")
    else:
        parts.append(f"namespace {policy.namespace}")
    if peer.pod_selector is not None:
        parts.append(f"podSelector {peer.pod_selector.describe()}")
    return " and ".join(parts)


def _describe(ep: Endpoint) -> str:
    return ep.describe()


def _nodes_of(model: ClusterModel, ep: Endpoint) -> list[Node]:
    """Nodes that ``ep`` is: a hostNetwork pod's node, or nodes owning the address."""
    out: list[Node] = []
    if isinstance(ep, PodEndpoint):
        if not ep.pod.host_network:
            return []
        if ep.pod.node_name and ep.pod.node_name in model.nodes:
            out.append(model.nodes[ep.pod.node_name])
    ips = set(endpoint_ips(ep))
    for node in model.nodes.values():
        if node not in out and any(a.address in ips for a in node.addresses):
            out.append(node)
    return out


def admin_peer_mismatch(
    model: ClusterModel, peer: AdminPeer, other: Endpoint, subject: Pod | None = None
) -> str | None:
    """Why ANP/BANP ``peer`` does not match ``other``, or ``None``.

    ``subject`` is the pod the policy applies to; it is needed only for the
    early ``sameLabels``/``notSameLabels`` peers (without it they never match).
    """
    if peer.networks is not None:
        ips = endpoint_ips(other)
        nets = IPSet()
        for cidr in peer.networks:
            s = cidr_set(cidr)
            if s is not None:
                nets = nets | s
        if ips and ip_in_set(ips, nets):
            return None
        return f"{_with_ips(other)} is not in networks {', '.join(peer.networks)}"
    if peer.nodes is not None:
        nodes = _nodes_of(model, other)
        if not nodes:
            return f"{_with_ips(other)} is not a node address"
        whys = []
        for node in nodes:
            why = selector_mismatch(peer.nodes, node.meta.labels)
            if why is None:
                return None
            whys.append(f"node {node.name} labels {format_labels(node.meta.labels)} ({why})")
        return f"nodes {peer.nodes.describe()} do not match: " + "; ".join(whys)
    if peer.namespaces is None and peer.pods is None:
        return "malformed peer matches nothing"
    pod = endpoint_pod(other)
    if pod is None:
        return f"{_describe(other)} is not a pod; namespaces/pods peers match only pods"
    if pod.host_network:
        return f"pod {pod.namespace}/{pod.name} uses hostNetwork; namespaces/pods peers do not match it"
    ns_labels = model.namespace_labels(pod.namespace)
    ns_sel = peer.namespaces if peer.namespaces is not None else peer.pods[0]  # type: ignore[index]
    why = selector_mismatch(ns_sel, ns_labels)
    if why is not None:
        return (
            f"namespace {pod.namespace} labels {format_labels(ns_labels)} do not match "
            f"namespaces {ns_sel.describe()} ({why})"
        )
    if peer.same_labels or peer.not_same_labels:
        subject_ns = model.namespace_labels(subject.namespace) if subject is not None else {}
        for key in peer.same_labels:
            if key not in subject_ns or ns_labels.get(key) != subject_ns[key]:
                return (
                    f"namespace {pod.namespace} does not share label {key} with the subject's "
                    f"namespace (sameLabels)"
                )
        for key in peer.not_same_labels:
            if key not in subject_ns or key not in ns_labels or ns_labels[key] == subject_ns[key]:
                return (
                    f"namespace {pod.namespace} does not carry label {key} with a value different "
                    f"from the subject's namespace (notSameLabels)"
                )
    if peer.pods is not None:
        why = selector_mismatch(peer.pods[1], pod.labels)
        if why is not None:
            return (
                f"pod {pod.namespace}/{pod.name} labels {format_labels(pod.labels)} do not match "
                f"podSelector {peer.pods[1].describe()} ({why})"
            )
    return None


def admin_port_mismatch(
    port_entry: AdminPort, protocol: str, port: int, dst_pod: Pod | None
) -> str | None:
    """Why an ANP ``ports`` entry does not admit ``port/protocol`` to ``dst_pod``, or ``None``."""
    proto = normalise_protocol(protocol)
    if port_entry.kind == "namedPort":
        name = port_entry.name or ""
        if dst_pod is None:
            return f"named port {name}: the destination is not a pod"
        if dst_pod.host_network:
            return (
                f"named port {name}: pod {dst_pod.namespace}/{dst_pod.name} uses hostNetwork, "
                "so it is its node's address, which has no named ports"
            )
        for cp in dst_pod.spec.all_ports():
            if cp.name == name:
                if normalise_protocol(cp.protocol) == proto and cp.container_port == port:
                    return None
                return (
                    f"named port {name} is {cp.container_port}/{normalise_protocol(cp.protocol)} "
                    f"on pod {dst_pod.namespace}/{dst_pod.name}, not {port}/{proto}"
                )
        return f"named port {name} does not exist on pod {dst_pod.namespace}/{dst_pod.name}"
    if port_entry.protocol != proto:
        return f"protocol {proto} is not {port_entry.protocol} ({port_entry.describe()})"
    if port_entry.start <= port <= port_entry.end:
        return None
    return f"port {port}/{proto} is not {port_entry.describe()}"


# --------------------------------------------------------------------------- tiers


def _rule_peers_ports(direction: Direction, pod: Pod, other: Endpoint) -> tuple[Pod | None, str]:
    """The destination pod (for named ports) and a word for the peer side."""
    if direction is Direction.INGRESS:
        return pod, "from"
    return endpoint_pod(other), "to"


def _eval_np_rule(
    model: ClusterModel,
    policy: NetworkPolicy,
    direction: Direction,
    index: int,
    rule: PolicyRule,
    pod: Pod,
    other: Endpoint,
    protocol: str,
    port: int,
) -> tuple[RuleMatch | None, list[PeerMiss]]:
    ref = policy_ref(policy)
    dst_pod, _ = _rule_peers_ports(direction, pod, other)
    misses: list[PeerMiss] = []
    peer_hit: int | None = None
    peer_text = "any peer"
    if rule.peers:
        found = False
        for j, peer in enumerate(rule.peers):
            why = np_peer_mismatch(model, policy, peer, other)
            if why is None:
                peer_hit, found = j, True
                peer_text = describe_np_peer(policy, peer)
                break
            misses.append(PeerMiss(ref, direction, index, j, why))
        if not found:
            return None, misses
        misses = []  # a matching peer makes the other peers' misses irrelevant
    port_hit: int | None = None
    port_text = "any port"
    if rule.ports:
        reasons = []
        for k, entry in enumerate(rule.ports):
            why = port_entry_mismatch(entry, protocol, port, dst_pod)
            if why is None:
                port_hit = k
                port_text = describe_port_entry(entry)
                es = port_entry_set(entry, dst_pod)
                if isinstance(entry.port, str) and not entry.port.isdigit():
                    port_text += f" (= {es.ports.describe()[0]})"
                break
            reasons.append(why)
        else:
            return None, [PeerMiss(ref, direction, index, peer_hit, "; ".join(reasons))]
    return (
        RuleMatch(
            ref, direction, index, peer_hit, port_hit, peer_text=peer_text, port_text=port_text
        ),
        [],
    )


def _admin_tier(
    model: ClusterModel,
    policies: tuple[AdminPolicy, ...],
    direction: Direction,
    pod: Pod,
    other: Endpoint,
    protocol: str,
    port: int,
    tier: str,
) -> TierDecision:
    subjects: list[PolicyRef] = []
    misses: list[PeerMiss] = []
    dst_pod, _ = _rule_peers_ports(direction, pod, other)
    for pol in policies:
        rules: tuple[AdminRule, ...] = pol.ingress if direction is Direction.INGRESS else pol.egress
        if not rules or not admin_subject_matches(model, pol, pod):
            continue
        ref = admin_ref(pol)
        subjects.append(ref)
        for i, rule in enumerate(rules):
            peer_hit: int | None = None
            peer_whys: list[str] = []
            for j, peer in enumerate(rule.peers):
                why = admin_peer_mismatch(model, peer, other, pod)
                if why is None:
                    peer_hit = j
                    break
                peer_whys.append(f"peer #{j + 1}: {why}")
            if peer_hit is None:
                misses.append(
                    PeerMiss(ref, direction, i, None, "; ".join(peer_whys) or "no peers", rule.name)
                )
                continue
            port_hit: int | None = None
            if rule.ports is not None:
                port_whys = []
                for k, entry in enumerate(rule.ports):
                    why = admin_port_mismatch(entry, protocol, port, dst_pod)
                    if why is None:
                        port_hit = k
                        break
                    port_whys.append(why)
                if port_hit is None:
                    misses.append(
                        PeerMiss(
                            ref,
                            direction,
                            i,
                            peer_hit,
                            "; ".join(port_whys) or "no ports",
                            rule.name,
                        )
                    )
                    continue
            match = RuleMatch(
                ref,
                direction,
                i,
                peer_hit,
                port_hit,
                rule_name=rule.name,
                action=rule.action,
                peer_text=rule.peers[peer_hit].describe(),
                port_text="any port"
                if rule.ports is None or port_hit is None
                else rule.ports[port_hit].describe(),
            )
            return TierDecision(tier, rule.action, match, tuple(subjects), tuple(misses))
    return TierDecision(tier, None, None, tuple(subjects), tuple(misses))


def evaluate_direction(
    model: ClusterModel,
    direction: Direction,
    side: Endpoint,
    other: Endpoint,
    protocol: str,
    port: int,
) -> DirectionDecision:
    """The verdict of ``side`` for ``direction`` (egress: side is the source;
    ingress: side is the destination) towards/from ``other``."""
    protocol = normalise_protocol(protocol)
    word = "egress" if direction is Direction.EGRESS else "ingress"
    if not isinstance(side, PodEndpoint):
        return DirectionDecision(
            direction,
            True,
            False,
            DecidedBy.NOT_A_POD,
            f"{side.describe()} is not a pod: no policy governs its {word}",
        )
    pod = side.pod
    if pod.host_network:
        return DirectionDecision(
            direction,
            True,
            False,
            DecidedBy.NOT_A_POD,
            f"{side.describe()} uses the node's network: policies do not select it ({word} not isolated)",
        )
    ap = admin_policies(model)

    # 1. ANP tier
    admin: TierDecision | None = None
    if ap.anps:
        admin = _admin_tier(model, ap.anps, direction, pod, other, protocol, port, ANP_KIND)
        if admin.action in ("Allow", "Deny"):
            assert admin.rule is not None
            return DirectionDecision(
                direction,
                admin.action == "Allow",
                False,
                DecidedBy.ADMIN,
                f"{word} {'allowed' if admin.action == 'Allow' else 'denied'} by "
                f"{admin.rule.policy.describe()} rule '{admin.rule.rule_name}' ({admin.action})",
                admin=admin,
            )

    # 2. NetworkPolicy tier
    selecting = policies_selecting(model, pod, direction)
    refs = tuple(policy_ref(p) for p in selecting)
    if selecting:
        allowed_by: list[RuleMatch] = []
        misses: list[PeerMiss] = []
        for pol in selecting:
            rules = pol.ingress if direction is Direction.INGRESS else pol.egress
            for i, rule in enumerate(rules):
                hit, miss = _eval_np_rule(
                    model, pol, direction, i, rule, pod, other, protocol, port
                )
                if hit is not None:
                    allowed_by.append(hit)
                misses.extend(miss)
        allowed = bool(allowed_by)
        names = ", ".join(r.describe() for r in refs)
        if allowed:
            n = len(allowed_by)
            reason = f"{word} allowed: isolated by {names}; {n} rule{'s admit' if n > 1 else ' admits'} it"
        else:
            reason = f"{word} denied: isolated by {names} and no {word} rule admits it"
        return DirectionDecision(
            direction,
            allowed,
            True,
            DecidedBy.NETWORK_POLICY,
            reason,
            selecting=refs,
            allowed_by=tuple(allowed_by),
            misses=tuple(misses),
            admin=admin,
        )

    # 3. BANP tier
    baseline: TierDecision | None = None
    if ap.banps:
        baseline = _admin_tier(model, ap.banps, direction, pod, other, protocol, port, BANP_KIND)
        if baseline.action in ("Allow", "Deny"):
            assert baseline.rule is not None
            return DirectionDecision(
                direction,
                baseline.action == "Allow",
                False,
                DecidedBy.BASELINE,
                f"{word} {'allowed' if baseline.action == 'Allow' else 'denied'} by "
                f"{baseline.rule.policy.describe()} rule '{baseline.rule.rule_name}' "
                f"({baseline.action}); no NetworkPolicy isolates the pod",
                admin=admin,
                baseline=baseline,
            )
    passed = " (ANP passed)" if admin is not None and admin.action == "Pass" else ""
    return DirectionDecision(
        direction,
        True,
        False,
        DecidedBy.DEFAULT,
        f"not isolated for {word}: default allow{passed}",
        admin=admin,
        baseline=baseline,
    )


def evaluate(
    model: ClusterModel, src: Endpoint, dst: Endpoint, protocol: str, port: int
) -> Decision:
    """May ``src`` open a ``protocol`` connection to ``dst`` on ``port``?

    ``port`` is the destination pod's port (the Service ``targetPort`` after
    resolution, not the Service port). Allowed iff egress of ``src`` allows
    it AND ingress of ``dst`` allows it.
    """
    protocol = normalise_protocol(protocol)
    egress = evaluate_direction(model, Direction.EGRESS, src, dst, protocol, port)
    ingress = evaluate_direction(model, Direction.INGRESS, dst, src, protocol, port)
    return Decision(src, dst, protocol, port, egress, ingress)


def is_allowed(model: ClusterModel, src: Endpoint, dst: Endpoint, protocol: str, port: int) -> bool:
    """``evaluate(...).allowed``."""
    return evaluate(model, src, dst, protocol, port).allowed


# --------------------------------------------------------------------------- port sets


def _boundaries(model: ClusterModel, src: Endpoint, dst: Endpoint) -> list[int]:
    """Every port where the verdict could change: starts and ends+1 of every port
    entry that could apply between ``src`` and ``dst``."""
    points = {PORT_MIN}
    dst_pod = endpoint_pod(dst)

    def add(s: IntervalSet) -> None:
        for lo, hi in s:
            points.add(lo)
            points.add(hi + 1)

    sides: list[tuple[Pod, Direction]] = []
    if isinstance(src, PodEndpoint):
        sides.append((src.pod, Direction.EGRESS))
    if dst_pod is not None:
        sides.append((dst_pod, Direction.INGRESS))
    for pod, direction in sides:
        for pol in policies_selecting(model, pod, direction):
            for rule in pol.ingress if direction is Direction.INGRESS else pol.egress:
                for entry in rule.ports:
                    add(port_entry_set(entry, dst_pod).ports)
    ap = admin_policies(model)
    for apol in (*ap.anps, *ap.banps):
        for arule in (*apol.ingress, *apol.egress):
            for p in arule.ports or ():
                if p.kind == "namedPort":
                    if dst_pod is not None and not dst_pod.host_network:
                        for cp in dst_pod.spec.all_ports():
                            if cp.name == p.name:
                                points.update((cp.container_port, cp.container_port + 1))
                else:
                    points.update((p.start, p.end + 1))
    return sorted(x for x in points if PORT_MIN <= x <= PORT_MAX)


def evaluate_ports(model: ClusterModel, src: Endpoint, dst: Endpoint) -> PortsDecision:
    """Every port/protocol verdict between ``src`` and ``dst``, with provenance.

    Computed by evaluating one representative port per stretch of ports on
    which no rule changes (the stretches come from every port entry that
    could apply), so it agrees with :func:`evaluate` by construction. Named
    ports are resolved on the destination pod; a named port the destination
    does not have contributes nothing and is listed in
    ``unresolved_named_ports``.
    """
    points = _boundaries(model, src, dst)
    ranges: dict[str, dict[str, list[tuple[int, int]]]] = {
        k: {p: [] for p in PROTOCOLS} for k in ("egress", "ingress", "combined")
    }
    seen: dict[str, dict[str, list[object]]] = {
        k: {"decided_by": [], "allowed_by": [], "reasons": [], "selecting": []}
        for k in ("egress", "ingress")
    }
    isolated = {"egress": False, "ingress": False}
    common_misses: dict[str, list[PeerMiss] | None] = {"egress": None, "ingress": None}

    def note(key: str, d: DirectionDecision) -> None:
        bag = seen[key]
        # NetworkPolicy reasons are per port ("allowed"/"denied"); the summary
        # line for them is written once below. Tier and default reasons stay.
        reasons = () if d.decided_by == DecidedBy.NETWORK_POLICY else (d.reason,)
        for field, values in (
            ("decided_by", (d.decided_by,)),
            ("allowed_by", d.allowed_by),
            ("reasons", reasons),
            ("selecting", d.selecting),
        ):
            for v in values:
                if v not in bag[field]:
                    bag[field].append(v)
        isolated[key] = isolated[key] or d.isolated
        prev = common_misses[key]
        common_misses[key] = list(d.misses) if prev is None else [m for m in prev if m in d.misses]

    for proto in PROTOCOLS:
        for n, lo in enumerate(points):
            hi = points[n + 1] - 1 if n + 1 < len(points) else PORT_MAX
            d = evaluate(model, src, dst, proto, lo)
            note("egress", d.egress)
            note("ingress", d.ingress)
            if d.egress.allowed:
                ranges["egress"][proto].append((lo, hi))
            if d.ingress.allowed:
                ranges["ingress"][proto].append((lo, hi))
            if d.allowed:
                ranges["combined"][proto].append((lo, hi))
    sets = {k: {p: IntervalSet.of(v) for p, v in m.items()} for k, m in ranges.items()}

    def side(key: str, direction: Direction) -> DirectionPorts:
        bag = seen[key]
        if DecidedBy.NETWORK_POLICY in bag["decided_by"]:
            names = ", ".join(r.describe() for r in bag["selecting"] if isinstance(r, PolicyRef))
            some = any(bool(s) for s in sets[key].values())
            bag["reasons"].insert(
                0,
                f"isolated by {names}: "
                + (
                    "only the ports the rules above admit are allowed"
                    if some
                    else f"no {key} rule admits any port"
                ),
            )
        return DirectionPorts(
            direction=direction,
            allowed=sets[key],
            isolated=isolated[key],
            selecting=tuple(x for x in bag["selecting"] if isinstance(x, PolicyRef)),
            decided_by=tuple(str(x) for x in bag["decided_by"]),
            allowed_by=tuple(x for x in bag["allowed_by"] if isinstance(x, RuleMatch)),
            reasons=tuple(str(x) for x in bag["reasons"]),
            misses=tuple(common_misses[key] or ()),
        )

    return PortsDecision(
        src=src,
        dst=dst,
        egress=side("egress", Direction.EGRESS),
        ingress=side("ingress", Direction.INGRESS),
        combined=sets["combined"],
        unresolved_named_ports=unresolved_named_ports(model, src, dst),
    )


def allowed_ports(
    model: ClusterModel, src: Endpoint, dst: Endpoint
) -> dict[str, dict[str, IntervalSet]]:
    """Allowed destination ports per protocol, per side and combined:
    ``{"egress": {proto: set}, "ingress": {...}, "combined": {...}}``, every
    protocol of :data:`PROTOCOLS` present (possibly empty). See
    :func:`evaluate_ports` for how, and for the provenance."""
    pd = evaluate_ports(model, src, dst)
    return {"egress": pd.egress.allowed, "ingress": pd.ingress.allowed, "combined": pd.combined}


def unresolved_named_ports(model: ClusterModel, src: Endpoint, dst: Endpoint) -> tuple[str, ...]:
    """Named ports (``name/PROTO``) in rules that apply between ``src`` and ``dst``
    which the destination does not define, so they admit nothing."""
    dst_pod = endpoint_pod(dst)
    names: set[str] = set()
    sides: list[tuple[Pod, Direction]] = []
    if isinstance(src, PodEndpoint):
        sides.append((src.pod, Direction.EGRESS))
    if dst_pod is not None:
        sides.append((dst_pod, Direction.INGRESS))
    for pod, direction in sides:
        for pol in policies_selecting(model, pod, direction):
            for rule in pol.ingress if direction is Direction.INGRESS else pol.egress:
                for entry in rule.ports:
                    es = port_entry_set(entry, dst_pod)
                    if es.unresolved is not None:
                        names.add(f"{es.unresolved}/{es.protocol}")
    return tuple(sorted(names))


__all__ = [
    "admin_peer_mismatch",
    "admin_policies_selecting",
    "admin_port_mismatch",
    "allowed_ports",
    "endpoint_for_ip",
    "endpoint_ips",
    "evaluate",
    "evaluate_direction",
    "evaluate_ports",
    "is_allowed",
    "np_peer_mismatch",
    "policies_selecting",
    "policy_ref",
    "policy_selects",
    "resolve_named_port",
    "unresolved_named_ports",
]

"""NetworkPolicy, AdminNetworkPolicy and BaselineAdminNetworkPolicy semantics.

Public API (stable; other packages import from ``netsleuth.policy`` only)::

    # endpoints (netsleuth.policy.decision)
    PodEndpoint(pod)                         a pod (hostNetwork pods: node IP, never selected)
    IPEndpoint(ip)                           an address that is not a pod
    IngressControllerEndpoint(ingress_class=None, ip=None)   the controller pseudo-peer
    Endpoint = PodEndpoint | IPEndpoint | IngressControllerEndpoint
    endpoint_for_ip(model, ip) -> Endpoint   the pod owning ip, else IPEndpoint

    # the reference evaluator (netsleuth.policy.reference)
    evaluate(model, src, dst, protocol, port) -> Decision
    evaluate_direction(model, direction, side, other, protocol, port) -> DirectionDecision
    is_allowed(model, src, dst, protocol, port) -> bool
    evaluate_ports(model, src, dst) -> PortsDecision   every port verdict + provenance
    allowed_ports(model, src, dst) -> {"egress"|"ingress"|"combined": {proto: IntervalSet}}
    unresolved_named_ports(model, src, dst) -> tuple[str, ...]     ("name/PROTO")
    policies_selecting(model, pod, direction) -> tuple[NetworkPolicy, ...]
    policy_selects(policy, pod, direction) -> bool
    admin_policies_selecting(model, pod, direction) -> tuple[AdminPolicy, ...]
    np_peer_mismatch(model, policy, peer, other) -> str | None      (None = matches)
    admin_peer_mismatch(model, peer, other, subject=None) -> str | None
    endpoint_ips(endpoint) -> tuple[str, ...]

    # shared primitives (netsleuth.policy.semantics)
    Direction.INGRESS / Direction.EGRESS ; PROTOCOLS = ("TCP", "UDP", "SCTP")
    resolve_named_port(pod, name, protocol) -> int | None
    port_entry_set(entry, dst_pod) -> PortEntrySet(protocol, ports: IntervalSet, unresolved)
    port_entry_mismatch(entry, protocol, port, dst_pod) -> str | None
    ip_block_set(ip_block) -> IPSet ; selector_mismatch(selector, labels) -> str | None

    # results (netsleuth.policy.decision)
    Decision(src, dst, protocol, port, egress, ingress).allowed
    DirectionDecision(direction, allowed, isolated, decided_by, reason,
                      selecting, allowed_by, misses, admin, baseline)
    RuleMatch(policy, direction, rule, peer, port, rule_name, action, peer_text, port_text)
    PeerMiss(policy, direction, rule, peer, reason, rule_name)
    TierDecision(tier, action, rule, subjects, misses)
    PortsDecision(src, dst, egress, ingress, combined, unresolved_named_ports)
    DirectionPorts(direction, allowed, isolated, selecting, decided_by, allowed_by, reasons, misses)
    PolicyRef(kind, namespace, name) ; DecidedBy.{ADMIN,NETWORK_POLICY,BASELINE,DEFAULT,NOT_A_POD}

    # provenance text (netsleuth.policy.provenance)
    explain_text(decision) -> list[str] ; direction_lines(direction_decision) -> list[str]
    describe_port_sets({proto: IntervalSet}) -> str

    # ANP/BANP typed form (netsleuth.policy.anp)
    admin_policies(model) -> AdminPolicies(anps, banps, problems)

    # incremental re-check (netsleuth.policy.incremental)
    IncrementalConnectivity(model).set_policy(p) / .remove_policy(ns, name)
        / .set_namespace_labels(ns, labels) / .set_pod_labels(ns, name, labels) -> ConnDiff
    diff_incremental(before, after) -> ConnDiff | None   only the rows/columns that differ

    # derived objects
    with_kube_dns(model) -> ClusterModel     adds a derived kube-dns when the input has none
    ingress_controller_endpoints(model, ingress=None) -> tuple[Endpoint, ...]

Ports are always the *destination pod's* port (a Service's targetPort after
resolution). Semantics, assumptions (hostNetwork pods, pods without IPs,
ipBlock on pod IPs) and the tier order are documented in
:mod:`netsleuth.policy.reference` and :mod:`netsleuth.policy.anp`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netsleuth.model.cluster_dns import has_kube_dns, with_kube_dns
    from netsleuth.policy.anp import AdminPolicies, AdminPolicy, admin_policies
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
    from netsleuth.policy.ingress_controller import ingress_controller_endpoints
    from netsleuth.policy.provenance import describe_port_sets, direction_lines, explain_text
    from netsleuth.policy.reference import (
        admin_peer_mismatch,
        admin_policies_selecting,
        allowed_ports,
        endpoint_for_ip,
        endpoint_ips,
        evaluate,
        evaluate_direction,
        evaluate_ports,
        is_allowed,
        np_peer_mismatch,
        policies_selecting,
        policy_ref,
        policy_selects,
        unresolved_named_ports,
    )
    from netsleuth.policy.semantics import (
        PROTOCOLS,
        Direction,
        PortEntrySet,
        ip_block_set,
        port_entry_mismatch,
        port_entry_set,
        resolve_named_port,
        selector_mismatch,
    )

# Imported on first use (PEP 562): ``import netsleuth.policy.host_network`` or the
# CLI's option types must not load the engines.
_HOME = {
    "has_kube_dns": "netsleuth.model.cluster_dns",
    "with_kube_dns": "netsleuth.model.cluster_dns",
    "AdminPolicies": "netsleuth.policy.anp",
    "AdminPolicy": "netsleuth.policy.anp",
    "admin_policies": "netsleuth.policy.anp",
    "DecidedBy": "netsleuth.policy.decision",
    "Decision": "netsleuth.policy.decision",
    "DirectionDecision": "netsleuth.policy.decision",
    "DirectionPorts": "netsleuth.policy.decision",
    "Endpoint": "netsleuth.policy.decision",
    "IngressControllerEndpoint": "netsleuth.policy.decision",
    "IPEndpoint": "netsleuth.policy.decision",
    "PeerMiss": "netsleuth.policy.decision",
    "PodEndpoint": "netsleuth.policy.decision",
    "PolicyRef": "netsleuth.policy.decision",
    "PortsDecision": "netsleuth.policy.decision",
    "RuleMatch": "netsleuth.policy.decision",
    "TierDecision": "netsleuth.policy.decision",
    "endpoint_pod": "netsleuth.policy.decision",
    "ingress_controller_endpoints": "netsleuth.policy.ingress_controller",
    "describe_port_sets": "netsleuth.policy.provenance",
    "direction_lines": "netsleuth.policy.provenance",
    "explain_text": "netsleuth.policy.provenance",
    "admin_peer_mismatch": "netsleuth.policy.reference",
    "admin_policies_selecting": "netsleuth.policy.reference",
    "allowed_ports": "netsleuth.policy.reference",
    "endpoint_for_ip": "netsleuth.policy.reference",
    "endpoint_ips": "netsleuth.policy.reference",
    "evaluate": "netsleuth.policy.reference",
    "evaluate_direction": "netsleuth.policy.reference",
    "evaluate_ports": "netsleuth.policy.reference",
    "is_allowed": "netsleuth.policy.reference",
    "np_peer_mismatch": "netsleuth.policy.reference",
    "policies_selecting": "netsleuth.policy.reference",
    "policy_ref": "netsleuth.policy.reference",
    "policy_selects": "netsleuth.policy.reference",
    "unresolved_named_ports": "netsleuth.policy.reference",
    "PROTOCOLS": "netsleuth.policy.semantics",
    "Direction": "netsleuth.policy.semantics",
    "PortEntrySet": "netsleuth.policy.semantics",
    "ip_block_set": "netsleuth.policy.semantics",
    "port_entry_mismatch": "netsleuth.policy.semantics",
    "port_entry_set": "netsleuth.policy.semantics",
    "resolve_named_port": "netsleuth.policy.semantics",
    "selector_mismatch": "netsleuth.policy.semantics",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "PROTOCOLS",
    "AdminPolicies",
    "AdminPolicy",
    "DecidedBy",
    "Decision",
    "Direction",
    "DirectionDecision",
    "DirectionPorts",
    "Endpoint",
    "IPEndpoint",
    "IngressControllerEndpoint",
    "PeerMiss",
    "PodEndpoint",
    "PolicyRef",
    "PortEntrySet",
    "PortsDecision",
    "RuleMatch",
    "TierDecision",
    "admin_peer_mismatch",
    "admin_policies",
    "admin_policies_selecting",
    "allowed_ports",
    "describe_port_sets",
    "direction_lines",
    "endpoint_for_ip",
    "endpoint_ips",
    "endpoint_pod",
    "evaluate",
    "evaluate_direction",
    "evaluate_ports",
    "explain_text",
    "has_kube_dns",
    "ingress_controller_endpoints",
    "ip_block_set",
    "is_allowed",
    "np_peer_mismatch",
    "policies_selecting",
    "policy_ref",
    "policy_selects",
    "port_entry_mismatch",
    "port_entry_set",
    "resolve_named_port",
    "selector_mismatch",
    "unresolved_named_ports",
    "with_kube_dns",
]

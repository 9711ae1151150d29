"""Where on the packet path a Hubble drop reason happens, and what it means in plain words.

The meanings follow the Cilium datapath (``bpf/lib/common.h`` drop codes
and the places they are raised); the layers are netsleuth's path layers.
"""

from __future__ import annotations

from netsleuth.model.findings import Layer
from netsleuth.model.flows import POLICY_DROP_REASONS, drop_reason_description

_LAYERS: dict[str, Layer] = {
    # routing and the node
    "FIB_LOOKUP_FAILED": Layer.NODE,
    "STALE_OR_UNROUTABLE_IP": Layer.NODE,
    "UNKNOWN_L3_TARGET_ADDRESS": Layer.NODE,
    "LOCAL_HOST_IS_UNREACHABLE": Layer.NODE,
    "TTL_EXCEEDED": Layer.NODE,
    "NO_NODE_ID": Layer.NODE,
    "DROP_HOST_NOT_READY": Layer.NODE,
    "NO_MAPPING_FOR_NAT_MASQUERADE": Layer.NODE,
    "UNSUPPORTED_PROTOCOL_FOR_NAT_MASQUERADE": Layer.NODE,
    "SNAT_NO_MAP_FOUND": Layer.NODE,
    "NO_EGRESS_GATEWAY": Layer.NODE,
    "DROP_NO_EGRESS_IP": Layer.NODE,
    "IP_FRAGMENTATION_NOT_SUPPORTED": Layer.MTU,
    "FIRST_LOGICAL_DATAGRAM_FRAGMENT_NOT_FOUND": Layer.MTU,
    "CT_MISSING_TCP_ACK_FLAG": Layer.MTU,  # newer Cilium: "Fragmentation needed"
    # encapsulation
    "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT": Layer.OVERLAY,
    "ERROR_RETRIEVING_TUNNEL_KEY": Layer.OVERLAY,
    "ERROR_RETRIEVING_TUNNEL_OPTIONS": Layer.OVERLAY,
    "INVALID_GENEVE_OPTION": Layer.OVERLAY,
    "INVALID_VNI": Layer.OVERLAY,
    "ENCAPSULATION_TRAFFIC_IS_PROHIBITED": Layer.OVERLAY,
    "UNENCRYPTED_TRAFFIC": Layer.OVERLAY,
    # connection tracking
    "CT_MAP_INSERTION_FAILED": Layer.CONNTRACK,
    "CT_TRUNCATED_OR_INVALID_HEADER": Layer.CONNTRACK,
    "CT_UNKNOWN_L4_PROTOCOL": Layer.CONNTRACK,
    "CT_CANNOT_CREATE_ENTRY_FROM_PACKET": Layer.CONNTRACK,
    "CT_NO_MAP_FOUND": Layer.CONNTRACK,
    "UNKNOWN_CONNECTION_TRACKING_STATE": Layer.CONNTRACK,
    # services and load balancing
    "SERVICE_BACKEND_NOT_FOUND": Layer.ENDPOINTS,
    "IS_A_CLUSTERIP": Layer.SERVICE,
    "DENIED_BY_LB_SRC_RANGE_CHECK": Layer.LOADBALANCER,
    # policy
    "POLICY_DENIED": Layer.POLICY_INGRESS,
    "POLICY_DENY": Layer.POLICY_INGRESS,
    "AUTH_REQUIRED": Layer.POLICY_INGRESS,
}

_MEANINGS: dict[str, str] = {
    "POLICY_DENIED": "no policy rule allows this connection on the side that judged it",
    "POLICY_DENY": "an explicit deny rule (CiliumNetworkPolicy ingressDeny/egressDeny) matched",
    "AUTH_REQUIRED": "a policy requires mutual authentication and the handshake has not completed",
    "STALE_OR_UNROUTABLE_IP": "the destination address is not routable from this node: the IP "
    "of a deleted pod (a client still using an old DNS answer or endpoint list), or an address "
    "outside every known pod and node range",
    "INVALID_SOURCE_IP": "the source address is not the sending pod's IP (spoofed, or the pod "
    "kept an old IP after a restart)",
    "FIB_LOOKUP_FAILED": "the node has no route for the destination (kernel FIB lookup failed): "
    "a missing route, a down interface or an unreachable neighbour",
    "UNSUPPORTED_L3_PROTOCOL": "a packet that is neither IPv4 nor IPv6 (or an IP family the agent "
    "has disabled) reached the datapath",
    "CT_MAP_INSERTION_FAILED": "the BPF connection-tracking map is full: new connections are "
    "dropped until entries expire",
    "TTL_EXCEEDED": "the packet's TTL ran out: a routing loop between nodes or gateways",
    "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT": "no tunnel endpoint is known for the destination's "
    "node (the node is missing from the agent's tunnel map)",
    "SERVICE_BACKEND_NOT_FOUND": "the Service has no backend in the agent's load-balancing map "
    "(no ready endpoints, or the map is out of date)",
    "UNKNOWN_CONNECTION_TRACKING_STATE": "a packet of a connection the agent has no state for "
    "(the entry expired or the agent restarted)",
    "DROP_HOST_NOT_READY": "the node's datapath is not ready (the agent is starting)",
    "DROP_EP_NOT_READY": "the endpoint's policy program is not loaded yet (the pod is starting)",
    "INVALID_IDENTITY": "the packet carries a security identity the agent does not know",
    "UNKNOWN_SENDER": "the packet came from an address the agent does not know as a sender",
    "DENIED_BY_LB_SRC_RANGE_CHECK": "the LoadBalancer Service's loadBalancerSourceRanges exclude "
    "the client",
    "IP_FRAGMENTATION_NOT_SUPPORTED": "a fragmented packet, which this datapath does not reassemble",
}


def is_policy_reason(reason: str) -> bool:
    return reason in POLICY_DROP_REASONS


def drop_layer(reason: str) -> Layer:
    """The path layer of a drop reason (the CNI itself when no better layer applies)."""
    return _LAYERS.get(reason, Layer.CNI)


def drop_meaning(reason: str) -> str:
    """One phrase: what the datapath was doing when it dropped the packet."""
    return _MEANINGS.get(reason, f"the datapath dropped it: {drop_reason_description(reason)}")

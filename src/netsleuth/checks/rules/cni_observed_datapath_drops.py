"""CNI411: Hubble shows packets dropped by the datapath for reasons other than policy."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, ScanConfig, confidence_for, register
from netsleuth.checks.flow_evidence import flow_evidence, hubble_cmd, ports_text, when_text
from netsleuth.flows import DropGroup, drop_layer, drop_meaning
from netsleuth.flows.reasons import is_policy_reason
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, kubectl
from netsleuth.model.findings import Finding, Fix, Layer, Severity, Subject

# What a person changes, per reason: the node, the CNI's configuration, or the client.
_NODE = {
    "FIB_LOOKUP_FAILED",
    "TTL_EXCEEDED",
    "LOCAL_HOST_IS_UNREACHABLE",
    "NO_NODE_ID",
    "DROP_HOST_NOT_READY",
    "NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT",
    "NO_MAPPING_FOR_NAT_MASQUERADE",
    "SNAT_NO_MAP_FOUND",
}
_CLIENT = {"STALE_OR_UNROUTABLE_IP", "INVALID_SOURCE_IP", "UNKNOWN_L3_TARGET_ADDRESS"}
_FIX = {
    "FIB_LOOKUP_FAILED": "Restore the route on the node (ip route get DEST on it shows what is "
    "missing): a default route, the route to the peer's pod CIDR, or the interface it uses.",
    "TTL_EXCEEDED": "Break the routing loop: find the two hops that send the packet back and "
    "forth (traceroute from the pod) and fix the route or the gateway that points back.",
    "STALE_OR_UNROUTABLE_IP": "The client uses the IP of a pod that no longer exists: restart "
    "or fix the client's caching (DNS TTL, an endpoint list kept in memory) and call the Service.",
    "INVALID_SOURCE_IP": "Find why the pod sends from an address that is not its own "
    "(a hard-coded source, a NAT inside the pod, an IP kept across a restart).",
    "CT_MAP_INSERTION_FAILED": "Raise the agent's connection-tracking map sizes "
    "(cilium-config bpf-ct-global-tcp-max / bpf-ct-global-any-max, or bpf-map-dynamic-size-ratio) "
    "and find the client opening connections without reuse.",
    "SERVICE_BACKEND_NOT_FOUND": "Give the Service ready endpoints, or restart the agent if the "
    "EndpointSlice has them and the agent's map does not.",
}


def _subject(model: ClusterModel, group: DropGroup) -> Subject:
    reason = group.reason
    if reason in _NODE and group.nodes:
        return Subject("Node", None, next(iter(group.nodes)))
    if reason in _CLIENT and group.src is not None and group.src.workload is not None:
        w = group.src.workload
        return Subject(w.kind, w.namespace, w.name)
    if (
        reason == "SERVICE_BACKEND_NOT_FOUND"
        and group.dst is not None
        and group.dst.service is not None
    ):
        return Subject("Service", group.dst.service.namespace, group.dst.service.name)
    if model.config_map("kube-system", "cilium-config") is not None:
        return Subject("ConfigMap", "kube-system", "cilium-config")
    return Subject("DaemonSet", "kube-system", "cilium")


@register(
    id="CNI411",
    layer=Layer.CNI,
    severity=Severity.ERROR,
    needs=Needs(observed="flows"),
    config=True,
)
def observed_datapath_drops(model: ClusterModel, config: ScanConfig) -> Iterator[Finding]:
    """Hubble shows packets dropped by the CNI datapath for reasons other than policy.

    What it checks: every ``DROPPED`` Hubble flow whose drop reason is not a
    policy decision, grouped by reason, source, destination and protocol,
    and placed on the packet path by its reason: routing on the node
    (``FIB_LOOKUP_FAILED``, ``TTL_EXCEEDED``, ``STALE_OR_UNROUTABLE_IP``),
    encapsulation (``NO_TUNNEL_OR_ENCAPSULATION_ENDPOINT``), connection
    tracking (``CT_MAP_INSERTION_FAILED``), the source's address
    (``INVALID_SOURCE_IP``), protocols (``UNSUPPORTED_L3_PROTOCOL``), Service
    load balancing (``SERVICE_BACKEND_NOT_FOUND``). IGMP/multicast handling
    and NAT-not-needed are not failures and are not reported.

    Why it breaks traffic: these drops are as silent as policy drops — the
    client times out — but no policy change fixes them: the node's routes,
    the agent's maps or the client's addresses are wrong.

    Example:
      Nov 20 09:14:40.000: checkout/checkout-web-c9szjmm8q6-h5w2v:53100 (ID:48211) -> kube-system/coredns-q2qsfk526f-q497q:53 (ID:1921) CT: Map insertion failed DROPPED (UDP)

    Fix: per reason: restore the node's route, break a routing loop, raise
    the agent's CT map sizes, make the client stop using a dead pod's IP, give
    the Service ready endpoints.

    Confirm live:
      hubble observe --verdict DROPPED --not --type policy-verdict
      kubectl -n kube-system exec ds/cilium -- cilium-dbg monitor --type drop
      kubectl -n kube-system exec ds/cilium -- cilium-dbg metrics list | grep drop_count

    References:
      https://docs.cilium.io/en/stable/operations/troubleshooting/
      https://github.com/cilium/cilium/blob/main/api/v1/flow/flow.proto
      https://github.com/cilium/cilium/blob/main/pkg/monitor/api/drop.go
    """
    summary = config.flows
    if summary is None:
        return
    for group in summary.drops:
        if is_policy_reason(group.reason) or group.src is None or group.dst is None:
            continue
        subject = _subject(model, group)
        transient = group.transient
        count = f"{group.count} flow{'s' if group.count != 1 else ''}"
        dst_text = group.dst.display
        if group.dst.kind in ("world", "address") and group.dst_ips:
            dst_text = f"{', '.join(group.dst_ips)} ({group.dst.display})"
        message = (
            f"{count} {group.src.display} -> {dst_text} on {ports_text(group)} dropped "
            f"{when_text(group)}: {group.reason} — {drop_meaning(group.reason)}."
        )
        if transient:
            message += (
                f" The same pair and port was forwarded within {summary.window:g} s afterwards: "
                "it came and went."
            )
        confirm: list[Command] = [hubble_cmd(model, group, "DROPPED")]
        node = next(iter(group.nodes), None)
        if group.reason in _NODE and node and group.dst_ips:
            confirm.append(
                kubectl(
                    "debug",
                    f"node/{node}",
                    "-it",
                    "--image=nicolaka/netshoot",
                    "--",
                    "ip",
                    "route",
                    "get",
                    group.dst_ips[0],
                )
            )
        else:
            confirm.append(
                kubectl(
                    "-n",
                    "kube-system",
                    "exec",
                    "ds/cilium",
                    "--",
                    "cilium-dbg",
                    "monitor",
                    "--type",
                    "drop",
                )
            )
        yield Finding(
            rule_id="CNI411",
            layer=drop_layer(group.reason),
            severity=Severity.WARNING if transient else Severity.ERROR,
            confidence=confidence_for(model, artifacts=True),
            subject=subject,
            message=message,
            evidence=tuple(
                flow_evidence(group, f"verdict=DROPPED drop_reason_desc={group.reason}")
            ),
            confirm=tuple(confirm),
            fix=Fix(
                text=_FIX.get(
                    group.reason,
                    f"Look up {group.reason} in the agent's logs on the node that dropped it "
                    "(cilium-dbg monitor --type drop shows each drop with its reason).",
                )
            ),
        )

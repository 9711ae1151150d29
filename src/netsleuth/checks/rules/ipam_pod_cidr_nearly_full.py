"""CNI406: the pods on a node use 90 % or more of its podCIDR."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.cluster_cidrs import node_pod_cidrs, pod_addresses, reserved_addresses
from netsleuth.facts.cni_detect import uses_node_pod_cidr
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Glob, cmd, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

THRESHOLD = 0.90


@register(
    id="CNI406",
    layer=Layer.IPAM,
    severity=Severity.WARNING,
    needs=Needs(kinds=("Node", "Pod"), require_present=True),
)
def ipam_pod_cidr_nearly_full(model: ClusterModel) -> Iterator[Finding]:
    """The pods on a node use 90 % or more of its podCIDR.

    What it checks:
        Where pod IPs come from the node podCIDR (see CNI405), the pods that
        hold an address on each node (with a pod IP, not hostNetwork, not
        Succeeded or Failed) against the addresses the IPAM plugin can hand
        out (the range net of network, gateway and broadcast); warns at
        90 %, errors at 100 %.

    Why it breaks traffic:
        The next pods scheduled there (a rollout's surge, a scale-up) get no
        address and stay in ContainerCreating; the scheduler does not know
        about IP ranges and keeps choosing the node.

    Example:
        ``worker-1``: 58 pods in ``10.244.1.0/26`` (61 pod addresses), 95 %.

    Fix:
        Lower maxPods so the scheduler stops before the range is full, spread
        the load to other nodes, or give nodes larger ranges.

    Confirm live:
        ``kubectl get pods -A -o wide --field-selector spec.nodeName=<node>,status.phase=Running | wc -l``;
        ``ls /var/lib/cni/networks/*/ | wc -l`` on the node (host-local leases).

    References:
        https://www.cni.dev/plugins/current/ipam/host-local/ ;
        https://kubernetes.io/docs/reference/command-line-tools-reference/kube-controller-manager/
    """
    why = uses_node_pod_cidr(model)
    if why is None:
        return
    for node_name, r in node_pod_cidrs(model):
        if r.network.version != 4:
            continue
        node = model.nodes[node_name]
        pods = [
            p
            for p in model.pods_by_node.get(node_name, ())
            if not p.host_network
            and not p.meta.derived
            and p.phase not in ("Succeeded", "Failed")
            and p.pod_ips  # a pod stuck without an address holds none
        ]
        usable = pod_addresses(r.network)
        if usable <= 0 or len(pods) < THRESHOLD * usable:
            continue
        pct = 100 * len(pods) / usable
        yield finding(
            "CNI406",
            model,
            kind="Node",
            meta=node.meta,
            severity=Severity.ERROR if len(pods) >= usable else None,
            message=f"node {node_name} has {len(pods)} pods in podCIDR {r.cidr} ({usable} pod addresses net of "
            f"{reserved_addresses(r.network)}, {pct:.0f} % used)",
            evidence=[
                Evidence(f"Node/{node_name}", "spec.podCIDRs", r.cidr),
                Evidence(f"Node/{node_name}", "pods with a pod IP", str(len(pods))),
                Evidence("CNI", "ipam", why),
            ],
            confirm=(
                kubectl(
                    "get",
                    "pods",
                    "-A",
                    "-o",
                    "wide",
                    "--field-selector",
                    f"spec.nodeName={node_name}",
                )
                .pipe("grep", "-v", "Completed")
                .pipe("wc", "-l"),
                cmd("ls", Glob("/var/lib/cni/networks/*/")).pipe("wc", "-l").note("on the node"),
            ),
            fix=Fix(
                text=f"Lower maxPods on {node_name} below {usable}, move load to other nodes, or allocate "
                "larger node ranges (--node-cidr-mask-size)."
            ),
        )

"""CNI408: AWS VPC CNI warm-pool settings that starve pods of IPs or waste subnet addresses."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.ipam_events import is_ip_allocation_failure
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Command, kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

# EC2 allows at most 50 IPv4 addresses per ENI (the largest instance types), one of
# them the ENI's primary address, so one ENI serves at most 49 pods in secondary-IP mode.
# https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-eni.html#AvailableIpPerENI
MAX_POD_IPS_PER_ENI = 49
# EKS's max-pods formula adds 2 host-network pods (aws-node, kube-proxy).
HOST_NETWORK_PODS = 2
# Each /28 prefix gives 16 addresses (prefix delegation).
PREFIX_SIZE = 16


def _int(v: str | None) -> int | None:
    try:
        return int(v) if v else None
    except ValueError:
        return None


@register(
    id="CNI408",
    layer=Layer.IPAM,
    severity=Severity.WARNING,
    needs=Needs(kinds=("DaemonSet",), require_present=True),
)
def cni_aws_warm_pool(model: ClusterModel) -> Iterator[Finding]:
    """AWS VPC CNI warm-pool settings that starve pods of IPs or waste subnet addresses.

    What it checks:
        The ``aws-node`` DaemonSet's env, with the semantics of the VPC CNI
        docs (eni-and-ip-target.md, prefix-and-ip-target.md; 0 or unset
        means "not set"; WARM_IP_TARGET or MINIMUM_IP_TARGET, when set,
        replace WARM_ENI_TARGET):

        1. starve: ``WARM_ENI_TARGET=0`` with neither ``WARM_IP_TARGET``
           nor ``MINIMUM_IP_TARGET`` set — no spare ENI is ever attached;
        2. starve: ``WARM_IP_TARGET`` of 1 or 2 without
           ``MINIMUM_IP_TARGET`` — every pod start needs an EC2 call, which
           the docs warn causes API throttling in bursts;
        3. starve: ``MAX_ENI`` × 49 + 2 (EC2's 50 addresses per ENI at most)
           below a node's pod capacity, without prefix delegation — the node
           admits pods the CNI can never address;
        4. waste: ``WARM_ENI_TARGET`` ≥ 2 (in ENI mode), or
           ``ENABLE_PREFIX_DELEGATION=true`` with ``WARM_PREFIX_TARGET`` ≥ 2 —
           each node holds that many idle ENIs' or /28 prefixes' addresses.
           Reported as a warning when events show subnet exhaustion
           (``InsufficientFreeAddressesInSubnet``…), else as info.

    Why it breaks traffic:
        A starved node cannot give a new pod an address quickly (or at all),
        so pods sit in ContainerCreating with "failed to assign an IP address
        to container"; a wasteful pool drains the subnet so nodes in it
        cannot get addresses and new nodes fail to join.

    Example:
        ``WARM_ENI_TARGET=3`` on 40 nodes of an m5.large node group holds up
        to 3 × 9 idle addresses per node in a /24 subnet, which runs out.

    Fix:
        Use ``WARM_IP_TARGET`` with ``MINIMUM_IP_TARGET`` sized to the pods a
        node usually runs (e.g. ``MINIMUM_IP_TARGET=10``, ``WARM_IP_TARGET=5``),
        leave ``MAX_ENI`` unset unless the instance type is limited, and keep
        ``WARM_PREFIX_TARGET=1`` with prefix delegation.

    Confirm live:
        ``kubectl describe ds -n kube-system aws-node | grep -A15 Environment``;
        ``kubectl get events -A | grep -Ei "InsufficientFreeAddresses|failed to assign an IP"``;
        ``kubectl exec -n kube-system ds/aws-node -- /app/grpc-health-probe -addr=:11191``.

    References:
        https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/eni-and-ip-target.md ;
        https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/prefix-and-ip-target.md ;
        https://docs.aws.amazon.com/eks/latest/best-practices/vpc-cni.html
    """
    ds = next((w for w in model.workloads if w.kind == "DaemonSet" and w.name == "aws-node"), None)
    if ds is None or ds.template is None:
        return
    env: dict[str, str] = {}
    for c in ds.template.spec.containers:
        if c.name == "aws-node" or not env:
            env.update({k: v for k, v in c.env})
    warm_ip = _int(env.get("WARM_IP_TARGET")) or 0
    min_ip = _int(env.get("MINIMUM_IP_TARGET")) or 0
    warm_eni_raw = _int(env.get("WARM_ENI_TARGET"))
    warm_eni = 1 if warm_eni_raw is None else warm_eni_raw
    max_eni = _int(env.get("MAX_ENI"))
    prefix = env.get("ENABLE_PREFIX_DELEGATION", "").lower() == "true"
    warm_prefix = _int(env.get("WARM_PREFIX_TARGET"))
    obj = ref("DaemonSet", ds.meta)
    ns = ds.namespace
    confirm = (
        kubectl("describe", "ds", "-n", ns, "aws-node").pipe("grep", "-A15", "Environment"),
        kubectl("get", "events", "-A").pipe(
            "grep", "-Ei", "InsufficientFreeAddresses|failed to assign an IP"
        ),
    )

    def ev(*names: str) -> list[Evidence]:
        return [
            Evidence(obj, f"spec.template.spec.containers[aws-node].env.{n}", env[n])
            for n in names
            if n in env
        ]

    def patch(**kv: str | None) -> Command:
        args = [f"{k}={v}" if v is not None else f"{k}-" for k, v in kv.items()]
        return kubectl("set", "env", "daemonset", "aws-node", "-n", ns, *args)

    ip_mode = warm_ip > 0 or min_ip > 0
    if not prefix and not ip_mode and warm_eni == 0:
        yield finding(
            "CNI408",
            model,
            kind="DaemonSet",
            meta=ds.meta,
            message="aws-node WARM_ENI_TARGET=0 with no WARM_IP_TARGET or MINIMUM_IP_TARGET: no spare "
            "ENI is kept, so once attached addresses are used every new pod waits for an ENI attach",
            evidence=ev("WARM_ENI_TARGET", "WARM_IP_TARGET", "MINIMUM_IP_TARGET"),
            confirm=confirm,
            fix=Fix(
                text="Keep a warm pool: WARM_ENI_TARGET=1 (the default), or WARM_IP_TARGET with MINIMUM_IP_TARGET.",
                command=patch(WARM_ENI_TARGET="1"),
            ),
        )
    if not prefix and 0 < warm_ip <= 2 and min_ip == 0:
        yield finding(
            "CNI408",
            model,
            kind="DaemonSet",
            meta=ds.meta,
            message=f"aws-node WARM_IP_TARGET={warm_ip} without MINIMUM_IP_TARGET: a burst of pod starts "
            "needs one EC2 call per pod, which the VPC CNI docs warn gets throttled",
            evidence=ev("WARM_IP_TARGET", "MINIMUM_IP_TARGET"),
            confirm=confirm,
            fix=Fix(
                text="Set MINIMUM_IP_TARGET to the pods a node usually runs and WARM_IP_TARGET to the burst size.",
                command=patch(MINIMUM_IP_TARGET="10", WARM_IP_TARGET="5"),
            ),
        )
    if max_eni is not None and not prefix:
        limit = max_eni * MAX_POD_IPS_PER_ENI + HOST_NETWORK_PODS
        for name, node in sorted(model.nodes.items()):
            if node.capacity_pods is not None and node.capacity_pods > limit:
                yield finding(
                    "CNI408",
                    model,
                    kind="DaemonSet",
                    meta=ds.meta,
                    message=f"aws-node MAX_ENI={max_eni} lets the CNI address at most {limit - HOST_NETWORK_PODS} pods "
                    f"per node, but node {name} admits {node.capacity_pods}: the rest fail with "
                    "'failed to assign an IP address to container'",
                    evidence=[
                        *ev("MAX_ENI"),
                        Evidence(f"Node/{name}", "status.capacity.pods", str(node.capacity_pods)),
                    ],
                    confirm=confirm,
                    fix=Fix(
                        text="Unset MAX_ENI (the instance type's limit applies) or lower the kubelet's maxPods to match.",
                        command=patch(MAX_ENI=None),
                    ),
                )
                break
    exhausted = [e for e in model.events if is_ip_allocation_failure(e)]
    waste_sev = Severity.WARNING if exhausted else Severity.INFO
    pressure = f"; {len(exhausted)} event(s) already show address exhaustion" if exhausted else ""
    if not prefix and not ip_mode and warm_eni >= 2:
        yield finding(
            "CNI408",
            model,
            kind="DaemonSet",
            meta=ds.meta,
            severity=waste_sev,
            message=f"aws-node WARM_ENI_TARGET={warm_eni}: every node keeps {warm_eni} idle ENIs' "
            f"addresses (up to {warm_eni * MAX_POD_IPS_PER_ENI}) taken from the subnet{pressure}",
            evidence=[
                *ev("WARM_ENI_TARGET"),
                *(
                    Evidence(f"Event/{e.meta.namespace}/{e.meta.name}", "message", e.message)
                    for e in exhausted[:2]
                ),
            ],
            confirm=confirm,
            fix=Fix(
                text="Size the pool in addresses rather than ENIs.",
                command=patch(WARM_IP_TARGET="5", MINIMUM_IP_TARGET="10"),
            ),
        )
    if prefix and warm_prefix is not None and warm_prefix >= 2 and not ip_mode:
        yield finding(
            "CNI408",
            model,
            kind="DaemonSet",
            meta=ds.meta,
            severity=waste_sev,
            message=f"aws-node prefix delegation with WARM_PREFIX_TARGET={warm_prefix}: every node keeps "
            f"{warm_prefix} idle /28 prefixes ({warm_prefix * PREFIX_SIZE} addresses) from the subnet{pressure}",
            evidence=ev("ENABLE_PREFIX_DELEGATION", "WARM_PREFIX_TARGET"),
            confirm=confirm,
            fix=Fix(
                text="Keep WARM_PREFIX_TARGET=1, or size the pool with WARM_IP_TARGET/MINIMUM_IP_TARGET.",
                command=patch(WARM_PREFIX_TARGET="1"),
            ),
        )

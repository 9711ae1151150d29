"""CNI407: events show the CNI could not allocate an IP address."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, culprit_subject, finding, register
from netsleuth.facts.attribution import node_mask_setting, node_range_short
from netsleuth.facts.ipam_events import is_ip_allocation_failure
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity
from netsleuth.model.objects import Event, Meta


@register(
    id="CNI407",
    layer=Layer.IPAM,
    severity=Severity.ERROR,
    needs=Needs(kinds=("Event",), require_present=True),
)
def ipam_allocation_failed(model: ClusterModel) -> Iterator[Finding]:
    """Events show the CNI could not allocate an IP address.

    What it checks:
        Events whose message is an IPAM failure: host-local "failed to
        allocate for range" / "no IP addresses available in range set",
        Calico "no more free affine blocks", Cilium "unable to allocate IP",
        and the AWS VPC CNI's "failed to assign an IP address to container"
        and EC2 ``InsufficientFreeAddressesInSubnet``. One finding per
        node (or per object when the node is unknown).

    Why it breaks traffic:
        A pod that gets no IP never starts: deployments cannot scale, rolling
        updates stall with old pods gone, and Services lose endpoints.

    Example:
        Pod ``shop/web-1`` on ``worker-1``: "failed to allocate for range 0:
        no IP addresses available in range set: 10.244.1.1-10.244.1.14"
        (a /28 podCIDR).

    Fix:
        Give the node or subnet more addresses: a larger node podCIDR
        (``--node-cidr-mask-size``), a lower ``maxPods``, more IP pool blocks,
        prefix delegation or larger subnets on AWS; clean leaked
        allocations (host-local keeps them in /var/lib/cni/networks).

    Confirm live:
        ``kubectl get events -A | grep -Ei "no IP addresses|failed to allocate|InsufficientFreeAddresses"``;
        ``ls /var/lib/cni/networks/*/ | wc -l`` on the node (host-local);
        ``kubectl get node <node> -o jsonpath='{.spec.podCIDR}'``.

    References:
        https://www.cni.dev/plugins/current/ipam/host-local/ ;
        https://github.com/aws/amazon-vpc-cni-k8s/blob/master/docs/troubleshooting.md
    """
    groups: dict[tuple[str, str | None, str], list[Event]] = {}
    for e in model.events:
        if not is_ip_allocation_failure(e):
            continue
        node = None
        if e.involved_kind == "Pod":
            pod = model.pod(e.involved_namespace or "default", e.involved_name)
            node = pod.node_name if pod else None
        if e.involved_kind == "Node":
            node = e.involved_name
        key = (
            ("Node", None, node)
            if node
            else (e.involved_kind or "Event", e.involved_namespace, e.involved_name)
        )
        groups.setdefault(key, []).append(e)
    for (kind, ns, name), events in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2])
    ):
        last = events[-1]
        total = sum(max(e.count, 1) for e in events)
        objs = sorted(
            {f"{e.involved_kind}/{e.involved_namespace}/{e.involved_name}" for e in events}
        )
        node_obj = model.nodes.get(name) if kind == "Node" else None
        meta = node_obj.meta if node_obj is not None else Meta(name=name, namespace=ns)
        where = f"node {name}" if kind == "Node" else f"{kind} {ns}/{name}"
        subject_kind, subject_meta = kind, meta
        cause = ""
        lead: list[Evidence] = []
        short = node_range_short(model, node_obj) if node_obj is not None else None
        if short is not None:
            # The node's range cannot hold the pods its kubelet admits: what ran out is what
            # kube-controller-manager cut, so its --node-cidr-mask-size is what to change.
            setting = node_mask_setting(model)
            subject_kind, subject_meta = culprit_subject(setting.culprit)
            cidr, usable = short
            cause = (
                f"; {setting.describe()} gave it {cidr} ({usable} pod addresses) while the "
                f"kubelet admits {node_obj.capacity_pods if node_obj else '?'} pods"
            )
            lead = [
                Evidence(
                    setting.source,
                    setting.source_field,
                    setting.value or f"unset (default {setting.default})",
                ),
                Evidence(f"Node/{name}", "spec.podCIDRs", f"{cidr} ({usable} pod addresses)"),
            ]
        yield finding(
            "CNI407",
            model,
            kind=subject_kind,
            meta=subject_meta,
            message=f"IP allocation failed on {where} ({total} event(s), {len(objs)} object(s)){cause}: "
            f"{last.message[:320]}",
            evidence=lead
            + [
                Evidence(f"Event/{e.meta.namespace}/{e.meta.name}", "message", e.message)
                for e in events[:5]
            ],
            confirm=(
                kubectl("get", "events", "-A").pipe(
                    "grep",
                    "-Ei",
                    "no IP addresses|failed to allocate|InsufficientFreeAddresses|failed to assign an IP",
                ),
                kubectl("get", "node", name, "-o", "jsonpath={.spec.podCIDRs}")
                if kind == "Node"
                else kubectl("describe", kind.lower(), "-n", ns or "default", name),
            ),
            fix=Fix(
                text="Add addresses where the pod is scheduled: a larger node podCIDR or fewer maxPods, "
                "more IP pool blocks, larger subnets or prefix delegation on AWS; release leaked "
                "host-local allocations in /var/lib/cni/networks."
            ),
        )

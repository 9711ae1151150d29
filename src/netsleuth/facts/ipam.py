"""IPAM faults: node podCIDRs smaller than the kubelet's maxPods (CNI405), nearly full
(CNI406), and IP allocation failures reported in Events (CNI407). Only where the
CNI allocates from the node podCIDR (:func:`netsleuth.facts.cni_detect.uses_node_pod_cidr`).
"""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.facts.attribution import node_mask_setting, node_range_short
from netsleuth.facts.faults import Fault, culprit_subject
from netsleuth.facts.ipam_capacity import Reservation, node_capacities
from netsleuth.facts.ipam_events import is_ip_allocation_failure
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import Glob, cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.objects import Event, Meta

THRESHOLD = 0.90


def _prefix_for(pods: int, res: Reservation, version: int) -> int:
    """The longest prefix whose range holds ``pods`` pod addresses net of ``res``."""
    bits = 32 if version == 4 else 128
    reserved = len(res.v4 if version == 4 else res.v6)
    for prefix in range(bits, 0, -1):
        if (1 << (bits - prefix)) - reserved >= pods:
            return prefix
    return 0


def ipam_pod_cidr_too_small_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI405: A node's podCIDR holds fewer addresses than the pods the kubelet admits."""
    short = [c for c in node_capacities(model) if c.short]
    if not short:
        return
    # Node ranges are cut by kube-controller-manager (--node-cidr-mask-size, default /24):
    # that flag is what to change, not the nodes. One finding for all the nodes it starves.
    setting = node_mask_setting(model)
    kind, meta = culprit_subject(setting.culprit)
    first = short[0]
    res = first.reservation
    need = max(c.max_pods for c in short)
    suggest = _prefix_for(need, res, first.network.version)
    if first.network.version == 4:
        suggest = min(suggest, 24)
    nodes = ", ".join(c.node for c in short[:6]) + (
        f" and {len(short) - 6} more" if len(short) > 6 else ""
    )
    fullest = max(short, key=lambda c: c.pods / max(c.usable, 1))
    now = (
        f"; {fullest.node} already runs {fullest.pods} pod(s) there"
        + (" — the range is full" if fullest.pods >= fullest.usable else "")
        if fullest.pods
        else ""
    )
    yield Fault(
        layer=Layer.IPAM,
        severity=Severity.WARNING,
        kind=kind,
        meta=meta,
        message=f"{setting.describe()} gives node(s) {nodes} a /{first.network.prefixlen} podCIDR: "
        f"{first.usable} pod addresses ({res.words(first.network)}) but the kubelet admits "
        f"{first.max_pods} pods{now}; pods beyond {first.usable} will fail to get an IP",
        evidence=[
            Evidence(
                setting.source,
                setting.source_field,
                setting.value or f"unset (default {setting.default})",
            ),
            *(
                Evidence(
                    f"Node/{c.node}",
                    "spec.podCIDRs",
                    f"{c.cidr} ({c.usable} pod addresses, {c.pods} in use)",
                )
                for c in short[:4]
            ),
            Evidence(first.max_pods_from[0], first.max_pods_from[1], str(first.max_pods)),
            Evidence("CNI", "ipam", f"{res.why}; {res.words(first.network)}"),
        ],
        confirm=(
            kubectl(
                "get",
                "nodes",
                "-o",
                "custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR,PODS:.status.capacity.pods",
            ),
            kubectl("-n", "kube-system", "get", "configmap", "kubeadm-config", "-o", "yaml")
            if setting.kubeadm
            else kubectl(
                "-n",
                "kube-system",
                "get",
                "pods",
                "-l",
                "component=kube-controller-manager",
                "-o",
                "yaml",
            ),
        ),
        fix=Fix(
            text=f"Set kube-controller-manager --node-cidr-mask-size={suggest} (the static pod manifest "
            "/etc/kubernetes/manifests/kube-controller-manager.yaml on each control-plane node"
            + (
                ", and controllerManager.extraArgs in kubeadm-config so upgrades keep it"
                if setting.kubeadm
                else ""
            )
            + f"). A node's spec.podCIDR is immutable: recreate the nodes (drain, delete the Node, "
            f"re-join) to get the new size. Or lower the kubelet's maxPods to at most {first.usable}."
        ),
    )


def ipam_pod_cidr_nearly_full_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI406: The pods on a node use 90 % or more of its podCIDR."""
    for c in node_capacities(model):
        if c.usable <= 0 or c.pods < THRESHOLD * c.usable:
            continue
        node = model.nodes[c.node]
        pct = 100 * c.pods / c.usable
        yield Fault(
            layer=Layer.IPAM,
            kind="Node",
            meta=node.meta,
            severity=Severity.ERROR if c.pods >= c.usable else Severity.WARNING,
            message=f"node {c.node} has {c.pods} pods in podCIDR {c.cidr} ({c.usable} pod addresses "
            f"net of {c.reservation.words(c.network)}, {pct:.0f} % used; maxPods {c.max_pods})",
            evidence=[
                Evidence(f"Node/{c.node}", "spec.podCIDRs", c.cidr),
                Evidence(f"Node/{c.node}", "pods with a pod IP", str(c.pods)),
                Evidence(c.max_pods_from[0], c.max_pods_from[1], str(c.max_pods)),
                Evidence("CNI", "ipam", f"{c.reservation.why}; {c.reservation.words(c.network)}"),
            ],
            confirm=(
                kubectl(
                    "get",
                    "pods",
                    "-A",
                    "-o",
                    "wide",
                    "--field-selector",
                    f"spec.nodeName={c.node}",
                )
                .pipe("grep", "-v", "Completed")
                .pipe("wc", "-l"),
                cmd("ls", Glob("/var/lib/cni/networks/*/")).pipe("wc", "-l").note("on the node"),
            ),
            fix=Fix(
                text=f"Lower maxPods on {c.node} below {c.usable}, move load to other nodes, or allocate "
                "larger node ranges (--node-cidr-mask-size)."
            ),
        )


def ipam_allocation_failed_faults(model: ClusterModel) -> Iterator[Fault]:
    """CNI407: Events show the CNI could not allocate an IP address."""
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
        yield Fault(
            layer=Layer.IPAM,
            severity=Severity.ERROR,
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

"""DNS112: NodeLocal DNSCache does not run on every node."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, ref, register
from netsleuth.facts.kube_dns import nodelocal_daemonset
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="DNS112", layer=Layer.DNS, severity=Severity.WARNING, needs=Needs(kinds=("DaemonSet",))
)
def nodelocal_dns_not_on_every_node(model: ClusterModel) -> Iterator[Finding]:
    """NodeLocal DNSCache is installed but not running and ready on every node.

    What it checks: the `node-local-dns` DaemonSet's pods against the
    nodes: Ready nodes matching its nodeSelector with no Ready
    node-local-dns pod. Without pods in the
    input, the DaemonSet status (numberReady versus desiredNumberScheduled,
    and desiredNumberScheduled versus the nodes listed).

    Why it breaks traffic: with NodeLocal DNSCache, kubelet gives pods the
    link-local cache address (169.254.20.10) as nameserver, or the cache
    intercepts the kube-dns ClusterIP on the node. On a node where the cache
    pod is missing or not ready, nothing answers there: every pod on that
    node fails DNS while pods elsewhere work, which looks random.

    Example:
      kubectl get ds -n kube-system node-local-dns
      NAME             DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE
      node-local-dns   5         5         4       5            4

    Fix: make the DaemonSet tolerate every taint your nodes carry (it
    should tolerate all: `operator: Exists`), and fix the pods that are not
    ready (describe them: port 53 already bound on the host, image pull).

    Confirm live:
      kubectl get pods -n kube-system -l k8s-app=node-local-dns -o wide
      kubectl get nodes -o wide

    References:
      https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/
    """
    ds = nodelocal_daemonset(model)
    if ds is None:
        return
    ds_ref = model.owner_of_pod
    pods = [
        p
        for p in model.pods_by_namespace.get(ds.namespace, ())
        if not p.meta.derived
        and ds_ref.get(p.key) is not None
        and ds_ref[p.key].kind == "DaemonSet"
        and ds_ref[p.key].name == ds.name
    ]
    evidence: list[Evidence] = []
    if pods and model.nodes:
        ready_nodes = {p.node_name for p in pods if p.ready and p.node_name}
        # Nodes the DaemonSet should run on: Ready, matching its nodeSelector
        # (a linux-only cache has no pod on Windows nodes by design).
        selector = ds.template.spec.node_selector if ds.template is not None else {}
        eligible = [
            n
            for n, node in model.nodes.items()
            if node.ready is not False
            and all(node.meta.labels.get(k) == v for k, v in selector.items())
        ]
        missing = sorted(n for n in eligible if n not in ready_nodes)
        if not missing:
            return
        shown = ", ".join(missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        detail = f"{len(missing)}/{len(eligible)} node(s) without a ready cache pod: {shown}"
        evidence.append(
            Evidence(
                ref("DaemonSet", ds.meta),
                "pods ready on nodes",
                f"{len(ready_nodes)}/{len(eligible)}",
            )
        )
    elif ds.has_status and ds.desired_scheduled is not None:
        ready = ds.number_ready or 0
        desired = ds.desired_scheduled
        no_selector = ds.template is None or not ds.template.spec.node_selector
        short_nodes = len(model.nodes) - desired if model.nodes and no_selector else 0
        if ready >= desired and short_nodes <= 0:
            return
        parts = []
        if ready < desired:
            parts.append(f"{ready}/{desired} pods ready")
        if short_nodes > 0:
            parts.append(f"scheduled on {desired} of {len(model.nodes)} nodes")
        detail = ", ".join(parts)
        evidence += [
            Evidence(ref("DaemonSet", ds.meta), "status.desiredNumberScheduled", str(desired)),
            Evidence(ref("DaemonSet", ds.meta), "status.numberReady", str(ready)),
        ]
    else:
        return
    yield finding(
        "DNS112",
        model,
        kind="DaemonSet",
        meta=ds.meta,
        message=f"NodeLocal DNSCache is not on every node ({detail}): pods on those nodes have no working resolver.",
        evidence=evidence,
        confirm=(
            kubectl(
                "get", "pods", "-n", ds.namespace, "-l", "k8s-app=node-local-dns", "-o", "wide"
            ),
        ),
        fix=Fix(
            text="Let the DaemonSet tolerate every node taint (`tolerations: [{operator: Exists}]`) and "
            "fix the cache pods that are not ready."
        ),
    )

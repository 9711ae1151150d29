"""CNI409: CNI agent pods run different versions across nodes."""

from __future__ import annotations

from collections.abc import Iterator

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.cni_detect import agent_image_tags, cni_daemonsets, image_tag
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity


@register(
    id="CNI409",
    layer=Layer.CNI,
    severity=Severity.WARNING,
    needs=Needs(kinds=("DaemonSet", "Pod"), require_present=True),
)
def cni_agent_version_skew(model: ClusterModel) -> Iterator[Finding]:
    """CNI agent pods run different versions across nodes.

    What it checks:
        For each CNI agent DaemonSet, the image tag of the agent container in
        its running pods, node by node, and the tag the DaemonSet template
        asks for. More than one version means a rollout that stopped halfway
        (``updateStrategy: OnDelete``, a crash-looping new version, or a
        paused rollout).

    Why it breaks traffic:
        Agents of different releases share cluster state (Cilium identities
        and CRDs, Calico's datastore, flannel's subnet leases). CNI projects
        support upgrading one minor release at a time with all agents
        converging; mixed agents can disagree on encapsulation, policy
        semantics or identity allocation, and cross-node traffic between the
        two groups breaks in ways that follow the node, not the app.

    Example:
        ``cilium`` template ``v1.15.6``; pods on ``worker-1``, ``worker-2``
        run ``v1.15.6`` and on ``worker-3`` still ``v1.14.12``.

    Fix:
        Finish the rollout: ``kubectl -n kube-system rollout status ds/<name>``;
        with ``OnDelete`` delete the old pods node by node; if the new
        version crash-loops, roll back.

    Confirm live:
        ``kubectl get pods -n kube-system -l k8s-app=cilium -o custom-columns=NODE:.spec.nodeName,IMAGE:.spec.containers[0].image``;
        ``kubectl -n kube-system rollout status ds/cilium``.

    References:
        https://docs.cilium.io/en/stable/operations/upgrade/ ;
        https://kubernetes.io/docs/tasks/manage-daemon/update-daemon-set/
    """
    for cni, ds in cni_daemonsets(model):
        if ds.template is None or not ds.template.spec.containers:
            continue
        main = ds.template.spec.containers[0]
        want = image_tag(main.image)
        by_version = agent_image_tags(model, cni, ds)
        if len(by_version) < 2:
            continue
        parts = [
            f"{v} on {', '.join(sorted(nodes)[:5])}" for v, nodes in sorted(by_version.items())
        ]
        stale = sorted(n for v, nodes in by_version.items() if v != want for n in nodes)
        yield finding(
            "CNI409",
            model,
            kind="DaemonSet",
            meta=ds.meta,
            message=f"{cni} agents run {len(by_version)} versions ({'; '.join(parts)}); the DaemonSet asks for {want}",
            evidence=[
                Evidence(
                    f"DaemonSet/{ds.namespace}/{ds.name}",
                    f"spec.template.spec.containers[{main.name}].image",
                    main.image,
                ),
                *(
                    Evidence(f"Node/{n}", "agent image tag", v)
                    for v, nodes in sorted(by_version.items())
                    for n in sorted(nodes)[:3]
                ),
            ],
            confirm=(
                kubectl("-n", ds.namespace, "rollout", "status", f"ds/{ds.name}"),
                kubectl("get", "pods", "-n", ds.namespace, "-o", "wide").pipe("grep", ds.name),
            ),
            fix=Fix(
                text=f"Finish the {cni} rollout so every node runs {want}: delete the old agent pods on "
                f"{', '.join(stale[:5]) or 'the lagging nodes'} node by node (OnDelete), or roll back if the new version fails."
            ),
        )

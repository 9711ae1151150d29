"""CNI410: the CNI agent runs a release known to break networking or unsupported by the nodes' Kubernetes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from netsleuth.checks.base import Needs, finding, register
from netsleuth.facts.cni_detect import agent_image_tags, cni_daemonsets, image_tag
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Finding, Fix, Layer, Severity

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def _version(tag: str | None) -> tuple[int, int, int] | None:
    m = _VERSION.match(tag or "")
    if m is None:
        return None
    return int(m[1]), int(m[2]), int(m[3] or 0)


@dataclass(frozen=True)
class _Known:
    """One known-bad release range of one CNI, or a Kubernetes floor of a range."""

    cni: str
    first: tuple[int, int, int]  # first affected release (inclusive)
    last: tuple[int, int, int]  # last affected release (inclusive)
    why: str
    fix: str
    min_kube_minor: int | None = None  # set: only a fault on nodes older than 1.<this>


# Facts from the field guides this project is built from (``shared/seeds``): each
# entry names what breaks and what to run instead. Extend with a source for each.
KNOWN: tuple[_Known, ...] = (
    _Known(
        "flannel",
        (0, 15, 1),
        (0, 15, 1),
        "flannel v0.15.1 corrupts the node's routing table when the node restarts, "
        "so pods on it lose cross-node traffic",
        "upgrade flannel to a later release",
    ),
    _Known(
        "calico",
        (3, 18, 0),
        (3, 18, 999),
        "Calico 3.18 has an IPAM race that hands one IP address to several pods during "
        "rapid scale-up, so traffic for one pod reaches another",
        "upgrade Calico to 3.19 or newer (the release that fixed the race)",
    ),
    _Known(
        "calico",
        (3, 20, 0),
        (999, 0, 0),
        "Calico 3.20 and later require Kubernetes 1.19 or newer; on older nodes the CNI "
        "plugin fails with errors that only say 'plugin failed'",
        "upgrade the nodes to Kubernetes 1.19+ or run a Calico release that supports them",
        min_kube_minor=19,
    ),
)


def _kube_minor(version: str) -> int | None:
    v = _version(version)
    return v[1] if v is not None and v[0] == 1 else None


@register(
    id="CNI410",
    layer=Layer.CNI,
    severity=Severity.WARNING,
    needs=Needs(kinds=("DaemonSet",), require_present=True),
)
def cni_known_bad_version(model: ClusterModel) -> Iterator[Finding]:
    """The CNI agent runs a release known to break networking or unsupported by the nodes' Kubernetes.

    What it checks:
        The image tag of each CNI agent DaemonSet's template and of its
        running agent pods, against a table of releases known to break pod
        networking (flannel v0.15.1, Calico 3.18.x) and of Kubernetes floors
        (Calico 3.20+ needs Kubernetes 1.19+, compared with every node's
        kubelet version). Tags that are not versions (``latest``, digests)
        are not judged.

    Why it breaks traffic:
        A bad agent release fails in ways that look like application or
        node faults: flannel v0.15.1 corrupts routes on node restart, Calico
        3.18's IPAM race gives two pods one address under fast scale-up. A
        CNI release newer than the Kubernetes it runs on fails pod sandbox
        setup with a bare "plugin failed".

    Example:
        ``calico-node`` DaemonSet on image ``calico/node:v3.18.4``: during a
        scale-up two pods get ``10.244.1.17`` and half the requests for one
        reach the other.

    Fix:
        Upgrade the CNI to the release named in the finding (one minor at a
        time, as its upgrade guide says), or upgrade the nodes when the CNI
        is ahead of Kubernetes.

    Confirm live:
        ``kubectl -n kube-system get ds <agent> -o jsonpath='{.spec.template.spec.containers[0].image}'``;
        ``kubectl get nodes -o custom-columns=NODE:.metadata.name,KUBELET:.status.nodeInfo.kubeletVersion``.

    References:
        https://github.com/flannel-io/flannel/releases ;
        https://docs.tigera.io/calico/latest/getting-started/kubernetes/requirements
    """
    kubelet = {name: n.kubelet_version for name, n in model.nodes.items()}
    node_minor = {n: m for n, v in kubelet.items() if (m := _kube_minor(v)) is not None}
    for cni, ds in cni_daemonsets(model):
        if ds.template is None or not ds.template.spec.containers:
            continue
        main = ds.template.spec.containers[0]
        want = image_tag(main.image)
        tags = agent_image_tags(model, cni, ds)
        if want:
            tags.setdefault(want, [])
        for tag, nodes in sorted(tags.items()):
            v = _version(tag)
            if v is None:
                continue
            for k in KNOWN:
                if k.cni != cni or not (k.first <= v <= k.last):
                    continue
                evidence = [
                    Evidence(
                        f"DaemonSet/{ds.namespace}/{ds.name}",
                        f"spec.template.spec.containers[{main.name}].image"
                        if tag == want
                        else "agent pods' image tag",
                        main.image if tag == want else tag,
                    )
                ]
                if k.min_kube_minor is not None:
                    old = sorted(n for n, m in node_minor.items() if m < k.min_kube_minor)
                    if not old:
                        continue
                    evidence += [
                        Evidence(
                            f"Node/{n}",
                            "status.nodeInfo.kubeletVersion",
                            kubelet[n],
                        )
                        for n in old[:3]
                    ]
                    where = f"; nodes on Kubernetes older than 1.{k.min_kube_minor}: {', '.join(old[:5])}"
                else:
                    where = f" on {', '.join(sorted(nodes)[:5])}" if nodes else ""
                yield finding(
                    "CNI410",
                    model,
                    kind="DaemonSet",
                    meta=ds.meta,
                    message=f"{cni} {tag}{where}: {k.why}",
                    evidence=evidence,
                    confirm=(
                        kubectl(
                            "-n",
                            ds.namespace,
                            "get",
                            "ds",
                            ds.name,
                            "-o",
                            "jsonpath={.spec.template.spec.containers[0].image}",
                        ),
                        kubectl(
                            "get",
                            "nodes",
                            "-o",
                            "custom-columns=NODE:.metadata.name,KUBELET:.status.nodeInfo.kubeletVersion",
                        ),
                    ),
                    fix=Fix(text=f"{k.fix[0].upper()}{k.fix[1:]}."),
                )

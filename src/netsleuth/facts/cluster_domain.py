"""The cluster DNS domain (``cluster.local`` unless the cluster was built otherwise), derived
once from what the input shows.

Names under it (``<svc>.<ns>.svc.<domain>``) are what CoreDNS answers and what the kubelet
puts in every ``ClusterFirst`` pod's search list. Where the input says it, in order:

1. the kubelet's configuration, ``clusterDomain`` of the KubeletConfiguration kubeadm
   stores in ``kube-system/kubelet-config`` (``kubelet-config-1.<minor>`` before 1.24), key
   ``kubelet`` (what pods' resolv.conf search list is written from);
2. the CoreDNS Corefile (``kube-system/coredns``), the first zone of its ``kubernetes``
   plugin that is not a reverse zone (``kubernetes cluster.local in-addr.arpa ip6.arpa``),
   or the server block's zone when the plugin names none (what CoreDNS answers for);
3. kubeadm's ClusterConfiguration (``kube-system/kubeadm-config``),
   ``networking.dnsDomain`` (what kubeadm set both from).

A user's ``--cluster-domain`` overrides all of them. When the input shows none,
:data:`DEFAULT_CLUSTER_DOMAIN` (``cluster.local``, the kubelet's and kubeadm's default) is
used and the fact says so (``source == "default"``). Sources that disagree are kept in
:attr:`ClusterDomain.seen`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from netsleuth.facts.faults import Fault
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity

DEFAULT_CLUSTER_DOMAIN = "cluster.local"
"""The kubelet's and kubeadm's default ``clusterDomain``/``dnsDomain``."""

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_KUBELET_DOMAIN = re.compile(r"^clusterDomain:[ \t]*[\"']?([^\"'\s#]+)", re.MULTILINE)
_NETWORKING = re.compile(r"^networking:[ \t]*\n((?:[ \t]+.*(?:\n|$)|[ \t]*\n)*)", re.MULTILINE)
_DNS_DOMAIN = re.compile(r"^[ \t]+dnsDomain:[ \t]*[\"']?([^\"'\s#]+)", re.MULTILINE)
_REVERSE = ("in-addr.arpa", "ip6.arpa")


@dataclass(frozen=True, slots=True)
class ClusterDomain:
    domain: str
    """Without a trailing dot, lower case."""
    source: str
    """Where it comes from: ``kubelet config kube-system/kubelet-config``, ``CoreDNS Corefile
    kube-system/coredns``, ``kubeadm ClusterConfiguration kube-system/kubeadm-config``,
    ``--cluster-domain``, or ``default`` (the input shows none)."""
    seen: tuple[tuple[str, str], ...] = ()
    """Every ``(source, domain)`` the input shows, in the order above."""

    @property
    def from_input(self) -> bool:
        return self.source != "default"


def _clean(value: str) -> str | None:
    d = value.strip().rstrip(".").lower()
    return d if _DOMAIN.match(d) else None


def _kubelet(model: ClusterModel) -> tuple[str, str] | None:
    names = sorted(
        (c for c in model.config_maps if (c.meta.namespace or "") == "kube-system"),
        key=lambda c: (c.meta.name != "kubelet-config", c.meta.name),
    )
    for cm in names:
        if cm.meta.name != "kubelet-config" and not cm.meta.name.startswith("kubelet-config-1."):
            continue
        m = _KUBELET_DOMAIN.search(cm.data.get("kubelet", ""))
        d = _clean(m.group(1)) if m else None
        if d:
            return f"kubelet config kube-system/{cm.meta.name}", d
    return None


def _corefile(model: ClusterModel) -> tuple[str, str] | None:
    from netsleuth.facts.kube_dns import corefile  # kube_dns reads this module's answer

    cf = corefile(model)
    if cf is None:
        return None
    for d in cf.directives:
        if d.name != "kubernetes":
            continue
        zones = list(d.args) or d.block.split()
        for z in zones:
            zone = z.split(":")[0]
            if zone in (".", "") or zone.rstrip(".").endswith(_REVERSE):
                continue
            clean = _clean(zone)
            if clean:
                return f"CoreDNS Corefile kube-system/{cf.config_map.meta.name}", clean
    return None


def _kubeadm(model: ClusterModel) -> tuple[str, str] | None:
    cm = model.config_map("kube-system", "kubeadm-config")
    if cm is None:
        return None
    net = _NETWORKING.search(cm.data.get("ClusterConfiguration", ""))
    m = _DNS_DOMAIN.search(net.group(1)) if net else None
    d = _clean(m.group(1)) if m else None
    return ("kubeadm ClusterConfiguration kube-system/kubeadm-config", d) if d else None


def cluster_domain_fact(model: ClusterModel) -> ClusterDomain:
    """The cluster domain the input shows (memoised per model), else the default."""
    return model.memoised("facts.cluster_domain", lambda: _derive(model))


def _derive(model: ClusterModel) -> ClusterDomain:
    seen = tuple(s for s in (_kubelet(model), _corefile(model), _kubeadm(model)) if s)
    if seen:
        return ClusterDomain(seen[0][1], seen[0][0], seen)
    return ClusterDomain(DEFAULT_CLUSTER_DOMAIN, "default")


def cluster_domain(model: ClusterModel, override: str | None = None) -> str:
    """The cluster domain: ``override`` (the user's ``--cluster-domain``) when given, else
    the one the input shows, else ``cluster.local``."""
    if override:
        return override.strip().rstrip(".").lower()
    return cluster_domain_fact(model).domain


# --------------------------------------------------------------------------- disagreement


def corefile_zones(model: ClusterModel) -> tuple[str, int, tuple[str, ...]] | None:
    """``(Corefile ConfigMap name, line, zones)`` of the CoreDNS ``kubernetes`` plugin: every
    forward zone it serves (its arguments, or the server block's zone when it names none;
    reverse zones left out), from the first ``kubernetes`` line that names one. ``None``
    when the input has no Corefile or no such line (nothing to compare: not checked)."""
    from netsleuth.facts.kube_dns import corefile

    cf = corefile(model)
    if cf is None:
        return None
    for d in cf.directives:
        if d.name != "kubernetes":
            continue
        zones: list[str] = []
        for z in list(d.args) or d.block.split():
            zone = z.split(":")[0]
            if zone in (".", "") or zone.rstrip(".").endswith(_REVERSE):
                continue
            clean = _clean(zone)
            if clean:
                zones.append(clean)
        if zones:
            return cf.config_map.meta.name, d.line, tuple(dict.fromkeys(zones))
    return None


def cluster_domain_mismatch_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS117: the domain pods search under is not a zone CoreDNS serves.

    The kubelet writes ``<ns>.svc.<clusterDomain> svc.<clusterDomain> <clusterDomain>`` into
    every ClusterFirst pod's search list; CoreDNS's ``kubernetes`` plugin answers only for
    its zones and forwards every other name upstream (NXDOMAIN). When they differ, no
    Service name resolves from any pod. The kubelet side is its KubeletConfiguration
    (``kube-system/kubelet-config``), else kubeadm's ``networking.dnsDomain`` (what kubeadm
    wrote into it); either side absent from the input: nothing is said (not checked).

    What to change: the Corefile, unless kubeadm's ``dnsDomain`` sides with the Corefile
    against the kubelet config (then the kubelet config is the odd one out). Changing the
    kubelet's domain means restarting every kubelet and recreating every pod (their
    resolv.conf is written at creation); editing the Corefile is one reload.
    """
    kubelet, kubeadm = _kubelet(model), _kubeadm(model)
    pods_side = kubelet or kubeadm
    served = corefile_zones(model)
    if pods_side is None or served is None:
        return
    source, domain = pods_side
    cm_name, line, zones = served
    if domain in zones:
        return
    core_meta = model.config_map("kube-system", cm_name)
    assert core_meta is not None
    corefile_ev = Evidence(
        f"ConfigMap/kube-system/{cm_name}",
        f"data.Corefile line {line}",
        "kubernetes " + " ".join(zones),
    )
    side_ev = [Evidence(_source_ref(source), _source_field(source), domain)]
    if kubelet is not None and kubeadm is not None:
        side_ev.append(Evidence(_source_ref(kubeadm[0]), _source_field(kubeadm[0]), kubeadm[1]))
    change_kubelet = (
        kubelet is not None
        and kubeadm is not None
        and kubeadm[1] in zones
        and kubelet[1] != kubeadm[1]
    )
    confirm = [
        kubectl(
            "get", "configmap", "-n", "kube-system", cm_name, "-o", "jsonpath={.data.Corefile}"
        ).pipe("grep", "kubernetes"),
    ]
    node = next(iter(sorted(model.nodes)), None)
    if node is not None:
        confirm.append(
            kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/configz").pipe(
                "grep", "-o", '"clusterDomain":"[^"]*"'
            )
        )
    zone_text = " ".join(zones)
    message = (
        f"Pods search Service names under {domain} ({source}), but CoreDNS serves "
        f"{zone_text} (Corefile in kube-system/{cm_name}, line {line}): every "
        f"<service>.<namespace>.svc.{domain} lookup goes upstream and fails, in every pod."
    )
    if change_kubelet:
        assert kubelet is not None and kubeadm is not None
        cm = model.config_map("kube-system", kubelet[0].rsplit("/", 1)[1])
        assert cm is not None
        yield Fault(
            layer=Layer.DNS,
            severity=Severity.ERROR,
            kind="ConfigMap",
            meta=cm.meta,
            also=(core_meta.meta,),
            message=message,
            evidence=[*side_ev, corefile_ev],
            confirm=tuple(confirm),
            fix=Fix(
                text=f"Set clusterDomain: {kubeadm[1]} in ConfigMap kube-system/{cm.meta.name} "
                f"(kubeadm's dnsDomain and the Corefile agree on it), apply it on every node "
                "(kubeadm upgrade node phase kubelet-config, then restart the kubelet) and "
                "recreate the pods so their resolv.conf is rewritten."
            ),
        )
        return
    yield Fault(
        layer=Layer.DNS,
        severity=Severity.ERROR,
        kind="ConfigMap",
        meta=core_meta.meta,
        also=tuple(
            m.meta
            for m in (model.config_map("kube-system", _source_ref(source).rsplit("/", 1)[1]),)
            if m is not None
        ),
        message=message,
        evidence=[corefile_ev, *side_ev],
        confirm=tuple(confirm),
        fix=Fix(
            text=f"Make the kubernetes plugin in ConfigMap kube-system/{cm_name} serve {domain} "
            f"(kubernetes {domain} in-addr.arpa ip6.arpa); CoreDNS reloads the Corefile."
            + (
                ""
                if kubelet is not None and kubeadm is not None
                else f" (Or, if {zones[0]} is the intended domain, set the kubelet's "
                "clusterDomain to it on every node and recreate every pod.)"
            )
        ),
    )


def _source_ref(source: str) -> str:
    """``kubelet config kube-system/kubelet-config`` -> ``ConfigMap/kube-system/kubelet-config``."""
    return "ConfigMap/" + source.rsplit(" ", 1)[1]


def _source_field(source: str) -> str:
    return (
        "data.kubelet clusterDomain"
        if source.startswith("kubelet")
        else "data.ClusterConfiguration networking.dnsDomain"
    )

"""CoreDNS health: the cluster DNS Service missing (DNS101) or without a ready endpoint
(DNS102), replicas unavailable (DNS103), pods restarting (DNS104), CPU and memory
limits too low (DNS105, DNS106), no cache in the Corefile (DNS107), a node firewall
dropping DNS to it (DNS116).

The trace reads the same faults: DNS101, DNS102 and DNS103 with no replica left
break every lookup (a broken dns hop); restarts (DNS104) and a node firewall on the
client's or a CoreDNS pod's node (DNS116) are on the path; the sizing risks
(DNS103 with replicas left, DNS105–DNS107) are notes: they threaten every path
without deciding this one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterator

from netsleuth.facts.faults import Fault, ref
from netsleuth.facts.kube_dns import (
    DNS_NAMESPACE,
    cluster_has_system_view,
    coredns_containers,
    corefile,
    dns_pods,
    dns_service,
    dns_workload,
)
from netsleuth.facts.quantity import parse_quantity
from netsleuth.facts.service_backends import not_ready_reason
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.commands import cmd, kubectl
from netsleuth.model.findings import Evidence, Fix, Layer, Severity
from netsleuth.model.node_artifacts import IptablesRule
from netsleuth.model.objects import ContainerStatus, Meta, Pod

CPU_LIMIT_FLOOR = 0.1  # cores: a limit at or below 100m throttles under load


def dns_service_missing_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS101: The kube-dns Service (cluster DNS) does not exist in kube-system."""
    if not cluster_has_system_view(model) or dns_service(model) is not None:
        return
    w = dns_workload(model)
    meta = Meta(name="kube-dns", namespace=DNS_NAMESPACE)
    evidence = [Evidence(f"Namespace/{DNS_NAMESPACE}", "Service kube-dns", "absent")]
    if w is not None:
        evidence.append(
            Evidence(
                f"Deployment/{DNS_NAMESPACE}/{w.name}",
                "exists",
                "yes (pods run, nothing routes to them)",
            )
        )
    yield Fault(
        layer=Layer.DNS,
        severity=Severity.ERROR,
        kind="Service",
        meta=meta,
        message="No kube-dns Service in kube-system: pods using ClusterFirst DNS have no nameserver that answers.",
        evidence=evidence,
        confirm=(
            kubectl("get", "svc", "-n", "kube-system", "-l", "k8s-app=kube-dns"),
            kubectl(
                "run",
                "dnstest",
                "--rm",
                "-it",
                "--image=busybox:1.36",
                "--restart=Never",
                "--",
                "nslookup",
                "kubernetes.default",
            ),
        ),
        fix=Fix(
            text="Recreate the kube-dns Service on the kubelet clusterDNS IP, selecting k8s-app=kube-dns, "
            "ports 53/UDP and 53/TCP (kubeadm: `kubeadm init phase addon coredns`)."
        ),
    )


def dns_no_ready_endpoints_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS102: The kube-dns Service has no ready endpoints: cluster DNS is down."""
    svc = dns_service(model)
    if svc is None or not svc.has_selector:
        return
    slices = model.slices_for(svc)
    ready = model.ready_endpoints(svc)
    if slices:
        if ready:
            return
        total = sum(len(s.endpoints) for s in slices)
        evidence = [
            Evidence(
                ref("EndpointSlice", s.meta),
                "endpoints[*].conditions.ready",
                f"{sum(1 for e in s.endpoints if e.is_ready)}/{len(s.endpoints)} ready",
            )
            for s in slices
        ]
        detail = f"{total} endpoint(s), none ready"
        evidence += [
            Evidence(ref("Pod", p.meta), "status", not_ready_reason(model, p))
            for p in model.pods_matching(svc.namespace, svc.selector or {})[:4]
            if not p.meta.derived
        ]
    else:
        pods = [
            p for p in model.pods_matching(svc.namespace, svc.selector or {}) if not p.meta.derived
        ]
        if not pods or any(p.ready for p in pods):
            return
        evidence = [
            Evidence(ref("Pod", p.meta), "status.conditions[Ready]", "False") for p in pods[:5]
        ]
        detail = f"{len(pods)} selected pod(s), none Ready"
    yield Fault(
        layer=Layer.DNS,
        severity=Severity.ERROR,
        kind="Service",
        meta=svc.meta,
        message=f"Cluster DNS is down: Service {svc.namespace}/{svc.name} has no ready endpoint ({detail}).",
        evidence=evidence,
        confirm=(
            kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "wide"),
            kubectl(
                "get",
                "endpointslices",
                "-n",
                "kube-system",
                "-l",
                f"kubernetes.io/service-name={svc.name}",
            ),
        ),
        fix=Fix(
            text="Find why the CoreDNS pods are not Ready (describe, logs) and fix it; "
            "check the Service selector matches the CoreDNS pod labels."
        ),
    )


def coredns_replicas_unavailable_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS103: The CoreDNS Deployment has fewer available replicas than desired."""
    w = dns_workload(model)
    if w is None or not w.has_status:
        return
    desired = 1 if w.replicas is None else w.replicas
    available = w.available_replicas
    if desired > 0 and available >= desired:
        return
    if desired == 0:
        message = f"CoreDNS Deployment {w.name} is scaled to 0 replicas: cluster DNS is down."
        severity = Severity.ERROR
    elif available == 0:
        message = (
            f"CoreDNS Deployment {w.name} has 0/{desired} replicas available: cluster DNS is down."
        )
        severity = Severity.ERROR
    else:
        message = (
            f"CoreDNS Deployment {w.name} has {available}/{desired} replicas available: "
            "the rest carry all DNS load and one more failure may take DNS down."
        )
        severity = Severity.WARNING
    yield Fault(
        layer=Layer.DNS,
        kind="Deployment",
        meta=w.meta,
        severity=severity,
        message=message,
        evidence=[
            Evidence(ref("Deployment", w.meta), "spec.replicas", str(desired)),
            Evidence(ref("Deployment", w.meta), "status.availableReplicas", str(available)),
        ],
        confirm=(
            kubectl("get", "deploy", "-n", w.namespace, w.name),
            kubectl("describe", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"),
        ),
        fix=Fix(
            text="Find why CoreDNS pods are unavailable (Pending, CrashLoopBackOff, OOMKilled) and fix it; "
            "run at least 2 replicas on different nodes.",
            command=kubectl("-n", w.namespace, "scale", f"deploy/{w.name}", "--replicas=2")
            if desired == 0
            else None,
        ),
    )


def coredns_restarts_faults(model: ClusterModel, restart_threshold: int = 5) -> Iterator[Fault]:
    """DNS104: CoreDNS pods restart repeatedly or were OOMKilled."""
    churning: list[tuple[Pod, ContainerStatus, str]] = []
    for pod in dns_pods(model):
        for cs in pod.container_statuses:
            oom = "OOMKilled" in (cs.last_termination_reason, cs.state_reason)
            crash = cs.state_reason == "CrashLoopBackOff"
            if oom or crash or cs.restart_count >= restart_threshold:
                why = "OOMKilled" if oom else ("in CrashLoopBackOff" if crash else "restarting")
                churning.append((pod, cs, why))
                break
    if not churning:
        return
    w = dns_workload(model)
    kind, meta = ("Deployment", w.meta) if w is not None else ("Pod", churning[0][0].meta)
    oom_any = any(why == "OOMKilled" for _, _, why in churning)
    parts = [f"{p.name} {why} ({cs.restart_count} restarts)" for p, cs, why in churning]
    evidence = []
    for pod, cs, _why in churning[:3]:
        evidence.append(
            Evidence(
                ref("Pod", pod.meta),
                f"status.containerStatuses[{cs.name}].restartCount",
                str(cs.restart_count),
            )
        )
        if cs.last_termination_reason:
            evidence.append(
                Evidence(
                    ref("Pod", pod.meta),
                    f"status.containerStatuses[{cs.name}].lastState.terminated.reason",
                    cs.last_termination_reason,
                )
            )
        if cs.state_reason:
            evidence.append(
                Evidence(
                    ref("Pod", pod.meta),
                    f"status.containerStatuses[{cs.name}].state.reason",
                    cs.state_reason,
                )
            )
    first = churning[0][0]
    yield Fault(
        layer=Layer.DNS,
        severity=Severity.WARNING,
        kind=kind,
        meta=meta,
        also=tuple(p.meta for p, _, _ in churning),
        message=f"CoreDNS pods keep restarting: {'; '.join(parts)}. Queries sent to a restarting pod time "
        "out until its endpoint is withdrawn.",
        evidence=evidence,
        confirm=(
            kubectl("logs", "-n", first.namespace, first.name, "--previous"),
            kubectl(
                "get",
                "events",
                "-n",
                first.namespace,
                "--field-selector",
                f"involvedObject.name={first.name}",
            ),
        ),
        fix=Fix(
            text="Raise the CoreDNS memory limit: at least double the limit it was killed at "
            "(DNS106 gives the value and the command)."
            if oom_any
            else "Read the previous logs and the pod events: liveness probes failing under CPU throttling "
            "(see DNS105), or 'Loop detected' (forward points back at CoreDNS, see DNS110)."
        ),
    )


def coredns_cpu_limit_low_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS105: CoreDNS has a CPU limit of 100m or less and is throttled under load."""
    found = coredns_containers(model)
    if found is None:
        return
    kind, meta, containers = found
    for c in containers:
        limit = parse_quantity(c.cpu_limit)
        if limit is None or limit > CPU_LIMIT_FLOOR + 1e-9:
            continue
        yield Fault(
            layer=Layer.DNS,
            severity=Severity.WARNING,
            kind=kind,
            meta=meta,
            message=f"CoreDNS container {c.name} has CPU limit {c.cpu_limit} (<= 100m): "
            "it is throttled during query bursts and lookups stall.",
            evidence=[
                Evidence(
                    ref(kind, meta),
                    f"spec.containers[{c.name}].resources.limits.cpu",
                    str(c.cpu_limit),
                )
            ],
            confirm=(kubectl("top", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"),),
            fix=Fix(
                text="Raise the CoreDNS CPU limit (e.g. 500m) or drop the limit and keep the request.",
                command=kubectl(
                    "-n",
                    meta.namespace or "kube-system",
                    "set",
                    "resources",
                    f"deploy/{meta.name}",
                    "-c",
                    c.name,
                    "--limits=cpu=500m",
                )
                if kind == "Deployment"
                else None,
            ),
        )


# The CoreDNS scaling guide's memory estimate with default settings:
# (pods + services) / 1000 + 54 MB
# (https://github.com/coredns/deployment/blob/master/kubernetes/Scaling_CoreDNS.md).
BASE_MB = 54.0


def memory_estimate_bytes(pods: int, services: int) -> float:
    """The scaling guide's estimate in bytes (MB as 10^6 bytes, as the guide writes it).

    >>> round(memory_estimate_bytes(1000, 1000) / 1e6)
    56
    """
    return ((pods + services) / 1000 + BASE_MB) * 1e6


def suggested_memory_limit(limit: int, estimate: float, oom: bool) -> str:
    """A limit with headroom: twice the estimate, and after an OOMKill at least twice the
    limit it died at (and 256Mi), rounded up to 64Mi."""
    want = max(2 * estimate, 2 * limit if oom else 0, 256 * 2**20 if oom else 0)
    step = 64 * 2**20
    return f"{int(-(-want // step) * 64)}Mi"


def coredns_memory_limit_low_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS106: CoreDNS's memory limit is below the scaling guide's estimate for this cluster,
    or CoreDNS was OOMKilled. The upstream default (170Mi on kubeadm, kind, k3s, EKS) is far
    above the estimate of any cluster under ~100,000 objects: not an alarm by itself."""
    found = coredns_containers(model)
    if found is None:
        return
    kind, meta, containers = found
    n_pods = sum(1 for p in model.pods if not p.meta.derived) or len(model.pods)
    estimate = memory_estimate_bytes(n_pods, len(model.services))
    oom_pods = [
        p
        for p in dns_pods(model)
        if any(
            "OOMKilled" in (cs.last_termination_reason, cs.state_reason)
            for cs in p.container_statuses
        )
    ]
    for c in containers:
        limit = parse_quantity(c.memory_limit)
        if limit is None:
            continue
        oom = [p for p in oom_pods if any(cs.name == c.name for cs in p.container_statuses)]
        if limit >= estimate and not oom:
            continue
        why = (
            f"was OOMKilled ({', '.join(p.name for p in oom[:3])})"
            if oom
            else f"is below the scaling guide's estimate for {n_pods} pods and "
            f"{len(model.services)} services ({estimate / 1e6:.0f} MB)"
        )
        target = suggested_memory_limit(int(limit), estimate, bool(oom))
        yield Fault(
            layer=Layer.DNS,
            severity=Severity.WARNING,
            kind=kind,
            meta=meta,
            also=tuple(p.meta for p in oom[:1]),
            message=f"CoreDNS container {c.name} has memory limit {c.memory_limit} and {why}: "
            f"OOMKills drop queries (estimate {estimate / 1e6:.0f} MB before query bursts).",
            evidence=[
                Evidence(
                    ref(kind, meta),
                    f"spec.containers[{c.name}].resources.limits.memory",
                    str(c.memory_limit),
                ),
                *(
                    Evidence(
                        f"Pod/{p.namespace}/{p.name}",
                        f"status.containerStatuses[{c.name}].lastState.terminated.reason",
                        "OOMKilled",
                    )
                    for p in oom[:2]
                ),
            ],
            confirm=(kubectl("top", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns"),),
            fix=Fix(
                text=f"Set the CoreDNS memory limit to {target} (twice the estimate"
                + (", at least twice the limit it was killed at" if oom else "")
                + ").",
                command=kubectl(
                    "-n",
                    meta.namespace or "kube-system",
                    "set",
                    "resources",
                    f"deploy/{meta.name}",
                    "-c",
                    c.name,
                    f"--limits=memory={target}",
                )
                if kind == "Deployment"
                else None,
            ),
        )


def corefile_no_cache_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS107: The Corefile has no `cache` plugin: every query goes upstream or to the API view."""
    cf = corefile(model)
    if cf is None or not cf.root_block_present() or cf.has("cache"):
        return
    cm = cf.config_map
    yield Fault(
        layer=Layer.DNS,
        severity=Severity.WARNING,
        kind="ConfigMap",
        meta=cm.meta,
        message="The Corefile's root block has no `cache`: every lookup is forwarded upstream, "
        "raising latency and CoreDNS CPU.",
        evidence=[Evidence(ref("ConfigMap", cm.meta), "data.Corefile[.:53]", "no cache plugin")],
        confirm=(
            kubectl(
                "get",
                "configmap",
                "coredns",
                "-n",
                "kube-system",
                "-o",
                "jsonpath={.data.Corefile}",
            ),
        ),
        fix=Fix(text="Add `cache 30` to the root server block of the Corefile."),
    )


# Chains of kube-proxy and of CNIs: their drops are Service and NetworkPolicy
# decisions that other checks and the policy engine judge, not a host firewall's.
_DATAPLANE_CHAINS = (
    "KUBE-",
    "cali-",
    "CILIUM",
    "NETSLEUTH-",
    "FLANNEL",
    "WEAVE",
    "ANTREA",
    "KUBE-ROUTER",
    "OVN",
)

# A rule with any other match (conntrack state, marks, sets, rates, `recent`) drops
# only some packets: it is not judged here.
_PLAIN_MATCHES = {"tcp", "udp", "multiport", "comment"}

_PORTS = re.compile(r"--(?:dport|dports|destination-ports?) (\S+)")


def _ports_hit_53(spec: str) -> bool | None:
    """True/False when the rule names ports (53 among them or not); None when it names none."""
    found = _PORTS.findall(spec)
    if not found:
        return None
    for group in found:
        for part in group.split(","):
            lo, _, hi = part.partition(":")
            try:
                if int(lo or 0) <= 53 <= int(hi or lo or 65535):
                    return True
            except ValueError:
                continue
    return False


def _blanket(rule: IptablesRule) -> bool:
    """Only -s/-d/-p/-i/-o, port and comment matches: it drops every packet it describes."""
    words = rule.spec.split()
    if "!" in words:
        return False
    modules = {words[i + 1] for i, w in enumerate(words[:-1]) if w == "-m"}
    return modules <= _PLAIN_MATCHES


def _dst_hits(
    rule: IptablesRule, targets: list[ipaddress.IPv4Address | ipaddress.IPv6Address]
) -> list[str]:
    if rule.destination is None:
        return [str(t) for t in targets]
    try:
        net = ipaddress.ip_network(rule.destination, strict=False)
    except ValueError:
        return []
    return [str(t) for t in targets if t.version == net.version and t in net]


def dns_node_firewall_drops_faults(model: ClusterModel) -> Iterator[Fault]:
    """DNS116: A node's firewall rules drop DNS to the cluster DNS."""
    svc = dns_service(model)
    targets: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    if svc is not None and svc.cluster_ip not in (None, "None"):
        with contextlib.suppress(ValueError):
            targets.append(ipaddress.ip_address(str(svc.cluster_ip)))
    for p in dns_pods(model):
        for ip in p.pod_ips:
            try:
                targets.append(ipaddress.ip_address(ip))
            except ValueError:
                continue
    if not targets:
        return
    for name, art in sorted(model.node_artifacts.items()):
        if art.iptables is None:
            continue
        for rule in art.iptables.rules:
            if rule.table != "filter" or rule.target not in ("DROP", "REJECT"):
                continue
            if rule.chain.startswith(_DATAPLANE_CHAINS) or rule.chain == "OUTPUT":
                continue
            if rule.protocol not in (None, "udp", "tcp", "all") or not _blanket(rule):
                continue
            ports = _ports_hit_53(rule.spec)
            if ports is False:
                continue
            hits = _dst_hits(rule, targets)
            if not hits or (rule.chain == "INPUT" and rule.destination is None):
                continue
            node = model.nodes.get(name)
            what = f"{(rule.protocol or 'all').upper()} " + ("port 53" if ports else "every port")
            yield Fault(
                layer=Layer.DNS,
                severity=Severity.ERROR,
                kind="Node",
                meta=node.meta if node else Meta(name=name),
                artifacts=True,
                message=(
                    f"node {name}'s firewall {rule.target}s {what} to the cluster DNS "
                    f"({', '.join(hits[:3])}) in {rule.chain}: lookups through this node time out"
                ),
                evidence=[
                    Evidence(
                        f"Node/{name}",
                        f"iptables-save -t filter {rule.chain}",
                        f"-A {rule.chain} {rule.spec}",
                    ),
                    *(
                        [
                            Evidence(
                                f"Service/{svc.namespace}/{svc.name}",
                                "spec.clusterIP",
                                str(svc.cluster_ip),
                            )
                        ]
                        if svc is not None
                        else []
                    ),
                ],
                confirm=(
                    cmd("iptables-save", "-t", "filter")
                    .pipe("grep", "--", "--dport 53")
                    .note(f"on {name}"),
                ),
                fix=Fix(
                    text=f"Remove the rule from {name}'s firewall configuration (or allow UDP and TCP "
                    "53 to the cluster DNS before it), where it is written, so it survives no reboot."
                ),
            )

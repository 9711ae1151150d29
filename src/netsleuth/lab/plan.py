"""What a lab builds for a cluster model: a pure function, no commands run here.

``make_plan(model, lab)`` turns the frozen model into a :class:`LabPlan`:

- one network namespace per node, joined by an underlay "switch" (a bridge
  in the lab's ``wan`` namespace), each node's ``eth0`` holding the node's
  InternalIP;
- on each node a ``cni0`` bridge holding the first address of the node's
  podCIDR, one veth per pod (the pod end is ``eth0`` in the pod's own
  namespace, with the pod IP and a default route via ``cni0``), and a VXLAN
  device ``flannel.1`` (VNI 1, UDP 8472) with one route, neighbour and FDB
  entry per other node, the way flannel's vxlan backend lays them out;
- MTUs the model implies: the node's underlay MTU and pod MTU from its
  ``ip -d link``/CNI config when the input has them, else 1500 and
  1500 − 50. When the model's overlay is not VXLAN (Calico IP-in-IP, native
  routing), the lab still carries it over VXLAN and raises its underlay by
  the difference in overhead, so the pod MTU and the margin the model has
  (or lacks) stay the same;
- Service rules the way kube-proxy's iptables mode writes them
  (:mod:`netsleuth.lab.kube_proxy`) and NetworkPolicy as per-pod chains
  (:mod:`netsleuth.lab.netpol`);
- cluster DNS: dnsmasq in each ready CoreDNS/kube-dns endpoint pod, answering
  the ``cluster.local`` records of the model's Services and pods;
- the pods' applications: the responder listens on every declared
  containerPort (and each numeric Service targetPort) of every running pod.

Pods are capped per node (``max_pods``): kube-dns endpoints first, then by
namespace and name. What the lab cannot build is listed in ``skipped`` and
``notes`` with the reason, never dropped silently.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from netsleuth.facts.cluster_domain import DEFAULT_CLUSTER_DOMAIN, cluster_domain
from netsleuth.facts.cni_detect import primary_cni
from netsleuth.facts.dns_resolution import resolver_config
from netsleuth.facts.overlay_mtu import OVERHEAD, node_mtus, overhead
from netsleuth.lab import names
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Pod, Service

DEFAULT_UNDERLAY_MTU = 1500
VXLAN_OVERHEAD = overhead("vxlan")
"""The lab's own overlay: VXLAN over its IPv4 underlay (facts.overlay_mtu's arithmetic)."""
VXLAN_PORT = 8472
DEFAULT_MAX_PODS = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class NodePlan:
    name: str
    netns: str
    index: int
    ip: str
    prefixlen: int
    pod_cidr: str
    gateway: str
    """cni0's address: the pods' default gateway."""
    vtep: str
    """flannel.1's address (the podCIDR's network address, as flannel uses)."""
    vtep_mac: str
    underlay_mtu: int
    vxlan_mtu: int
    pod_mtu: int
    wan_port: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PodPlan:
    namespace: str
    name: str
    netns: str
    node: str
    ip: str
    prefixlen: int
    gateway: str
    mtu: int
    host_veth: str
    listen: tuple[tuple[str, int], ...]
    """(protocol, port) the pod's applications listen on (the responder)."""
    dns_server: bool
    resolv_conf: str
    ready: bool

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    what: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsRecord:
    name: str
    kind: str  # A or CNAME
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LabPlan:
    lab: str
    wan_netns: str
    wan_prefixlen: int
    wan_gateway: str
    """The nodes' default gateway: an address on the underlay that nothing answers."""
    nodes: tuple[NodePlan, ...]
    pods: tuple[PodPlan, ...]
    cluster_cidr: str
    dns_records: tuple[DnsRecord, ...]
    skipped: tuple[Skipped, ...] = ()
    notes: tuple[str, ...] = ()
    cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
    """The zone the lab's dnsmasq answers for (the model's cluster domain)."""

    def node(self, name: str) -> NodePlan | None:
        return next((n for n in self.nodes if n.name == name), None)

    def pod(self, namespace: str, name: str) -> PodPlan | None:
        return next((p for p in self.pods if p.namespace == namespace and p.name == name), None)

    def pod_by_ip(self, ip: str) -> PodPlan | None:
        return next((p for p in self.pods if p.ip == ip), None)


# --------------------------------------------------------------------------- helpers


def _ipv4(text: str | None) -> ipaddress.IPv4Address | None:
    if not text:
        return None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    return ip if isinstance(ip, ipaddress.IPv4Address) else None


def _net4(text: str | None) -> ipaddress.IPv4Network | None:
    if not text:
        return None
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return net if isinstance(net, ipaddress.IPv4Network) else None


def _covering(addrs: list[ipaddress.IPv4Address], min_prefix: int) -> ipaddress.IPv4Network:
    net = ipaddress.ip_network(f"{addrs[0]}/{min_prefix}", strict=False)
    while not all(a in net for a in addrs) and net.prefixlen > 8:
        net = net.supernet()
    assert isinstance(net, ipaddress.IPv4Network)
    return net


def _covering_nets(nets: list[ipaddress.IPv4Network]) -> ipaddress.IPv4Network:
    net = nets[0]
    while not all(n.subnet_of(net) for n in nets) and net.prefixlen > 0:
        net = net.supernet()
    return net


def _free_host(net: ipaddress.IPv4Network, used: set[str], reverse: bool = False) -> str | None:
    hosts = list(net.hosts())
    for h in reversed(hosts) if reverse else hosts:
        if str(h) not in used:
            return str(h)
    return None


def _dns_pods(model: ClusterModel) -> set[tuple[str, str]]:
    """Pods behind kube-dns's ready endpoints (or labelled k8s-app=kube-dns)."""
    out: set[tuple[str, str]] = set()
    svc = model.service("kube-system", "kube-dns") or model.service("kube-system", "coredns")
    if svc is not None:
        for ep in model.ready_endpoints(svc):
            for ip in ep.addresses:
                for p in model.pods_by_ip.get(ip, ()):
                    if not p.host_network:
                        out.add(p.key)
    return out


def service_endpoints(
    model: ClusterModel, svc: Service, port_name: str | None, protocol: str
) -> list[tuple[str, int, str | None]]:
    """Ready endpoints ``(ip, port, node)`` of one Service port, from its EndpointSlices
    as kube-proxy reads them (ready, or readiness unknown)."""
    out: list[tuple[str, int, str | None]] = []
    seen: set[tuple[str, int]] = set()
    for sl in model.slices_for(svc):
        if sl.address_type != "IPv4":
            continue
        ports = [
            p.port
            for p in sl.ports
            if (p.name or None) == (port_name or None) and p.protocol == protocol and p.port
        ]
        for ep in sl.endpoints:
            if not ep.is_ready:
                continue
            for ip in ep.addresses:
                for port in ports:
                    if port is not None and (ip, port) not in seen:
                        seen.add((ip, port))
                        out.append((ip, port, ep.node_name))
    return out


def _listen_ports(model: ClusterModel, pod: Pod) -> tuple[tuple[str, int], ...]:
    """What the pod's applications listen on: declared containerPorts plus each
    numeric targetPort of a Service selecting the pod (apps listen on ports they do
    not declare; the Service is the evidence)."""
    if pod.phase != "Running":
        return ()
    ports: set[tuple[str, int]] = set()
    for cp in pod.spec.all_ports():
        if cp.protocol in ("TCP", "UDP") and 0 < cp.container_port < 65536:
            ports.add((cp.protocol, cp.container_port))
    for svc in model.services:
        if svc.namespace != pod.namespace or not svc.selector:
            continue
        if any(pod.labels.get(k) != v for k, v in svc.selector.items()):
            continue
        for sp in svc.ports:
            tp = sp.effective_target_port
            if isinstance(tp, int) and sp.protocol in ("TCP", "UDP") and 0 < tp < 65536:
                ports.add((sp.protocol, tp))
    return tuple(sorted(ports))


def resolv_conf_text(model: ClusterModel, pod: Pod) -> str:
    """The pod's /etc/resolv.conf as the kubelet writes it (dnsPolicy, dnsConfig)."""
    cfg = resolver_config(model, pod)
    lines = []
    if cfg.search:
        lines.append("search " + " ".join(cfg.search))
    for ns in cfg.nameservers:
        if _ipv4(ns) is not None:
            lines.append(f"nameserver {ns}")
    opts = []
    for k, v in cfg.options:
        opts.append(k if v is None or v == "" else f"{k}:{v}")
    if opts:
        lines.append("options " + " ".join(opts))
    return "\n".join(lines) + "\n"


def dns_records(model: ClusterModel, pods: list[Pod], domain: str | None = None) -> list[DnsRecord]:
    """The records CoreDNS's kubernetes plugin would serve for the model (under the
    model's cluster domain unless ``domain`` is given)."""
    domain = cluster_domain(model, domain)
    out: list[DnsRecord] = []
    for svc in model.services:
        fqdn = f"{svc.name}.{svc.namespace}.svc.{domain}"
        if svc.type == "ExternalName" and svc.external_name:
            out.append(DnsRecord(name=fqdn, kind="CNAME", value=svc.external_name.rstrip(".")))
        elif svc.headless:
            ips = sorted({ep_ip for ep in model.ready_endpoints(svc) for ep_ip in ep.addresses})
            for ip in ips:
                if _ipv4(ip) is not None:
                    out.append(DnsRecord(name=fqdn, kind="A", value=ip))
        elif _ipv4(svc.cluster_ip) is not None:
            assert svc.cluster_ip is not None
            out.append(DnsRecord(name=fqdn, kind="A", value=svc.cluster_ip))
    for p in pods:
        if p.ip and _ipv4(p.ip) is not None:
            dashed = p.ip.replace(".", "-")
            out.append(DnsRecord(name=f"{dashed}.{p.namespace}.pod.{domain}", kind="A", value=p.ip))
            if p.spec.subdomain:
                host = p.spec.hostname or p.name
                out.append(
                    DnsRecord(
                        name=f"{host}.{p.spec.subdomain}.{p.namespace}.svc.{domain}",
                        kind="A",
                        value=p.ip,
                    )
                )
    return out


# --------------------------------------------------------------------------- the plan


def make_plan(model: ClusterModel, lab: str, *, max_pods: int = DEFAULT_MAX_PODS) -> LabPlan:
    names.check_lab_name(lab)
    skipped: list[Skipped] = []
    notes: list[str] = []

    # ---- nodes: addresses and podCIDRs
    node_list = sorted(model.nodes.values(), key=lambda n: n.name)
    node_ips: dict[str, ipaddress.IPv4Address] = {}
    used_ips: set[ipaddress.IPv4Address] = set()
    for n in node_list:
        ip = _ipv4(n.internal_ip)
        if ip is not None and ip not in used_ips:
            node_ips[n.name] = ip
            used_ips.add(ip)
    spare = (ipaddress.IPv4Address("192.168.255.10") + i for i in range(10_000))
    for n in node_list:
        if n.name not in node_ips:
            ip = next(a for a in spare if a not in used_ips)
            node_ips[n.name] = ip
            used_ips.add(ip)
            notes.append(f"node {n.name} has no IPv4 InternalIP; the lab gives it {ip}")
    pods_by_node: dict[str, list[Pod]] = {}
    for p in model.pods:
        if p.node_name:
            pods_by_node.setdefault(p.node_name, []).append(p)
    cidrs: dict[str, ipaddress.IPv4Network] = {}
    for n in node_list:
        net = next((c for c in (_net4(x) for x in n.pod_cidrs) if c is not None), None)
        if net is None:
            first = next(
                (
                    _ipv4(p.ip)
                    for p in pods_by_node.get(n.name, [])
                    if not p.host_network and _ipv4(p.ip)
                ),
                None,
            )
            if first is not None:
                net = ipaddress.IPv4Network(f"{first}/24", strict=False)
                notes.append(f"node {n.name} has no podCIDR; the lab uses {net} around its pods")
        if net is None:
            skipped.append(Skipped(what=f"Node/{n.name}", reason="no podCIDR and no pod IPs"))
            continue
        if any(net.overlaps(o) for o in cidrs.values()):
            skipped.append(
                Skipped(what=f"Node/{n.name}", reason=f"podCIDR {net} overlaps another node's")
            )
            continue
        cidrs[n.name] = net
    built_nodes = [n for n in node_list if n.name in cidrs]
    wan = _covering([node_ips[n.name] for n in built_nodes] or [next(spare)], 24)
    cluster_cidr = str(_covering_nets(list(cidrs.values()))) if cidrs else "10.244.0.0/16"

    # ---- MTUs the model implies
    mtus = {m.node: m for m in node_mtus(model)}
    cni = primary_cni(model)
    # ---- pods, capped per node
    dns_keys = _dns_pods(model)
    model_pod_ips = {p.ip for p in model.pods if p.ip and not p.host_network}
    pod_plans: list[PodPlan] = []
    node_plans: list[NodePlan] = []
    built_pods: list[Pod] = []
    for idx, n in enumerate(built_nodes):
        net = cidrs[n.name]
        used = {ip for ip in model_pod_ips if ip is not None}
        gateway = _free_host(net, used)
        vtep = str(net.network_address)
        if vtep in used or gateway is None:
            skipped.append(
                Skipped(what=f"Node/{n.name}", reason=f"podCIDR {net} has no free gateway")
            )
            continue
        m = mtus.get(n.name)
        model_underlay = m.underlay_mtu if m is not None else DEFAULT_UNDERLAY_MTU
        encap = (m.encapsulation if m is not None else None) or (cni.encapsulation if cni else None)
        # The model's overlay over the model's underlay (IPv6 adds 20 bytes: facts.overlay_mtu).
        model_overhead = (
            overhead(encap, m.ipv6 if m is not None else False)
            if encap in OVERHEAD
            else VXLAN_OVERHEAD
        )
        if m is not None and m.pod_mtu is not None:
            pod_mtu = m.pod_mtu
        elif cni is not None and cni.configured_mtu and not cni.mtu_is_underlay:
            pod_mtu = cni.configured_mtu
        else:
            pod_mtu = model_underlay - model_overhead
        lab_underlay = model_underlay - model_overhead + VXLAN_OVERHEAD
        if lab_underlay != model_underlay:
            notes.append(
                f"node {n.name}: the model's overlay is {encap or 'unknown'} "
                f"({model_overhead} bytes over MTU {model_underlay}); the lab carries it over "
                f"VXLAN with an underlay MTU of {lab_underlay}, keeping the pod MTU {pod_mtu}"
            )
        np_ = NodePlan(
            name=n.name,
            netns=names.node_netns(lab, n.name),
            index=idx,
            ip=str(node_ips[n.name]),
            prefixlen=wan.prefixlen,
            pod_cidr=str(net),
            gateway=gateway,
            vtep=vtep,
            vtep_mac=f"0e:5e:{(idx >> 8) & 0xFF:02x}:{idx & 0xFF:02x}:00:01",
            underlay_mtu=lab_underlay,
            vxlan_mtu=lab_underlay - VXLAN_OVERHEAD,
            pod_mtu=pod_mtu,
            wan_port=f"n{idx}",
        )
        node_plans.append(np_)
        candidates: list[Pod] = []
        for p in pods_by_node.get(n.name, []):
            what = f"Pod/{p.namespace}/{p.name}"
            if p.host_network:
                skipped.append(Skipped(what=what, reason="hostNetwork: shares the node's network"))
            elif not p.ip or _ipv4(p.ip) is None:
                skipped.append(Skipped(what=what, reason="no IPv4 pod IP"))
            elif p.phase in ("Succeeded", "Failed"):
                skipped.append(Skipped(what=what, reason=f"phase {p.phase}"))
            elif ipaddress.IPv4Address(p.ip) not in net or p.ip in (gateway, vtep):
                skipped.append(Skipped(what=what, reason=f"IP {p.ip} outside node podCIDR {net}"))
            else:
                candidates.append(p)
        candidates.sort(key=lambda p: (p.key not in dns_keys, p.namespace, p.name))
        seen_ips: set[str] = set()
        for p in candidates:
            what = f"Pod/{p.namespace}/{p.name}"
            assert p.ip is not None
            if p.ip in seen_ips:
                skipped.append(Skipped(what=what, reason=f"IP {p.ip} used by another pod"))
                continue
            if len([x for x in pod_plans if x.node == n.name]) >= max_pods:
                skipped.append(Skipped(what=what, reason=f"over --max-pods {max_pods} on {n.name}"))
                continue
            seen_ips.add(p.ip)
            dns_server = p.key in dns_keys
            listen = tuple(x for x in _listen_ports(model, p) if not (dns_server and x[1] == 53))
            pod_plans.append(
                PodPlan(
                    namespace=p.namespace,
                    name=p.name,
                    netns=names.pod_netns(lab, p.namespace, p.name),
                    node=n.name,
                    ip=p.ip,
                    prefixlen=net.prefixlen,
                    gateway=gateway,
                    mtu=pod_mtu,
                    host_veth=names.host_veth(p.namespace, p.name),
                    listen=listen,
                    dns_server=dns_server and p.phase == "Running",
                    resolv_conf=resolv_conf_text(model, p),
                    ready=p.ready,
                )
            )
            built_pods.append(p)
    for p in model.pods:
        if p.node_name and p.node_name not in cidrs and not p.host_network:
            skipped.append(
                Skipped(what=f"Pod/{p.namespace}/{p.name}", reason="its node is not built")
            )
        elif not p.node_name and not p.host_network:
            skipped.append(Skipped(what=f"Pod/{p.namespace}/{p.name}", reason="not scheduled"))
    if model.custom_of_kind("AdminNetworkPolicy", "BaselineAdminNetworkPolicy"):
        notes.append(
            "AdminNetworkPolicy/BaselineAdminNetworkPolicy are not enforced by the lab "
            "(only networking.k8s.io NetworkPolicy is)"
        )
    if model.custom_of_kind(
        "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy",
        "NetworkPolicy",
        "GlobalNetworkPolicy",
    ):
        notes.append("CNI-specific policies (Cilium, Calico) are not enforced by the lab")
    if any(s.type in ("NodePort", "LoadBalancer") for s in model.services):
        notes.append("NodePort and LoadBalancer paths are not built (ClusterIPs are)")
    if model.ingresses or model.gateways:
        notes.append("Ingress and Gateway controllers are not built")
    return LabPlan(
        lab=lab,
        wan_netns=names.wan_netns(lab),
        wan_prefixlen=wan.prefixlen,
        wan_gateway=_free_host(wan, {str(a) for a in used_ips}) or str(wan.network_address + 1),
        nodes=tuple(node_plans),
        pods=tuple(pod_plans),
        cluster_cidr=cluster_cidr,
        dns_records=tuple(dns_records(model, built_pods)),
        skipped=tuple(skipped),
        notes=tuple(notes),
        cluster_domain=cluster_domain(model),
    )

"""Which CNI a cluster runs, how it encapsulates, and the pod MTU it configures.

Detection reads only the frozen model, strongest evidence first:

1. the CNI agent DaemonSet by its well-known name (``aws-node``,
   ``cilium``, ``calico-node``, ``kube-flannel-ds``, ``weave-net``,
   ``canal``, ``antrea-agent``, kind's ``kindnet``), in any namespace (flannel moved from
   ``kube-system`` to ``kube-flannel`` in v0.20);
2. agent pods by the labels those DaemonSets put on them (when the
   DaemonSet itself was not collected);
3. the CNI's ConfigMap (``cilium-config``, ``calico-config``,
   ``kube-flannel-cfg``, ``canal-config``);
4. node artifacts: CNI conflist plugin types and tunnel devices in
   ``ip -d link`` (``flannel.1``, ``cilium_vxlan``, ``vxlan.calico``,
   ``tunl0``).

Encapsulation, as each project documents its defaults:

- flannel: ``net-conf.json`` ``Backend.Type`` (default ``vxlan``;
  ``host-gw`` is native routing) —
  https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md
- cilium: ``cilium-config`` ``routing-mode`` / ``tunnel-protocol`` (1.14+)
  or the older ``tunnel`` key; default is VXLAN tunnelling;
  ``enable-wireguard`` adds WireGuard —
  https://docs.cilium.io/en/stable/network/concepts/routing/
- calico: the ``tunl0`` (IP-in-IP) / ``vxlan.calico`` / ``wireguard.cali``
  devices, else calico-node env ``CALICO_IPV4POOL_IPIP`` /
  ``CALICO_IPV4POOL_VXLAN`` (the manifest default is IP-in-IP ``Always``) —
  https://docs.tigera.io/calico/latest/networking/configuring/vxlan-ipip
- aws-node (VPC CNI): pods get VPC addresses, no encapsulation.

``inventory`` needs the same answers; this module depends on ``model`` only
so it can move below ``checks`` if the layering asks for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import Pod, Workload

# DaemonSet name -> CNI name.
CNI_DAEMONSETS: dict[str, str] = {
    "aws-node": "aws-vpc-cni",
    "cilium": "cilium",
    "calico-node": "calico",
    "kube-flannel-ds": "flannel",
    "kube-flannel-ds-amd64": "flannel",
    "weave-net": "weave",
    "canal": "canal",
    "antrea-agent": "antrea",
    "kindnet": "kindnet",
}

# (label key, value) on agent pods -> CNI name.
CNI_POD_LABELS: tuple[tuple[str, str, str], ...] = (
    ("k8s-app", "aws-node", "aws-vpc-cni"),
    ("k8s-app", "cilium", "cilium"),
    ("k8s-app", "calico-node", "calico"),
    ("app", "flannel", "flannel"),
    ("name", "weave-net", "weave"),
    ("k8s-app", "canal", "canal"),
    ("component", "antrea-agent", "antrea"),
    ("app", "kindnet", "kindnet"),
)

CNI_CONFIGMAPS: dict[str, str] = {
    "cilium-config": "cilium",
    "calico-config": "calico",
    "kube-flannel-cfg": "flannel",
    "canal-config": "canal",
}

# CNI plugin "type" in a conflist -> CNI name.
CNI_PLUGIN_TYPES: dict[str, str] = {
    "aws-cni": "aws-vpc-cni",
    "cilium-cni": "cilium",
    "calico": "calico",
    "flannel": "flannel",
    "weave-net": "weave",
    "antrea": "antrea",
}

# Tunnel device name -> (CNI, encapsulation).
TUNNEL_DEVICES: dict[str, tuple[str, str]] = {
    "flannel.1": ("flannel", "vxlan"),
    "flannel-wg": ("flannel", "wireguard"),
    "cilium_vxlan": ("cilium", "vxlan"),
    "cilium_geneve": ("cilium", "geneve"),
    "cilium_wg0": ("cilium", "wireguard"),
    "vxlan.calico": ("calico", "vxlan"),
    "tunl0": ("calico", "ipip"),
    "wireguard.cali": ("calico", "wireguard"),
    "weave": ("weave", "vxlan"),
    "antrea-gw0": ("antrea", "geneve"),
}

# Device kinds from `ip -d link` that are tunnels.
TUNNEL_KINDS = ("vxlan", "geneve", "ipip", "wireguard")


@dataclass(frozen=True, slots=True, kw_only=True)
class CniInfo:
    """One detected CNI.

    ``encapsulation`` is ``vxlan``, ``geneve``, ``ipip``, ``wireguard``,
    ``none`` (native routing) or ``None`` when the input does not say.
    ``configured_mtu`` is the MTU the CNI's cluster config sets (``None``
    when unset or auto-detected): the pod MTU for Calico ``veth_mtu`` and
    flannel, but the *underlay* MTU for Cilium, whose ``mtu`` is "the
    underlying network MTU" from which it subtracts the tunnel overhead
    itself (``mtu_is_underlay``). ``mtu_source`` names where it
    was read (``ConfigMap/kube-system/cilium-config data.mtu``).
    """

    name: str
    evidence: str
    daemonset: Workload | None = None
    encapsulation: str | None = None
    encapsulation_source: str | None = None
    configured_mtu: int | None = None
    mtu_source: str | None = None
    mtu_is_underlay: bool = False
    version: str | None = None


def image_tag(image: str) -> str | None:
    """The tag of an image reference (``quay.io/cilium/cilium:v1.15.3@sha256:…`` -> ``v1.15.3``)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return last.rsplit(":", 1)[1] or None


def cni_daemonsets(model: ClusterModel) -> list[tuple[str, Workload]]:
    """``(cni name, DaemonSet)`` for every CNI agent DaemonSet in the input."""
    return [
        (CNI_DAEMONSETS[w.name], w)
        for w in model.workloads
        if w.kind == "DaemonSet" and w.name in CNI_DAEMONSETS
    ]


def agent_image_tags(model: ClusterModel, cni: str, ds: Workload) -> dict[str, list[str]]:
    """Image tag of the agent container (the template's first) -> nodes running it, over
    the running pods of the DaemonSet ``ds``."""
    if ds.template is None or not ds.template.spec.containers:
        return {}
    main = ds.template.spec.containers[0]
    out: dict[str, list[str]] = {}
    for p in cni_agent_pods(model, cni):
        if model.owner(p).name != ds.name:
            continue
        c = next((c for c in p.spec.containers if c.name == main.name), None)
        tag = image_tag(c.image) if c else None
        if tag:
            out.setdefault(tag, []).append(p.node_name or p.name)
    return out


def cni_agent_pods(model: ClusterModel, cni: str) -> list[Pod]:
    """Agent pods of ``cni``: pods owned by its DaemonSet, or carrying its agent label."""
    out: list[Pod] = []
    names = {n for n, c in CNI_DAEMONSETS.items() if c == cni}
    labels = [(k, v) for k, v, c in CNI_POD_LABELS if c == cni]
    for p in model.pods:
        if p.meta.derived:
            continue
        owner = model.owner(p)
        if (owner.kind == "DaemonSet" and owner.name in names) or any(
            p.labels.get(k) == v for k, v in labels
        ):
            out.append(p)
    return out


def _int(value: object) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


def _env(w: Workload | None, name: str) -> str | None:
    if w is None or w.template is None:
        return None
    for c in (*w.template.spec.containers, *w.template.spec.init_containers):
        for k, v in c.env:
            if k == name:
                return v
    return None


def _flannel(model: ClusterModel, info: CniInfo) -> CniInfo:
    for ns in ("kube-flannel", "kube-system"):
        cm = model.config_map(ns, "kube-flannel-cfg")
        if cm is None or "net-conf.json" not in cm.data:
            continue
        src = f"ConfigMap/{ns}/kube-flannel-cfg data.net-conf.json"
        try:
            conf = json.loads(cm.data["net-conf.json"])
        except ValueError:
            return info
        backend = conf.get("Backend") if isinstance(conf, dict) else None
        btype = str(backend.get("Type", "vxlan")).lower() if isinstance(backend, dict) else "vxlan"
        encap = {
            "vxlan": "vxlan",
            "host-gw": "none",
            "wireguard": "wireguard",
            "ipip": "ipip",
            "udp": "udp",
        }.get(btype, btype)
        mtu = _int(conf.get("MTU", conf.get("mtu"))) if isinstance(conf, dict) else None
        return _replace(
            info,
            encapsulation=encap,
            encapsulation_source=f"{src} Backend.Type={btype}",
            configured_mtu=mtu,
            mtu_source=f"{src} MTU" if mtu else None,
        )
    return info


def _cilium(model: ClusterModel, info: CniInfo) -> CniInfo:
    for c in model.config_maps:
        if c.meta.name != "cilium-config":
            continue
        d = c.data
        src = f"ConfigMap/{c.meta.namespace}/cilium-config"
        encap: str
        if d.get("enable-wireguard", "").lower() == "true":
            encap, why = "wireguard", "enable-wireguard=true"
        elif (
            d.get("routing-mode", "").lower() == "native"
            or d.get("tunnel", "").lower() == "disabled"
        ):
            encap, why = "none", "native routing"
        elif d.get("tunnel-protocol", d.get("tunnel", "")).lower() == "geneve":
            encap, why = "geneve", "tunnel geneve"
        else:
            encap, why = "vxlan", "tunnel vxlan (the default)"
        mtu = _int(d.get("mtu"))
        return _replace(
            info,
            encapsulation=encap,
            encapsulation_source=f"{src} data ({why})",
            configured_mtu=mtu,
            mtu_source=f"{src} data.mtu" if mtu else None,
            mtu_is_underlay=True,
        )
    return info


def _calico(model: ClusterModel, info: CniInfo) -> CniInfo:
    for c in model.config_maps:
        if c.meta.name not in ("calico-config", "canal-config"):
            continue
        mtu = _int(c.data.get("veth_mtu"))
        if mtu:
            info = _replace(
                info,
                configured_mtu=mtu,
                mtu_source=f"ConfigMap/{c.meta.namespace}/{c.meta.name} data.veth_mtu",
            )
        break
    ds = info.daemonset
    vx = (_env(ds, "CALICO_IPV4POOL_VXLAN") or "").lower()
    ipip = (_env(ds, "CALICO_IPV4POOL_IPIP") or "").lower()
    src = f"DaemonSet/{ds.namespace}/{ds.name}" if ds else None
    if vx in ("always", "crosssubnet"):
        return _replace(
            info,
            encapsulation="vxlan",
            encapsulation_source=f"{src} env CALICO_IPV4POOL_VXLAN={vx}",
        )
    if ipip in ("always", "crosssubnet"):
        return _replace(
            info,
            encapsulation="ipip",
            encapsulation_source=f"{src} env CALICO_IPV4POOL_IPIP={ipip}",
        )
    if ipip == "never" and vx in ("never", ""):
        return _replace(
            info, encapsulation="none", encapsulation_source=f"{src} env CALICO_IPV4POOL_IPIP=never"
        )
    return info


def _replace(info: CniInfo, **changes: object) -> CniInfo:
    from dataclasses import replace

    return replace(info, **changes)  # type: ignore[arg-type]


def detect_cni(model: ClusterModel) -> list[CniInfo]:
    """Every CNI the input shows, strongest evidence first (chained CNIs give several).

    Computed once per model (it reads every pod's labels); a fresh list each call.
    """
    return list(model.memoised("facts.cni", lambda: tuple(_detect_cni(model))))


def _detect_cni(model: ClusterModel) -> list[CniInfo]:
    found: dict[str, CniInfo] = {}

    def add(name: str, evidence: str, ds: Workload | None = None) -> None:
        if name not in found:
            version = None
            if ds is not None and ds.template is not None:
                for c in ds.template.spec.containers:
                    version = image_tag(c.image)
                    if version:
                        break
            found[name] = CniInfo(name=name, evidence=evidence, daemonset=ds, version=version)

    for name, ds in cni_daemonsets(model):
        add(name, f"DaemonSet/{ds.namespace}/{ds.name}", ds)
    for p in model.pods:
        for k, v, name in CNI_POD_LABELS:
            if p.labels.get(k) == v:
                add(name, f"Pod/{p.namespace}/{p.name} label {k}={v}")
    for c in model.config_maps:
        if c.meta.name in CNI_CONFIGMAPS:
            add(CNI_CONFIGMAPS[c.meta.name], f"ConfigMap/{c.meta.namespace}/{c.meta.name}")
    for node, art in sorted(model.node_artifacts.items()):
        for conf in art.cni_configs or ():
            for t in conf.plugin_types:
                if t in CNI_PLUGIN_TYPES:
                    add(CNI_PLUGIN_TYPES[t], f"node {node} {conf.file} plugin {t}")
        for link in art.links or ():
            if link.name in TUNNEL_DEVICES:
                add(TUNNEL_DEVICES[link.name][0], f"node {node} device {link.name}")

    out: list[CniInfo] = []
    for info in found.values():
        if info.name == "flannel":
            info = _flannel(model, info)
        elif info.name == "cilium":
            info = _cilium(model, info)
        elif info.name in ("calico", "canal"):
            info = _calico(model, info)
            if info.name == "canal" and info.encapsulation is None:
                info = _flannel(model, info)
        elif info.name == "kindnet":
            # kind's CNI routes each node's podCIDR to that node (no tunnel device)
            # https://github.com/kubernetes-sigs/kind/tree/main/images/kindnetd
            info = _replace(
                info,
                encapsulation="none",
                encapsulation_source=f"{info.evidence}: kindnet routes pod CIDRs between nodes",
            )
        elif info.name == "aws-vpc-cni":
            info = _replace(
                info, encapsulation="none", encapsulation_source="VPC CNI routes pod IPs natively"
            )
        out.append(info)
    return out


def primary_cni(model: ClusterModel) -> CniInfo | None:
    """The CNI that wires pod interfaces: the first detected, preferring an overlay CNI
    over aws-node when both run (Cilium chained on the VPC CNI still leaves aws-node
    doing IPAM, but the overlay decides the MTU)."""
    infos = detect_cni(model)
    if not infos:
        return None
    for i in infos:
        if i.name != "aws-vpc-cni":
            return i
    return infos[0]


def node_tunnel_devices(links: Iterable[object]) -> list[tuple[str, str, int | None]]:
    """``(device, encapsulation, mtu)`` for tunnel devices among parsed links."""
    out: list[tuple[str, str, int | None]] = []
    for link in links:
        name = getattr(link, "name", "")
        kind = getattr(link, "kind", None)
        mtu = getattr(link, "mtu", None)
        if name in TUNNEL_DEVICES:
            out.append((name, TUNNEL_DEVICES[name][1], mtu))
        elif kind in TUNNEL_KINDS:
            out.append((name, str(kind), mtu))
    return out


def node_pod_cidr_ipam(model: ClusterModel) -> tuple[str, str] | None:
    """``(IPAM plugin, why)`` when pod IPs come from ``Node.spec.podCIDR`` here: the plugin is
    ``host-local`` (flannel, canal, kindnet, Calico ``usePodCidr``) or ``cilium-kubernetes``
    (Cilium ``ipam: kubernetes``); ``None`` when they do not (or it is unknown)."""
    for info in detect_cni(model):
        if info.name in ("flannel", "canal", "kindnet"):
            return (
                "host-local",
                f"{info.name} allocates pod IPs from the node podCIDR (host-local IPAM)",
            )
        if info.name == "cilium":
            for c in model.config_maps:
                if (
                    c.meta.name == "cilium-config"
                    and c.data.get("ipam", "").lower() == "kubernetes"
                ):
                    return (
                        "cilium-kubernetes",
                        "cilium-config ipam=kubernetes allocates from the node podCIDR",
                    )
        if info.name == "calico":
            for c in model.config_maps:
                if c.meta.name == "calico-config" and "usePodCidr" in c.data.get(
                    "cni_network_config", ""
                ):
                    return (
                        "host-local",
                        "calico-config cni_network_config uses host-local usePodCidr",
                    )
    for art in model.node_artifacts.values():
        for conf in art.cni_configs or ():
            if "usePodCidr" in json.dumps(conf.raw):
                return "host-local", f"{conf.file} uses host-local usePodCidr"
    return None


def uses_node_pod_cidr(model: ClusterModel) -> str | None:
    """Why pod IPs come from ``Node.spec.podCIDR`` here, or ``None`` when they do not (or it is unknown).

    flannel and canal allocate from the node podCIDR with host-local;
    Cilium does with ``ipam: kubernetes``; Calico only with host-local
    ``usePodCidr``. Calico's own IPAM, Cilium cluster-pool and the AWS VPC
    CNI ignore the node podCIDR, so a capacity check on it would be wrong.
    """
    found = node_pod_cidr_ipam(model)
    return found[1] if found is not None else None


# CNIs (as detect_cni names them) that do not implement NetworkPolicy on their own.
NON_ENFORCING = frozenset({"flannel"})
# Policy engines that may run beside them (canal = flannel + calico policy).
ENFORCING = frozenset(
    {"calico", "canal", "cilium", "antrea", "weave", "kube-router", "ovn-kubernetes"}
)


def unenforcing_cni(model: ClusterModel) -> CniInfo | None:
    """The CNI when it is one that does not enforce NetworkPolicy (plain Flannel) and no
    policy engine runs beside it; ``None`` when policies are (or may be) enforced.

    Only an agent DaemonSet counts as proof: Flannel seen in a ConfigMap or a node
    file alone is too weak to call every policy dead.
    https://kubernetes.io/docs/concepts/services-networking/network-policies/#prerequisites
    """
    infos = detect_cni(model)
    names = {i.name for i in infos}
    if not (names & NON_ENFORCING) or (names & ENFORCING):
        return None
    info = next(i for i in infos if i.name in NON_ENFORCING)
    return info if info.daemonset is not None else None

"""The scenario clusters (and the bundled demo) are what `kubectl get -A -o yaml`
would really print, and agree with themselves.

Plain PyYAML, no netsleuth code: these files are the ground truth the trace,
scan and policy tests are built on, so they are checked independently of them.

A scenario whose fault *is* an inconsistency (a stale kube-proxy rule, a stale
slice) declares it in ``scenario.yaml`` under ``intended_inconsistencies`` with
the invariant ID below (optionally ``ID:qualifier``, e.g.
``iptables-matches-slices:worker-1`` for one node); that check is then skipped
for it, and only for it.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
DEMO = ROOT / "src" / "netsleuth" / "data" / "demo"
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")

LAYERS = {
    "dns",
    "service",
    "endpoints",
    "target-port",
    "policy-egress",
    "policy-ingress",
    "node",
    "overlay",
    "mtu",
    "kube-proxy",
    "conntrack",
    "ingress",
    "loadbalancer",
    "mesh",
    "cni",
    "ipam",
}
INVARIANTS = {
    "objects-complete",
    "namespace-label",
    "nodes",
    "pod-status",
    "pod-ip-in-podcidr",
    "owner-refs",
    "workload-status",
    "clusterip-range",
    "slice-matches-pods",
    "kube-system",
    "secrets-no-data",
    "events-reference",
    "iptables-matches-slices",
    "node-artifacts",
    "spec",
}
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "IngressClass",
    "GatewayClass",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "PriorityClass",
    "GlobalNetworkPolicy",
    "CustomResourceDefinition",
}
CNI_DAEMONSETS = {"calico-node", "kube-flannel-ds", "cilium", "aws-node", "weave-net", "kindnet"}
CNI_CONFIGMAPS = {
    "calico-node": "calico-config",
    "kube-flannel-ds": "kube-flannel-cfg",
    "cilium": "cilium-config",
}

Obj = dict[str, Any]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _folders() -> list[Path]:
    out = (
        sorted(p for p in SCENARIOS.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
        if SCENARIOS.is_dir()
        else []
    )
    if DEMO.is_dir():
        out.append(DEMO)
    return out


FOLDERS = _folders()
IDS = [p.name if p != DEMO else "demo" for p in FOLDERS]


@functools.cache
def _load(folder: Path) -> tuple[list[Obj], dict[str, Any]]:
    objs: list[Obj] = []
    for f in sorted(folder.glob("*.yaml")):
        if f.name in ("scenario.yaml", "faults.yaml"):
            continue
        for doc in yaml.load_all(f.read_text(), Loader=_Loader):
            if doc is None:
                continue
            if doc.get("kind", "").endswith("List"):
                objs.extend(doc["items"] or [])
            else:
                objs.append(doc)
    spec_file = folder / "scenario.yaml"
    spec = yaml.load(spec_file.read_text(), Loader=_Loader) if spec_file.exists() else {}
    return objs, spec or {}


def _skip_if_intended(folder: Path, invariant: str, qualifier: str | None = None) -> None:
    _objs, spec = _load(folder)
    declared = set(spec.get("intended_inconsistencies") or [])
    if invariant in declared or (qualifier and f"{invariant}:{qualifier}" in declared):
        pytest.skip(f"{folder.name} declares {invariant} as its fault")


def _intended(folder: Path, invariant: str, qualifier: str) -> bool:
    declared = set(_load(folder)[1].get("intended_inconsistencies") or [])
    return invariant in declared or f"{invariant}:{qualifier}" in declared


def _kind(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") == kind]


def _ref(o: Obj) -> str:
    m = o["metadata"]
    return (
        f"{o['kind']}/{m['namespace']}/{m['name']}"
        if m.get("namespace")
        else f"{o['kind']}/{m['name']}"
    )


def _ready(p: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in p.get("status", {}).get("conditions") or []
    )


def _matches(labels: dict[str, str], sel: dict[str, str]) -> bool:
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())


def _node_ip(node: Obj) -> str:
    return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")


def _find_port(pod: Obj, sp: Obj) -> int | None:
    tp = sp.get("targetPort", sp["port"])
    if isinstance(tp, int):
        return tp
    for c in pod["spec"]["containers"]:
        for p in c.get("ports") or []:
            if p.get("name") == tp and p.get("protocol", "TCP") == sp.get("protocol", "TCP"):
                return int(p["containerPort"])
    return None


params = pytest.mark.parametrize("folder", FOLDERS, ids=IDS)


def test_there_are_scenarios() -> None:
    names = {p.name for p in FOLDERS}
    for required in ("healthy-same-node", "healthy-cross-node", "healthy-ingress", "label-drift"):
        assert required in names


@params
def test_objects_complete(folder: Path) -> None:
    _skip_if_intended(folder, "objects-complete")
    objs, _ = _load(folder)
    assert objs, "empty cluster"
    namespaces = {o["metadata"]["name"] for o in _kind(objs, "Namespace")}
    uids: set[str] = set()
    seen: set[str] = set()
    for o in objs:
        where = f"{o.get('kind')}/{o.get('metadata', {}).get('name')}"
        assert o.get("apiVersion") and o.get("kind"), where
        m = o["metadata"]
        for key in ("name", "uid", "creationTimestamp", "resourceVersion"):
            assert m.get(key) is not None, f"{where}: metadata.{key} missing"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["creationTimestamp"]), where
        assert m["uid"] not in uids, f"{where}: duplicate uid"
        uids.add(m["uid"])
        assert _ref(o) not in seen, f"duplicate object {_ref(o)}"
        seen.add(_ref(o))
        if o["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in m, f"{where} is cluster-scoped"
        else:
            assert m.get("namespace") in namespaces, (
                f"{where}: namespace {m.get('namespace')} has no Namespace object"
            )


@params
def test_namespace_labels(folder: Path) -> None:
    _skip_if_intended(folder, "namespace-label")
    objs, _ = _load(folder)
    names = set()
    for ns in _kind(objs, "Namespace"):
        name = ns["metadata"]["name"]
        names.add(name)
        assert ns["metadata"]["labels"]["kubernetes.io/metadata.name"] == name
        assert ns["status"]["phase"] == "Active"
    assert {"default", "kube-system"} <= names


@params
def test_nodes(folder: Path) -> None:
    _skip_if_intended(folder, "nodes")
    objs, _ = _load(folder)
    nodes = _kind(objs, "Node")
    assert 2 <= len(nodes) <= 3, f"{len(nodes)} nodes"
    cidrs = []
    ips = set()
    for n in nodes:
        name = n["metadata"]["name"]
        cidr = ipaddress.ip_network(n["spec"]["podCIDR"])
        assert n["spec"]["podCIDRs"] == [n["spec"]["podCIDR"]], name
        assert cidr.subnet_of(ipaddress.ip_network("10.244.0.0/16")), name
        cidrs.append(cidr)
        ip = _node_ip(n)
        assert ip not in ips
        ips.add(ip)
        info = n["status"]["nodeInfo"]
        for key in (
            "kubeletVersion",
            "kubeProxyVersion",
            "containerRuntimeVersion",
            "kernelVersion",
            "osImage",
        ):
            assert info.get(key), f"{name}: nodeInfo.{key}"
        assert int(n["status"]["allocatable"]["pods"]) > 0
        types = {c["type"] for c in n["status"]["conditions"]}
        assert {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"} <= types, name
        assert n["metadata"]["labels"]["kubernetes.io/hostname"] == name
    for i, a in enumerate(cidrs):
        for b in cidrs[i + 1 :]:
            assert not a.overlaps(b), f"podCIDRs {a} and {b} overlap"


@params
def test_pod_status(folder: Path) -> None:
    _skip_if_intended(folder, "pod-status")
    objs, _ = _load(folder)
    nodes = {n["metadata"]["name"]: n for n in _kind(objs, "Node")}
    for p in _kind(objs, "Pod"):
        ref = _ref(p)
        st = p["status"]
        assert st["phase"] in ("Pending", "Running", "Succeeded", "Failed"), ref
        cond = {c["type"]: c["status"] for c in st["conditions"]}
        assert {"Ready", "ContainersReady", "PodScheduled", "Initialized"} <= set(cond), ref
        node = p["spec"]["nodeName"]
        assert node in nodes, f"{ref}: node {node} missing"
        assert st["hostIP"] == _node_ip(nodes[node]), ref
        names = [c["name"] for c in p["spec"]["containers"]]
        statuses = {c["name"]: c for c in st["containerStatuses"]}
        assert set(names) == set(statuses), ref
        for name, cs in statuses.items():
            assert isinstance(cs["restartCount"], int), ref
            assert len(cs["state"]) == 1 and next(iter(cs["state"])) in (
                "running",
                "waiting",
                "terminated",
            ), ref
            if cs["ready"]:
                assert "running" in cs["state"], f"{ref}/{name}: ready but not running"
        all_ready = all(cs["ready"] for cs in statuses.values())
        assert (cond["ContainersReady"] == "True") == all_ready, ref
        if cond["Ready"] == "True":
            assert all_ready and st["phase"] == "Running", ref
        if st["phase"] == "Running":
            assert st.get("podIP") and st["podIPs"] == [{"ip": st["podIP"]}], ref
        if st["phase"] == "Pending":
            assert cond["Ready"] == "False", ref


@params
def test_pod_ips_inside_node_pod_cidr(folder: Path) -> None:
    _skip_if_intended(folder, "pod-ip-in-podcidr")
    objs, _ = _load(folder)
    nodes = {n["metadata"]["name"]: n for n in _kind(objs, "Node")}
    seen: dict[str, str] = {}
    for p in _kind(objs, "Pod"):
        ip = p["status"].get("podIP")
        if not ip:
            continue
        node = nodes[p["spec"]["nodeName"]]
        if p["spec"].get("hostNetwork"):
            assert ip == _node_ip(node), f"{_ref(p)}: hostNetwork pod IP must be the node IP"
            continue
        cidr = ipaddress.ip_network(node["spec"]["podCIDR"])
        addr = ipaddress.ip_address(ip)
        assert addr in cidr, f"{_ref(p)}: {ip} outside {cidr} of {node['metadata']['name']}"
        assert addr not in (cidr.network_address, cidr.broadcast_address), _ref(p)
        assert ip not in seen, f"{_ref(p)} and {seen[ip]} share {ip}"
        seen[ip] = _ref(p)


@params
def test_owner_references(folder: Path) -> None:
    _skip_if_intended(folder, "owner-refs")
    objs, _ = _load(folder)
    by_uid = {o["metadata"]["uid"]: o for o in objs}
    for o in objs:
        for ref in o["metadata"].get("ownerReferences") or []:
            owner = by_uid.get(ref["uid"])
            assert owner is not None, (
                f"{_ref(o)}: owner {ref['kind']}/{ref['name']} not in the cluster"
            )
            assert owner["kind"] == ref["kind"] and owner["metadata"]["name"] == ref["name"], _ref(
                o
            )
            assert owner["apiVersion"] == ref["apiVersion"], _ref(o)
            if owner["metadata"].get("namespace"):
                assert owner["metadata"]["namespace"] == o["metadata"].get("namespace"), _ref(o)
    for rs in _kind(objs, "ReplicaSet"):
        h = rs["metadata"]["labels"]["pod-template-hash"]
        owner = by_uid[rs["metadata"]["ownerReferences"][0]["uid"]]
        assert rs["metadata"]["name"] == f"{owner['metadata']['name']}-{h}"
        assert rs["spec"]["selector"]["matchLabels"]["pod-template-hash"] == h
        assert _matches(
            rs["spec"]["template"]["metadata"]["labels"], rs["spec"]["selector"]["matchLabels"]
        )
    for p in _kind(objs, "Pod"):
        refs = p["metadata"].get("ownerReferences") or []
        assert len(refs) == 1, f"{_ref(p)}: bare pods are not realistic here"
        owner = by_uid[refs[0]["uid"]]
        if owner["kind"] == "ReplicaSet":
            h = owner["metadata"]["labels"]["pod-template-hash"]
            assert p["metadata"]["labels"]["pod-template-hash"] == h, _ref(p)
            assert p["metadata"]["name"].startswith(owner["metadata"]["name"] + "-"), _ref(p)
            assert _matches(p["metadata"]["labels"], owner["spec"]["selector"]["matchLabels"]), (
                _ref(p)
            )
        elif owner["kind"] == "DaemonSet":
            assert _matches(p["metadata"]["labels"], owner["spec"]["selector"]["matchLabels"]), (
                _ref(p)
            )
        else:
            assert owner["kind"] == "Node" and p["metadata"]["namespace"] == "kube-system", _ref(p)
    for d in _kind(objs, "Deployment") + _kind(objs, "DaemonSet"):
        sel = d["spec"]["selector"]["matchLabels"]
        assert _matches(d["spec"]["template"]["metadata"]["labels"], sel), _ref(d)


@params
def test_workload_status_counts(folder: Path) -> None:
    _skip_if_intended(folder, "workload-status")
    objs, _ = _load(folder)
    pods_by_owner: dict[str, list[Obj]] = {}
    for p in _kind(objs, "Pod"):
        for r in p["metadata"].get("ownerReferences") or []:
            pods_by_owner.setdefault(r["uid"], []).append(p)
    rs_by_owner: dict[str, list[Obj]] = {}
    for rs in _kind(objs, "ReplicaSet"):
        rs_by_owner.setdefault(rs["metadata"]["ownerReferences"][0]["uid"], []).append(rs)
        pods = pods_by_owner.get(rs["metadata"]["uid"], [])
        assert rs["spec"]["replicas"] == len(pods) == rs["status"]["replicas"], _ref(rs)
        assert rs["status"].get("readyReplicas", 0) == sum(_ready(p) for p in pods), _ref(rs)
    for d in _kind(objs, "Deployment"):
        pods = [
            p
            for rs in rs_by_owner.get(d["metadata"]["uid"], [])
            for p in pods_by_owner.get(rs["metadata"]["uid"], [])
        ]
        assert d["spec"]["replicas"] == len(pods) == d["status"]["replicas"], _ref(d)
        assert d["status"].get("readyReplicas", 0) == sum(_ready(p) for p in pods), _ref(d)
    for ds in _kind(objs, "DaemonSet"):
        pods = pods_by_owner.get(ds["metadata"]["uid"], [])
        assert ds["status"]["desiredNumberScheduled"] == len(pods), _ref(ds)
        assert ds["status"]["numberReady"] == sum(_ready(p) for p in pods), _ref(ds)


@params
def test_cluster_ips(folder: Path) -> None:
    _skip_if_intended(folder, "clusterip-range")
    objs, _ = _load(folder)
    seen: set[str] = set()
    for s in _kind(objs, "Service"):
        ip = s["spec"].get("clusterIP")
        if s["spec"].get("type") == "ExternalName" or ip == "None":
            continue
        assert ipaddress.ip_address(ip) in SERVICE_CIDR, f"{_ref(s)}: {ip}"
        assert s["spec"]["clusterIPs"] == [ip], _ref(s)
        assert ip not in seen, f"{_ref(s)}: ClusterIP {ip} reused"
        seen.add(ip)
        for port in s["spec"]["ports"]:
            if s["spec"]["type"] in ("NodePort", "LoadBalancer"):
                assert 30000 <= port["nodePort"] <= 32767, _ref(s)
    assert "10.96.0.1" in seen and "10.96.0.10" in seen


def _slices_for(objs: list[Obj], svc: Obj) -> list[Obj]:
    return [
        e
        for e in _kind(objs, "EndpointSlice")
        if e["metadata"]["namespace"] == svc["metadata"]["namespace"]
        and e["metadata"].get("labels", {}).get("kubernetes.io/service-name")
        == svc["metadata"]["name"]
    ]


@params
def test_endpointslices_reflect_selected_pods(folder: Path) -> None:
    _skip_if_intended(folder, "slice-matches-pods")
    objs, _ = _load(folder)
    pods = _kind(objs, "Pod")
    for e in _kind(objs, "EndpointSlice"):
        assert e["apiVersion"] == "discovery.k8s.io/v1" and e["addressType"] == "IPv4", _ref(e)
        assert "kubernetes.io/service-name" in e["metadata"]["labels"], _ref(e)
    for svc in _kind(objs, "Service"):
        sel = svc["spec"].get("selector")
        slices = _slices_for(objs, svc)
        if not sel:
            continue
        assert len(slices) == 1, f"{_ref(svc)}: {len(slices)} slices"
        sl = slices[0]
        assert sl["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"], _ref(sl)
        selected = [
            p
            for p in pods
            if p["metadata"]["namespace"] == svc["metadata"]["namespace"]
            and _matches(p["metadata"].get("labels") or {}, sel)
            and p["status"].get("podIP")
            and p["status"]["phase"] not in ("Succeeded", "Failed")
        ]
        want = {p["status"]["podIP"]: p for p in selected}
        got = {ep["addresses"][0]: ep for ep in sl.get("endpoints") or []}
        assert set(got) == set(want), (
            f"{_ref(svc)}: slice {sorted(got)} vs selected pods {sorted(want)}"
        )
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        for ip, ep in got.items():
            p = want[ip]
            assert ep["conditions"]["ready"] == (_ready(p) or publish), f"{_ref(svc)} {ip}"
            assert ep["conditions"]["serving"] == _ready(p), f"{_ref(svc)} {ip}"
            assert ep["conditions"]["terminating"] is False
            assert ep["nodeName"] == p["spec"]["nodeName"], f"{_ref(svc)} {ip}"
            assert (
                ep["targetRef"]["uid"] == p["metadata"]["uid"]
                and ep["targetRef"]["name"] == p["metadata"]["name"]
            )
        if selected:
            expected_ports = []
            for sp in svc["spec"]["ports"]:
                num = _find_port(selected[0], sp)
                if num is not None:
                    expected_ports.append((sp.get("name", ""), num, sp.get("protocol", "TCP")))
            got_ports = [(q["name"], q["port"], q["protocol"]) for q in sl.get("ports") or []]
            assert sorted(got_ports) == sorted(expected_ports), _ref(svc)
        else:
            assert sl.get("endpoints") is None and sl.get("ports") is None, _ref(svc)


@params
def test_kube_system_components(folder: Path) -> None:
    _skip_if_intended(folder, "kube-system")
    objs, _ = _load(folder)

    def get(kind: str, ns: str, name: str) -> Obj:
        for o in _kind(objs, kind):
            if o["metadata"]["name"] == name and o["metadata"].get("namespace") == ns:
                return o
        raise AssertionError(f"{kind}/{ns}/{name} missing")

    dns = get("Service", "kube-system", "kube-dns")
    assert dns["spec"]["clusterIP"] == "10.96.0.10"
    ports = {(p["name"], p["port"], p["protocol"]) for p in dns["spec"]["ports"]}
    assert ports == {("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP")}
    assert dns["spec"]["selector"] == {"k8s-app": "kube-dns"}
    assert _slices_for(objs, dns)
    coredns = get("Deployment", "kube-system", "coredns")
    assert coredns["spec"]["template"]["metadata"]["labels"]["k8s-app"] == "kube-dns"
    corefile = get("ConfigMap", "kube-system", "coredns")["data"]["Corefile"]
    assert "kubernetes cluster.local in-addr.arpa ip6.arpa" in corefile and "forward ." in corefile
    assert corefile.count("{") == corefile.count("}")
    get("DaemonSet", "kube-system", "kube-proxy")
    conf = get("ConfigMap", "kube-system", "kube-proxy")["data"]["config.conf"]
    assert re.search(r'^mode: "?(iptables|ipvs|nftables)"?$', conf, re.MULTILINE)
    cni = [d for d in _kind(objs, "DaemonSet") if d["metadata"]["name"] in CNI_DAEMONSETS]
    assert len(cni) == 1, [d["metadata"]["name"] for d in cni]
    ds = cni[0]
    # kindnet (kind's CNI) has no ConfigMap: its settings are the DaemonSet's env vars
    cm_name = CNI_CONFIGMAPS.get(ds["metadata"]["name"])
    cm = get("ConfigMap", ds["metadata"]["namespace"], cm_name) if cm_name else {"metadata": {}}
    if cm["metadata"].get("name") == "calico-config":
        assert int(cm["data"]["veth_mtu"]) > 0
        json.loads(cm["data"]["cni_network_config"].replace("__CNI_MTU__", "1440"))
    if cm["metadata"].get("name") == "kube-flannel-cfg":
        assert json.loads(cm["data"]["net-conf.json"])["Backend"]["Type"] == "vxlan"
        json.loads(cm["data"]["cni-conf.json"])
    nodes = {n["metadata"]["name"] for n in _kind(objs, "Node")}
    for name in ("kube-proxy", ds["metadata"]["name"]):
        d = get(
            "DaemonSet",
            ds["metadata"]["namespace"] if name != "kube-proxy" else "kube-system",
            name,
        )
        on = {
            p["spec"]["nodeName"]
            for p in _kind(objs, "Pod")
            if any(
                r["uid"] == d["metadata"]["uid"] for r in p["metadata"].get("ownerReferences") or []
            )
        }
        assert on == nodes, f"{name} runs on {sorted(on)}, nodes are {sorted(nodes)}"


@params
def test_secrets_carry_no_data(folder: Path) -> None:
    objs, _ = _load(folder)
    for s in _kind(objs, "Secret"):
        assert set(s) == {"apiVersion", "kind", "metadata", "type"}, _ref(s)


@params
def test_events_reference_existing_objects(folder: Path) -> None:
    _skip_if_intended(folder, "events-reference")
    objs, _ = _load(folder)
    by_uid = {o["metadata"]["uid"]: o for o in objs}
    for e in _kind(objs, "Event"):
        inv = e["involvedObject"]
        target = by_uid.get(inv["uid"])
        assert target is not None, f"{_ref(e)} refers to a missing {inv['kind']}/{inv['name']}"
        assert target["kind"] == inv["kind"] and target["metadata"]["name"] == inv["name"]
        assert e["type"] in ("Normal", "Warning") and e["reason"] and e["message"]
        assert e["count"] >= 1 and e["firstTimestamp"] <= e["lastTimestamp"]


# ---------------------------------------------------------------------- node artifacts
def _node_dirs(folder: Path) -> list[Path]:
    d = folder / "nodes"
    return sorted(p for p in d.iterdir() if p.is_dir()) if d.is_dir() else []


def _iptables_backends(text: str) -> dict[tuple[str, int, str], set[str]]:
    """(clusterIP, port, proto) -> {"ip:port"} of the KUBE-SEP DNAT targets."""
    svc_of: dict[tuple[str, int, str], str] = {}
    jumps: dict[str, list[str]] = {}
    dnat: dict[str, str] = {}
    table = ""
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:]
            continue
        if table != "nat" or not line.startswith("-A "):
            continue
        chain = line.split()[1]
        m = re.search(r"-j (KUBE-(?:SVC|SVL|SEP)-[A-Z2-7]{16})$", line)
        if chain == "KUBE-SERVICES" and m:
            ip = re.search(r"-d (\S+)/32", line)
            dport = re.search(r"--dport (\d+)", line)
            proto = re.search(r"-p (\w+)", line)
            if ip and dport and proto and "cluster IP" in line:
                svc_of[(ip.group(1), int(dport.group(1)), proto.group(1))] = m.group(1)
        elif chain.startswith(("KUBE-SVC-", "KUBE-SVL-")) and m:
            jumps.setdefault(chain, []).append(m.group(1))
        elif chain.startswith("KUBE-SEP-"):
            d = re.search(r"--to-destination (\S+)", line)
            if d:
                dnat[chain] = d.group(1)
    return {k: {dnat[s] for s in jumps.get(ch, [])} for k, ch in svc_of.items()}


@params
def test_iptables_rules_match_endpointslices(folder: Path) -> None:
    objs, _ = _load(folder)
    dirs = [d for d in _node_dirs(folder) if (d / "iptables-save.txt").exists()]
    if not dirs:
        pytest.skip("no iptables-save.txt in this scenario")
    services = [
        s for s in _kind(objs, "Service") if s["spec"].get("clusterIP") not in (None, "None")
    ]
    checked = 0
    for d in dirs:
        if _intended(folder, "iptables-matches-slices", d.name):
            continue
        text = (d / "iptables-save.txt").read_text()
        lines = text.splitlines()
        assert lines[0].startswith("# Generated by iptables-save v") and lines[-1].startswith(
            "# Completed on "
        ), d.name
        assert text.count("COMMIT") == text.count("\n*"), d.name
        backends = _iptables_backends(text)
        for svc in services:
            for sp in svc["spec"]["ports"]:
                key = (svc["spec"]["clusterIP"], sp["port"], sp.get("protocol", "TCP").lower())
                if svc["metadata"]["name"] == "kubernetes":
                    continue
                want: set[str] = set()
                for sl in _slices_for(objs, svc):
                    port = next(
                        (
                            q["port"]
                            for q in sl.get("ports") or []
                            if q["name"] == sp.get("name", "")
                            and q["protocol"] == sp.get("protocol", "TCP")
                        ),
                        None,
                    )
                    if port is None:
                        continue
                    for ep in sl.get("endpoints") or []:
                        local = (
                            svc["spec"].get("internalTrafficPolicy") != "Local"
                            or ep.get("nodeName") == d.name
                        )
                        if ep["conditions"]["ready"] and local:
                            want.add(f"{ep['addresses'][0]}:{port}")
                got = backends.get(key, set())
                assert got == want, (
                    f"{d.name}: {svc['metadata']['namespace']}/{svc['metadata']['name']}:{sp['port']} rules {sorted(got)} vs ready endpoints {sorted(want)}"
                )
                checked += 1
    if checked == 0 and not all(_intended(folder, "iptables-matches-slices", d.name) for d in dirs):
        pytest.fail("no Service rules checked")


@params
def test_node_artifacts_agree_with_the_cluster(folder: Path) -> None:
    _skip_if_intended(folder, "node-artifacts")
    dirs = _node_dirs(folder)
    if not dirs:
        pytest.skip("no node artifacts in this scenario")
    objs, _ = _load(folder)
    nodes = {n["metadata"]["name"]: n for n in _kind(objs, "Node")}
    for d in dirs:
        assert d.name in nodes, f"nodes/{d.name} is not a Node of the cluster"
        routes = (d / "ip-route.txt").read_text().splitlines()
        assert routes[0].startswith("default via "), d.name
        for other, n in nodes.items():
            if other != d.name:
                assert any(r.startswith(n["spec"]["podCIDR"] + " ") for r in routes), (
                    f"{d.name}: no route to {other}'s podCIDR"
                )
        links = (d / "ip-d-link.txt").read_text()
        assert re.search(r"^2: eth0: <[A-Z_,]+> mtu \d+ ", links, re.MULTILINE), d.name
        count = int((d / "nf_conntrack_count").read_text())
        mx = int((d / "nf_conntrack_max").read_text())
        assert 0 < count <= mx
        sysctl = dict(line.split(" = ", 1) for line in (d / "sysctl.txt").read_text().splitlines())
        assert int(sysctl["net.netfilter.nf_conntrack_max"]) == mx
        for line in (d / "conntrack-S.txt").read_text().splitlines():
            assert re.fullmatch(r"cpu=\d+\s+\t(\w+=\d+ )+", line), line
        for conf in (d / "cni").glob("*.conflist"):
            data = json.loads(conf.read_text())
            assert data["plugins"] and data["cniVersion"], conf
        resolv = (d / "resolv.conf").read_text()
        assert re.search(r"^nameserver \S+$", resolv, re.MULTILINE)


# ---------------------------------------------------------------------- scenario.yaml / README
@params
def test_scenario_spec(folder: Path) -> None:
    if folder == DEMO:
        pytest.skip("the demo has faults.yaml instead")
    objs, spec = _load(folder)
    assert spec, f"{folder.name}: scenario.yaml missing"
    assert set(spec) <= {
        "fault",
        "layer",
        "intended_inconsistencies",
        "trace",
        "expected",
        "scan",
        "dns",
    }, set(spec)
    assert spec["fault"] and (spec["layer"] in LAYERS or spec["layer"] == "none")
    for item in spec.get("intended_inconsistencies") or []:
        assert item.split(":")[0] in INVARIANTS, item
    exp = spec["expected"]
    assert exp["verdict"] in ("ok", "broken", "warning")
    if exp["verdict"] != "ok":
        assert exp["broken_layer"] in LAYERS
        assert exp.get("culprit"), "a failing scenario names its culprit"
    if exp.get("culprit"):
        refs = {_ref(o) for o in objs}
        assert exp["culprit"] in refs, f"culprit {exp['culprit']} is not an object of the cluster"
    t = spec.get("trace")
    if t:
        assert set(t) <= {"src", "dst", "port", "protocol"}
        assert t.get("protocol", "TCP") in ("TCP", "UDP", "SCTP")
        names = {
            f"{o['metadata'].get('namespace')}/{o['metadata']['name']}"
            for o in objs
            if o["kind"] in ("Deployment", "Service", "Pod", "StatefulSet", "DaemonSet")
        }
        for side in ("src", "dst"):
            v = str(t[side])
            if v != "external" and "://" not in v and v.count("/") == 1:
                assert v in names, f"trace {side} {v} names no workload or Service"
    readme = (folder / "README.md").read_text()
    for section in (
        "## Story",
        "## Fault",
        "## What an experienced SRE names as the cause",
        "## Trace query",
        "## Fix",
    ):
        assert section in readme, f"{folder.name}: README lacks {section}"


def test_demo_faults() -> None:
    if not DEMO.is_dir():
        pytest.skip("no demo cluster")
    objs, _ = _load(DEMO)
    faults = yaml.load((DEMO / "faults.yaml").read_text(), Loader=_Loader)
    refs = {_ref(o) for o in objs}
    assert len(faults) >= 8
    ids = set()
    for f in faults:
        assert set(f) >= {"id", "layer", "culprit", "expected_broken_layer"}, f
        assert f["id"] not in ids
        ids.add(f["id"])
        assert f["layer"] in LAYERS and f["expected_broken_layer"] in LAYERS, f
        assert f["culprit"] in refs, (
            f"demo fault {f['id']}: culprit {f['culprit']} not in the cluster"
        )
        assert f.get("expected_verdict", "broken") in ("broken", "warning"), f
    namespaces = _kind(objs, "Namespace")
    assert len(namespaces) >= 6 + 4 - 4  # default/kube-* plus the app namespaces
    assert 30 <= len(_kind(objs, "Pod")) <= 60
    readme = (DEMO / "README.md").read_text()
    for f in faults:
        assert f["id"] in readme, f"demo README does not describe {f['id']}"


# ---------------------------------------------------------------------- generated = committed
def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_tools" not in p.parts and "__pycache__" not in p.parts
    }


def _import_tool(name: str) -> Any:
    import importlib.util
    import sys

    tools = SCENARIOS / "_tools"
    if str(tools) not in sys.path:
        sys.path.insert(0, str(tools))
    spec = importlib.util.spec_from_file_location(f"_scenario_tools_{name}", tools / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scenarios_match_their_generator(tmp_path: Path) -> None:
    """The committed files are exactly what ``_tools/gen.py`` writes: nobody hand-edited
    one scenario into disagreeing with the others (edit the generator instead)."""
    gen = _import_tool("gen")
    gen.main([], out=tmp_path)
    want = _tree(tmp_path)
    have = {k: v for k, v in _tree(SCENARIOS).items()}
    assert sorted(want) == sorted(have)
    stale = [k for k in want if want[k] != have[k]]
    assert not stale, f"regenerate with tests/scenarios/_tools/gen.py: {stale[:5]}"


def test_demo_matches_its_generator(tmp_path: Path) -> None:
    if not DEMO.is_dir():
        pytest.skip("no demo cluster")
    demo = _import_tool("demo")
    demo.main(out=tmp_path / "demo")
    want = _tree(tmp_path / "demo")
    have = _tree(DEMO)
    assert sorted(want) == sorted(have)
    stale = [k for k in want if want[k] != have[k]]
    assert not stale, f"regenerate with tests/scenarios/_tools/demo.py: {stale[:5]}"

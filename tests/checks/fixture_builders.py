"""Builders for check fixtures: Kubernetes objects as ``kubectl get -o yaml`` prints them.

``tests/checks/make_fixtures.py`` uses these to (re)write the DNS, SVC and
POL fixture folders; the committed YAML is what the tests read, so a
reviewer reads plain manifests. Each builder fills the fields the API
server would (uid-less, but with status) so the fixtures look like a dump.
"""

from __future__ import annotations

import uuid
from typing import Any

Obj = dict[str, Any]


def uid(kind: str, namespace: str | None, name: str) -> str:
    """A stable UUID per object, so ownerReferences point at their owner's uid as in a dump."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"netsleuth-fixture/{kind}/{namespace or ''}/{name}"))


DEFAULT_KERNEL = "5.15.0-91-generic"


def meta(
    name: str, namespace: str | None = None, labels: dict[str, str] | None = None, **extra: Any
) -> Obj:
    m: Obj = {"name": name}
    if namespace is not None:
        m["namespace"] = namespace
    if labels:
        m["labels"] = dict(labels)
    m.update(extra)
    return m


def namespace(name: str, labels: dict[str, str] | None = None) -> Obj:
    lab = {"kubernetes.io/metadata.name": name}
    lab.update(labels or {})
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": meta(name, labels=lab),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def node(
    name: str, ip: str, pod_cidr: str, kernel: str = DEFAULT_KERNEL, ready: bool = True
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(
            name, labels={"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
        ),
        "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr]},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "capacity": {"pods": "110"},
            "allocatable": {"pods": "110"},
            "conditions": [
                {"type": "Ready", "status": "True" if ready else "False", "reason": "KubeletReady"}
            ],
            "nodeInfo": {
                "kernelVersion": kernel,
                "kubeletVersion": "v1.29.4",
                "kubeProxyVersion": "v1.29.4",
                "containerRuntimeVersion": "containerd://1.7.13",
                "osImage": "Ubuntu 22.04.4 LTS",
                "architecture": "amd64",
                "operatingSystem": "linux",
            },
        },
    }


def container(
    name: str,
    image: str,
    ports: list[Obj] | None = None,
    *,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    limits: dict[str, str] | None = None,
    requests: dict[str, str] | None = None,
    readiness: int | str | None = None,
    liveness: int | str | None = None,
) -> Obj:
    c: Obj = {"name": name, "image": image}
    for key, probe_port in (("readinessProbe", readiness), ("livenessProbe", liveness)):
        if probe_port is not None:
            c[key] = {
                "httpGet": {"path": "/healthz", "port": probe_port, "scheme": "HTTP"},
                "periodSeconds": 10,
                "timeoutSeconds": 1,
                "successThreshold": 1,
                "failureThreshold": 3,
            }
    if args:
        c["args"] = list(args)
    if env:
        c["env"] = [{"name": k, "value": v} for k, v in env.items()]
    if ports:
        c["ports"] = ports
    res: Obj = {}
    if limits:
        res["limits"] = limits
    if requests:
        res["requests"] = requests
    if res:
        c["resources"] = res
    return c


def port(number: int, name: str | None = None, protocol: str = "TCP") -> Obj:
    p: Obj = {"containerPort": number, "protocol": protocol}
    if name:
        p["name"] = name
    return p


def pod_spec(
    containers: list[Obj],
    *,
    node_name: str | None = None,
    dns_options: list[Obj] | None = None,
    host_network: bool = False,
) -> Obj:
    s: Obj = {
        "containers": containers,
        "dnsPolicy": "ClusterFirst",
        "restartPolicy": "Always",
        "serviceAccountName": "default",
    }
    if node_name:
        s["nodeName"] = node_name
    if host_network:
        s["hostNetwork"] = True
    if dns_options:
        s["dnsConfig"] = {"options": dns_options}
    return s


def pod(
    name: str,
    ns: str,
    labels: dict[str, str],
    containers: list[Obj],
    *,
    node_name: str,
    ip: str,
    host_ip: str = "10.0.0.11",
    ready: bool = True,
    restarts: int = 0,
    last_reason: str | None = None,
    waiting_reason: str | None = None,
    owner: tuple[str, str] | None = None,
    dns_options: list[Obj] | None = None,
) -> Obj:
    m = meta(name, ns, labels)
    if owner:
        m["ownerReferences"] = [
            {
                "apiVersion": "v1" if owner[0] == "Node" else "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": uid(owner[0], ns, owner[1]),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    statuses = []
    for c in containers:
        st: Obj = {
            "name": c["name"],
            "image": c["image"],
            "ready": ready,
            "restartCount": restarts,
            "started": ready,
        }
        if waiting_reason:
            st["state"] = {"waiting": {"reason": waiting_reason}}
        else:
            st["state"] = {"running": {"startedAt": "2026-11-20T10:00:00Z"}}
        if last_reason:
            st["lastState"] = {
                "terminated": {
                    "reason": last_reason,
                    "exitCode": 137 if last_reason == "OOMKilled" else 1,
                }
            }
        statuses.append(st)
    status = "True" if ready else "False"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": m,
        "spec": pod_spec(containers, node_name=node_name, dns_options=dns_options),
        "status": {
            "phase": "Running",
            "hostIP": host_ip,
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "qosClass": "Burstable",
            "conditions": [
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": status},
                {"type": "ContainersReady", "status": status},
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": statuses,
        },
    }


def deployment(
    name: str,
    ns: str,
    labels: dict[str, str],
    containers: list[Obj],
    *,
    replicas: int = 1,
    available: int | None = None,
    dns_options: list[Obj] | None = None,
) -> Obj:
    avail = replicas if available is None else available
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, ns, labels, uid=uid("Deployment", ns, name), generation=1),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": pod_spec(containers, dns_options=dns_options),
            },
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": avail,
            "availableReplicas": avail,
            "updatedReplicas": replicas,
            "observedGeneration": 1,
        },
    }


def daemonset(
    name: str,
    ns: str,
    labels: dict[str, str],
    containers: list[Obj],
    *,
    desired: int,
    ready: int | None = None,
) -> Obj:
    rdy = desired if ready is None else ready
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": meta(name, ns, labels, uid=uid("DaemonSet", ns, name), generation=1),
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec(containers)},
        },
        "status": {
            "desiredNumberScheduled": desired,
            "currentNumberScheduled": desired,
            "numberReady": rdy,
            "numberAvailable": rdy,
            "updatedNumberScheduled": desired,
            "numberMisscheduled": 0,
        },
    }


def service(
    name: str,
    ns: str,
    selector: dict[str, str] | None,
    ports: list[Obj],
    *,
    cluster_ip: str,
    type_: str = "ClusterIP",
    **spec_extra: Any,
) -> Obj:
    spec: Obj = {
        "type": type_,
        "clusterIP": cluster_ip,
        "clusterIPs": [cluster_ip],
        "ports": ports,
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "internalTrafficPolicy": "Cluster",
    }
    if selector is not None:
        spec["selector"] = selector
    spec.update(spec_extra)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, ns),
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def svc_port(
    port_: int, target: int | str | None = None, name: str | None = None, protocol: str = "TCP"
) -> Obj:
    p: Obj = {
        "port": port_,
        "protocol": protocol,
        "targetPort": port_ if target is None else target,
    }
    if name:
        p["name"] = name
    return p


def endpoint_slice(
    svc_name: str, ns: str, endpoints: list[tuple[str, str, str, bool]], ports: list[Obj]
) -> Obj:
    """``endpoints``: (ip, pod name, node name, ready)."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "addressType": "IPv4",
        "metadata": meta(
            f"{svc_name}-abcde",
            ns,
            {
                "kubernetes.io/service-name": svc_name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        ),
        "endpoints": [
            {
                "addresses": [ip],
                "conditions": {"ready": r, "serving": r, "terminating": False},
                "nodeName": n,
                "targetRef": {"kind": "Pod", "name": p, "namespace": ns},
            }
            for ip, p, n, r in endpoints
        ],
        "ports": ports,
    }


def config_map(name: str, ns: str, data: dict[str, str]) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name, ns), "data": data}


def network_policy(
    name: str,
    ns: str,
    pod_selector: Obj,
    *,
    ingress: list[Obj] | None = None,
    egress: list[Obj] | None = None,
    policy_types: list[str] | None = None,
) -> Obj:
    spec: Obj = {"podSelector": pod_selector}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    if policy_types is not None:
        spec["policyTypes"] = policy_types
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(name, ns),
        "spec": spec,
    }


def event(
    pod_obj: Obj, reason: str, message: str, *, count: int = 1, type_: str = "Warning"
) -> Obj:
    """An Event about a pod, as ``kubectl get events -A -o yaml`` lists it."""
    m = pod_obj["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta(f"{m['name']}.17f3a9c2d4e5b6a1", m["namespace"]),
        "involvedObject": {
            "apiVersion": "v1",
            "kind": "Pod",
            "name": m["name"],
            "namespace": m["namespace"],
        },
        "reason": reason,
        "message": message,
        "type": type_,
        "count": count,
        "firstTimestamp": "2026-11-22T09:32:40Z",
        "lastTimestamp": "2026-11-22T10:40:10Z",
        "source": {"component": "kubelet", "host": pod_obj["spec"].get("nodeName", "")},
    }


def replica_set(dep: Obj, pod_template_hash: str) -> Obj:
    """The ReplicaSet the Deployment controller made for ``dep``'s current template
    (``<deployment>-<pod-template-hash>``, owned by the Deployment)."""
    m = dep["metadata"]
    name = f"{m['name']}-{pod_template_hash}"
    labels = {
        **dep["spec"]["template"]["metadata"]["labels"],
        "pod-template-hash": pod_template_hash,
    }
    replicas = dep["spec"]["replicas"]
    ready = dep["status"].get("readyReplicas", replicas)
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta(
            name,
            m["namespace"],
            labels,
            uid=uid("ReplicaSet", m["namespace"], name),
            annotations={
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                "deployment.kubernetes.io/revision": "1",
            },
            ownerReferences=[
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": m["name"],
                    "uid": m["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        ),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": dep["spec"]["template"]["spec"],
            },
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "fullyLabeledReplicas": replicas,
            "observedGeneration": 1,
        },
    }


def daemon_pods(ds: Obj, nodes: list[tuple[str, str, str]], ready: int | None = None) -> list[Obj]:
    """One hostNetwork pod of ``ds`` per node (``name-xxxxx``), the first ``ready`` Ready."""
    m = ds["metadata"]
    tmpl = ds["spec"]["template"]
    out = []
    for i, (n, ip, _cidr) in enumerate(nodes):
        p = pod(
            f"{m['name']}-{'bcdfg'[i % 5]}{'hjklm'[i // 5 % 5]}9x4",
            m["namespace"],
            {**tmpl["metadata"]["labels"], "controller-revision-hash": "6d4b8f7c9"},
            tmpl["spec"]["containers"],
            node_name=n,
            ip=ip,
            host_ip=ip,
            ready=ready is None or i < ready,
            owner=("DaemonSet", m["name"]),
        )
        p["spec"]["hostNetwork"] = True
        p["spec"]["dnsPolicy"] = "ClusterFirstWithHostNet"
        out.append(p)
    return out


def scheduled_event(pod_obj: Obj) -> Obj:
    """The scheduler's Normal ``Scheduled`` event for a pod."""
    e = event(
        pod_obj,
        "Scheduled",
        f"Successfully assigned {pod_obj['metadata']['namespace']}/{pod_obj['metadata']['name']} "
        f"to {pod_obj['spec'].get('nodeName', '')}",
        type_="Normal",
    )
    e["metadata"]["name"] = f"{pod_obj['metadata']['name']}.17f3a9c2d4e5b6a0"
    e["source"] = {"component": "default-scheduler"}
    return e

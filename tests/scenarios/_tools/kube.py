"""Builders for realistic ``kubectl get -A -o yaml`` objects and node artifacts.

Used by ``gen.py`` (scenarios) and ``demo.py`` (the bundled demo cluster) to
write self-consistent clusters: pods get IPs from their node's podCIDR,
ReplicaSets and pods carry owner references and pod-template-hash, and
EndpointSlices are computed from the pods a Service selects, the way the
EndpointSlice controller does it (not-ready pods listed with ready=false,
named target ports resolved per pod and dropped when the pod does not
declare them). Faults are planted by editing the objects afterwards.

Run ``python tests/scenarios/_tools/gen.py`` to rewrite the scenario folders.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import json
import uuid
from pathlib import Path
from typing import Any

import yaml

K8S_VERSION = "v1.30.4"
SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand alphabet
CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"
DOMAIN = "cluster.local"
T0 = "2026-09-14T08:12:03Z"  # cluster creation
T_APPS = "2026-11-02T09:30:11Z"  # app rollouts
T_NOW = "2026-11-22T10:41:07Z"  # "now" for status timestamps and events

Obj = dict[str, Any]


def is_control_plane(node: str) -> bool:
    """``cp-1`` (the scenarios' kubeadm clusters) or ``kind-control-plane`` (kind)."""
    return node.startswith("cp") or node.endswith("control-plane")


def _h(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def uid(*parts: str) -> str:
    return str(uuid.UUID(bytes=_h("uid", *parts)[:16], version=4))


def rand_suffix(n: int, *parts: str) -> str:
    d = _h("sfx", *parts)
    return "".join(SAFE[b % len(SAFE)] for b in d[:n])


def hexid(n: int, *parts: str) -> str:
    return hashlib.sha256("\x00".join(("hex", *parts)).encode()).hexdigest()[:n]


def kube_proxy_hash(text: str) -> str:
    """kube-proxy's portProtoHash: base32(sha256(text))[:16]."""
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()[:16]


class _Dumper(yaml.CSafeDumper):  # libyaml emitter: same text, 20x faster
    pass


def _str_rep(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_rep)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False, width=4096)


class Cluster:
    """A cluster under construction; ``objects`` is what ``kubectl get`` would list."""

    def __init__(
        self,
        name: str,
        *,
        cni: str = "calico",
        nodes: tuple[str, ...] = ("cp-1", "worker-1", "worker-2"),
        node_ip_base: str = "192.168.10.10",
        max_pods: int = 110,
        pod_cidr_prefix: int = 24,
        underlay_mtu: int = 1500,
        kube_proxy_mode: str = "iptables",
    ) -> None:
        self.name = name
        self.pod_cidr_prefix = pod_cidr_prefix
        self.max_pods = max_pods
        self.cni = cni
        self.kube_proxy_mode = kube_proxy_mode
        self.underlay_mtu = underlay_mtu
        self.objects: list[Obj] = []
        self._rv = 1000
        self.nodes: dict[str, Obj] = {}
        self.node_ip: dict[str, str] = {}
        self.node_cidr: dict[str, ipaddress.IPv4Network] = {}
        self._next_ip: dict[str, int] = {}
        self._next_svc_ip = 1
        self.services: list[Obj] = []
        self.pods: list[Obj] = []
        self.apiserver_ip: str | None = None
        base_ip = ipaddress.ip_address(node_ip_base)
        block = ipaddress.ip_network(CLUSTER_CIDR)
        subnets = block.subnets(new_prefix=pod_cidr_prefix)
        for i, n in enumerate(nodes):
            cidr = next(subnets)
            self.node_ip[n] = str(base_ip + i)
            self.node_cidr[n] = cidr
            self._next_ip[n] = 2  # .1 is the bridge/gateway address
            self.add_node(n, control_plane=(i == 0 and is_control_plane(n)), max_pods=max_pods)
        self.worker_nodes = [n for n in nodes if not is_control_plane(n)] or list(nodes)

    # ------------------------------------------------------------------ basics
    def rv(self) -> str:
        self._rv += 7
        return str(self._rv)

    def meta(
        self,
        kind: str,
        name: str,
        ns: str | None,
        *,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        created: str = T_APPS,
        owner: Obj | None = None,
        generate_name: str | None = None,
        generation: int | None = None,
    ) -> Obj:
        m: Obj = {
            "creationTimestamp": created,
            "name": name,
            "resourceVersion": self.rv(),
            "uid": uid(self.name, kind, ns or "", name),
        }
        if ns is not None:
            m["namespace"] = ns
        if labels:
            m["labels"] = dict(labels)
        if annotations:
            m["annotations"] = dict(annotations)
        if generate_name:
            m["generateName"] = generate_name
        if generation is not None:
            m["generation"] = generation
        if owner is not None:
            m["ownerReferences"] = [
                {
                    "apiVersion": owner["apiVersion"],
                    "blockOwnerDeletion": True,
                    "controller": True,
                    "kind": owner["kind"],
                    "name": owner["metadata"]["name"],
                    "uid": owner["metadata"]["uid"],
                }
            ]
        return m

    def add(self, obj: Obj) -> Obj:
        self.objects.append(obj)
        return obj

    def find(self, kind: str, ns: str | None, name: str) -> Obj:
        for o in self.objects:
            if (
                o["kind"] == kind
                and o["metadata"]["name"] == name
                and o["metadata"].get("namespace") == ns
            ):
                return o
        raise KeyError(f"{kind}/{ns}/{name}")

    def remove(self, obj: Obj) -> None:
        self.objects = [o for o in self.objects if o is not obj]
        self.pods = [o for o in self.pods if o is not obj]
        self.services = [o for o in self.services if o is not obj]

    def pods_of(self, ns: str, prefix: str) -> list[Obj]:
        return [
            p
            for p in self.pods
            if p["metadata"]["namespace"] == ns and p["metadata"]["name"].startswith(prefix + "-")
        ]

    # ------------------------------------------------------------------ nodes
    def add_node(self, name: str, *, control_plane: bool, max_pods: int) -> Obj:
        ip = self.node_ip[name]
        cidr = str(self.node_cidr[name])
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
        }
        if control_plane:
            labels["node-role.kubernetes.io/control-plane"] = ""
            labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        ann = {
            "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }
        if self.cni == "calico":
            ann["projectcalico.org/IPv4Address"] = f"{ip}/24"
            ann["projectcalico.org/IPv4IPIPTunnelAddr"] = str(self.node_cidr[name][1])
        elif self.cni == "flannel":
            ann["flannel.alpha.coreos.com/backend-data"] = json.dumps(
                {"VNI": 1, "VtepMAC": mac(self.name, name, "flannel.1")}, separators=(",", ":")
            )
            ann["flannel.alpha.coreos.com/backend-type"] = "vxlan"
            ann["flannel.alpha.coreos.com/kube-subnet-manager"] = "true"
            ann["flannel.alpha.coreos.com/public-ip"] = ip
        elif self.cni == "cilium":
            ann["io.cilium.network.ipv4-cilium-host"] = str(self.node_cidr[name][1])
            ann["io.cilium.network.ipv4-pod-cidr"] = cidr
        conditions = []
        if self.cni == "calico":
            conditions.append(
                {
                    "lastHeartbeatTime": "2026-11-02T09:01:44Z",
                    "lastTransitionTime": "2026-11-02T09:01:44Z",
                    "message": "Calico is running on this node",
                    "reason": "CalicoIsUp",
                    "status": "False",
                    "type": "NetworkUnavailable",
                }
            )
        elif self.cni == "cilium":
            conditions.append(
                {
                    "lastHeartbeatTime": "2026-11-02T09:01:44Z",
                    "lastTransitionTime": "2026-11-02T09:01:44Z",
                    "message": "Cilium is running on this node",
                    "reason": "CiliumIsUp",
                    "status": "False",
                    "type": "NetworkUnavailable",
                }
            )
        for ctype, reason, msg in (
            (
                "MemoryPressure",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ):
            conditions.append(
                {
                    "lastHeartbeatTime": "2026-11-22T10:39:52Z",
                    "lastTransitionTime": T0,
                    "message": msg,
                    "reason": reason,
                    "status": "False",
                    "type": ctype,
                }
            )
        conditions.append(
            {
                "lastHeartbeatTime": "2026-11-22T10:39:52Z",
                "lastTransitionTime": "2026-11-02T09:01:50Z",
                "message": "kubelet is posting ready status",
                "reason": "KubeletReady",
                "status": "True",
                "type": "Ready",
            }
        )
        spec: Obj = {"podCIDR": cidr, "podCIDRs": [cidr]}
        if self.cni == "kindnet":
            # kind's node containers register with the kind cloud provider ID scheme
            spec["providerID"] = f"kind://docker/kind/{name}"
        if control_plane:
            spec["taints"] = [
                {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}
            ]
        res = {
            "cpu": "4",
            "ephemeral-storage": "101430960Ki",
            "hugepages-1Gi": "0",
            "hugepages-2Mi": "0",
            "memory": "16372628Ki",
            "pods": str(max_pods),
        }
        alloc = dict(res, memory="16270228Ki", **{"ephemeral-storage": "93478772582"})
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": self.meta("Node", name, None, labels=labels, annotations=ann, created=T0),
            "spec": spec,
            "status": {
                "addresses": [
                    {"address": ip, "type": "InternalIP"},
                    {"address": name, "type": "Hostname"},
                ],
                "allocatable": alloc,
                "capacity": res,
                "conditions": conditions,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": uid(self.name, "boot", name),
                    "containerRuntimeVersion": "containerd://1.7.20",
                    "kernelVersion": "6.1.0-25-amd64",
                    "kubeProxyVersion": K8S_VERSION,
                    "kubeletVersion": K8S_VERSION,
                    "machineID": hexid(32, self.name, "machine", name),
                    "operatingSystem": "linux",
                    "osImage": "Debian GNU/Linux 12 (bookworm)",
                    "systemUUID": uid(self.name, "sys", name),
                },
            },
        }
        self.nodes[name] = node
        return self.add(node)

    def set_node_not_ready(self, name: str, message: str, *, network_unavailable: bool) -> None:
        node = self.nodes[name]
        for c in node["status"]["conditions"]:
            if c["type"] == "Ready":
                c.update(
                    status="False",
                    reason="KubeletNotReady",
                    message=message,
                    lastTransitionTime="2026-11-22T10:02:31Z",
                )
            if c["type"] == "NetworkUnavailable" and network_unavailable:
                c.update(
                    status="True",
                    reason="NoRouteCreated",
                    message="Node created without a route",
                    lastTransitionTime="2026-11-22T10:02:31Z",
                )
        node["spec"]["taints"] = [
            *node["spec"].get("taints", []),
            {
                "effect": "NoSchedule",
                "key": "node.kubernetes.io/not-ready",
                "timeAdded": "2026-11-22T10:02:36Z",
            },
            {
                "effect": "NoExecute",
                "key": "node.kubernetes.io/not-ready",
                "timeAdded": "2026-11-22T10:07:36Z",
            },
        ]
        if network_unavailable:
            node["spec"]["taints"].insert(
                0,
                {
                    "effect": "NoSchedule",
                    "key": "node.kubernetes.io/network-unavailable",
                    "timeAdded": "2026-11-22T10:02:31Z",
                },
            )

    def alloc_ip(self, node: str) -> str:
        n = self._next_ip[node]
        cidr = self.node_cidr[node]
        if n >= cidr.num_addresses - 1:
            raise RuntimeError(f"{node}: podCIDR {cidr} exhausted")
        self._next_ip[node] = n + 1
        return str(cidr[n])

    def alloc_cluster_ip(self, fixed: str | None = None) -> str:
        if fixed:
            return fixed
        # Spread like the allocator does (random inside the range); deterministic here.
        n = self._next_svc_ip
        self._next_svc_ip += 1
        d = _h("svcip", self.name, str(n))
        third = 1 + d[0] % 250
        fourth = 2 + d[1] % 250
        second = 96 + d[2] % 12
        ip = f"10.{second}.{third}.{fourth}"
        while any(s["spec"].get("clusterIP") == ip for s in self.services):
            fourth = fourth % 250 + 2
            ip = f"10.{second}.{third}.{fourth}"
        return ip

    # ------------------------------------------------------------------ namespaces
    def namespace(
        self, name: str, labels: dict[str, str] | None = None, created: str = T_APPS
    ) -> Obj:
        lab = {"kubernetes.io/metadata.name": name}
        lab.update(labels or {})
        return self.add(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": self.meta("Namespace", name, None, labels=lab, created=created),
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            }
        )

    # ------------------------------------------------------------------ pods
    def container(
        self,
        name: str,
        image: str,
        *,
        ports: list[tuple[str | None, int, str]] | None = None,
        readiness: Obj | None = None,
        liveness: Obj | None = None,
        resources: Obj | None = None,
        env: list[Obj] | None = None,
        args: list[str] | None = None,
        command: list[str] | None = None,
        volume_mounts: list[Obj] | None = None,
        security_context: Obj | None = None,
    ) -> Obj:
        c: Obj = {
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "name": name,
            "resources": resources or {"requests": {"cpu": "50m", "memory": "64Mi"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
        }
        if ports:
            c["ports"] = []
            for pname, num, proto in ports:
                p: Obj = {"containerPort": num, "protocol": proto}
                if pname:
                    p["name"] = pname
                c["ports"].append(p)
        if readiness:
            c["readinessProbe"] = readiness
        if liveness:
            c["livenessProbe"] = liveness
        if env:
            c["env"] = env
        if args:
            c["args"] = args
        if command:
            c["command"] = command
        if volume_mounts:
            c["volumeMounts"] = volume_mounts
        if security_context:
            c["securityContext"] = security_context
        return c

    def _pod_spec(self, template_spec: Obj, node: str, pod_name: str) -> Obj:
        spec = copy.deepcopy(template_spec)
        vol = f"kube-api-access-{rand_suffix(5, self.name, pod_name, 'vol')}"
        for c in spec["containers"]:
            c.setdefault("volumeMounts", []).append(
                {
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                    "name": vol,
                    "readOnly": True,
                }
            )
        spec["nodeName"] = node
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("securityContext", {})
        spec.setdefault("serviceAccount", spec.get("serviceAccountName", "default"))
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        tol = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tol):
                tol.append(
                    {
                        "effect": "NoExecute",
                        "key": key,
                        "operator": "Exists",
                        "tolerationSeconds": 300,
                    }
                )
        spec.setdefault("volumes", []).append(
            {
                "name": vol,
                "projected": {
                    "defaultMode": 420,
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {
                            "configMap": {
                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                "name": "kube-root-ca.crt",
                            }
                        },
                        {
                            "downwardAPI": {
                                "items": [
                                    {
                                        "fieldRef": {
                                            "apiVersion": "v1",
                                            "fieldPath": "metadata.namespace",
                                        },
                                        "path": "namespace",
                                    }
                                ]
                            }
                        },
                    ],
                },
            }
        )
        return spec

    def pod(
        self,
        name: str,
        ns: str,
        labels: dict[str, str],
        template_spec: Obj,
        node: str,
        *,
        owner: Obj | None = None,
        generate_name: str | None = None,
        ready: bool = True,
        started: str = T_APPS,
        restarts: int = 0,
        annotations: dict[str, str] | None = None,
        created: str | None = None,
        pending: bool = False,
    ) -> Obj:
        spec = self._pod_spec(template_spec, node, name)
        host_net = bool(spec.get("hostNetwork"))
        ip = "" if pending else self.node_ip[node] if host_net else self.alloc_ip(node)
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": self.meta(
                "Pod",
                name,
                ns,
                labels=labels,
                annotations=annotations,
                owner=owner,
                generate_name=generate_name,
                created=created or started,
            ),
            "spec": spec,
        }
        if owner is not None and owner["kind"] == "Node":
            pod["metadata"]["ownerReferences"][0].pop("blockOwnerDeletion")
        pod["status"] = self._running_status(
            pod, ip or "0.0.0.0", node, ready=ready, started=started, restarts=restarts
        )
        if pending:
            self.make_pending(pod)
        self.pods.append(pod)
        return self.add(pod)

    def _running_status(
        self, pod: Obj, ip: str, node: str, *, ready: bool, started: str, restarts: int
    ) -> Obj:
        name = pod["metadata"]["name"]
        statuses = []
        for c in pod["spec"]["containers"]:
            st: Obj = {
                "containerID": "containerd://" + hexid(64, self.name, name, c["name"]),
                "image": c["image"]
                if "/" in c["image"].split(":")[0]
                else "docker.io/library/" + c["image"],
                "imageID": c["image"].split(":")[0] + "@sha256:" + hexid(64, "img", c["image"]),
                "lastState": {},
                "name": c["name"],
                "ready": ready,
                "restartCount": restarts,
                "started": True,
                "state": {"running": {"startedAt": started}},
            }
            if restarts:
                st["lastState"] = {
                    "terminated": {
                        "containerID": "containerd://"
                        + hexid(64, self.name, name, c["name"], "prev"),
                        "exitCode": 1,
                        "finishedAt": started,
                        "reason": "Error",
                        "startedAt": "2026-11-22T09:58:40Z",
                    }
                }
            statuses.append(st)
        rs = "True" if ready else "False"
        conds = [
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "True",
                "type": "PodReadyToStartContainers",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "True",
                "type": "Initialized",
            },
            {"lastProbeTime": None, "lastTransitionTime": started, "status": rs, "type": "Ready"},
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": rs,
                "type": "ContainersReady",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "True",
                "type": "PodScheduled",
            },
        ]
        if not ready:
            not_ready = ",".join(c["name"] for c in pod["spec"]["containers"])
            for c in conds:
                if c["type"] in ("Ready", "ContainersReady"):
                    c["reason"] = "ContainersNotReady"
                    c["message"] = f"containers with unready status: [{not_ready}]"
        req = [c.get("resources", {}) for c in pod["spec"]["containers"]]
        qos = "BestEffort"
        if any(r.get("requests") or r.get("limits") for r in req):
            qos = "Burstable"
            if all(
                r.get("limits")
                and r.get("requests") == r.get("limits")
                and set(r["limits"]) >= {"cpu", "memory"}
                for r in req
            ):
                qos = "Guaranteed"
        return {
            "conditions": conds,
            "containerStatuses": statuses,
            "hostIP": self.node_ip[node],
            "hostIPs": [{"ip": self.node_ip[node]}],
            "phase": "Running",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "qosClass": qos,
            "startTime": started,
        }

    def make_pending(self, pod: Obj, reason: str = "ContainerCreating") -> None:
        """A pod scheduled to its node whose sandbox never came up: no IP, Pending."""
        st = pod["status"]
        node = pod["spec"]["nodeName"]
        started = st["startTime"]
        st.pop("podIP", None)
        st.pop("podIPs", None)
        st["phase"] = "Pending"
        names = ",".join(c["name"] for c in pod["spec"]["containers"])
        st["conditions"] = [
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "False",
                "type": "PodReadyToStartContainers",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "True",
                "type": "Initialized",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "message": f"containers with unready status: [{names}]",
                "reason": "ContainersNotReady",
                "status": "False",
                "type": "Ready",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "message": f"containers with unready status: [{names}]",
                "reason": "ContainersNotReady",
                "status": "False",
                "type": "ContainersReady",
            },
            {
                "lastProbeTime": None,
                "lastTransitionTime": started,
                "status": "True",
                "type": "PodScheduled",
            },
        ]
        st["containerStatuses"] = [
            {
                "image": c["image"]
                if "/" in c["image"].split(":")[0]
                else "docker.io/library/" + c["image"],
                "imageID": "",
                "lastState": {},
                "name": c["name"],
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": reason}},
            }
            for c in pod["spec"]["containers"]
        ]
        st["hostIP"] = self.node_ip[node]
        st["hostIPs"] = [{"ip": self.node_ip[node]}]

    def make_crashloop(
        self,
        pod: Obj,
        *,
        reason: str = "OOMKilled",
        exit_code: int = 137,
        restarts: int = 17,
        container: str | None = None,
    ) -> None:
        """Running pod whose container keeps dying: waiting CrashLoopBackOff, lastState terminated."""
        st = pod["status"]
        for cs in st["containerStatuses"]:
            if container and cs["name"] != container:
                continue
            cs.update(
                ready=False,
                restartCount=restarts,
                started=False,
                state={
                    "waiting": {
                        "message": f"back-off 5m0s restarting failed container={cs['name']} pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})",
                        "reason": "CrashLoopBackOff",
                    }
                },
                lastState={
                    "terminated": {
                        "containerID": cs["containerID"],
                        "exitCode": exit_code,
                        "finishedAt": "2026-11-22T10:38:51Z",
                        "reason": reason,
                        "startedAt": "2026-11-22T10:38:02Z",
                    }
                },
            )
        names = ",".join(
            c["name"] for c in pod["spec"]["containers"] if not container or c["name"] == container
        )
        for c in st["conditions"]:
            if c["type"] in ("Ready", "ContainersReady"):
                c.update(
                    status="False",
                    reason="ContainersNotReady",
                    message=f"containers with unready status: [{names}]",
                    lastTransitionTime="2026-11-22T09:47:13Z",
                )

    # ------------------------------------------------------------------ workloads
    def deployment(
        self,
        name: str,
        ns: str,
        *,
        labels: dict[str, str],
        containers: list[Obj],
        replicas: int = 2,
        nodes: list[str] | None = None,
        ready: bool | list[bool] = True,
        pod_spec_extra: Obj | None = None,
        pod_annotations: dict[str, str] | None = None,
        pod_labels_extra: dict[str, str] | None = None,
        created: str = T_APPS,
        restarts: int | list[int] = 0,
        deploy_labels: dict[str, str] | None = None,
        pending: bool | list[bool] = False,
        started: str = T_APPS,
    ) -> tuple[Obj, Obj, list[Obj]]:
        tmpl_labels = dict(labels)
        tmpl_labels.update(pod_labels_extra or {})
        tmpl_spec: Obj = {"containers": containers}
        tmpl_spec.update(pod_spec_extra or {})
        full_tmpl_spec = dict(
            {
                "dnsPolicy": "ClusterFirst",
                "restartPolicy": "Always",
                "schedulerName": "default-scheduler",
                "securityContext": {},
                "terminationGracePeriodSeconds": 30,
            },
            **tmpl_spec,
        )
        template: Obj = {
            "metadata": {"creationTimestamp": None, "labels": tmpl_labels},
            "spec": full_tmpl_spec,
        }
        if pod_annotations:
            template["metadata"]["annotations"] = dict(pod_annotations)
        dep: Obj = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.meta(
                "Deployment",
                name,
                ns,
                labels=deploy_labels if deploy_labels is not None else labels,
                annotations={"deployment.kubernetes.io/revision": "1"},
                created=created,
                generation=1,
            ),
            "spec": {
                "progressDeadlineSeconds": 600,
                "replicas": replicas,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": dict(labels)},
                "strategy": {
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    "type": "RollingUpdate",
                },
                "template": template,
            },
        }
        self.add(dep)
        hash_ = rand_suffix(10, self.name, ns, name, "pth")
        rs_name = f"{name}-{hash_}"
        rs_labels = dict(tmpl_labels, **{"pod-template-hash": hash_})
        rs_tmpl = copy.deepcopy(template)
        rs_tmpl["metadata"]["labels"] = dict(rs_labels)
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": self.meta(
                "ReplicaSet",
                rs_name,
                ns,
                labels=rs_labels,
                annotations={
                    "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(
                        replicas + max(1, (replicas + 3) // 4)
                    ),
                    "deployment.kubernetes.io/revision": "1",
                },
                created=created,
                owner=dep,
                generation=1,
            ),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": dict(labels, **{"pod-template-hash": hash_})},
                "template": rs_tmpl,
            },
        }
        self.add(rs)
        nodes = nodes or self.worker_nodes
        readies = ready if isinstance(ready, list) else [ready] * replicas
        rst = restarts if isinstance(restarts, list) else [restarts] * replicas
        pend = pending if isinstance(pending, list) else [pending] * replicas
        pods = []
        for i in range(replicas):
            pname = f"{rs_name}-{rand_suffix(5, self.name, ns, rs_name, str(i))}"
            pods.append(
                self.pod(
                    pname,
                    ns,
                    rs_labels,
                    tmpl_spec,
                    nodes[i % len(nodes)],
                    owner=rs,
                    generate_name=rs_name + "-",
                    ready=readies[i],
                    restarts=rst[i],
                    annotations=pod_annotations,
                    pending=pend[i],
                    started=started,
                )
            )
        self.refresh_workload_status(dep, rs)
        return dep, rs, pods

    def refresh_workload_status(self, dep: Obj, rs: Obj) -> None:
        pods = [
            p
            for p in self.pods
            if p["metadata"].get("ownerReferences", [{}])[0].get("uid") == rs["metadata"]["uid"]
        ]
        n = len(pods)
        ready = sum(1 for p in pods if pod_ready(p))
        rs["status"] = {
            "fullyLabeledReplicas": n,
            "observedGeneration": 1,
            "replicas": n,
        }
        if ready:
            rs["status"]["availableReplicas"] = ready
            rs["status"]["readyReplicas"] = ready
        avail = ready >= max(1, n - max(1, n // 4)) if n else False
        dep["status"] = {
            "conditions": [
                {
                    "lastTransitionTime": T_APPS if avail else "2026-11-22T10:12:40Z",
                    "lastUpdateTime": T_APPS if avail else "2026-11-22T10:12:40Z",
                    "message": "Deployment has minimum availability."
                    if avail
                    else "Deployment does not have minimum availability.",
                    "reason": "MinimumReplicasAvailable" if avail else "MinimumReplicasUnavailable",
                    "status": "True" if avail else "False",
                    "type": "Available",
                },
                {
                    "lastTransitionTime": T_APPS,
                    "lastUpdateTime": T_APPS,
                    "message": f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
                    "reason": "NewReplicaSetAvailable",
                    "status": "True",
                    "type": "Progressing",
                },
            ],
            "observedGeneration": 1,
            "replicas": n,
            "updatedReplicas": n,
        }
        if ready:
            dep["status"]["availableReplicas"] = ready
            dep["status"]["readyReplicas"] = ready
        if n - ready:
            dep["status"]["unavailableReplicas"] = n - ready

    def daemonset(
        self,
        name: str,
        ns: str,
        *,
        labels: dict[str, str],
        containers: list[Obj],
        host_network: bool = True,
        pod_spec_extra: Obj | None = None,
        nodes: list[str] | None = None,
        not_ready_nodes: tuple[str, ...] = (),
        created: str = T0,
        priority_class: str | None = "system-node-critical",
    ) -> tuple[Obj, list[Obj]]:
        tmpl_spec: Obj = {"containers": containers}
        if host_network:
            tmpl_spec["hostNetwork"] = True
            tmpl_spec["dnsPolicy"] = (
                "ClusterFirstWithHostNet" if name == "kube-proxy" else "ClusterFirst"
            )
        if priority_class:
            tmpl_spec["priorityClassName"] = priority_class
        tmpl_spec["tolerations"] = [{"operator": "Exists"}]
        tmpl_spec.update(pod_spec_extra or {})
        crh = rand_suffix(10, self.name, ns, name, "crh")
        ds: Obj = {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": self.meta(
                "DaemonSet",
                name,
                ns,
                labels=labels,
                annotations={"deprecated.daemonset.template.generation": "1"},
                created=created,
                generation=1,
            ),
            "spec": {
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"creationTimestamp": None, "labels": dict(labels)},
                    "spec": dict(
                        {
                            "restartPolicy": "Always",
                            "schedulerName": "default-scheduler",
                            "securityContext": {},
                            "terminationGracePeriodSeconds": 30,
                        },
                        **copy.deepcopy(tmpl_spec),
                    ),
                },
                "updateStrategy": {
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                    "type": "RollingUpdate",
                },
            },
        }
        self.add(ds)
        pods = []
        target = nodes or list(self.nodes)
        for node in target:
            pname = f"{name}-{rand_suffix(5, self.name, ns, name, node)}"
            pod_spec = copy.deepcopy(tmpl_spec)
            pod_spec["affinity"] = {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchFields": [
                                    {"key": "metadata.name", "operator": "In", "values": [node]}
                                ]
                            }
                        ]
                    }
                }
            }
            if priority_class:
                pod_spec["priority"] = (
                    2000001000 if priority_class == "system-node-critical" else 2000000000
                )
            p = self.pod(
                pname,
                ns,
                dict(labels, **{"controller-revision-hash": crh, "pod-template-generation": "1"}),
                pod_spec,
                node,
                owner=ds,
                generate_name=name + "-",
                ready=node not in not_ready_nodes,
                started=T0 if created == T0 else created,
                restarts=3 if node in not_ready_nodes else 0,
            )
            pods.append(p)
        n = len(target)
        ready = n - len(not_ready_nodes)
        ds["status"] = {
            "currentNumberScheduled": n,
            "desiredNumberScheduled": n,
            "numberAvailable": ready,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": 1,
            "updatedNumberScheduled": n,
        }
        if ready < n:
            ds["status"]["numberUnavailable"] = n - ready
        return ds, pods

    def static_pod(
        self,
        name: str,
        node: str,
        image: str,
        component: str,
        port: int,
        command: list[str] | None = None,
    ) -> Obj:
        nodeobj = self.nodes[node]
        spec: Obj = {
            "containers": [
                self.container(
                    name,
                    image,
                    command=command or [name],
                    resources={"requests": {"cpu": "250m" if name != "etcd" else "100m"}},
                    liveness={
                        "failureThreshold": 8,
                        "httpGet": {
                            "host": self.node_ip[node] if name != "etcd" else "127.0.0.1",
                            "path": "/livez" if name == "kube-apiserver" else "/healthz",
                            "port": port,
                            "scheme": "HTTPS" if name != "etcd" else "HTTP",
                        },
                        "initialDelaySeconds": 10,
                        "periodSeconds": 10,
                        "successThreshold": 1,
                        "timeoutSeconds": 15,
                    },
                )
            ],
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "priority": 2000001000,
            "tolerations": [{"effect": "NoExecute", "operator": "Exists"}],
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        }
        p = self.pod(
            f"{name}-{node}",
            "kube-system",
            {"component": component, "tier": "control-plane"},
            spec,
            node,
            owner=nodeobj,
            started=T0,
            annotations={
                "kubernetes.io/config.source": "file",
                "kubernetes.io/config.hash": hexid(32, name, node),
            },
        )
        # Static pods have no service-account volume.
        for c in p["spec"]["containers"]:
            c.pop("volumeMounts", None)
        p["spec"].pop("volumes", None)
        p["spec"].pop("serviceAccount", None)
        p["spec"].pop("serviceAccountName", None)
        p["spec"]["enableServiceLinks"] = True
        return p

    # ------------------------------------------------------------------ services
    def service(
        self,
        name: str,
        ns: str,
        *,
        selector: dict[str, str] | None,
        ports: list[Obj],
        type_: str = "ClusterIP",
        cluster_ip: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        extra_spec: Obj | None = None,
        created: str = T_APPS,
        slice_: bool = True,
    ) -> Obj:
        headless = cluster_ip == "None"
        ip = "None" if headless else self.alloc_cluster_ip(cluster_ip)
        spec: Obj = {
            "clusterIP": ip,
            "clusterIPs": [ip],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [],
            "sessionAffinity": "None",
            "type": type_,
        }
        for p in ports:
            q = {
                "name": p.get("name"),
                "port": p["port"],
                "protocol": p.get("protocol", "TCP"),
                "targetPort": p.get("targetPort", p["port"]),
            }
            if q["name"] is None:
                q.pop("name")
            if "appProtocol" in p:
                q["appProtocol"] = p["appProtocol"]
            if type_ in ("NodePort", "LoadBalancer"):
                q["nodePort"] = (
                    p.get("nodePort")
                    or 30000 + int.from_bytes(_h(self.name, ns, name, str(p["port"]))[:2]) % 2700
                )
            spec["ports"].append(q)
        if selector is not None:
            spec["selector"] = dict(selector)
        if type_ in ("NodePort", "LoadBalancer"):
            spec["externalTrafficPolicy"] = "Cluster"
        if type_ == "LoadBalancer":
            spec["allocateLoadBalancerNodePorts"] = True
        spec.update(extra_spec or {})
        svc: Obj = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": self.meta(
                "Service", name, ns, labels=labels, annotations=annotations, created=created
            ),
            "spec": spec,
            "status": {"loadBalancer": {}},
        }
        self.services.append(svc)
        self.add(svc)
        if slice_ and selector is not None:
            self.add(self.build_slice(svc))
        return svc

    def build_slice(self, svc: Obj) -> Obj:
        ns = svc["metadata"]["namespace"]
        name = svc["metadata"]["name"]
        sel = svc["spec"].get("selector") or {}
        pods = [
            p
            for p in self.pods
            if p["metadata"]["namespace"] == ns
            and sel
            and all(p["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())
            and p["status"].get("podIP")
            and p["status"].get("phase") not in ("Succeeded", "Failed")
        ]
        # Ports: resolve each Service port against the (first) pod, like FindPort.
        ports: list[Obj] | None = None
        if pods:
            ports = []
            for sp in svc["spec"]["ports"]:
                num = find_port(pods[0], sp)
                if num is None:
                    continue
                q = {"name": sp.get("name", ""), "port": num, "protocol": sp.get("protocol", "TCP")}
                ports.append(q)
            ports = ports or None
        publish = bool(svc["spec"].get("publishNotReadyAddresses"))
        endpoints = []
        for p in sorted(pods, key=lambda p: ipaddress.ip_address(p["status"]["podIP"])):
            r = pod_ready(p)
            endpoints.append(
                {
                    "addresses": [p["status"]["podIP"]],
                    "conditions": {"ready": r or publish, "serving": r, "terminating": False},
                    "nodeName": p["spec"]["nodeName"],
                    "targetRef": {
                        "kind": "Pod",
                        "name": p["metadata"]["name"],
                        "namespace": ns,
                        "uid": p["metadata"]["uid"],
                    },
                }
            )
        labels = dict(svc["metadata"].get("labels") or {})
        labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io"
        labels["kubernetes.io/service-name"] = name
        if svc["spec"].get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        sname = f"{name}-{rand_suffix(5, self.name, ns, name, 'eps')}"
        m = self.meta(
            "EndpointSlice",
            sname,
            ns,
            labels=labels,
            annotations={"endpoints.kubernetes.io/last-change-trigger-time": T_APPS},
            owner=svc,
            generate_name=name + "-",
            generation=1,
            created=svc["metadata"]["creationTimestamp"],
        )
        m["ownerReferences"][0]["apiVersion"] = "v1"
        return {
            "addressType": "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": endpoints or None,
            "kind": "EndpointSlice",
            "metadata": m,
            "ports": ports,
        }

    def slice_of(self, svc: Obj) -> Obj:
        for o in self.objects:
            if (
                o["kind"] == "EndpointSlice"
                and o["metadata"]["namespace"] == svc["metadata"]["namespace"]
                and o["metadata"]["labels"].get("kubernetes.io/service-name")
                == svc["metadata"]["name"]
            ):
                return o
        raise KeyError(svc["metadata"]["name"])

    def rebuild_slices(self) -> None:
        """Recompute every controller-managed slice from the current pods."""
        out = []
        for o in self.objects:
            if (
                o["kind"] == "EndpointSlice"
                and o["metadata"]["labels"].get("endpointslice.kubernetes.io/managed-by")
                == "endpointslice-controller.k8s.io"
            ):
                svc = self.find(
                    "Service",
                    o["metadata"]["namespace"],
                    o["metadata"]["labels"]["kubernetes.io/service-name"],
                )
                new = self.build_slice(svc)
                new["metadata"] = o["metadata"]
                o.clear()
                o.update(new)
            out.append(o)
        self.objects = out

    def configmap(
        self,
        name: str,
        ns: str,
        data: dict[str, str],
        labels: dict[str, str] | None = None,
        created: str = T0,
    ) -> Obj:
        return self.add(
            {
                "apiVersion": "v1",
                "data": data,
                "kind": "ConfigMap",
                "metadata": self.meta("ConfigMap", name, ns, labels=labels, created=created),
            }
        )

    def secret_ref(self, name: str, ns: str, type_: str) -> Obj:
        # Never any data: existence and type are all netsleuth reads.
        return self.add(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": self.meta("Secret", name, ns),
                "type": type_,
            }
        )

    def netpol(self, name: str, ns: str, spec: Obj, created: str = T_APPS) -> Obj:
        return self.add(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": self.meta("NetworkPolicy", name, ns, created=created, generation=1),
                "spec": spec,
            }
        )

    def event(
        self,
        obj: Obj,
        reason: str,
        message: str,
        *,
        type_: str = "Warning",
        component: str = "kubelet",
        host: str | None = None,
        count: int = 1,
        first: str = "2026-11-22T10:14:02Z",
        last: str = T_NOW,
    ) -> Obj:
        ns = obj["metadata"].get("namespace") or "default"
        name = f"{obj['metadata']['name']}.{hexid(16, obj['metadata']['name'], reason, message)}"
        ev: Obj = {
            "apiVersion": "v1",
            "count": count,
            "eventTime": None,
            "firstTimestamp": first,
            "involvedObject": {
                "apiVersion": obj["apiVersion"],
                "kind": obj["kind"],
                "name": obj["metadata"]["name"],
                "namespace": ns,
                "resourceVersion": obj["metadata"]["resourceVersion"],
                "uid": obj["metadata"]["uid"],
            },
            "kind": "Event",
            "lastTimestamp": last,
            "message": message,
            "metadata": self.meta("Event", name, ns, created=first),
            "reason": reason,
            "reportingComponent": component,
            "reportingInstance": host or "",
            "source": {"component": component},
            "type": type_,
        }
        if obj["kind"] == "Node":
            ev["involvedObject"].pop("namespace")
            ev["involvedObject"].pop("resourceVersion")
        if host:
            ev["source"]["host"] = host
        if obj["kind"] == "Pod" and component == "kubelet":
            c = obj["spec"]["containers"][0]["name"]
            if reason in ("Unhealthy", "BackOff", "Killing"):
                ev["involvedObject"]["fieldPath"] = f"spec.containers{{{c}}}"
        return self.add(ev)

    def crd_object(
        self,
        api_version: str,
        kind: str,
        name: str,
        ns: str | None,
        spec: Obj,
        status: Obj | None = None,
        labels: dict[str, str] | None = None,
    ) -> Obj:
        o: Obj = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": self.meta(kind, name, ns, labels=labels, generation=1),
            "spec": spec,
        }
        if status is not None:
            o["status"] = status
        return self.add(o)

    # ------------------------------------------------------------------ output
    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        order = [
            "Namespace",
            "Node",
            "ConfigMap",
            "Secret",
            "DaemonSet",
            "Deployment",
            "StatefulSet",
            "ReplicaSet",
            "Pod",
            "Service",
            "EndpointSlice",
            "NetworkPolicy",
        ]

        def key(o: Obj) -> tuple[int, str, str]:
            k = o["kind"]
            return (
                order.index(k) if k in order else len(order) + (1 if k == "Event" else 0),
                o["metadata"].get("namespace") or "",
                o["metadata"]["name"],
            )

        items = sorted(self.objects, key=key)
        doc = {
            "apiVersion": "v1",
            "items": items,
            "kind": "List",
            "metadata": {"resourceVersion": ""},
        }
        (folder / "cluster.yaml").write_text(dump_yaml(doc))


# ---------------------------------------------------------------------- helpers
def pod_ready(p: Obj) -> bool:
    return any(
        c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", [])
    )


def find_port(pod: Obj, sp: Obj) -> int | None:
    """podutil.FindPort: a numeric targetPort is used as is, a name must be declared."""
    tp = sp.get("targetPort", sp["port"])
    if isinstance(tp, int):
        return tp
    proto = sp.get("protocol", "TCP")
    for c in pod["spec"]["containers"]:
        for p in c.get("ports", []):
            if p.get("name") == tp and p.get("protocol", "TCP") == proto:
                return int(p["containerPort"])
    return None


def mac(*parts: str) -> str:
    d = _h("mac", *parts)
    b = [d[0] & 254 | 2, *list(d[1:6])]
    return ":".join(f"{x:02x}" for x in b)


def http_probe(
    path: str, port: int | str, *, period: int = 10, failure: int = 3, initial: int = 5
) -> Obj:
    return {
        "failureThreshold": failure,
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": initial,
        "periodSeconds": period,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }

"""The kube-system layer every scenario shares, and the node artifacts of a cluster."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

from kube import (
    CLUSTER_CIDR,
    K8S_VERSION,
    SERVICE_CIDR,
    T0,
    Cluster,
    Obj,
    find_port,
    hexid,
    http_probe,
    is_control_plane,
    kube_proxy_hash,
    mac,
    pod_ready,
)

COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""

KUBE_PROXY_CONF = """apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 1s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
metricsBindAddress: ""
mode: "{mode}"
nftables:
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForProbes: ""
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
"""

KUBE_PROXY_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://192.168.10.10:6443
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
"""

CALICO_CNI_CONFIG = """{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "calico",
      "log_level": "info",
      "log_file_path": "/var/log/calico/cni/cni.log",
      "datastore_type": "kubernetes",
      "nodename": "__KUBERNETES_NODE_NAME__",
      "mtu": __CNI_MTU__,
      "ipam": {
          "type": "host-local",
          "subnet": "usePodCidr"
      },
      "policy": {
          "type": "k8s"
      },
      "kubernetes": {
          "kubeconfig": "__KUBECONFIG_FILEPATH__"
      }
    },
    {
      "type": "portmap",
      "snat": true,
      "capabilities": {"portMappings": true}
    },
    {
      "type": "bandwidth",
      "capabilities": {"bandwidth": true}
    }
  ]
}"""

FLANNEL_CNI_CONF = """{
  "name": "cbr0",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "flannel",
      "delegate": {
        "hairpinMode": true,
        "isDefaultGateway": true
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
"""


def etcd_command(node: str, ip: str) -> list[str]:
    """etcd as kubeadm v1.30 runs it (/etc/kubernetes/manifests/etcd.yaml)."""
    return [
        "etcd",
        f"--advertise-client-urls=https://{ip}:2379",
        "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
        "--client-cert-auth=true",
        "--data-dir=/var/lib/etcd",
        "--experimental-initial-corrupt-check=true",
        "--experimental-watch-progress-notify-interval=5s",
        f"--initial-advertise-peer-urls=https://{ip}:2380",
        f"--initial-cluster={node}=https://{ip}:2380",
        "--key-file=/etc/kubernetes/pki/etcd/server.key",
        f"--listen-client-urls=https://127.0.0.1:2379,https://{ip}:2379",
        "--listen-metrics-urls=http://127.0.0.1:2381",
        f"--listen-peer-urls=https://{ip}:2380",
        f"--name={node}",
        "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
        "--peer-client-cert-auth=true",
        "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        "--peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--snapshot-count=10000",
        "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
    ]


def apiserver_command(ip: str) -> list[str]:
    """kube-apiserver as kubeadm v1.30 runs it."""
    return [
        "kube-apiserver",
        f"--advertise-address={ip}",
        "--allow-privileged=true",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction",
        "--enable-bootstrap-token-auth=true",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--etcd-servers=https://127.0.0.1:2379",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname",
        "--proxy-client-cert-file=/etc/kubernetes/pki/front-proxy-client.crt",
        "--proxy-client-key-file=/etc/kubernetes/pki/front-proxy-client.key",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-username-headers=X-Remote-User",
        "--secure-port=6443",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-signing-key-file=/etc/kubernetes/pki/sa.key",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
    ]


def controller_manager_command(mask: int) -> list[str]:
    """kube-controller-manager as kubeadm v1.30 runs it with ``networking.podSubnet`` set
    (kubeadm adds --allocate-node-cidrs and --cluster-cidr then); ``--node-cidr-mask-size``
    only when ClusterConfiguration's controllerManager.extraArgs sets it (default 24)."""
    cmd = [
        "kube-controller-manager",
        "--allocate-node-cidrs=true",
        "--authentication-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--authorization-kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--bind-address=127.0.0.1",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        f"--cluster-cidr={CLUSTER_CIDR}",
        "--cluster-name=kubernetes",
        "--cluster-signing-cert-file=/etc/kubernetes/pki/ca.crt",
        "--cluster-signing-key-file=/etc/kubernetes/pki/ca.key",
        "--controllers=*,bootstrapsigner,tokencleaner",
        "--kubeconfig=/etc/kubernetes/controller-manager.conf",
        "--leader-elect=true",
    ]
    if mask != 24:
        cmd.append(f"--node-cidr-mask-size={mask}")
    return [
        *cmd,
        "--requestheader-client-ca-file=/etc/kubernetes/pki/front-proxy-ca.crt",
        "--root-ca-file=/etc/kubernetes/pki/ca.crt",
        "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--use-service-account-credentials=true",
    ]


SCHEDULER_COMMAND = [
    "kube-scheduler",
    "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
    "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf",
    "--bind-address=127.0.0.1",
    "--kubeconfig=/etc/kubernetes/scheduler.conf",
    "--leader-elect=true",
]


def kubeadm_cluster_configuration(c: Cluster, ip: str) -> str:
    extra = ""
    if c.pod_cidr_prefix != 24:
        extra = f'  extraArgs:\n    node-cidr-mask-size: "{c.pod_cidr_prefix}"\n'
    return (
        "apiServer:\n"
        "  certSANs:\n"
        f"  - {ip}\n"
        "apiVersion: kubeadm.k8s.io/v1beta3\n"
        "certificatesDir: /etc/kubernetes/pki\n"
        "clusterName: kubernetes\n"
        f"controlPlaneEndpoint: {ip}:6443\n"
        "controllerManager: {}\n".replace(" {}", "" if extra else " {}")
        + extra
        + "dns: {}\n"
        "etcd:\n"
        "  local:\n"
        "    dataDir: /var/lib/etcd\n"
        "imageRepository: registry.k8s.io\n"
        "kind: ClusterConfiguration\n"
        f"kubernetesVersion: {K8S_VERSION}\n"
        "networking:\n"
        "  dnsDomain: cluster.local\n"
        f"  podSubnet: {CLUSTER_CIDR}\n"
        f"  serviceSubnet: {SERVICE_CIDR}\n"
        "scheduler: {}\n"
    )


def kubelet_configuration(max_pods: int) -> str:
    lines = [
        "apiVersion: kubelet.config.k8s.io/v1beta1",
        "authentication:",
        "  anonymous:",
        "    enabled: false",
        "  webhook:",
        "    cacheTTL: 0s",
        "    enabled: true",
        "  x509:",
        "    clientCAFile: /etc/kubernetes/pki/ca.crt",
        "authorization:",
        "  mode: Webhook",
        "cgroupDriver: systemd",
        "clusterDNS:",
        "- 10.96.0.10",
        "clusterDomain: cluster.local",
        "containerRuntimeEndpoint: unix:///var/run/containerd/containerd.sock",
        "kind: KubeletConfiguration",
    ]
    if max_pods != 110:
        lines.append(f"maxPods: {max_pods}")
    lines += [
        "resolvConf: /run/systemd/resolve/resolv.conf",
        "rotateCertificates: true",
        "staticPodPath: /etc/kubernetes/manifests",
    ]
    return "\n".join(lines) + "\n"


def coredns_container(
    *,
    memory_limit: str = "256Mi",
    cpu_limit: str | None = None,
    image: str = "registry.k8s.io/coredns/coredns:v1.11.1",
) -> Obj:
    limits: dict[str, str] = {"memory": memory_limit}
    if cpu_limit:
        limits["cpu"] = cpu_limit
    return {
        "args": ["-conf", "/etc/coredns/Corefile"],
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "livenessProbe": {
            "failureThreshold": 5,
            "httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
            "initialDelaySeconds": 60,
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 5,
        },
        "name": "coredns",
        "ports": [
            {"containerPort": 53, "name": "dns", "protocol": "UDP"},
            {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
            {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
        ],
        "readinessProbe": {
            "failureThreshold": 3,
            "httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 1,
        },
        "resources": {"limits": limits, "requests": {"cpu": "100m", "memory": "70Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"mountPath": "/etc/coredns", "name": "config-volume", "readOnly": True}],
    }


def base(
    c: Cluster,
    *,
    coredns_nodes: list[str] | None = None,
    coredns_memory: str = "170Mi",
    coredns_cpu: str | None = None,
    corefile: str = COREFILE,
    veth_mtu: int | None = None,
    static_pods: bool = True,
    coredns_ready: bool = True,
    apiserver_ip: str | None = None,
) -> None:
    """Namespaces, control plane, CoreDNS, kube-proxy and the CNI."""
    for ns in ("default", "kube-node-lease", "kube-public", "kube-system"):
        c.namespace(ns, created=T0)
    cp = next(iter(c.nodes))
    c.apiserver_ip = apiserver_ip or c.node_ip[cp]
    if static_pods and is_control_plane(cp):
        ip = c.node_ip[cp]
        c.static_pod(
            "etcd",
            cp,
            "registry.k8s.io/etcd:3.5.15-0",
            "etcd",
            2381,
            command=etcd_command(cp, ip),
        )
        c.static_pod(
            "kube-apiserver",
            cp,
            f"registry.k8s.io/kube-apiserver:{K8S_VERSION}",
            "kube-apiserver",
            6443,
            command=apiserver_command(ip),
        )
        c.static_pod(
            "kube-controller-manager",
            cp,
            f"registry.k8s.io/kube-controller-manager:{K8S_VERSION}",
            "kube-controller-manager",
            10257,
            command=controller_manager_command(c.pod_cidr_prefix),
        )
        c.static_pod(
            "kube-scheduler",
            cp,
            f"registry.k8s.io/kube-scheduler:{K8S_VERSION}",
            "kube-scheduler",
            10259,
            command=SCHEDULER_COMMAND,
        )
        # kubeadm init writes these two ConfigMaps: the cluster configuration upgrades
        # regenerate the static pods from, and the kubelet configuration every node joins with.
        c.configmap(
            "kubeadm-config",
            "kube-system",
            {"ClusterConfiguration": kubeadm_cluster_configuration(c, ip)},
        )
        c.configmap(
            "kubelet-config",
            "kube-system",
            {"kubelet": kubelet_configuration(c.max_pods)},
            created=T0,
        )

    # kubernetes Service: no selector; the apiserver keeps its slice.
    k = c.service(
        "kubernetes",
        "default",
        selector=None,
        ports=[{"name": "https", "port": 443, "targetPort": 6443}],
        cluster_ip="10.96.0.1",
        labels={"component": "apiserver", "provider": "kubernetes"},
        created=T0,
    )
    c.add(
        {
            "addressType": "IPv4",
            "apiVersion": "discovery.k8s.io/v1",
            "endpoints": [{"addresses": [c.apiserver_ip], "conditions": {"ready": True}}],
            "kind": "EndpointSlice",
            "metadata": c.meta(
                "EndpointSlice",
                "kubernetes",
                "default",
                labels={"kubernetes.io/service-name": "kubernetes"},
                created=T0,
                generation=1,
            ),
            "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
        }
    )
    del k

    # CoreDNS
    c.configmap("coredns", "kube-system", {"Corefile": corefile})
    dns_nodes = coredns_nodes or [cp] if is_control_plane(cp) else c.worker_nodes
    coredns_spec: Obj = {
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "podAffinityTerm": {
                            "labelSelector": {
                                "matchExpressions": [
                                    {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}
                                ]
                            },
                            "topologyKey": "kubernetes.io/hostname",
                        },
                        "weight": 100,
                    }
                ]
            }
        },
        "dnsPolicy": "Default",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "priorityClassName": "system-cluster-critical",
        "serviceAccountName": "coredns",
        "tolerations": [
            {"key": "CriticalAddonsOnly", "operator": "Exists"},
            {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
        ],
        "volumes": [
            {
                "configMap": {
                    "defaultMode": 420,
                    "items": [{"key": "Corefile", "path": "Corefile"}],
                    "name": "coredns",
                },
                "name": "config-volume",
            }
        ],
    }
    c.deployment(
        "coredns",
        "kube-system",
        labels={"k8s-app": "kube-dns"},
        containers=[coredns_container(memory_limit=coredns_memory, cpu_limit=coredns_cpu)],
        replicas=2,
        nodes=dns_nodes,
        pod_spec_extra=coredns_spec,
        created=T0,
        ready=coredns_ready,
    )
    c.find("Deployment", "kube-system", "coredns")["spec"]["strategy"]["rollingUpdate"] = {
        "maxSurge": "25%",
        "maxUnavailable": 1,
    }
    c.service(
        "kube-dns",
        "kube-system",
        selector={"k8s-app": "kube-dns"},
        ports=[
            {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
        ],
        cluster_ip="10.96.0.10",
        labels={
            "k8s-app": "kube-dns",
            "kubernetes.io/cluster-service": "true",
            "kubernetes.io/name": "CoreDNS",
        },
        annotations={"prometheus.io/port": "9153", "prometheus.io/scrape": "true"},
        created=T0,
    )

    # kube-proxy
    c.configmap(
        "kube-proxy",
        "kube-system",
        {
            "config.conf": KUBE_PROXY_CONF.replace("{mode}", c.kube_proxy_mode),
            "kubeconfig.conf": KUBE_PROXY_KUBECONFIG.replace("192.168.10.10", c.apiserver_ip),
        },
        labels={"app": "kube-proxy"},
    )
    kp = c.container(
        "kube-proxy",
        f"registry.k8s.io/kube-proxy:{K8S_VERSION}",
        command=[
            "/usr/local/bin/kube-proxy",
            "--config=/var/lib/kube-proxy/config.conf",
            "--hostname-override=$(NODE_NAME)",
        ],
        env=[
            {
                "name": "NODE_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
            }
        ],
        resources={},
        security_context={"privileged": True},
        volume_mounts=[
            {"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
            {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
        ],
    )
    c.daemonset(
        "kube-proxy",
        "kube-system",
        labels={"k8s-app": "kube-proxy"},
        containers=[kp],
        pod_spec_extra={
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "kube-proxy",
            "volumes": [
                {"configMap": {"defaultMode": 420, "name": "kube-proxy"}, "name": "kube-proxy"},
                {
                    "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
                    "name": "xtables-lock",
                },
                {"hostPath": {"path": "/lib/modules", "type": ""}, "name": "lib-modules"},
            ],
        },
    )

    if c.cni == "calico":
        calico(c, veth_mtu=veth_mtu or c.underlay_mtu - 20)
    elif c.cni == "flannel":
        flannel(c)
    elif c.cni == "kindnet":
        kindnet(c)


def calico(c: Cluster, *, veth_mtu: int, not_ready_nodes: tuple[str, ...] = ()) -> None:
    c.configmap(
        "calico-config",
        "kube-system",
        {
            "calico_backend": "bird",
            "cni_network_config": CALICO_CNI_CONFIG,
            "typha_service_name": "none",
            "veth_mtu": str(veth_mtu),
        },
    )
    env = [
        {"name": "DATASTORE_TYPE", "value": "kubernetes"},
        {"name": "WAIT_FOR_DATASTORE", "value": "true"},
        {
            "name": "NODENAME",
            "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nodeName"}},
        },
        {
            "name": "CALICO_NETWORKING_BACKEND",
            "valueFrom": {"configMapKeyRef": {"key": "calico_backend", "name": "calico-config"}},
        },
        {"name": "CLUSTER_TYPE", "value": "k8s,bgp"},
        {"name": "IP", "value": "autodetect"},
        {"name": "CALICO_IPV4POOL_IPIP", "value": "Always"},
        {"name": "CALICO_IPV4POOL_VXLAN", "value": "Never"},
        {"name": "CALICO_IPV6POOL_VXLAN", "value": "Never"},
        {
            "name": "FELIX_IPINIPMTU",
            "valueFrom": {"configMapKeyRef": {"key": "veth_mtu", "name": "calico-config"}},
        },
        {
            "name": "FELIX_VXLANMTU",
            "valueFrom": {"configMapKeyRef": {"key": "veth_mtu", "name": "calico-config"}},
        },
        {
            "name": "FELIX_WIREGUARDMTU",
            "valueFrom": {"configMapKeyRef": {"key": "veth_mtu", "name": "calico-config"}},
        },
        {"name": "CALICO_IPV4POOL_CIDR", "value": CLUSTER_CIDR},
        {"name": "USE_POD_CIDR", "value": "true"},
        {"name": "CALICO_DISABLE_FILE_LOGGING", "value": "true"},
        {"name": "FELIX_DEFAULTENDPOINTTOHOSTACTION", "value": "ACCEPT"},
        {"name": "FELIX_IPV6SUPPORT", "value": "false"},
        {"name": "FELIX_HEALTHENABLED", "value": "true"},
    ]
    node_c = c.container(
        "calico-node",
        "docker.io/calico/node:v3.28.1",
        env=env,
        resources={"requests": {"cpu": "250m"}},
        security_context={"privileged": True},
        liveness={
            "exec": {"command": ["/bin/calico-node", "-felix-live", "-bird-live"]},
            "failureThreshold": 6,
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 10,
        },
        readiness={
            "exec": {"command": ["/bin/calico-node", "-felix-ready", "-bird-ready"]},
            "failureThreshold": 3,
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 10,
        },
        volume_mounts=[
            {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
            {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
            {"mountPath": "/var/run/calico", "name": "var-run-calico"},
            {"mountPath": "/var/lib/calico", "name": "var-lib-calico"},
        ],
    )
    c.daemonset(
        "calico-node",
        "kube-system",
        labels={"k8s-app": "calico-node"},
        containers=[node_c],
        not_ready_nodes=not_ready_nodes,
        pod_spec_extra={
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "serviceAccountName": "calico-node",
            "volumes": [
                {"hostPath": {"path": "/lib/modules", "type": ""}, "name": "lib-modules"},
                {
                    "hostPath": {"path": "/var/run/calico", "type": "DirectoryOrCreate"},
                    "name": "var-run-calico",
                },
                {
                    "hostPath": {"path": "/var/lib/calico", "type": "DirectoryOrCreate"},
                    "name": "var-lib-calico",
                },
                {
                    "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
                    "name": "xtables-lock",
                },
                {"hostPath": {"path": "/etc/cni/net.d", "type": ""}, "name": "cni-net-dir"},
            ],
        },
    )
    kc = c.container(
        "calico-kube-controllers",
        "docker.io/calico/kube-controllers:v3.28.1",
        env=[
            {"name": "ENABLED_CONTROLLERS", "value": "node"},
            {"name": "DATASTORE_TYPE", "value": "kubernetes"},
        ],
        resources={},
        readiness={
            "exec": {"command": ["/usr/bin/check-status", "-r"]},
            "failureThreshold": 3,
            "periodSeconds": 10,
            "successThreshold": 1,
            "timeoutSeconds": 1,
        },
    )
    cp = next(iter(c.nodes))
    c.deployment(
        "calico-kube-controllers",
        "kube-system",
        labels={"k8s-app": "calico-kube-controllers"},
        containers=[kc],
        replicas=1,
        nodes=[cp],
        created=T0,
        pod_spec_extra={
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "priorityClassName": "system-cluster-critical",
            "serviceAccountName": "calico-kube-controllers",
            "tolerations": [
                {"key": "CriticalAddonsOnly", "operator": "Exists"},
                {"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"},
            ],
        },
    )
    c.find("Deployment", "kube-system", "calico-kube-controllers")["spec"]["strategy"] = {
        "type": "Recreate"
    }


def flannel(c: Cluster) -> None:
    c.namespace(
        "kube-flannel",
        {"k8s-app": "flannel", "pod-security.kubernetes.io/enforce": "privileged"},
        created=T0,
    )
    net_conf = json.dumps(
        {"Network": CLUSTER_CIDR, "EnableNFTables": False, "Backend": {"Type": "vxlan"}}, indent=2
    ).replace('{\n    "Type": "vxlan"\n  }', '{\n    "Type": "vxlan"\n  }')
    c.configmap(
        "kube-flannel-cfg",
        "kube-flannel",
        {"cni-conf.json": FLANNEL_CNI_CONF, "net-conf.json": net_conf + "\n"},
        labels={"app": "flannel", "k8s-app": "flannel", "tier": "node"},
    )
    fc = c.container(
        "kube-flannel",
        "docker.io/flannel/flannel:v0.25.6",
        command=["/opt/bin/flanneld"],
        args=["--ip-masq", "--kube-subnet-mgr"],
        env=[
            {
                "name": "POD_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
            },
            {
                "name": "POD_NAMESPACE",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}},
            },
            {"name": "EVENT_QUEUE_DEPTH", "value": "5000"},
        ],
        resources={"requests": {"cpu": "100m", "memory": "50Mi"}},
        security_context={"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}, "privileged": False},
        volume_mounts=[
            {"mountPath": "/run/flannel", "name": "run"},
            {"mountPath": "/etc/kube-flannel/", "name": "flannel-cfg"},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
        ],
    )
    c.daemonset(
        "kube-flannel-ds",
        "kube-flannel",
        labels={"app": "flannel", "k8s-app": "flannel", "tier": "node"},
        containers=[fc],
        pod_spec_extra={
            "serviceAccountName": "flannel",
            "volumes": [
                {"hostPath": {"path": "/run/flannel", "type": ""}, "name": "run"},
                {"hostPath": {"path": "/opt/cni/bin", "type": ""}, "name": "cni-plugin"},
                {"hostPath": {"path": "/etc/cni/net.d", "type": ""}, "name": "cni"},
                {
                    "configMap": {"defaultMode": 420, "name": "kube-flannel-cfg"},
                    "name": "flannel-cfg",
                },
                {
                    "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
                    "name": "xtables-lock",
                },
            ],
        },
    )


KINDNET_IMAGE = "docker.io/kindest/kindnetd:v20240813-c6f155d6"


def kindnet(c: Cluster) -> None:
    """kind's default CNI, as kind v0.24 installs it: the kindnet DaemonSet in kube-system
    (no ConfigMap: its settings are env vars), routes between nodes (no encapsulation), the
    ptp plugin with host-local IPAM on each node's podCIDR."""
    kc = c.container(
        "kindnet-cni",
        KINDNET_IMAGE,
        env=[
            {
                "name": "HOST_IP",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.hostIP"}},
            },
            {
                "name": "POD_IP",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            },
            {"name": "POD_SUBNET", "value": CLUSTER_CIDR},
            {"name": "CONTROL_PLANE_ENDPOINT", "value": f"{next(iter(c.nodes))}:6443"},
        ],
        resources={
            "limits": {"cpu": "100m", "memory": "50Mi"},
            "requests": {"cpu": "100m", "memory": "50Mi"},
        },
        security_context={"capabilities": {"add": ["NET_RAW", "NET_ADMIN"]}, "privileged": False},
        volume_mounts=[
            {"mountPath": "/etc/cni/net.d", "name": "cni-cfg"},
            {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
            {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": True},
        ],
    )
    c.daemonset(
        "kindnet",
        "kube-system",
        labels={"app": "kindnet", "k8s-app": "kindnet", "tier": "node"},
        containers=[kc],
        priority_class=None,
        pod_spec_extra={
            "serviceAccountName": "kindnet",
            "volumes": [
                {"hostPath": {"path": "/etc/cni/net.d", "type": ""}, "name": "cni-cfg"},
                {
                    "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
                    "name": "xtables-lock",
                },
                {"hostPath": {"path": "/lib/modules", "type": ""}, "name": "lib-modules"},
            ],
        },
    )


# ---------------------------------------------------------------------- node artifacts
def _pods_on(c: Cluster, node: str) -> list[Obj]:
    return [
        p
        for p in c.pods
        if p["spec"]["nodeName"] == node
        and p["status"].get("podIP")
        and not p["spec"].get("hostNetwork")
    ]


def veth_name(c: Cluster, pod: Obj) -> str:
    if c.cni == "calico":
        return "cali" + hexid(11, pod["metadata"]["namespace"], pod["metadata"]["name"])
    return "veth" + hexid(8, pod["metadata"]["namespace"], pod["metadata"]["name"])


def ip_route(c: Cluster, node: str) -> str:
    ip = c.node_ip[node]
    net = ipaddress.ip_network(ip + "/24", strict=False)
    gw = net[1]
    lines = [f"default via {gw} dev eth0 proto static"]
    own = c.node_cidr[node]
    rows: list[tuple[ipaddress.IPv4Network, str]] = []
    for other, cidr in c.node_cidr.items():
        if other == node:
            continue
        if c.cni == "calico":
            rows.append((cidr, f"{cidr} via {c.node_ip[other]} dev tunl0 proto bird onlink"))
        else:
            rows.append((cidr, f"{cidr} via {cidr.network_address} dev flannel.1 onlink"))
    if c.cni == "calico":
        rows.append((own, f"blackhole {own} proto bird"))
        for p in _pods_on(c, node):
            pip = ipaddress.ip_network(p["status"]["podIP"] + "/32")
            rows.append((pip, f"{p['status']['podIP']} dev {veth_name(c, p)} scope link"))
    else:
        rows.append((own, f"{own} dev cni0 proto kernel scope link src {own[1]}"))
    rows.append((net, f"{net} dev eth0 proto kernel scope link src {ip}"))
    rows.sort(key=lambda r: (int(r[0].network_address), r[0].prefixlen))
    return "\n".join(lines + [r[1] for r in rows]) + "\n"


def ip_d_link(
    c: Cluster, node: str, *, overlay_mtu: int | None = None, pod_mtu: int | None = None
) -> str:
    um = c.underlay_mtu
    out = [
        "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000",
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ",
        f"2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {um} qdisc fq_codel state UP mode DEFAULT group default qlen 1000",
        f"    link/ether {mac(c.name, node, 'eth0')} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 9000 addrgenmode none numtxqueues 4 numrxqueues 4 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 parentbus virtio parentdev virtio0 ",
    ]
    idx = 3
    if c.cni == "calico":
        om = overlay_mtu or um - 20
        pm = pod_mtu or om
        out += [
            f"{idx}: tunl0@NONE: <NOARP,UP,LOWER_UP> mtu {om} qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000",
            "    link/ipip 0.0.0.0 brd 0.0.0.0 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 ",
            "    ipip any remote any local any ttl inherit nopmtudisc addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ",
        ]
        idx += 1
    else:
        om = overlay_mtu or um - 50
        pm = pod_mtu or om
        out += [
            f"{idx}: flannel.1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {om} qdisc noqueue state UNKNOWN mode DEFAULT group default ",
            f"    link/ether {mac(c.name, node, 'flannel.1')} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ",
            f"    vxlan id 1 local {c.node_ip[node]} dev eth0 srcport 0 0 dstport 8472 nolearning ttl auto ageing 300 udpcsum noudp6zerocsumtx noudp6zerocsumrx addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ",
            f"{idx + 1}: cni0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {pm} qdisc noqueue state UP mode DEFAULT group default qlen 1000",
            f"    link/ether {mac(c.name, node, 'cni0')} brd ff:ff:ff:ff:ff:ff promiscuity 0  allmulti 0 minmtu 68 maxmtu 65535 ",
            "    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 vlan_protocol 802.1Q bridge_id 8000.0:0:0:0:0:0 designated_root 8000.0:0:0:0:0:0 root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 topology_change_timer    0.00 gc_timer  167.82 vlan_default_pvid 1 vlan_stats_enabled 0 vlan_stats_per_port 0 group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3125 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 gro_max_size 65536 ",
        ]
        idx += 2
    for p in _pods_on(c, node):
        v = veth_name(c, p)
        netns = "cni-" + str(p["metadata"]["uid"])
        out.append(
            f"{idx}: {v}@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu {pm} qdisc noqueue "
            + ("master cni0 " if c.cni == "flannel" else "")
            + "state UP mode DEFAULT group default "
            + ("qlen 1000" if c.cni == "calico" else "")
        )
        lmac = "ee:ee:ee:ee:ee:ee" if c.cni == "calico" else mac(c.name, node, v)
        out.append(
            f"    link/ether {lmac} brd ff:ff:ff:ff:ff:ff link-netns {netns} promiscuity {0 if c.cni == 'calico' else 1}  allmulti 0 minmtu 68 maxmtu 65535 "
        )
        if c.cni == "calico":
            out.append(
                "    veth addrgenmode eui64 numtxqueues 4 numrxqueues 4 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 "
            )
        else:
            out.append("    veth ")
            out.append(
                f"    bridge_slave state forwarding priority 32 cost 2 hairpin on guard off root_block off fastleave off learning on flood on port_id 0x80{idx:02x} port_no 0x{idx:x} designated_port 32769 designated_cost 0 designated_bridge 8000.0:0:0:0:0:0 designated_root 8000.0:0:0:0:0:0 hold_timer    0.00 message_age_timer    0.00 forward_delay_timer    0.00 topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 vlan_tunnel off isolated off locked off addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 "
            )
        idx += 1
    return "\n".join(out) + "\n"


def _svc_port_name(svc: Obj, sp: Obj) -> str:
    base = f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
    return base + (f":{sp['name']}" if sp.get("name") else "")


def ready_endpoints(c: Cluster, svc: Obj, sp: Obj) -> list[tuple[str, int, str]]:
    """(ip, port, node) of the ready endpoints of one Service port, from its slices."""
    out = []
    for o in c.objects:
        if (
            o["kind"] != "EndpointSlice"
            or o["metadata"].get("namespace") != svc["metadata"]["namespace"]
        ):
            continue
        if (
            o["metadata"].get("labels", {}).get("kubernetes.io/service-name")
            != svc["metadata"]["name"]
        ):
            continue
        port = None
        for q in o.get("ports") or []:
            if q.get("name", "") == sp.get("name", "") and q.get("protocol", "TCP") == sp.get(
                "protocol", "TCP"
            ):
                port = q["port"]
        if port is None:
            continue
        for e in o.get("endpoints") or []:
            if e["conditions"].get("ready"):
                out.append((e["addresses"][0], port, e.get("nodeName", "")))
    return sorted(out, key=lambda t: (ipaddress.ip_address(t[0]), t[1]))


def iptables_save(
    c: Cluster,
    node: str,
    *,
    override: dict[str, list[tuple[str, int, str]]] | None = None,
    stamp: str = "Sun Nov 22 10:41:07 2026",
) -> str:
    """kube-proxy iptables mode rules for every Service, as ``iptables-save`` prints them.

    ``override`` maps "ns/name:port" to the endpoint list kube-proxy last programmed
    (to plant stale rules)."""
    override = override or {}
    filt_chains = [
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":KUBE-EXTERNAL-SERVICES - [0:0]",
        ":KUBE-FIREWALL - [0:0]",
        ":KUBE-FORWARD - [0:0]",
        ":KUBE-KUBELET-CANARY - [0:0]",
        ":KUBE-NODEPORTS - [0:0]",
        ":KUBE-PROXY-CANARY - [0:0]",
        ":KUBE-PROXY-FIREWALL - [0:0]",
        ":KUBE-SERVICES - [0:0]",
    ]
    filt_rules = [
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
        '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        "-A INPUT -j KUBE-FIREWALL",
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
        '-A OUTPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        "-A OUTPUT -j KUBE-FIREWALL",
        '-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
        "-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name  ct_state_invalid_dropped_pkts -j DROP",
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ]
    nat_chains = [
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        ":KUBE-KUBELET-CANARY - [0:0]",
        ":KUBE-MARK-MASQ - [0:0]",
        ":KUBE-NODEPORTS - [0:0]",
        ":KUBE-POSTROUTING - [0:0]",
        ":KUBE-PROXY-CANARY - [0:0]",
        ":KUBE-SERVICES - [0:0]",
    ]
    nat_head = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ]
    services_rules: list[str] = []
    nodeport_rules: list[str] = []
    chain_rules: list[str] = []
    new_chains: set[str] = set()
    for svc in sorted(
        c.services, key=lambda s: (s["metadata"]["namespace"], s["metadata"]["name"])
    ):
        spec = svc["spec"]
        if spec.get("clusterIP") in (None, "None") or spec.get("type") == "ExternalName":
            continue
        for sp in spec["ports"]:
            spn = _svc_port_name(svc, sp)
            proto = sp.get("protocol", "TCP").lower()
            cip = spec["clusterIP"]
            if spn in override:
                eps = override[spn]
            elif (
                svc["metadata"]["name"] == "kubernetes"
                and svc["metadata"]["namespace"] == "default"
            ):
                eps = [(c.apiserver_ip or c.node_ip[next(iter(c.nodes))], 6443, "")]
            else:
                eps = ready_endpoints(c, svc, sp)
            svc_chain = "KUBE-SVC-" + kube_proxy_hash(spn + proto)
            ext_chain = "KUBE-EXT-" + kube_proxy_hash(spn + proto)
            svl_chain = "KUBE-SVL-" + kube_proxy_hash(spn + proto)
            np = sp.get("nodePort")
            local_ext = spec.get("externalTrafficPolicy") == "Local" and np
            local_int = spec.get("internalTrafficPolicy") == "Local"
            local_eps = [e for e in eps if e[2] == node]
            if not eps:
                filt_rules.append(
                    f'-A KUBE-SERVICES -d {cip}/32 -p {proto} -m comment --comment "{spn} has no endpoints" -m {proto} --dport {sp["port"]} -j REJECT --reject-with icmp-port-unreachable'
                )
                if np:
                    filt_rules.append(
                        f'-A KUBE-EXTERNAL-SERVICES -p {proto} -m comment --comment "{spn} has no endpoints" -m addrtype --dst-type LOCAL -m {proto} --dport {np} -j REJECT --reject-with icmp-port-unreachable'
                    )
                continue
            if local_int and not local_eps:
                filt_rules.append(
                    f'-A KUBE-SERVICES -d {cip}/32 -p {proto} -m comment --comment "{spn} has no local endpoints" -m {proto} --dport {sp["port"]} -j DROP'
                )
            elif local_int:
                new_chains.add(svl_chain)
                services_rules.append(
                    f'-A KUBE-SERVICES -d {cip}/32 -p {proto} -m comment --comment "{spn} cluster IP" -m {proto} --dport {sp["port"]} -j {svl_chain}'
                )
            else:
                new_chains.add(svc_chain)
                services_rules.append(
                    f'-A KUBE-SERVICES -d {cip}/32 -p {proto} -m comment --comment "{spn} cluster IP" -m {proto} --dport {sp["port"]} -j {svc_chain}'
                )
            for lb in svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []:
                if lb.get("ip"):
                    services_rules.append(
                        f'-A KUBE-SERVICES -d {lb["ip"]}/32 -p {proto} -m comment --comment "{spn} loadbalancer IP" -m {proto} --dport {sp["port"]} -j {ext_chain}'
                    )
            if np:
                if local_ext and not local_eps:
                    filt_rules.append(
                        f'-A KUBE-EXTERNAL-SERVICES -p {proto} -m comment --comment "{spn} has no local endpoints" -m addrtype --dst-type LOCAL -m {proto} --dport {np} -j DROP'
                    )
                else:
                    new_chains.add(ext_chain)
                    nodeport_rules.append(
                        f'-A KUBE-NODEPORTS -p {proto} -m comment --comment "{spn}" -m {proto} --dport {np} -j {ext_chain}'
                    )
                    if local_ext:
                        new_chains.add(svl_chain)
                        chain_rules.append(
                            f'-A {ext_chain} -s {CLUSTER_CIDR} -m comment --comment "pod traffic for {spn} external destinations" -j {svc_chain}'
                        )
                        chain_rules.append(
                            f'-A {ext_chain} -m comment --comment "masquerade LOCAL traffic for {spn} external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ'
                        )
                        chain_rules.append(
                            f'-A {ext_chain} -m comment --comment "route LOCAL traffic for {spn} external destinations" -m addrtype --src-type LOCAL -j {svc_chain}'
                        )
                        chain_rules.append(f"-A {ext_chain} -j {svl_chain}")
                    else:
                        chain_rules.append(
                            f'-A {ext_chain} -m comment --comment "masquerade traffic for {spn} external destinations" -j KUBE-MARK-MASQ'
                        )
                        chain_rules.append(f"-A {ext_chain} -j {svc_chain}")
            seps = []
            for ip, port, _n in eps:
                sep = "KUBE-SEP-" + kube_proxy_hash(spn + proto + f"{ip}:{port}")
                seps.append((sep, ip, port))
                new_chains.add(sep)
            if svc_chain in new_chains:
                chain_rules.append(
                    f'-A {svc_chain} ! -s {CLUSTER_CIDR} -d {cip}/32 -p {proto} -m comment --comment "{spn} cluster IP" -m {proto} --dport {sp["port"]} -j KUBE-MARK-MASQ'
                )
                chain_rules += _balance(svc_chain, spn, seps)
            if svl_chain in new_chains:
                chain_rules += _balance(
                    svl_chain, spn, [s for s, e in zip(seps, eps, strict=True) if e[2] == node]
                )
            for sep, ip, port in seps:
                chain_rules.append(
                    f'-A {sep} -s {ip}/32 -m comment --comment "{spn}" -j KUBE-MARK-MASQ'
                )
                chain_rules.append(
                    f'-A {sep} -p {proto} -m comment --comment "{spn}" -m {proto} -j DNAT --to-destination {ip}:{port}'
                )
    services_rules.append(
        '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
    )
    # iptables-save orders user chains by name in the header.
    nat_chains += [f":{ch} - [0:0]" for ch in sorted(new_chains)]
    head = f"# Generated by iptables-save v1.8.9 (nf_tables) on {stamp}"
    tail = f"# Completed on {stamp}"
    mangle = [
        head,
        "*mangle",
        ":PREROUTING ACCEPT [0:0]",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
        ":KUBE-IPTABLES-HINT - [0:0]",
        ":KUBE-KUBELET-CANARY - [0:0]",
        ":KUBE-PROXY-CANARY - [0:0]",
        "COMMIT",
        tail,
    ]
    filt = [head, "*filter", *filt_chains, *filt_rules, "COMMIT", tail]
    nat = [
        head,
        "*nat",
        *nat_chains,
        *nat_head,
        *nodeport_rules,
        *services_rules,
        *chain_rules,
        "COMMIT",
        tail,
    ]
    return "\n".join(mangle + filt + nat) + "\n"


def _balance(chain: str, spn: str, seps: list[tuple[str, str, int]]) -> list[str]:
    out = []
    n = len(seps)
    for i, (sep, ip, port) in enumerate(seps):
        if i < n - 1:
            prob = 1.0 / (n - i)
            out.append(
                f'-A {chain} -m comment --comment "{spn} -> {ip}:{port}" -m statistic --mode random --probability {prob:.11f} -j {sep}'
            )
        else:
            out.append(f'-A {chain} -m comment --comment "{spn} -> {ip}:{port}" -j {sep}')
    return out


def conntrack_s(
    cpus: int, *, seed: str, insert_failed: int = 0, drop: int = 0, early_drop: int = 0
) -> str:
    """``conntrack -S`` (conntrack-tools 1.4.7 on a 6.x kernel: found/insert are always 0)."""
    weights = [1 + int(hexid(4, seed, "w", str(cpu)), 16) % 7 for cpu in range(cpus)]
    total = sum(weights)

    def share(n: int, cpu: int) -> int:
        if not n:
            return 0
        if cpu == cpus - 1:
            return n - sum(n * w // total for w in weights[:-1])
        return n * weights[cpu] // total

    lines = []
    for cpu in range(cpus):
        d = int(hexid(8, seed, str(cpu)), 16)
        lines.append(
            f"cpu={cpu:<4}\tfound=0 invalid={20 + d % 400} insert=0 insert_failed={share(insert_failed, cpu)} "
            f"drop={share(drop, cpu)} early_drop={share(early_drop, cpu)} error=0 "
            f"search_restart={d % 37} clash_resolve={d % 11} chaintoolong=0 "
        )
    return "\n".join(lines) + "\n"


def sysctl_txt(ct_max: int, extra: dict[str, str] | None = None) -> str:
    vals = {
        "net.bridge.bridge-nf-call-ip6tables": "1",
        "net.bridge.bridge-nf-call-iptables": "1",
        "net.core.somaxconn": "4096",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.ip_forward": "1",
        "net.ipv4.ip_local_port_range": "32768\t60999",
        "net.ipv4.tcp_mtu_probing": "0",
        "net.netfilter.nf_conntrack_buckets": str(max(ct_max // 4, 16384)),
        "net.netfilter.nf_conntrack_max": str(ct_max),
        "net.netfilter.nf_conntrack_tcp_timeout_close_wait": "3600",
        "net.netfilter.nf_conntrack_tcp_timeout_established": "86400",
        "net.netfilter.nf_conntrack_tcp_timeout_time_wait": "120",
        "net.netfilter.nf_conntrack_udp_timeout": "30",
        "net.netfilter.nf_conntrack_udp_timeout_stream": "120",
    }
    vals.update(extra or {})
    return "".join(f"{k} = {v}\n" for k, v in sorted(vals.items()))


def node_resolv_conf(c: Cluster, node: str) -> str:
    gw = ipaddress.ip_network(c.node_ip[node] + "/24", strict=False)[1]
    return f"# Generated by NetworkManager\nsearch corp.example.internal\nnameserver {gw}\n"


def calico_conflist(mtu: int) -> str:
    text = (
        CALICO_CNI_CONFIG.replace("__CNI_MTU__", str(mtu))
        .replace('"nodename": "__KUBERNETES_NODE_NAME__"', '"nodename": "__NODE__"')
        .replace("__KUBECONFIG_FILEPATH__", "/etc/cni/net.d/calico-kubeconfig")
    )
    return text + "\n"


def flannel_conflist(mtu: int | None = None) -> str:
    if mtu is None:
        return FLANNEL_CNI_CONF
    return FLANNEL_CNI_CONF.replace(
        '"hairpinMode": true,', f'"hairpinMode": true,\n        "mtu": {mtu},'
    )


def write_nodes(
    c: Cluster,
    folder: Path,
    *,
    ct: dict[str, tuple[int, int]] | None = None,
    ct_counters: dict[str, dict[str, int]] | None = None,
    overlay_mtu: dict[str, int] | None = None,
    pod_mtu: dict[str, int] | None = None,
    cni_mtu: dict[str, int] | None = None,
    iptables_override: dict[str, dict[str, list[tuple[str, int, str]]]] | None = None,
    nodes: list[str] | None = None,
) -> None:
    """Write ``nodes/<node>/`` artifacts consistent with the cluster."""
    for node in nodes or list(c.nodes):
        d = folder / "nodes" / node
        (d / "cni").mkdir(parents=True, exist_ok=True)
        count, mx = (ct or {}).get(node, (4000 + int(hexid(4, c.name, node), 16) % 9000, 262144))
        counters = (ct_counters or {}).get(node, {})
        (d / "ip-route.txt").write_text(ip_route(c, node))
        (d / "ip-d-link.txt").write_text(
            ip_d_link(
                c,
                node,
                overlay_mtu=(overlay_mtu or {}).get(node),
                pod_mtu=(pod_mtu or {}).get(node),
            )
        )
        if c.kube_proxy_mode == "iptables":
            (d / "iptables-save.txt").write_text(
                iptables_save(c, node, override=(iptables_override or {}).get(node))
            )
        (d / "conntrack-S.txt").write_text(conntrack_s(4, seed=c.name + node, **counters))
        (d / "nf_conntrack_count").write_text(f"{count}\n")
        (d / "nf_conntrack_max").write_text(f"{mx}\n")
        (d / "sysctl.txt").write_text(sysctl_txt(mx))
        (d / "resolv.conf").write_text(node_resolv_conf(c, node))
        if c.cni == "calico":
            mtu = (cni_mtu or {}).get(node, c.underlay_mtu - 20)
            (d / "cni" / "10-calico.conflist").write_text(
                calico_conflist(mtu).replace("__NODE__", node)
            )
        elif c.cni == "flannel":
            (d / "cni" / "10-flannel.conflist").write_text(
                flannel_conflist((cni_mtu or {}).get(node))
            )


def all_ready(pods: list[Obj]) -> bool:
    return all(pod_ready(p) for p in pods)


__all__ = [
    "COREFILE",
    "Any",
    "all_ready",
    "base",
    "calico",
    "find_port",
    "flannel",
    "http_probe",
    "iptables_save",
    "kindnet",
    "write_nodes",
]

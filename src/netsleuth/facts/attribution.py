"""Attribution: the object a person changes to fix what a finding or a broken hop reports.

A symptom shows on a pod, but nobody edits a pod: its Deployment's controller
would undo the change. What a report must name first is the object whose
spec holds the fault, and the layer that object belongs to:

- a pod → its top-level owner through ``ownerReferences`` (Pod → ReplicaSet
  → Deployment, Job → CronJob, StatefulSet → the operator custom resource
  that created it when its kind is known: prometheus-operator's
  ``Prometheus``/``Alertmanager``, Strimzi ``Kafka``, CloudNativePG
  ``Cluster``…), present in the input or named by the reference;
- a node-local agent → its DaemonSet (the CNI agent, kube-proxy);
- a control-plane setting → the flag on the component's static pod
  (kube-controller-manager ``--node-cidr-mask-size``/``--cluster-cidr``,
  kube-apiserver ``--service-cluster-ip-range``) and kubeadm's
  ``kubeadm-config`` ConfigMap, which ``kubeadm upgrade`` rewrites the
  manifests from.

The pods stay in the evidence; the :class:`Culprit` is the subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netsleuth.facts import ownership
from netsleuth.facts.cni_detect import CNI_DAEMONSETS, primary_cni
from netsleuth.facts.ipam_capacity import node_capacities
from netsleuth.facts.ipam_events import is_ip_allocation_failure, is_sandbox_failure
from netsleuth.model.cluster import WORKLOAD_KINDS, ClusterModel
from netsleuth.model.findings import Layer, Subject
from netsleuth.model.objects import Meta, NetworkPolicy, Node, Pod
from netsleuth.policy import Direction, DirectionDecision, policies_selecting

# (API group, kind) of operator custom resources known to own the workloads that run
# their pods: editing the StatefulSet is undone by the operator, the CR is what to change.
KNOWN_OPERATOR_KINDS: dict[tuple[str, str], str] = {
    ("monitoring.coreos.com", "Prometheus"): "prometheus-operator",
    ("monitoring.coreos.com", "Alertmanager"): "prometheus-operator",
    ("monitoring.coreos.com", "ThanosRuler"): "prometheus-operator",
    ("monitoring.coreos.com", "PrometheusAgent"): "prometheus-operator",
    ("kafka.strimzi.io", "Kafka"): "Strimzi",
    ("kafka.strimzi.io", "KafkaConnect"): "Strimzi",
    ("kafka.strimzi.io", "KafkaMirrorMaker2"): "Strimzi",
    ("core.strimzi.io", "StrimziPodSet"): "Strimzi",
    ("postgresql.cnpg.io", "Cluster"): "CloudNativePG",
    ("elasticsearch.k8s.elastic.co", "Elasticsearch"): "ECK",
    ("kibana.k8s.elastic.co", "Kibana"): "ECK",
    ("rabbitmq.com", "RabbitmqCluster"): "RabbitMQ cluster operator",
    ("argoproj.io", "Rollout"): "Argo Rollouts",
}


def _group(api_version: str) -> str:
    return api_version.split("/", 1)[0] if "/" in api_version else ""


def known_operator(api_version: str, kind: str) -> str | None:
    """The operator that owns ``kind`` (``prometheus-operator``), if it is one we know."""
    return KNOWN_OPERATOR_KINDS.get((_group(api_version), kind))


@dataclass(frozen=True, slots=True)
class Culprit:
    """The object to change, the field or flag on it, and the layer it belongs to."""

    kind: str
    namespace: str | None
    name: str
    layer: Layer | None = None
    field: str = ""
    """What to change on it: ``spec.selector``, ``--node-cidr-mask-size``."""
    present: bool = True
    """The object is in the input (else a reference or a convention names it)."""
    meta: Meta | None = None
    via: str = ""
    """How it was found, when not directly: ``ownerReferences``, ``pod-template-hash label``."""

    def ref(self) -> str:
        return (
            f"{self.kind}/{self.namespace}/{self.name}"
            if self.namespace
            else f"{self.kind}/{self.name}"
        )

    def subject(self) -> Subject:
        return Subject(self.kind, self.namespace, self.name)

    def with_layer(self, layer: Layer, field: str = "") -> Culprit:
        return Culprit(
            self.kind,
            self.namespace,
            self.name,
            layer,
            field or self.field,
            self.present,
            self.meta,
            self.via,
        )


# --------------------------------------------------------------------------- pods


def _link_meta(model: ClusterModel, link: ownership.OwnerLink) -> Meta | None:
    objects = ownership._objects_by_key(model)
    return objects.get((link.kind, link.namespace, link.name))


def workload_of(model: ClusterModel, pod: Pod) -> Culprit:
    """The object that manages ``pod``: its top owner, else the pod.

    The top of the ``ownerReferences`` chain is named when the input holds it,
    when it is a workload kind or a known operator kind (even if only the
    reference names it: a Deployment's ReplicaSet points to it), and a
    ReplicaSet missing from the input is followed to its Deployment by the
    ``pod-template-hash`` naming convention. An owner of an unknown kind that
    is not in the input stops the walk at the highest object we know.
    A derived pod (a workload template) names its workload.
    """
    chain = ownership.pod_ownership(model, pod).chain
    best: ownership.OwnerLink | None = None
    for link in chain:
        if (
            link.present
            or link.kind in WORKLOAD_KINDS
            or known_operator(link.api_version, link.kind) is not None
        ):
            best = link
        else:
            break
    if best is not None and not best.present and best.kind == "ReplicaSet":
        h = pod.labels.get("pod-template-hash")
        if h and best.name.endswith("-" + h):
            return Culprit(
                "Deployment",
                pod.namespace,
                best.name[: -len(h) - 1],
                present=False,
                via="pod-template-hash label",
            )
    if best is not None:
        return Culprit(
            best.kind,
            best.namespace,
            best.name,
            present=best.present,
            meta=_link_meta(model, best) if best.present else None,
            via=best.via,
        )
    return Culprit("Pod", pod.namespace, pod.name, meta=pod.meta)


def workload_ref(model: ClusterModel, pod: Pod) -> str:
    """``Deployment/ns/name`` (or ``Pod/ns/name`` for a bare pod)."""
    return workload_of(model, pod).ref()


def workloads_of(model: ClusterModel, pods: list[Pod]) -> list[Culprit]:
    """The distinct managing objects of ``pods``, in first-seen order."""
    out: dict[str, Culprit] = {}
    for p in pods:
        c = workload_of(model, p)
        out.setdefault(c.ref(), c)
    return list(out.values())


# --------------------------------------------------------------------------- node-local agents


def cni_agent(model: ClusterModel) -> Culprit | None:
    """The CNI agent DaemonSet (``calico-node``, ``cilium``, ``kube-flannel-ds``…), layer cni."""
    info = primary_cni(model)
    if info is None:
        return None
    ds = info.daemonset
    if ds is not None:
        return Culprit("DaemonSet", ds.namespace, ds.name, Layer.CNI, meta=ds.meta)
    for w in model.workloads:
        if w.kind == "DaemonSet" and CNI_DAEMONSETS.get(w.name) == info.name:
            return Culprit("DaemonSet", w.namespace, w.name, Layer.CNI, meta=w.meta)
    return None


def kube_proxy(model: ClusterModel) -> Culprit:
    """kube-proxy's DaemonSet (kubeadm installs ``kube-system/kube-proxy``), layer kube-proxy."""
    w = model.workload("DaemonSet", "kube-system", "kube-proxy")
    if w is not None:
        return Culprit("DaemonSet", "kube-system", "kube-proxy", Layer.KUBE_PROXY, meta=w.meta)
    return Culprit("DaemonSet", "kube-system", "kube-proxy", Layer.KUBE_PROXY, present=False)


# --------------------------------------------------------------------------- policies


def isolating_policy(model: ClusterModel, pod: Pod, direction: Direction) -> NetworkPolicy | None:
    """The NetworkPolicy whose ``policyTypes`` isolates ``pod`` in ``direction`` — what to
    change when traffic the pod needs is denied and no rule even aims at it.

    Every policy selecting the pod for a direction isolates it there; the one
    to name is the policy that lists the direction *without rules for it*
    (a default-deny, or ``policyTypes: [Ingress, Egress]`` on a policy written
    only for ingress): that is the policy that took the traffic away. Among
    several, one that declared ``policyTypes`` explicitly, then by name.
    Policies with rules for the direction come next (their rules are what
    would admit the traffic).
    """
    pols = policies_selecting(model, pod, direction)
    if not pols:
        return None

    def rules(p: NetworkPolicy) -> int:
        return len(p.egress if direction is Direction.EGRESS else p.ingress)

    def declared(p: NetworkPolicy) -> bool:
        d = p.declared_policy_types or ()
        return ("Egress" if direction is Direction.EGRESS else "Ingress") in d

    return sorted(pols, key=lambda p: (rules(p) > 0, not declared(p), p.name))[0]


def denying_policy(model: ClusterModel, pod: Pod | None, d: DirectionDecision) -> Culprit | None:
    """The policy to change when the engine's decision ``d`` denies a connection.

    - an AdminNetworkPolicy/BaselineAdminNetworkPolicy Deny rule that matched;
    - else the NetworkPolicy whose rule for this direction came closest (it
      exists and names other peers or ports: admitting this client belongs
      there);
    - else the policy whose ``policyTypes`` isolates ``pod`` with no rule for
      the direction (:func:`isolating_policy`).
    """
    layer = Layer.POLICY_EGRESS if d.direction is Direction.EGRESS else Layer.POLICY_INGRESS
    field = "spec.egress" if d.direction is Direction.EGRESS else "spec.ingress"
    for tier in (d.admin, d.baseline):
        if tier is not None and tier.action == "Deny" and tier.rule is not None:
            p = tier.rule.policy
            return Culprit(p.kind, p.namespace, p.name, layer, field)
    for m in d.misses:
        if m.policy.kind == "NetworkPolicy":
            pol = _policy(model, m.policy.namespace, m.policy.name)
            return Culprit(
                "NetworkPolicy",
                m.policy.namespace,
                m.policy.name,
                layer,
                f"{field}[{m.rule}]",
                meta=pol.meta if pol is not None else None,
            )
    if pod is not None:
        pol = isolating_policy(model, pod, d.direction)
        if pol is not None:
            return policy_culprit(pol, d.direction)
    if d.selecting:
        p = d.selecting[0]
        return Culprit(p.kind, p.namespace, p.name, layer, field)
    return None


def _policy(model: ClusterModel, namespace: str | None, name: str) -> NetworkPolicy | None:
    return next((p for p in model.policies_in(namespace or "") if p.name == name), None)


def policy_culprit(pol: NetworkPolicy, direction: Direction) -> Culprit:
    layer = Layer.POLICY_EGRESS if direction is Direction.EGRESS else Layer.POLICY_INGRESS
    return Culprit(
        "NetworkPolicy",
        pol.namespace,
        pol.name,
        layer,
        "spec.egress" if direction is Direction.EGRESS else "spec.ingress",
        meta=pol.meta,
    )


# --------------------------------------------------------------------------- control plane


# kubeadm ClusterConfiguration keys per flag: (section, extraArgs key) or networking key.
_KUBEADM_NETWORKING = {
    "--cluster-cidr": "podSubnet",
    "--service-cluster-ip-range": "serviceSubnet",
}

# Upstream defaults of the flags we read (kube-controller-manager, kube-apiserver reference).
FLAG_DEFAULTS = {
    ("kube-controller-manager", "--node-cidr-mask-size"): "24",
}


@dataclass(frozen=True, slots=True)
class ControlPlaneSetting:
    """A control-plane flag: where it is set, its value, and what a person edits."""

    component: str
    flag: str
    value: str | None
    """As set on the component's command line or in kubeadm-config; ``None`` when unset."""
    default: str | None
    culprit: Culprit
    source: str
    """The object the value was read from (``Pod/kube-system/kube-controller-manager-cp-1``)."""
    source_field: str
    """Where on it (``spec.containers[kube-controller-manager].command``)."""
    kubeadm: bool
    """kubeadm-config is in the input: the fix must go there too, or an upgrade undoes it."""

    @property
    def effective(self) -> str | None:
        return self.value if self.value is not None else self.default

    def describe(self) -> str:
        v = self.value if self.value is not None else f"unset (default {self.default})"
        return f"{self.component} {self.flag}={v}"


def _static_pod(model: ClusterModel, component: str) -> Pod | None:
    for p in model.pods_by_namespace.get("kube-system", ()):
        if p.meta.derived:
            continue
        named = p.labels.get("component") == component or p.name.startswith(component + "-")
        if named and (any(o.kind == "Node" for o in p.meta.owner_refs) or "component" in p.labels):
            return p
    return None


def _flag_on_pod(pod: Pod, flag: str) -> str | None:
    for c in pod.spec.containers:
        args = (*c.command, *c.args)
        for i, arg in enumerate(args):
            if arg.startswith(flag + "="):
                return arg.split("=", 1)[1]
            if arg == flag and i + 1 < len(args):
                return args[i + 1]
    return None


def _kubeadm_value(model: ClusterModel, component: str, flag: str) -> str | None:
    cm = model.config_map("kube-system", "kubeadm-config")
    if cm is None:
        return None
    text = cm.data.get("ClusterConfiguration", "")
    key = _KUBEADM_NETWORKING.get(flag)
    if key is not None:
        m = re.search(rf"^\s*{key}:\s*[\"']?([^\"'\s]+)", text, re.MULTILINE)
        if m:
            return m.group(1)
    section = {
        "kube-controller-manager": "controllerManager",
        "kube-apiserver": "apiServer",
        "kube-scheduler": "scheduler",
    }.get(component)
    if section is None:
        return None
    name = flag.lstrip("-")
    m = re.search(rf"^{section}:\s*\n((?:[ \t]+.*\n?)*)", text, re.MULTILINE)
    if not m:
        return None
    body = m.group(1)
    # v1beta3: extraArgs is a map ("node-cidr-mask-size: \"26\"").
    mm = re.search(rf"^\s*{re.escape(name)}:\s*[\"']?([^\"'\s]+)", body, re.MULTILINE)
    if mm:
        return mm.group(1)
    # v1beta4: a list of {name, value}.
    mm = re.search(
        rf"-\s*name:\s*[\"']?{re.escape(name)}[\"']?\s*\n\s*value:\s*[\"']?([^\"'\s]+)", body
    )
    return mm.group(1) if mm else None


def control_plane_setting(
    model: ClusterModel, component: str, flag: str, layer: Layer
) -> ControlPlaneSetting:
    """The flag ``flag`` of ``component`` as the input shows it, with the object to change.

    The static pod's command line is what runs; kubeadm-config is what
    ``kubeadm upgrade`` regenerates it from. The culprit is the static pod
    when the input has it, else kubeadm-config, else the component itself
    (``ControlPlane/kube-controller-manager``, not in the input: a managed
    control plane, changed through the provider).
    """
    has_kubeadm = model.config_map("kube-system", "kubeadm-config") is not None
    pod = _static_pod(model, component)
    default = FLAG_DEFAULTS.get((component, flag))
    if pod is not None:
        value = _flag_on_pod(pod, flag)
        return ControlPlaneSetting(
            component,
            flag,
            value,
            default,
            Culprit("Pod", pod.namespace, pod.name, layer, flag, meta=pod.meta),
            f"Pod/{pod.namespace}/{pod.name}",
            f"spec.containers[{component}].command {flag}",
            has_kubeadm,
        )
    if has_kubeadm:
        cm = model.config_map("kube-system", "kubeadm-config")
        assert cm is not None
        return ControlPlaneSetting(
            component,
            flag,
            _kubeadm_value(model, component, flag),
            default,
            Culprit("ConfigMap", "kube-system", "kubeadm-config", layer, flag, meta=cm.meta),
            "ConfigMap/kube-system/kubeadm-config",
            f"data.ClusterConfiguration {flag.lstrip('-')}",
            True,
        )
    return ControlPlaneSetting(
        component,
        flag,
        None,
        default,
        Culprit("ControlPlane", None, component, layer, flag, present=False),
        f"ControlPlane/{component}",
        f"{flag} (not in the input)",
        False,
    )


# --------------------------------------------------------------------------- IPAM


def node_range_short(model: ClusterModel, node: Node) -> tuple[str, int] | None:
    """``(podCIDR, pod addresses)`` when the node's pods take addresses from its podCIDR and the
    range holds fewer (net of the addresses IPAM reserves) than the kubelet admits pods."""
    if node.capacity_pods is None:
        return None
    for c in node_capacities(model):
        if c.node == node.name and c.network.version == 4 and c.short:
            return c.cidr, c.usable
    return None


def node_mask_setting(model: ClusterModel) -> ControlPlaneSetting:
    """kube-controller-manager ``--node-cidr-mask-size``: what cut the node ranges."""
    return control_plane_setting(
        model, "kube-controller-manager", "--node-cidr-mask-size", Layer.IPAM
    )


def sandbox_blocker(model: ClusterModel, pod: Pod) -> Culprit | None:
    """What to change when ``pod`` never got a sandbox (FailedCreatePodSandBox events).

    An IP pool that ran out on a node whose range is smaller than its maxPods
    → the ``--node-cidr-mask-size`` flag; an IP pool that ran out otherwise →
    the node (layer ipam); any other CNI failure → the CNI agent DaemonSet
    (layer cni). ``None`` when the pod shows no such failure.
    """
    events = [e for e in model.events_for("Pod", pod.namespace, pod.name) if is_sandbox_failure(e)]
    if (
        not events
        or pod.meta.derived
        or any(cs.state == "running" for cs in pod.container_statuses)
    ):
        return None
    node = model.nodes.get(pod.node_name or "")
    if any(is_ip_allocation_failure(e) for e in events):
        if node is not None and node_range_short(model, node) is not None:
            return node_mask_setting(model).culprit
        if node is not None:
            return Culprit("Node", None, node.name, Layer.IPAM, "spec.podCIDRs", meta=node.meta)
        return None
    agent = cni_agent(model)
    if agent is not None:
        return agent
    if node is not None:
        return Culprit("Node", None, node.name, Layer.CNI, meta=node.meta)
    return None


__all__ = [
    "KNOWN_OPERATOR_KINDS",
    "ControlPlaneSetting",
    "Culprit",
    "cni_agent",
    "control_plane_setting",
    "denying_policy",
    "isolating_policy",
    "known_operator",
    "kube_proxy",
    "node_mask_setting",
    "node_range_short",
    "policy_culprit",
    "sandbox_blocker",
    "workload_of",
    "workload_ref",
    "workloads_of",
]

"""Workloads an operator creates from a custom resource: the pods a Service may select although
the input holds neither them nor a Deployment for them.

prometheus-operator turns a ``Prometheus``, ``Alertmanager``, ``ThanosRuler``
or ``PrometheusAgent`` into a StatefulSet whose pods carry labels the operator
sets itself, plus the CR's ``spec.podMetadata.labels``
(https://github.com/prometheus-operator/prometheus-operator, pkg/prometheus,
pkg/alertmanager, pkg/thanos: ``app.kubernetes.io/name``,
``app.kubernetes.io/instance``, ``app.kubernetes.io/managed-by:
prometheus-operator``, and ``prometheus: <name>`` / ``alertmanager: <name>`` /
``thanos-ruler: <name>``). In applied manifests (kube-prometheus), Services such
as ``prometheus-k8s`` select exactly those labels: they are not Services with no
endpoints, their pods appear when the operator reconciles the CR.

The CR counts as the workload (and is what a person changes: editing the
StatefulSet is undone by the operator).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netsleuth.model.cluster import ClusterModel
from netsleuth.model.objects import CustomObject, Meta, UnknownObject

MANAGED_BY = "prometheus-operator"

# kind -> (app.kubernetes.io/name, the per-CR label key, container ports (name, port, protocol))
PROMETHEUS_OPERATOR_KINDS: dict[str, tuple[str, str | None, tuple[tuple[str, int, str], ...]]] = {
    "Prometheus": ("prometheus", "prometheus", (("web", 9090, "TCP"),)),
    "PrometheusAgent": ("prometheus-agent", None, (("web", 9090, "TCP"),)),
    "Alertmanager": (
        "alertmanager",
        "alertmanager",
        (("web", 9093, "TCP"), ("tcp-mesh", 9094, "TCP"), ("udp-mesh", 9094, "UDP")),
    ),
    "ThanosRuler": (
        "thanos-ruler",
        "thanos-ruler",
        (("web", 10902, "TCP"), ("grpc", 10901, "TCP")),
    ),
}
GROUP = "monitoring.coreos.com"

# Labels whose value the operator derives from things the input may not show (its own
# version): a selector on them neither proves nor disproves a match.
UNKNOWABLE_KEYS = frozenset({"app.kubernetes.io/version"})


@dataclass(frozen=True, slots=True)
class OperatorWorkload:
    """The pods an operator creates for one custom resource, as far as its labels are known."""

    kind: str
    namespace: str
    name: str
    operator: str
    labels: Mapping[str, str]
    ports: tuple[tuple[str, int, str], ...]

    def ref(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}"

    def could_select(self, selector: Mapping[str, str]) -> bool:
        """Whether a Service selector matches these pods (keys the operator derives from its own
        version are taken as matching)."""
        return bool(selector) and all(
            self.labels.get(k) == v or k in UNKNOWABLE_KEYS for k, v in selector.items()
        )


def _spec(obj: Any) -> Mapping[str, Any]:
    spec = getattr(obj, "spec", None)
    if isinstance(spec, Mapping):
        return spec
    raw = getattr(obj, "raw", None)
    if isinstance(raw, Mapping) and isinstance(raw.get("spec"), Mapping):
        s: Mapping[str, Any] = raw["spec"]
        return s
    return {}


def _custom_objects(model: ClusterModel) -> list[CustomObject | UnknownObject]:
    return [*model.custom, *model.unknown]


def custom_resource_meta(model: ClusterModel, w: OperatorWorkload) -> Meta:
    """The CR's metadata (file and line for SARIF), or a bare one."""
    for o in _custom_objects(model):
        if (
            o.kind == w.kind
            and o.meta.name == w.name
            and (o.meta.namespace or "default") == w.namespace
        ):
            return o.meta
    return Meta(name=w.name, namespace=w.namespace)


def operator_workloads(model: ClusterModel) -> tuple[OperatorWorkload, ...]:
    """Every known operator CR in the input, with the labels its pods get."""

    def build() -> tuple[OperatorWorkload, ...]:
        out: list[OperatorWorkload] = []
        for obj in _custom_objects(model):
            entry = PROMETHEUS_OPERATOR_KINDS.get(obj.kind)
            if entry is None or not obj.api_version.startswith(GROUP + "/"):
                continue
            app, key, ports = entry
            name, ns = obj.meta.name, obj.meta.namespace or "default"
            labels = {
                "app.kubernetes.io/name": app,
                "app.kubernetes.io/instance": name,
                "app.kubernetes.io/managed-by": MANAGED_BY,
                "operator.prometheus.io/name": name,
            }
            if key is not None:
                labels[key] = name
            meta = _spec(obj).get("podMetadata")
            extra = meta.get("labels") if isinstance(meta, Mapping) else None
            if isinstance(extra, Mapping):
                labels.update({str(k): str(v) for k, v in extra.items()})
            out.append(OperatorWorkload(obj.kind, ns, name, MANAGED_BY, labels, ports))
        return tuple(out)

    return model.memoised("facts.operator_workloads", build)


def operator_for_selector(
    model: ClusterModel, namespace: str, selector: Mapping[str, str] | None
) -> OperatorWorkload | None:
    """The operator CR of ``namespace`` whose pods a Service ``selector`` selects, if any."""
    if not selector:
        return None
    for w in operator_workloads(model):
        if w.namespace == namespace and w.could_select(selector):
            return w
    return None


__all__ = [
    "OperatorWorkload",
    "custom_resource_meta",
    "operator_for_selector",
    "operator_workloads",
]

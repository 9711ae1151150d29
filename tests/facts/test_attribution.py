"""Attribution: the object a person changes, for pods (through their owners), policies and
control-plane flags; and every scenario's scan names its culprit, filed under its layer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from netsleuth.checks.base import load_all, run_checks
from netsleuth.facts.attribution import (
    control_plane_setting,
    isolating_policy,
    workload_of,
)
from netsleuth.model.cluster import ClusterModel
from netsleuth.model.findings import Layer
from netsleuth.policy import Direction
from netsleuth.sources.load import load_offline

DATA = Path(__file__).parent / "attribution.yaml"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


@pytest.fixture(scope="module")
def model() -> ClusterModel:
    return load_offline([str(DATA)])


@pytest.mark.parametrize(
    ("ns", "pod", "culprit", "present"),
    [
        # the operator recreates the StatefulSet from the Prometheus CR
        ("monitoring", "prometheus-k8s-0", "Prometheus/monitoring/k8s", True),
        # a known operator kind is named even when the dump lacks the CR
        ("monitoring", "alertmanager-main-0", "Alertmanager/monitoring/main", False),
        # an unknown owner kind that is not in the input: stop at what we know
        ("shop", "widget-db-0", "StatefulSet/shop/widget-db", True),
        # ReplicaSet and Deployment both absent: pod-template-hash names the Deployment
        ("shop", "cart-6d8f7b9c4d-x7k2p", "Deployment/shop/cart", False),
        ("shop", "report-28391040-7xk2d", "CronJob/shop/report", True),
        # a static pod is its own object (its manifest lives on the node)
        (
            "kube-system",
            "kube-controller-manager-cp-1",
            "Pod/kube-system/kube-controller-manager-cp-1",
            True,
        ),
    ],
)
def test_workload_of(model: ClusterModel, ns: str, pod: str, culprit: str, present: bool) -> None:
    p = model.pod(ns, pod)
    assert p is not None
    c = workload_of(model, p)
    assert (c.ref(), c.present) == (culprit, present)


def test_isolating_policy_prefers_the_policy_without_rules(model: ClusterModel) -> None:
    cart = model.pod("shop", "cart-6d8f7b9c4d-x7k2p")
    assert cart is not None
    # allow-db has an egress rule (for the database); default-deny-egress took the rest away
    pol = isolating_policy(model, cart, Direction.EGRESS)
    assert pol is not None and pol.name == "default-deny-egress"
    # nothing selects cart for ingress
    assert isolating_policy(model, cart, Direction.INGRESS) is None


def test_control_plane_flag_on_the_static_pod(model: ClusterModel) -> None:
    s = control_plane_setting(model, "kube-controller-manager", "--node-cidr-mask-size", Layer.IPAM)
    assert s.culprit.ref() == "Pod/kube-system/kube-controller-manager-cp-1"
    assert (s.value, s.effective, s.kubeadm) == ("26", "26", False)
    assert s.culprit.layer is Layer.IPAM and s.culprit.field == "--node-cidr-mask-size"


def _kubeadm_only(tmp_path: Path, cluster_configuration: str) -> ClusterModel:
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": cluster_configuration},
    }
    (tmp_path / "cm.yaml").write_text(yaml.safe_dump(cm))
    return load_offline([str(tmp_path)])


@pytest.mark.parametrize(
    "text",
    [
        # kubeadm.k8s.io/v1beta3: extraArgs is a map
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrollerManager:\n"
        '  extraArgs:\n    node-cidr-mask-size: "25"\nnetworking:\n  podSubnet: 10.244.0.0/16\n',
        # kubeadm.k8s.io/v1beta4: extraArgs is a list of name/value
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrollerManager:\n"
        '  extraArgs:\n  - name: node-cidr-mask-size\n    value: "25"\nnetworking:\n'
        "  podSubnet: 10.244.0.0/16\n",
    ],
)
def test_control_plane_flag_in_kubeadm_config(tmp_path: Path, text: str) -> None:
    m = _kubeadm_only(tmp_path, text)
    s = control_plane_setting(m, "kube-controller-manager", "--node-cidr-mask-size", Layer.IPAM)
    assert s.culprit.ref() == "ConfigMap/kube-system/kubeadm-config"
    assert (s.value, s.kubeadm) == ("25", True)
    cc = control_plane_setting(m, "kube-controller-manager", "--cluster-cidr", Layer.IPAM)
    assert cc.value == "10.244.0.0/16"


def test_control_plane_flag_unset_takes_the_upstream_default(tmp_path: Path) -> None:
    m = _kubeadm_only(tmp_path, "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\n")
    s = control_plane_setting(m, "kube-controller-manager", "--node-cidr-mask-size", Layer.IPAM)
    assert (s.value, s.effective) == (None, "24")


def test_managed_control_plane_is_named_as_such() -> None:
    m = load_offline([str(SCENARIOS / "healthy-same-node" / "cluster.yaml")])
    # the scenario has kubeadm's static pods: the flag is unset there (kubeadm's default /24)
    s = control_plane_setting(m, "kube-controller-manager", "--node-cidr-mask-size", Layer.IPAM)
    assert s.culprit.kind == "Pod" and s.value is None and s.effective == "24"


def _scenario_cases() -> list[object]:
    out = []
    for spec_file in sorted(SCENARIOS.glob("*/scenario.yaml")):
        spec = yaml.safe_load(spec_file.read_text()) or {}
        culprit = (spec.get("expected") or {}).get("culprit")
        if culprit and (spec.get("scan") or {}).get("expect_rules"):
            out.append(
                pytest.param(spec_file.parent, culprit, spec["layer"], id=spec_file.parent.name)
            )
    return out


@pytest.mark.parametrize(("folder", "culprit", "layer"), _scenario_cases())
def test_scan_names_the_culprit_in_its_layer(folder: Path, culprit: str, layer: str) -> None:
    """A scenario's scan has a finding whose subject is the object an SRE changes, filed under
    that object's layer (not the layer where the symptom shows)."""
    model = load_offline([str(folder)])
    result = run_checks(model, load_all().values())
    named = sorted({(f.rule_id, f.subject.ref(), str(f.layer)) for f in result.findings})
    assert any(f.subject.ref() == culprit and str(f.layer) == layer for f in result.findings), (
        f"no finding names {culprit} under {layer}: {named}"
    )

"""The upstream Kubernetes NetworkPolicy e2e suite (65 matrices) against the reference engine.

Each test id is one expected matrix (``<case>/step<K>-<proto>-<port>``). Every
non-diagonal cell must match: the diagonal is not scored upstream
(``ignore_loopback``). State is cumulative over the steps of a case, as the
corpus README describes: policies are created/replaced/deleted and labels
change by rebuilding the frozen model from modified object lists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus.paths import CORPUS
from netsleuth.model.cluster import ModelObject, build_model
from netsleuth.model.objects import Namespace, NetworkPolicy, Pod
from netsleuth.policy import PodEndpoint, evaluate, explain_text
from netsleuth.sources.load import decode_all, load_offline
from netsleuth.sources.manifests import ManifestSource

E2E = CORPUS / "k8s-e2e-netpol"


def _checks() -> list[Any]:
    out = []
    for case_dir in sorted(p for p in E2E.iterdir() if (p / "case.yaml").is_file()):
        case = yaml.safe_load((case_dir / "case.yaml").read_text())
        for step in case["steps"]:
            for check in step["checks"]:
                cid = f"{case_dir.name}/step{step['step']}-{check['protocol'].lower()}-{check['port']}"
                out.append(pytest.param(case_dir, step["step"], check, id=cid))
    return out


def _objects(paths: list[Path]) -> list[ModelObject]:
    objs, problems = decode_all(ManifestSource([str(p) for p in paths]).collect())
    assert not [p for p in problems if str(p.level) == "fatal"], problems
    return objs


def _state_after(case_dir: Path, upto: int) -> list[ModelObject]:
    """Cluster objects and policies in effect after step ``upto``."""
    case = yaml.safe_load((case_dir / "case.yaml").read_text())
    base = _objects([case_dir / "cluster.yaml"])
    policies: dict[tuple[str, str], NetworkPolicy] = {}
    ns_labels: dict[str, dict[str, str]] = {}
    pod_labels: dict[tuple[str, str], dict[str, str]] = {}
    for step in case["steps"]:
        if step["step"] > upto:
            break
        for act in step["actions"]:
            kind = act["action"]
            if kind in ("create_policy", "update_policy"):
                for obj in _objects([case_dir / act["file"]]):
                    assert isinstance(obj, NetworkPolicy)
                    policies[(obj.namespace, obj.name)] = obj
            elif kind == "delete_all_policies":
                policies.clear()
            elif kind == "label_namespace":
                ns_labels.setdefault(act["namespace"], {}).update(act["labels"])
            elif kind == "label_pod":
                ns, name = act["pod"].split("/")
                pod_labels[(ns, name)] = dict(act["labels"])
            else:  # pragma: no cover - the corpus has only these actions
                raise AssertionError(f"unknown action {kind}")
    out: list[ModelObject] = []
    for obj in base:
        if isinstance(obj, Namespace) and obj.name in ns_labels:
            labels = {**obj.labels, **ns_labels[obj.name]}
            obj = dataclasses.replace(obj, meta=dataclasses.replace(obj.meta, labels=labels))
        elif isinstance(obj, Pod) and obj.key in pod_labels:
            obj = dataclasses.replace(
                obj, meta=dataclasses.replace(obj.meta, labels=pod_labels[obj.key])
            )
        out.append(obj)
    return out + list(policies.values())


def _matrix(path: Path) -> dict[tuple[str, str], bool]:
    rows = [ln.split("\t") for ln in path.read_text().splitlines() if ln and not ln.startswith("#")]
    cols = rows[0][1:]
    return {(r[0], c): v == "1" for r in rows[1:] for c, v in zip(cols, r[1:], strict=True)}


@pytest.mark.parametrize(("case_dir", "step", "check"), _checks())
def test_e2e_matrix(case_dir: Path, step: int, check: dict[str, Any]) -> None:
    model = build_model(_state_after(case_dir, step))
    expected = _matrix(case_dir / check["matrix_file"])
    wrong = []
    for (src, dst), want in expected.items():
        if src == dst:
            continue  # upstream ignores loopback
        sp = model.pod(*src.split("/"))
        dp = model.pod(*dst.split("/"))
        assert sp is not None and dp is not None
        d = evaluate(model, PodEndpoint(sp), PodEndpoint(dp), check["protocol"], check["port"])
        if d.allowed != want:
            wrong.append(
                f"{src} -> {dst}: expected {'allowed' if want else 'blocked'}\n    "
                + "\n    ".join(explain_text(d))
            )
    assert not wrong, f"{len(wrong)} cells differ:\n" + "\n".join(wrong)


def test_load_offline_reads_case_cluster() -> None:
    """The runner's loading path agrees with ``load_offline`` on the objects of a case."""
    model = load_offline([str(E2E / "01-tcp-default-deny-ingress" / "cluster.yaml")])
    assert len(model.pods) == 9 and set(model.namespaces) >= {"x", "y", "z"}

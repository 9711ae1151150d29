"""policy-assistant walkthrough demo (anp-conformance/extras): its verdict rows.

The README's ``--mode walkthrough`` tables list traffic and a verdict; a blank
verdict cell continues the one above (the table merges equal cells). The
policies use the early v1alpha1 peer form ``namespaces: {namespaceSelector:
…}``. Cluster: namespace ``demo`` with deployment ``a`` (its pod derived from
the template) and pod ``b`` from the demo's manifests; ``demo2`` (label
``development=true``) with an ``app=nginx`` pod, as the traffic file
describes it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest

from corpus.paths import CORPUS
from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import Meta, Namespace, Pod
from netsleuth.policy import PodEndpoint, evaluate, explain_text
from netsleuth.sources.load import decode_all
from netsleuth.sources.manifests import ManifestSource

DEMO = CORPUS / "anp-conformance" / "extras" / "policy-assistant-demos" / "walkthrough"
ROW = re.compile(r"^\| (\S+) -> (\S+):(\d+) \((TCP|UDP|SCTP)\)\s*\| (Allowed|Denied|)\s*\|")


def _rows() -> list[Any]:
    seen: dict[str, Any] = {}
    last = ""
    for line in (DEMO / "README.md").read_text().splitlines():
        m = ROW.match(line)
        if m is None:
            if not line.startswith(("|", "+")):
                last = ""
            continue
        src, dst, port, proto, verdict = m.groups()
        verdict = verdict or last
        last = verdict
        key = f"{src}->{dst}:{port}/{proto}"
        seen.setdefault(key, pytest.param(src, dst, proto, int(port), verdict, id=key))
    return list(seen.values())


@cache
def _model() -> ClusterModel:
    objs, problems = decode_all(
        ManifestSource(
            [
                str(DEMO / "demo-deployment-a.yaml"),
                str(DEMO / "demo-pod-b.yaml"),
                str(DEMO / "policies"),
            ]
        ).collect()
    )
    assert not problems, problems
    extra: list[ModelObject] = [
        Namespace(meta=Meta(name="demo", labels={"kubernetes.io/metadata.name": "demo"})),
        Namespace(
            meta=Meta(
                name="demo2", labels={"kubernetes.io/metadata.name": "demo2", "development": "true"}
            )
        ),
        Pod(meta=Meta(name="nginx", namespace="demo2", labels={"app": "nginx"})),
    ]
    return build_model([*objs, *extra], derive_pods=True)


def _pod(model: ClusterModel, text: str) -> Pod:
    ns, _, rest = text.partition("/")
    if rest.startswith("["):
        k, v = rest.strip("[]").split("=")
        pods = model.pods_matching(ns, {k: v})
    else:
        kind, name = rest.split("/")
        pods = [
            p
            for p in model.pods_by_namespace.get(ns, ())
            if (p.name == name and kind == "pod")
            or (model.owner(p).name == name and model.owner(p).kind.lower() == kind)
        ]
    assert len(pods) == 1, (text, pods)
    return pods[0]


@pytest.mark.parametrize(("src", "dst", "proto", "port", "verdict"), _rows())
def test_walkthrough_verdict(src: str, dst: str, proto: str, port: int, verdict: str) -> None:
    model = _model()
    d = evaluate(model, PodEndpoint(_pod(model, src)), PodEndpoint(_pod(model, dst)), proto, port)
    assert d.allowed == (verdict == "Allowed"), "\n".join(explain_text(d))

"""Every check fixture looks like `kubectl get -A -o yaml` of a real cluster: owner chains
complete (Pod -> ReplicaSet -> Deployment, DaemonSet/StatefulSet/Job pods with their
owner, ownerReferences carrying the owner's uid), EndpointSlices for selector Services,
and events for scheduled pods. ``owner_chain.py`` completes a hand-written fixture;
``make_fixtures.py`` writes the generated ones through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

FIXTURES = Path(__file__).parent / "fixtures"
WORKLOAD_KINDS = {"ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job"}
FILES = sorted(FIXTURES.glob("*/*/cluster.yaml"))


def _objs(path: Path) -> list[dict[str, Any]]:
    docs = [d for d in yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader) if d]
    if len(docs) == 1 and docs[0].get("kind") == "List":
        return list(docs[0].get("items") or [])
    return docs


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture_is_owner_chained(path: Path) -> None:
    objs = _objs(path)
    by_key = {
        (o["kind"], (o.get("metadata") or {}).get("namespace"), o["metadata"]["name"]): o
        for o in objs
        if o.get("kind") and (o.get("metadata") or {}).get("name")
    }
    problems = []
    for o in objs:
        m = o.get("metadata") or {}
        ns = m.get("namespace")
        for ref in m.get("ownerReferences") or []:
            if ref.get("kind") not in WORKLOAD_KINDS:
                continue
            owner = by_key.get((ref["kind"], ns, ref["name"]))
            if owner is None:
                problems.append(
                    f"{o['kind']}/{ns}/{m['name']}: owner {ref['kind']}/{ref['name']} missing"
                )
            elif owner["metadata"].get("uid") != ref.get("uid"):
                problems.append(
                    f"{o['kind']}/{ns}/{m['name']}: ownerReference uid differs from the owner's"
                )
        if o.get("kind") == "Deployment" and not any(
            r.get("kind") == "Deployment" and r.get("name") == m["name"]
            for x in objs
            if x.get("kind") == "ReplicaSet" and (x.get("metadata") or {}).get("namespace") == ns
            for r in (x.get("metadata") or {}).get("ownerReferences") or []
        ):
            problems.append(f"Deployment/{ns}/{m['name']} has no ReplicaSet")
        spec = o.get("spec") or {}
        if (
            o.get("kind") == "Service"
            and spec.get("selector")
            and spec.get("type") != "ExternalName"
        ) and not any(
            x.get("kind") == "EndpointSlice"
            and (x.get("metadata") or {}).get("namespace") == ns
            and ((x.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name")
            == m["name"]
            for x in objs
        ):
            problems.append(f"Service/{ns}/{m['name']} has no EndpointSlice")
        if (
            o.get("kind") == "Pod"
            and spec.get("nodeName")
            and not any(
                x.get("kind") == "Event"
                and (x.get("involvedObject") or {}).get("name") == m["name"]
                and (x.get("involvedObject") or {}).get("namespace") == ns
                for x in objs
            )
        ):
            problems.append(f"Pod/{ns}/{m['name']} has no event")
    assert not problems, "\n".join(problems[:20])

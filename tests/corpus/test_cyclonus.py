"""cyclonus ``analyze`` over its simple-example policies: probe truth tables and traffic queries.

Probe tables (TCP 80, 81, 82 x ingress/egress/combined x 81 pairs, self
traffic included): ``.`` must be allowed and ``X`` blocked by the reference
engine, per direction and combined. ``N`` (the destination pod serves no
such port — all of TCP/82) and ``?`` (cyclonus could not tell — the TCP/82
egress table) are facts about listening processes, not policy verdicts:
for ``N`` we check the destination really has no such container port, and
``?`` cells are not scored.

Traffic queries (``examples/traffic.json``): the final ``IS ALLOWED?`` of
each of the four tuples. A side without ``Internal`` is an address only.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from corpus.paths import CORPUS
from netsleuth.model.cluster import ClusterModel, ModelObject, build_model
from netsleuth.model.objects import Container, ContainerPort, Meta, Namespace, Pod, PodSpec
from netsleuth.policy import Endpoint, IPEndpoint, PodEndpoint, evaluate, explain_text
from netsleuth.sources.load import decode_all
from netsleuth.sources.manifests import ManifestSource

CYC = CORPUS / "cyclonus"
TABLES = ("ingress", "egress", "combined")


def _pod(
    ns: str, name: str, labels: dict[str, str], ip: str, containers: list[dict[str, Any]]
) -> Pod:
    return Pod(
        meta=Meta(name=name, namespace=ns, labels=labels),
        spec=PodSpec(
            containers=tuple(
                Container(
                    name=c["Name"],
                    ports=(
                        ContainerPort(
                            container_port=c["Port"],
                            name=c.get("PortName") or None,
                            protocol=c["Protocol"].upper(),
                        ),
                    ),
                )
                for c in containers
            )
        ),
        phase="Running",
        pod_ips=(ip,),
    )


def _policies() -> list[ModelObject]:
    objs, problems = decode_all(
        ManifestSource([str(CYC / "networkpolicies" / "simple-example")]).collect()
    )
    assert not problems, problems
    return objs


@cache
def _probe_model() -> ClusterModel:
    res = json.loads((CYC / "examples" / "probe.json").read_text())["Resources"]
    objs: list[ModelObject] = [
        Namespace(meta=Meta(name=n, labels=lab)) for n, lab in res["Namespaces"].items()
    ]
    objs += [
        _pod(p["Namespace"], p["Name"], p["Labels"], p["IP"], p["Containers"]) for p in res["Pods"]
    ]
    return build_model(objs + _policies())


def _cells() -> list[Any]:
    data = json.loads((CYC / "expected_probe_simple_example.json").read_text())
    return [pytest.param(p["probe"], p, id=p["probe"]) for p in data["probes"]]


@pytest.mark.parametrize(("probe_name", "probe"), _cells())
def test_cyclonus_probe_tables(probe_name: str, probe: dict[str, Any]) -> None:
    model = _probe_model()
    proto, port_text = probe_name.split("/")
    port = int(port_text)
    wrong: list[str] = []
    scored = 0
    for src_key, row in probe["combined"].items():
        for dst_key in row:
            src = model.pod(*src_key.split("/"))
            dst = model.pod(*dst_key.split("/"))
            assert src is not None and dst is not None
            d = evaluate(model, PodEndpoint(src), PodEndpoint(dst), proto, port)
            got = {"ingress": d.ingress.allowed, "egress": d.egress.allowed, "combined": d.allowed}
            for table in TABLES:
                cell = probe[table][src_key][dst_key]
                if cell == "N":
                    assert not any(
                        cp.container_port == port and cp.protocol == proto
                        for cp in dst.spec.all_ports()
                    ), f"{dst_key} serves {port}/{proto} but cyclonus says N"
                    continue
                if cell == "?":
                    continue
                assert cell in ".X", cell
                scored += 1
                if got[table] != (cell == "."):
                    wrong.append(
                        f"{table} {src_key} -> {dst_key}: cyclonus {cell}\n  "
                        + "\n  ".join(explain_text(d))
                    )
    assert not wrong, "\n".join(wrong)
    if port in (80, 81):
        assert scored == 3 * 81


def _traffic_cases() -> list[Any]:
    traffic = json.loads((CYC / "examples" / "traffic.json").read_text())
    text = (CYC / "examples" / "cyclonus-output" / "analyze-query-traffic.txt").read_text()
    answers = [m == "TRUE" for m in re.findall(r"IS ALLOWED\? \|\s+(TRUE|FALSE)", text)]
    assert len(answers) == len(traffic)
    return [
        pytest.param(n, t, a, id=f"traffic{n}")
        for n, (t, a) in enumerate(zip(traffic, answers, strict=True))
    ]


@pytest.mark.parametrize(("n", "traffic", "expected"), _traffic_cases())
def test_cyclonus_query_traffic(n: int, traffic: dict[str, Any], expected: bool) -> None:
    objs: list[ModelObject] = list(_policies())
    namespaces: dict[str, dict[str, str]] = {}
    endpoints: list[Endpoint] = []
    for side in ("Source", "Destination"):
        spec = traffic[side]
        internal = spec.get("Internal")
        if internal is None:
            endpoints.append(IPEndpoint(spec["IP"]))
            continue
        namespaces[internal["Namespace"]] = internal["NamespaceLabels"]
        containers = (
            [
                {
                    "Name": "c",
                    "Port": traffic["ResolvedPort"],
                    "PortName": traffic.get("ResolvedPortName"),
                    "Protocol": traffic["Protocol"],
                }
            ]
            if side == "Destination"
            else []
        )
        pod = _pod(
            internal["Namespace"],
            f"{side.lower()}-{n}",
            internal["PodLabels"],
            spec["IP"],
            containers,
        )
        objs.append(pod)
        endpoints.append(PodEndpoint(pod))
    objs += [Namespace(meta=Meta(name=k, labels=v)) for k, v in namespaces.items()]
    model = build_model(objs)
    src, dst = (
        PodEndpoint(model.pod(e.pod.namespace, e.pod.name))  # type: ignore[arg-type]
        if isinstance(e, PodEndpoint)
        else e
        for e in endpoints
    )
    d = evaluate(model, src, dst, traffic["Protocol"], traffic["ResolvedPort"])
    assert d.allowed == expected, "\n".join(explain_text(d))

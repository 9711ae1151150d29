"""Offline loading: shapes kubectl prints, cluster-info dumps, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from netsleuth.errors import SourceError
from netsleuth.model import Level
from netsleuth.sources.load import load_offline
from netsleuth.sources.manifests import iter_json_documents, iter_yaml_documents

DATA = Path(__file__).parent / "data"

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web-0
  namespace: shop
  labels: {app: web}
spec:
  nodeName: node-a
  containers:
  - name: web
    image: nginx:1.25
    ports:
    - {name: http, containerPort: 8080, protocol: TCP}
status:
  phase: Running
  podIP: 10.244.1.7
  podIPs: [{ip: 10.244.1.7}]
  hostIP: 172.18.0.3
  conditions:
  - {type: Ready, status: "True"}
"""

SERVICE = """\
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  clusterIP: 10.96.44.12
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_multi_document_with_empty_documents_and_comments(tmp_path: Path) -> None:
    text = "---\n# leading comment\n---\n" + POD + "---\n\n---\n" + SERVICE + "...\n"
    m = load_offline([str(write(tmp_path, "all.yaml", text))])
    assert [p.name for p in m.pods] == ["web-0"]
    assert [s.name for s in m.services] == ["web"]
    assert m.problems == ()
    svc = m.services[0]
    # Document indexes count the empty documents too, as kubectl apply does.
    assert svc.meta.origin.line is not None and svc.meta.origin.line > 10


def test_plain_equals_sign_is_a_string_as_kubectl_reads_it(tmp_path: Path) -> None:
    # YAML 1.1 resolves a plain `=` to the `value` tag; PyYAML's safe loader
    # refused the whole document. kubectl reads it as "=" (kube-prometheus's
    # Alertmanager CRD has `enum: [..., =, ...]` under matchType).
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: alertmanagerconfigs.monitoring.coreos.com}\n"
        "spec:\n  group: monitoring.coreos.com\n  names: {kind: AlertmanagerConfig}\n"
        "  versions:\n  - name: v1alpha1\n    schema:\n      openAPIV3Schema:\n"
        "        properties:\n          matchType:\n            enum:\n"
        "            - '!='\n            - =\n            - =~\n"
    )
    pod = POD.replace("  labels: {app: web}\n", "  labels: {app: web}\n  annotations:\n    op: =\n")
    m = load_offline([str(write(tmp_path, "all.yaml", crd + "---\n" + pod))])
    assert m.problems == ()
    assert [p.name for p in m.pods] == ["web-0"]
    assert m.pods[0].meta.annotations == {"op": "="}
    # The loader is our own: PyYAML's global safe loader is left as it was.
    with pytest.raises(yaml.constructor.ConstructorError):
        yaml.safe_load("a: =\n")


def test_nested_lists_and_list_items_without_kind(tmp_path: Path) -> None:
    pod = yaml.safe_load(POD)
    inner = {
        "apiVersion": "v1",
        "kind": "PodList",
        "items": [{k: v for k, v in pod.items() if k not in ("kind", "apiVersion")}],
    }
    outer = {"apiVersion": "v1", "kind": "List", "items": [inner, yaml.safe_load(SERVICE)]}
    m = load_offline([str(write(tmp_path, "l.json", json.dumps(outer)))])
    assert len(m.pods) == 1 and m.pods[0].ip == "10.244.1.7"
    assert len(m.services) == 1


def test_kubectl_list_yaml_items_get_their_own_lines(tmp_path: Path) -> None:
    items = "\n".join("- " + "\n  ".join(doc.rstrip("\n").split("\n")) for doc in (POD, SERVICE))
    text = "apiVersion: v1\nkind: List\nitems:\n" + items + '\nmetadata:\n  resourceVersion: ""\n'
    m = load_offline([str(write(tmp_path, "list.yaml", text))])
    assert m.pods[0].meta.origin.line == 4
    assert m.services[0].meta.origin.line == 4 + POD.count("\n")


def test_broken_document_among_good_ones_is_reported_with_file_document_and_line(
    tmp_path: Path,
) -> None:
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {a: b\ndata: {}\n"
    text = POD + "---\n" + broken + "---\n" + SERVICE
    path = write(tmp_path, "mixed.yaml", text)
    m = load_offline([str(path)])
    assert len(m.pods) == 1 and len(m.services) == 1
    assert len(m.problems) == 1
    prob = m.problems[0]
    assert prob.level == Level.DEGRADED
    assert prob.origin.file == str(path)
    assert prob.origin.document == 1
    # The broken document starts after the first '---'; libyaml points inside it.
    first = POD.count("\n") + 2
    assert prob.origin.line is not None and first <= prob.origin.line <= first + 5


def test_missing_kind_wrong_cidr_non_numeric_port_wrong_type(tmp_path: Path) -> None:
    text = "\n---\n".join(
        [
            "apiVersion: v1\nmetadata: {name: nokind}\n",
            "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec: {podCIDR: 10.244.0.0/33}\n",
            "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: a}\n"
            "spec: {ports: [{port: http}, {port: 443, targetPort: https}]}\n",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a, labels: [1, 2]}\n"
            "spec: {containers: 7}\nstatus: {podIP: 999.1.1.1}\n",
        ]
    )
    m = load_offline([str(write(tmp_path, "bad.yaml", text))])
    msgs = [p.describe() for p in m.problems]
    assert any("has no kind" in x and "document 0" in x for x in msgs)
    assert any("Node/n1" in x and "spec.podCIDR" in x for x in msgs)
    assert any("Service/a/s" in x and "spec.ports[0].port" in x for x in msgs)
    assert any("Pod/a/p" in x and "metadata.labels" in x for x in msgs)
    assert any("Pod/a/p" in x and "spec.containers" in x for x in msgs)
    assert any("Pod/a/p" in x and "status.podIP" in x for x in msgs)
    # The good parts are kept: the node without its bad CIDR, the service's valid port, the pod.
    assert m.nodes["n1"].pod_cidrs == ()
    assert [p.port for p in m.services[0].ports] == [443]
    assert m.pod("a", "p") is not None and m.pod("a", "p").pod_ips == ()  # type: ignore[union-attr]


def test_unknown_kinds_are_kept_and_counted(tmp_path: Path) -> None:
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\nspec: {size: 3}\n"
    text += "---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: c, namespace: a}\nspec: {endpointSelector: {}}\n"
    m = load_offline([str(write(tmp_path, "u.yaml", text))])
    assert [(u.kind, u.api_version) for u in m.unknown] == [("Widget", "example.com/v1")]
    assert [c.kind for c in m.custom] == ["CiliumNetworkPolicy"]


def test_secret_data_is_never_kept(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: tls, namespace: a}\ntype: kubernetes.io/tls\n"
    text += "data: {tls.crt: c2VjcmV0, tls.key: c2VjcmV0}\nstringData: {x: y}\n"
    m = load_offline([str(write(tmp_path, "s.yaml", text))])
    (secret,) = m.secrets
    assert secret.type == "kubernetes.io/tls"
    assert not hasattr(secret, "data")
    assert "c2VjcmV0" not in repr(m)


def test_directory_recursion_skips_hidden_and_non_manifests(tmp_path: Path) -> None:
    write(tmp_path, "a/pod.yaml", POD)
    write(tmp_path, "a/b/svc.yml", SERVICE)
    write(tmp_path, ".git/config.yaml", "kind: Nope\n")
    write(tmp_path, "notes.txt", "not a manifest")
    m = load_offline([str(tmp_path)])
    assert len(m.pods) == 1 and len(m.services) == 1 and m.unknown == ()


def test_missing_path_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        load_offline([str(tmp_path / "absent.yaml")])


def test_cluster_info_dump_stream_with_log_sections() -> None:
    m = load_offline([str(DATA / "cluster-info-stream.txt")])
    assert list(m.nodes) == ["kind-control-plane"]
    assert m.nodes["kind-control-plane"].pod_cidrs == ("10.244.0.0/24",)
    assert [p.name for p in m.pods] == ["coredns-76f75df574-8xk2p"]
    assert m.service("kube-system", "kube-dns") is not None
    assert m.problems == ()


def test_cluster_info_dump_directory_layout(tmp_path: Path) -> None:
    stream = (DATA / "cluster-info-stream.txt").read_text()
    docs = [d for d in iter_json_documents(stream, "x")]
    # Lay the same objects out as `kubectl cluster-info dump --output-directory` does.
    nodes = {
        "kind": "NodeList",
        "apiVersion": "v1",
        "items": [d.data for d in docs if d.data["kind"] == "Node"],
    }  # type: ignore[union-attr]
    pods = {
        "kind": "PodList",
        "apiVersion": "v1",
        "items": [d.data for d in docs if d.data["kind"] == "Pod"],
    }  # type: ignore[union-attr]
    write(tmp_path, "nodes.json", json.dumps(nodes))
    write(tmp_path, "kube-system/pods.json", json.dumps(pods))
    write(tmp_path, "kube-system/coredns-76f75df574-8xk2p/logs.txt", "CoreDNS-1.11.1\n")
    m = load_offline([str(tmp_path)])
    assert list(m.nodes) == ["kind-control-plane"] and len(m.pods) == 1 and m.problems == ()


def test_stdin(tmp_path: Path) -> None:
    m = load_offline(["-"], stdin_text=POD)
    assert len(m.pods) == 1 and m.pods[0].meta.origin.file == "<stdin>"


def test_not_utf8_is_fatal_for_that_file_only(tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    write(tmp_path, "pod.yaml", POD)
    m = load_offline([str(tmp_path)])
    assert len(m.pods) == 1
    assert [p.level for p in m.problems] == [Level.FATAL]


# ---------------------------------------------------------------- fuzzing the loader

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=12), st.floats(allow_nan=False)
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)
_kinds = st.sampled_from(
    [
        "Pod",
        "Service",
        "Node",
        "Namespace",
        "NetworkPolicy",
        "EndpointSlice",
        "Ingress",
        "Deployment",
        "List",
        "PodList",
        "Endpoints",
        "Gateway",
        "HTTPRoute",
        "Event",
        "ConfigMap",
        "Secret",
        "Widget",
    ]
)
_versions = st.sampled_from(
    [
        "v1",
        "apps/v1",
        "networking.k8s.io/v1",
        "discovery.k8s.io/v1",
        "gateway.networking.k8s.io/v1",
        "x/y",
        "",
    ]
)


@st.composite
def k8s_like(draw: st.DrawFn) -> dict[str, object]:
    obj: dict[str, object] = {"kind": draw(_kinds), "apiVersion": draw(_versions)}
    obj["metadata"] = draw(
        st.one_of(
            _json,
            st.fixed_dictionaries(
                {"name": st.text(min_size=1, max_size=5), "namespace": _json, "labels": _json}
            ),
        )
    )
    obj["spec"] = draw(
        st.one_of(
            _json,
            st.dictionaries(
                st.sampled_from(
                    [
                        "podSelector",
                        "ingress",
                        "egress",
                        "ports",
                        "selector",
                        "containers",
                        "rules",
                        "policyTypes",
                        "template",
                        "listeners",
                    ]
                ),
                _json,
                max_size=4,
            ),
        )
    )
    obj["status"] = draw(_json)
    if draw(st.booleans()):
        obj["items"] = draw(st.lists(_json, max_size=3))
    return obj


@given(st.lists(k8s_like(), max_size=4))
def test_fuzz_decoding_never_crashes(objs: list[dict[str, object]]) -> None:
    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": objs})
    from netsleuth.model import build_model
    from netsleuth.sources.load import decode_all

    objects, problems = decode_all(iter_json_documents(text, "fuzz.json"))
    build_model(objects, problems)


@given(st.text(max_size=300))
def test_fuzz_yaml_text_never_crashes(text: str) -> None:
    from netsleuth.model import build_model
    from netsleuth.sources.load import decode_all

    objects, problems = decode_all(iter_yaml_documents(text, "fuzz.yaml"))
    build_model(objects, problems)

"""Write the Hubble fixtures of tests/data/flows/ (see README.md for every field's origin).

Deterministic. The flows are what `hubble observe -o json` / `-o compact`
printed for the incidents below on the cluster of ``cluster/``:

1. checkout-web -> payments-api:8080, allowed, working (forwarded, replies);
2. report-job (reports) -> payments-api:8080, denied at payments' ingress
   (POLICY_DENIED), retried with SYN retransmissions and new connections;
3. checkout-web -> payments-api:8080 once dropped because worker-2 saw the
   source only as an address (identity world: the new pod's identity had not
   reached worker-2 yet), then forwarded on the retransmission one second later;
4. checkout-web -> payments-api:9090 forwarded although the policies allow
   only 8080 (policy not enforced there, or the model is stale);
5. datapath drops: a stale pod IP, a full CT map, no route out, a TTL loop;
6. DNS through the L7 proxy (REDIRECTED), a node_status event, lost events.

    .venv/bin/python tests/data/flows/_gen_flows.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
T0 = datetime(2026, 11, 20, 9, 14, 0, tzinfo=UTC)

CHK = ("checkout", "checkout-web-c9szjmm8q6-h5w2v", "10.244.1.2", "checkout-web", 1843, 48211)
PAY = ("payments", "payments-api-vg46bkjndx-tzpgm", "10.244.2.2", "payments-api", 612, 20514)
PAY2 = ("payments", "payments-api-vg46bkjndx-rhbpr", "10.244.2.3", "payments-api", 2950, 20514)
REP = ("reports", "report-job-8dp5nr684f-pp558", "10.244.1.3", "report-job", 377, 33187)
DNS = ("kube-system", "coredns-q2qsfk526f-q497q", "10.244.0.2", "coredns", 101, 1921)
NODE_LABELS = {
    "worker-1": [
        "kubernetes.io/arch=amd64",
        "kubernetes.io/hostname=worker-1",
        "kubernetes.io/os=linux",
    ],
    "worker-2": [
        "kubernetes.io/arch=amd64",
        "kubernetes.io/hostname=worker-2",
        "kubernetes.io/os=linux",
    ],
}
MACS = {"worker-1": "2e:41:9c:0a:1b:01", "worker-2": "6a:0d:52:7e:33:02"}
_uuid = 0


def ts(seconds: float) -> str:
    t = T0 + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond:06d}" + "417Z"


def uuid() -> str:
    global _uuid
    _uuid += 1
    return f"5b1f0c2e-9a7d-4e61-8c3b-{_uuid:012x}"


def pod_ep(p: tuple[str, str, str, str, int, int], local: bool) -> dict[str, Any]:
    ns, pod, _ip, app, ep_id, identity = p
    labels = [
        f"k8s:app={'kube-dns' if app == 'coredns' else app}",
        f"k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name={ns}",
        "k8s:io.cilium.k8s.policy.cluster=default",
        f"k8s:io.cilium.k8s.policy.serviceaccount={'coredns' if app == 'coredns' else 'default'}",
        f"k8s:io.kubernetes.pod.namespace={ns}",
    ]
    if app == "coredns":
        labels[0] = "k8s:k8s-app=kube-dns"
    ep: dict[str, Any] = {}
    if local:
        ep["ID"] = ep_id  # the endpoint ID is known only on the pod's own node
    ep.update(
        {
            "identity": identity,
            "cluster_name": "default",
            "namespace": ns,
            "labels": labels,
            "pod_name": pod,
            "workloads": [{"name": app, "kind": "Deployment"}],
        }
    )
    return ep


def world_ep(identity: int = 2) -> dict[str, Any]:
    return {"identity": identity, "labels": ["reserved:world"]}


def flow(
    t: float,
    verdict: str,
    src: dict[str, Any],
    dst: dict[str, Any],
    sip: str,
    dip: str,
    l4: dict[str, Any],
    node: str,
    *,
    direction: str,
    reply: bool | None,
    event: tuple[int, int],
    summary: str,
    reason: str | None = None,
    code: int | None = None,
    point: str | None = None,
    ftype: str = "L3_L4",
    l7: dict[str, Any] | None = None,
    dst_service: dict[str, str] | None = None,
    dst_names: list[str] | None = None,
    proxy_port: int | None = None,
) -> dict[str, Any]:
    f: dict[str, Any] = {"time": ts(t), "uuid": uuid(), "verdict": verdict}
    if code is not None:
        f["drop_reason"] = code
    f["ethernet"] = {"source": MACS[node], "destination": "ee:ee:ee:ee:ee:ee"}
    f["IP"] = {"source": sip, "destination": dip, "ipVersion": "IPv4"}
    f["l4"] = l4
    f["source"] = src
    f["destination"] = dst
    f["Type"] = ftype
    f["node_name"] = node
    f["node_labels"] = NODE_LABELS[node]
    if dst_names:
        f["destination_names"] = dst_names
    if l7 is not None:
        f["l7"] = l7
    f["event_type"] = {"type": event[0], **({"sub_type": event[1]} if event[1] else {})}
    if dst_service:
        f["destination_service"] = dst_service
    f["traffic_direction"] = direction
    if point:
        f["trace_observation_point"] = point
    if reason:
        f["drop_reason_desc"] = reason
    if reply is not None:
        f["is_reply"] = reply
    if proxy_port:
        f["proxy_port"] = proxy_port
    f["Summary"] = summary
    return f


def tcp(sport: int, dport: int, **flags: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"source_port": sport, "destination_port": dport}
    if flags:
        body["flags"] = flags
    return {"TCP": body}


def udp(sport: int, dport: int) -> dict[str, Any]:
    return {"UDP": {"source_port": sport, "destination_port": dport}}


def wrap(f: dict[str, Any]) -> dict[str, Any]:
    return {"flow": f, "node_name": f["node_name"], "time": f["time"]}


def build() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    # 1. checkout -> payments:8080, a working connection seen at both nodes.
    for i, (sport, pay) in enumerate(((40112, PAY), (40120, PAY2))):
        t = 0.10 + i * 0.5
        out.append(
            flow(
                t,
                "FORWARDED",
                pod_ep(CHK, True),
                pod_ep(pay, False),
                CHK[2],
                pay[2],
                tcp(sport, 8080, SYN=True),
                "worker-1",
                direction="EGRESS",
                reply=False,
                event=(4, 3),
                point="TO_OVERLAY",
                summary="TCP Flags: SYN",
            )
        )
        out.append(
            flow(
                t + 0.0006,
                "FORWARDED",
                pod_ep(CHK, False),
                pod_ep(pay, True),
                CHK[2],
                pay[2],
                tcp(sport, 8080, SYN=True),
                "worker-2",
                direction="INGRESS",
                reply=False,
                event=(4, 0),
                point="TO_ENDPOINT",
                summary="TCP Flags: SYN",
            )
        )
        out.append(
            flow(
                t + 0.0011,
                "FORWARDED",
                pod_ep(pay, True),
                pod_ep(CHK, False),
                pay[2],
                CHK[2],
                tcp(8080, sport, SYN=True, ACK=True),
                "worker-2",
                direction="INGRESS",
                reply=True,
                event=(4, 3),
                point="TO_OVERLAY",
                summary="TCP Flags: SYN, ACK",
            )
        )
    # 2. report-job -> payments:8080 denied at payments' ingress; SYN retransmissions
    #    (same 5-tuple at +1 s, +3 s) and a second connection attempt.
    for attempt, sport in enumerate((51734, 51750)):
        for k, dt in enumerate((0.0, 1.0, 3.0)):
            t = 2.0 + attempt * 7.0 + dt
            out.append(
                flow(
                    t,
                    "FORWARDED",
                    pod_ep(REP, True),
                    pod_ep(PAY, False),
                    REP[2],
                    PAY[2],
                    tcp(sport, 8080, SYN=True),
                    "worker-1",
                    direction="EGRESS",
                    reply=False,
                    event=(4, 3),
                    point="TO_OVERLAY",
                    summary="TCP Flags: SYN",
                )
            ) if k == 0 else None
            out.append(
                flow(
                    t + 0.0007,
                    "DROPPED",
                    pod_ep(REP, False),
                    pod_ep(PAY, True),
                    REP[2],
                    PAY[2],
                    tcp(sport, 8080, SYN=True),
                    "worker-2",
                    direction="INGRESS",
                    reply=False,
                    event=(1, 133),
                    code=133,
                    reason="POLICY_DENIED",
                    summary="TCP Flags: SYN",
                )
            )
    # 3. checkout -> payments:8080 seen as world at worker-2, then forwarded on the retransmission.
    out.append(
        flow(
            20.0,
            "DROPPED",
            world_ep(),
            pod_ep(PAY, True),
            CHK[2],
            PAY[2],
            tcp(40188, 8080, SYN=True),
            "worker-2",
            direction="INGRESS",
            reply=False,
            event=(1, 133),
            code=133,
            reason="POLICY_DENIED",
            summary="TCP Flags: SYN",
        )
    )
    out.append(
        flow(
            21.0,
            "FORWARDED",
            pod_ep(CHK, False),
            pod_ep(PAY, True),
            CHK[2],
            PAY[2],
            tcp(40188, 8080, SYN=True),
            "worker-2",
            direction="INGRESS",
            reply=False,
            event=(4, 0),
            point="TO_ENDPOINT",
            summary="TCP Flags: SYN",
        )
    )
    # 4. checkout -> payments:9090 forwarded: the NetworkPolicies allow only 8080.
    for k in range(2):
        out.append(
            flow(
                24.0 + k,
                "FORWARDED",
                pod_ep(CHK, False),
                pod_ep(PAY, True),
                CHK[2],
                PAY[2],
                tcp(40300 + k, 9090, SYN=True),
                "worker-2",
                direction="INGRESS",
                reply=False,
                event=(4, 0),
                point="TO_ENDPOINT",
                summary="TCP Flags: SYN",
            )
        )
    # 5. datapath drops.
    for k in range(4):  # a pod IP that no longer exists (a deleted payments pod)
        out.append(
            flow(
                30.0 + k * 0.25,
                "DROPPED",
                pod_ep(CHK, True),
                world_ep(),
                CHK[2],
                "10.244.2.9",
                tcp(40400 + k, 8080, SYN=True),
                "worker-1",
                direction="EGRESS",
                reply=False,
                event=(1, 151),
                code=151,
                reason="STALE_OR_UNROUTABLE_IP",
                summary="TCP Flags: SYN",
            )
        )
    for k in range(3):  # the BPF CT map is full on worker-1
        out.append(
            flow(
                40.0 + k * 0.1,
                "DROPPED",
                pod_ep(CHK, True),
                pod_ep(DNS, False),
                CHK[2],
                DNS[2],
                udp(53100 + k, 53),
                "worker-1",
                direction="EGRESS",
                reply=False,
                event=(1, 155),
                code=155,
                reason="CT_MAP_INSERTION_FAILED",
                summary="UDP",
            )
        )
    out.append(  # no route out of worker-1
        flow(
            45.0,
            "DROPPED",
            pod_ep(REP, True),
            world_ep(),
            REP[2],
            "203.0.113.50",
            tcp(52000, 443, SYN=True),
            "worker-1",
            direction="EGRESS",
            reply=False,
            event=(1, 169),
            code=169,
            reason="FIB_LOOKUP_FAILED",
            summary="TCP Flags: SYN",
            dst_names=["api.partner.example"],
        )
    )
    out.append(  # a routing loop
        flow(
            46.0,
            "DROPPED",
            pod_ep(REP, True),
            world_ep(),
            REP[2],
            "198.51.100.7",
            udp(41000, 514),
            "worker-1",
            direction="EGRESS",
            reply=False,
            event=(1, 196),
            code=196,
            reason="TTL_EXCEEDED",
            summary="UDP",
        )
    )
    # 6. DNS to CoreDNS through the L7 proxy: REDIRECTED, then the L7 record.
    out.append(
        flow(
            50.0,
            "REDIRECTED",
            pod_ep(CHK, True),
            pod_ep(DNS, False),
            CHK[2],
            DNS[2],
            udp(53311, 53),
            "worker-1",
            direction="EGRESS",
            reply=False,
            event=(4, 0),
            point="TO_PROXY",
            summary="UDP",
            proxy_port=37581,
        )
    )
    out.append(
        flow(
            50.001,
            "FORWARDED",
            pod_ep(CHK, True),
            pod_ep(DNS, False),
            CHK[2],
            DNS[2],
            udp(53311, 53),
            "worker-1",
            direction="EGRESS",
            reply=False,
            event=(129, 0),
            ftype="L7",
            summary="DNS Query payments-api.payments.svc.cluster.local. A",
            l7={
                "type": "REQUEST",
                "dns": {"query": "payments-api.payments.svc.cluster.local.", "qtypes": ["A"]},
            },
        )
    )
    return out


def compact_host(ep: dict[str, Any], ip: str, port: int, names: list[str] | None) -> str:
    host = f"{ep['namespace']}/{ep['pod_name']}" if ep.get("pod_name") else ",".join(names or [ip])
    return f"{host}:{port}"


def compact_id(ep: dict[str, Any]) -> str:
    return "world" if ep.get("identity") == 2 else f"ID:{ep['identity']}"


def compact(f: dict[str, Any]) -> str:
    """The line `hubble observe -o compact` prints for ``f`` (hubble printer, compact)."""
    t = datetime.fromisoformat(f["time"])
    stamp = (
        t.strftime("%b ")
        + f"{t.day:>2}"
        + t.strftime(" %H:%M:%S.")
        + f"{t.microsecond // 1000:03d}"
    )
    l4 = f["l4"]
    proto = next(iter(l4))
    sport, dport = l4[proto]["source_port"], l4[proto]["destination_port"]
    src = (
        compact_host(f["source"], f["IP"]["source"], sport, f.get("source_names"))
        + f" ({compact_id(f['source'])})"
    )
    dst = (
        compact_host(f["destination"], f["IP"]["destination"], dport, f.get("destination_names"))
        + f" ({compact_id(f['destination'])})"
    )
    arrow = "->"
    if f.get("is_reply") is None:
        arrow = "<>"
    elif f["is_reply"]:
        src, dst, arrow = dst, src, "<-"
    if f["verdict"] == "DROPPED":
        kind = {
            "POLICY_DENIED": "Policy denied",
            "STALE_OR_UNROUTABLE_IP": "Stale or unroutable IP",
            "CT_MAP_INSERTION_FAILED": "CT: Map insertion failed",
            "FIB_LOOKUP_FAILED": "FIB lookup failed",
            "TTL_EXCEEDED": "TTL exceeded",
        }[f["drop_reason_desc"]]
    elif f["Type"] == "L7":
        kind = "dns-request proxy"
    else:
        kind = {
            "TO_OVERLAY": "to-overlay",
            "TO_ENDPOINT": "to-endpoint",
            "TO_PROXY": "to-proxy",
        }[f["trace_observation_point"]]
    return f"{stamp}: {src} {arrow} {dst} {kind} {f['verdict']} ({f['Summary']})"


def main() -> None:
    flows = build()
    lines = [json.dumps(wrap(f), separators=(",", ":")) for f in flows]
    node_status = {
        "node_status": {
            "state_change": "NODE_CONNECTED",
            "node_names": ["worker-2"],
            "message": "",
        },
        "node_name": "hubble-relay-2dvm74qkm5-zzzxn",
        "time": ts(0.0),
    }
    lost = {
        "lost_events": {
            "source": "HUBBLE_RING_BUFFER",
            "num_events_lost": "12",
            "cpu": {"value": 1},
        },
        "node_name": "worker-1",
        "time": ts(47.0),
    }
    lines.insert(0, json.dumps(node_status, separators=(",", ":")))
    lines.insert(len(lines) - 2, json.dumps(lost, separators=(",", ":")))
    (HERE / "hubble-observe.json").write_text("\n".join(lines) + "\n")
    (HERE / "hubble-flows-bare.json").write_text(
        "\n".join(json.dumps(f, separators=(",", ":")) for f in flows) + "\n"
    )
    (HERE / "hubble-observe-compact.txt").write_text("\n".join(compact(f) for f in flows) + "\n")
    print("wrote", len(flows), "flows")


def registry_fixtures() -> None:
    """tests/checks/fixtures/{POL309,POL310,CNI411}/{bad,good}: the cluster plus a few flows.

    Each folder holds the cluster (cluster.yaml, a copy of cluster/cluster.yaml)
    and ``flows.jsonl`` (`hubble observe -o json` lines, not a manifest suffix).
    """
    import shutil

    flows = build()

    def pick(pred: Any) -> list[dict[str, Any]]:
        return [f for f in flows if pred(f)]

    def dport(f: dict[str, Any]) -> int:
        l4 = f["l4"]
        return int(l4[next(iter(l4))]["destination_port"])

    allowed = pick(
        lambda f: (
            f["verdict"] == "FORWARDED"
            and dport(f) == 8080
            and f["source"].get("pod_name", "").startswith("checkout-web")
        )
    )
    sets = {
        ("POL309", "bad"): pick(
            lambda f: (
                f.get("drop_reason_desc") == "POLICY_DENIED"
                and f["source"].get("pod_name", "").startswith("report-job")
            )
        ),
        ("POL309", "good"): allowed,
        ("POL310", "bad"): pick(lambda f: f["verdict"] == "FORWARDED" and dport(f) == 9090),
        ("POL310", "good"): allowed,
        ("CNI411", "bad"): pick(lambda f: f.get("drop_reason_desc") == "FIB_LOOKUP_FAILED"),
        ("CNI411", "good"): allowed + pick(lambda f: f.get("drop_reason_desc") == "POLICY_DENIED"),
    }
    root = HERE.parents[1] / "checks" / "fixtures"
    for (rule, which), chosen in sets.items():
        assert chosen, (rule, which)
        folder = root / rule / which
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "cluster" / "cluster.yaml", folder / "cluster.yaml")
        (folder / "flows.jsonl").write_text(
            "\n".join(json.dumps(wrap(f), separators=(",", ":")) for f in chosen) + "\n"
        )


if __name__ == "__main__":
    main()
    registry_fixtures()

"""The Hubble reader: JSON (wrapper, bare, exporter lines), compact text, bad lines."""

from __future__ import annotations

import gzip
from pathlib import Path

from netsleuth.model.flows import (
    DROP_REASON_BY_NAME,
    DROP_REASONS,
    Flow,
    FlowEndpoint,
    LostEvents,
)
from netsleuth.model.problems import LoadProblem
from netsleuth.sources.hubble import read_flows

DATA = Path(__file__).parents[1] / "data" / "flows"


def _flows(path: Path) -> list[Flow]:
    return [r for r in read_flows([str(path)]) if isinstance(r, Flow)]


def test_drop_reason_numbers_match_flow_proto() -> None:
    # flow.proto DropReason: the values operators grep for.
    assert DROP_REASON_BY_NAME["POLICY_DENIED"] == 133
    assert DROP_REASON_BY_NAME["INVALID_SOURCE_IP"] == 132
    assert DROP_REASON_BY_NAME["UNSUPPORTED_L3_PROTOCOL"] == 139
    assert DROP_REASON_BY_NAME["STALE_OR_UNROUTABLE_IP"] == 151
    assert DROP_REASON_BY_NAME["CT_MAP_INSERTION_FAILED"] == 155
    assert DROP_REASON_BY_NAME["FIB_LOOKUP_FAILED"] == 169
    assert DROP_REASON_BY_NAME["POLICY_DENY"] == 181
    assert DROP_REASON_BY_NAME["AUTH_REQUIRED"] == 189
    assert DROP_REASON_BY_NAME["TTL_EXCEEDED"] == 196
    assert 159 not in DROP_REASONS  # never assigned upstream
    assert len(set(DROP_REASON_BY_NAME)) == len(DROP_REASONS)


def test_wrapper_lines_parse_every_field() -> None:
    records = list(read_flows([str(DATA / "hubble-observe.json")]))
    flows = [r for r in records if isinstance(r, Flow)]
    lost = [r for r in records if isinstance(r, LostEvents)]
    assert len(flows) == 29
    # the reader builds the named tuples positionally: every field, in order
    assert {(len(f), len(f.src), len(f.dst)) for f in flows} == {
        (len(Flow._fields), len(FlowEndpoint._fields), len(FlowEndpoint._fields))
    }
    assert not [r for r in records if isinstance(r, LoadProblem)]  # node_status is passed over
    assert [(x.source, x.count, x.node) for x in lost] == [("HUBBLE_RING_BUFFER", 12, "worker-1")]
    drop = next(f for f in flows if f.verdict == "DROPPED")
    assert drop.drop_reason == "POLICY_DENIED"
    assert (drop.src.namespace, drop.src.pod_name, drop.src.ip, drop.src.port) == (
        "reports",
        "report-job-8dp5nr684f-pp558",
        "10.244.1.3",
        51734,
    )
    assert (drop.dst.ip, drop.dst.port, drop.protocol) == ("10.244.2.2", 8080, "TCP")
    assert drop.src.workload == "report-job" and drop.src.workload_kind == "Deployment"
    assert "k8s:app=report-job" in drop.src.labels and drop.src.identity == 33187
    assert drop.direction == "INGRESS" and drop.node == "worker-2"
    assert drop.is_reply is False and drop.tcp_flags == ("SYN",)
    assert drop.flow_type == "L3_L4" and drop.event_type == 1
    assert drop.time_text == "2026-11-20T09:14:02.000700417Z"
    reply = next(f for f in flows if f.is_reply)
    assert reply.tcp_flags == ("SYN", "ACK") and not reply.is_new_connection
    world = next(f for f in flows if f.src.reserved == "world")
    assert world.src.pod_name == "" and world.src.identity == 2
    assert sum(f.verdict == "REDIRECTED" for f in flows) == 1


def test_bare_flows_and_compact_lines_give_the_same_flows() -> None:
    wrapped = _flows(DATA / "hubble-observe.json")
    bare = _flows(DATA / "hubble-flows-bare.json")
    assert [(f.verdict, f.drop_reason, f.src.ip, f.dst.port) for f in bare] == [
        (f.verdict, f.drop_reason, f.src.ip, f.dst.port) for f in wrapped
    ]
    compact = _flows(DATA / "hubble-observe-compact.txt")
    assert len(compact) == len(wrapped)
    for c, w in zip(compact, wrapped, strict=True):
        assert (c.verdict, c.drop_reason, c.protocol) == (w.verdict, w.drop_reason, w.protocol)
        assert (c.src.pod_name, c.dst.pod_name) == (w.src.pod_name, w.dst.pod_name)
        assert (c.src.port, c.dst.port) == (w.src.port, w.dst.port)
        # compact hides the IP of named pods; the arrow still tells replies
        assert c.is_reply == w.is_reply
    fib = next(f for f in compact if f.drop_reason == "FIB_LOOKUP_FAILED")
    assert fib.dst.names == ("api.partner.example",)
    assert compact[0].time_text == "Nov 20 09:14:00.100"


def test_compact_variants(tmp_path: Path) -> None:
    f = tmp_path / "c.txt"
    f.write_text(
        # --print-node-name, a policy-verdict line, an IPv6 peer, a reply arrow, a newer
        # description for code 136, a world identity
        "Jun  2 11:14:46.041 [kind-worker]: default/xwing:38694 (ID:52474) -> "
        "default/deathstar-6fb5694d48-5hmds:80 (ID:6790) policy-verdict:none INGRESS DENIED "
        "(TCP Flags: SYN)\n"
        "Jun  2 11:14:47.000: [fd00::1]:443 (world) <> default/web-1:8080 (ID:7) "
        "Fragmentation needed DROPPED (TCP Flags: ACK)\n"
        "Jun  2 11:14:48.000: default/web-1:8080 (ID:7) <- default/api-2:5432 (ID:9) "
        "to-endpoint FORWARDED (TCP Flags: SYN, ACK)\n"
    )
    a, b, c = _flows(f)
    assert (a.node, a.verdict, a.drop_reason, a.direction) == (
        "kind-worker",
        "DROPPED",
        "POLICY_DENIED",
        "INGRESS",
    )
    assert (b.src.ip, b.src.port, b.src.reserved, b.is_reply) == ("fd00::1", 443, "world", None)
    assert b.drop_reason == "CT_MISSING_TCP_ACK_FLAG"
    # '<-' prints the reply destination first: the sender is on the right
    assert (c.src.pod_name, c.dst.pod_name, c.is_reply) == ("api-2", "web-1", True)
    assert c.observation_point == "TO_ENDPOINT"


def test_bad_lines_are_problems_and_the_rest_is_read(tmp_path: Path) -> None:
    good = (DATA / "hubble-observe.json").read_text().splitlines()[1]
    f = tmp_path / "mixed.json"
    lines = [good, "{not json", "[1, 2]", '{"hello": 1}', "random text", "", good]
    lines += ["garbage"] * 12
    f.write_text("\n".join(lines) + "\n")
    records = list(read_flows([str(f)]))
    flows = [r for r in records if isinstance(r, Flow)]
    problems = [r for r in records if isinstance(r, LoadProblem)]
    assert len(flows) == 2
    assert problems[0].origin.file == str(f) and problems[0].origin.line == 2
    assert "not valid JSON" in problems[0].message
    assert "not a Hubble flow" in problems[2].message
    assert problems[3].origin.line == 5
    # ten problems per file, then one count
    assert len(problems) == 11 and "6 more unreadable lines" in problems[-1].message


def test_gzip_input(tmp_path: Path) -> None:
    f = tmp_path / "flows.json.gz"
    f.write_bytes(gzip.compress((DATA / "hubble-observe.json").read_bytes()))
    assert len(_flows(f)) == 29


# --------------------------------------------------------------------------- brief reading
# `netsleuth flows` reads with brief=True: forwarded replies and redirected flows, which the
# summary only counts, are recognised from their bytes and not parsed. It must change nothing.


def _summary(cluster: Path, path: Path, brief: bool) -> dict[str, object]:
    from netsleuth.flows import summarize
    from netsleuth.sources.load import load_offline

    s = summarize(load_offline([str(cluster)]), read_flows([str(path)], brief=brief))
    drops = [(g.reason, g.src, g.dst, g.count, g.transient, g.identity_unknown) for g in s.drops]
    return {
        "counts": s.counts.as_dict(),
        "drops": sorted((r, a and a.key, b and b.key, *rest) for r, a, b, *rest in drops),
        "forwarded_denied": sorted(
            (g.src and g.src.key, g.dst and g.dst.key, g.count) for g in s.forwarded_denied
        ),
        "pairs": sorted(
            (k, o.verdict, o.forwarded, o.dropped, o.origin) for k, o in s.pairs.items()
        ),
        "problems": [(p.message, p.origin.line) for p in s.problems],
        "lost": s.lost_events,
    }


def test_brief_reading_changes_no_summary() -> None:
    for cluster, path in (
        (DATA / "cluster", DATA / "hubble-observe.json"),
        (DATA / "cluster", DATA / "hubble-flows-bare.json"),
        (DATA / "cluster", DATA / "hubble-observe-compact.txt"),
        (DATA / "prefix", DATA / "prefix" / "hubble-observe.jsonpb"),
    ):
        assert _summary(cluster, path, brief=True) == _summary(cluster, path, brief=False), path
    # the fixture's replies and redirects are the ones not parsed
    flows = [r for r in read_flows([str(DATA / "hubble-observe.json")], brief=True)]
    skipped = [r for r in flows if isinstance(r, Flow) and not r.src.ip]
    assert {(r.verdict, r.is_reply) for r in skipped} == {("FORWARDED", True), ("REDIRECTED", None)}
    assert len(skipped) == 3  # two replies, one DNS query through the proxy


def test_brief_reading_parses_what_it_cannot_be_sure_of(tmp_path: Path) -> None:
    lines = (DATA / "hubble-observe.json").read_text().splitlines()
    reply = next(ln for ln in lines if '"is_reply":true' in ln and '"FORWARDED"' in ln)
    drop = next(ln for ln in lines if '"verdict":"DROPPED"' in ln)
    f = tmp_path / "f.json"
    f.write_text(
        "\n".join(
            [
                reply[:-40],  # cut short: not JSON, a problem (not a counted reply)
                reply.replace('"is_reply":true', '"is_reply": true'),  # spelled otherwise: parsed
                # a drop whose text holds the bytes of a reply (escaped inside a string)
                drop.replace(
                    '"Summary":"', '"Summary":"\\"is_reply\\":true \\"verdict\\":\\"FORWARDED\\" '
                ),
            ]
        )
        + "\n"
    )
    records = list(read_flows([str(f)], brief=True))
    assert isinstance(records[0], LoadProblem) and "not valid JSON" in records[0].message
    assert isinstance(records[1], Flow) and records[1].is_reply is True and records[1].src.ip
    assert isinstance(records[2], Flow) and records[2].verdict == "DROPPED"
    assert records[2].summary.startswith('"is_reply":true "verdict":"FORWARDED" ')

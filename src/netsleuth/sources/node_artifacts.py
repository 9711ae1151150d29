"""Parse node artifacts (C12): the raw output of a node's own tools.

A node bundle is a directory ``nodes/<node-name>/`` (inside a scenario,
a support bundle or any ``-f`` directory) holding any of:

=====================  =====================================================
``ip-route.txt``       ``ip route`` (``ip-6-route.txt``: ``ip -6 route``)
``ip-d-link.txt``      ``ip -d link`` (or ``ip-d-link.json``: ``ip -d -j link``)
``iptables-save.txt``  ``iptables-save`` (``ip6tables-save.txt`` likewise)
``ipvsadm-Ln.txt``     ``ipvsadm -Ln``
``conntrack-S.txt``    ``conntrack -S`` (per-CPU counters)
``nf_conntrack``       ``/proc/net/stat/nf_conntrack`` (hex table)
``nf_conntrack_count`` ``/proc/sys/net/netfilter/nf_conntrack_count``
``nf_conntrack_max``   ``/proc/sys/net/netfilter/nf_conntrack_max``
``sysctl.txt``         ``sysctl -a`` (``key = value`` lines)
``resolv.conf``        the node's ``/etc/resolv.conf``
``cni/*.conflist``     ``/etc/cni/net.d`` (``.conflist`` / ``.conf`` JSON)
=====================  =====================================================

Every parser tolerates junk: a line it cannot read becomes a
:class:`LoadProblem` with the file and line, and the rest is parsed.
Unknown files in a node folder are reported as warnings and ignored.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from netsleuth.model.node_artifacts import (
    CniConfig,
    ConntrackStats,
    IptablesDump,
    IptablesRule,
    IpvsRealServer,
    IpvsService,
    LinkInfo,
    NodeArtifacts,
    ResolvConf,
    RouteEntry,
)
from netsleuth.model.problems import Level, LoadProblem, Origin

Problems = list[LoadProblem]


def _bad(problems: Problems, file: str, line: int | None, message: str) -> None:
    problems.append(
        LoadProblem(
            level=Level.WARNING,
            message=message,
            origin=Origin(file=file, line=line),
            skipped="line",
        )
    )


# --------------------------------------------------------------------------- ip route

_ROUTE_TYPES = {
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "nat",
}


def parse_ip_route(
    text: str, file: str = "ip-route.txt", problems: Problems | None = None
) -> tuple[RouteEntry, ...]:
    problems = problems if problems is not None else []
    out: list[RouteEntry] = []
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or line.startswith("#"):
            continue
        if line[0].isspace():  # multipath "nexthop" continuation lines
            continue
        if words[0] in _ROUTE_TYPES and len(words) > 1:
            words = words[1:]
        dest = words[0]
        if dest != "default" and not re.match(r"^[0-9a-fA-F:.]+(/\d+)?$", dest):
            _bad(problems, file, n, f"not a route: {line.strip()[:60]!r}")
            continue
        kw: dict[str, str] = {}
        flags: set[str] = set()
        i = 1
        while i < len(words):
            w = words[i]
            if w in (
                "via",
                "dev",
                "proto",
                "scope",
                "src",
                "mtu",
                "table",
                "metric",
            ) and i + 1 < len(words):
                kw[w] = words[i + 1]
                i += 2
                continue
            flags.add(w)
            i += 1
        mtu = kw.get("mtu")
        out.append(
            RouteEntry(
                destination=dest,
                gateway=kw.get("via"),
                device=kw.get("dev"),
                protocol=kw.get("proto"),
                scope=kw.get("scope"),
                source=kw.get("src"),
                mtu=int(mtu) if mtu and mtu.isdigit() else None,
                onlink="onlink" in flags,
                table=kw.get("table"),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- ip -d link

_LINK_HEAD = re.compile(r"^(\d+):\s+([^:@\s]+)(?:@(\S+?))?:\s+<([^>]*)>(.*)$")
_LINK_KINDS = (
    "vxlan",
    "geneve",
    "ipip",
    "wireguard",
    "bridge",
    "veth",
    "dummy",
    "ip6tnl",
    "gre",
    "macvlan",
    "ipvlan",
    "vlan",
    "bond",
    "tun",
    "sit",
    "ip6gre",
    "ipvtap",
)


def parse_ip_link(
    text: str, file: str = "ip-d-link.txt", problems: Problems | None = None
) -> tuple[LinkInfo, ...]:
    problems = problems if problems is not None else []
    out: list[LinkInfo] = []
    cur: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINK_HEAD.match(line)
        if m:
            if cur:
                out.append(LinkInfo(**cur))
            rest = m.group(5).split()
            mtu = (
                rest[rest.index("mtu") + 1]
                if "mtu" in rest and rest.index("mtu") + 1 < len(rest)
                else None
            )
            state = (
                rest[rest.index("state") + 1]
                if "state" in rest and rest.index("state") + 1 < len(rest)
                else None
            )
            parent = m.group(3)
            cur = {
                "name": m.group(2),
                "mtu": int(mtu) if mtu and mtu.isdigit() else None,
                "state": state,
                "kind": None,
                "parent": None
                if parent in (None, "NONE") or (parent or "").startswith("if")
                else parent,
                "flags": tuple(f for f in m.group(4).split(",") if f),
            }
            continue
        if cur is None or not line[0].isspace():
            _bad(problems, file, n, f"not part of an interface: {line.strip()[:60]!r}")
            continue
        words = line.split()
        if cur["kind"] is None and words and words[0] in _LINK_KINDS:
            cur["kind"] = words[0]
            if words[0] == "vxlan":
                if "id" in words:
                    vid = words[words.index("id") + 1]
                    cur["vxlan_id"] = int(vid) if vid.isdigit() else None
                if "dstport" in words:
                    port = words[words.index("dstport") + 1]
                    cur["vxlan_port"] = int(port) if port.isdigit() else None
        elif (
            cur["kind"] is None
            and words
            and words[0].startswith("link/")
            and words[0] in ("link/ipip", "link/none")
        ):
            # "link/none" is how WireGuard shows until its detail line; "link/ipip" for tunl0.
            pass
    if cur:
        out.append(LinkInfo(**cur))
    return tuple(out)


def parse_ip_link_json(
    text: str, file: str = "ip-d-link.json", problems: Problems | None = None
) -> tuple[LinkInfo, ...]:
    problems = problems if problems is not None else []
    try:
        data = json.loads(text)
    except ValueError as exc:
        _bad(problems, file, None, f"not JSON: {exc}")
        return ()
    out = []
    for n, item in enumerate(data if isinstance(data, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("ifname"), str):
            _bad(problems, file, None, f"entry {n} is not an interface")
            continue
        info: dict[str, Any] = item["linkinfo"] if isinstance(item.get("linkinfo"), dict) else {}
        data_: dict[str, Any] = info["info_data"] if isinstance(info.get("info_data"), dict) else {}
        mtu = item.get("mtu")
        out.append(
            LinkInfo(
                name=item["ifname"],
                mtu=mtu if isinstance(mtu, int) else None,
                state=item.get("operstate"),
                kind=info.get("info_kind"),
                vxlan_id=data_.get("id") if isinstance(data_.get("id"), int) else None,
                vxlan_port=data_.get("port") if isinstance(data_.get("port"), int) else None,
                parent=item.get("link"),
                flags=tuple(str(f) for f in item.get("flags", []) if isinstance(f, str)),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- iptables-save


def _opt(tokens: list[str], *names: str) -> str | None:
    for i, t in enumerate(tokens):
        if t in names and i + 1 < len(tokens):
            return tokens[i + 1]
    return None


def parse_iptables_save(
    text: str, file: str = "iptables-save.txt", problems: Problems | None = None
) -> IptablesDump:
    problems = problems if problems is not None else []
    chains: dict[str, dict[str, str]] = {}
    rules: list[IptablesRule] = []
    table: str | None = None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#") or s == "COMMIT":
            continue
        if s.startswith("*"):
            table = s[1:]
            chains.setdefault(table, {})
            continue
        if table is None:
            _bad(problems, file, n, f"outside a table: {s[:60]!r}")
            continue
        if s.startswith(":"):
            parts = s[1:].split()
            if not parts:
                _bad(problems, file, n, "empty chain line")
                continue
            chains[table][parts[0]] = parts[1] if len(parts) > 1 else "-"
            continue
        if s.startswith("-A ") or s.startswith("-I "):
            try:
                tokens = shlex.split(s)
            except ValueError:
                _bad(problems, file, n, f"unbalanced quotes: {s[:60]!r}")
                continue
            if len(tokens) < 2:
                _bad(problems, file, n, "rule without a chain")
                continue
            chain = tokens[1]
            spec = s.split(None, 2)[2] if len(s.split(None, 2)) > 2 else ""
            prob = _opt(tokens, "--probability")
            try:
                probability = float(prob) if prob is not None else None
            except ValueError:
                probability = None
            dest = _opt(tokens, "-d", "--destination")
            rules.append(
                IptablesRule(
                    table=table,
                    chain=chain,
                    spec=spec,
                    target=_opt(tokens, "-j", "--jump", "-g", "--goto"),
                    comment=_opt(tokens, "--comment"),
                    destination=dest.removesuffix("/32") if dest else None,
                    dport=_opt(tokens, "--dport", "--destination-port"),
                    protocol=_opt(tokens, "-p", "--protocol"),
                    to_destination=_opt(tokens, "--to-destination"),
                    probability=probability,
                )
            )
            chains[table].setdefault(chain, "-")
            continue
        _bad(problems, file, n, f"not an iptables-save line: {s[:60]!r}")
    return IptablesDump(chains=chains, rules=tuple(rules))


# --------------------------------------------------------------------------- ipvsadm -Ln

_VS = re.compile(r"^(TCP|UDP|SCTP)\s+(\S+):(\d+)\s+(\S+)")
_RS = re.compile(r"^\s+->\s+(\S+):(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)")


def parse_ipvsadm(
    text: str, file: str = "ipvsadm-Ln.txt", problems: Problems | None = None
) -> tuple[IpvsService, ...]:
    problems = problems if problems is not None else []
    out: list[IpvsService] = []
    cur: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(
            ("IP Virtual Server", "Prot LocalAddress", "  -> RemoteAddress")
        ):
            continue
        m = _VS.match(line)
        if m:
            if cur:
                out.append(IpvsService(**cur))
            addr = m.group(2).strip("[]")
            cur = {
                "protocol": m.group(1),
                "address": addr,
                "port": int(m.group(3)),
                "scheduler": m.group(4),
                "real_servers": (),
            }
            continue
        r = _RS.match(line)
        if r and cur is not None:
            cur["real_servers"] = (
                *cur["real_servers"],
                IpvsRealServer(
                    address=r.group(1).strip("[]"),
                    port=int(r.group(2)),
                    forward=r.group(3),
                    weight=int(r.group(4)),
                    active=int(r.group(5)),
                    inactive=int(r.group(6)),
                ),
            )
            continue
        _bad(problems, file, n, f"not an ipvsadm line: {line.strip()[:60]!r}")
    if cur:
        out.append(IpvsService(**cur))
    return tuple(out)


# --------------------------------------------------------------------------- conntrack

_CT_KEYS = ("drop", "early_drop", "insert_failed", "invalid", "search_restart")


def parse_conntrack_s(
    text: str, file: str = "conntrack-S.txt", problems: Problems | None = None
) -> ConntrackStats:
    """``conntrack -S``: one ``cpu=N key=value ...`` line per CPU, summed."""
    problems = problems if problems is not None else []
    totals = dict.fromkeys(_CT_KEYS, 0)
    per_cpu: list[dict[str, int]] = []
    for n, line in enumerate(text.splitlines(), 1):
        pairs = re.findall(r"(\w+)=(\d+)", line)
        if not pairs:
            if line.strip():
                _bad(problems, file, n, f"not a conntrack -S line: {line.strip()[:60]!r}")
            continue
        row = {k: int(v) for k, v in pairs}
        per_cpu.append(row)
        for k in _CT_KEYS:
            totals[k] += row.get(k, 0)
    return ConntrackStats(per_cpu=tuple(per_cpu), **totals)


def parse_proc_nf_conntrack(
    text: str, file: str = "nf_conntrack", problems: Problems | None = None
) -> ConntrackStats:
    """``/proc/net/stat/nf_conntrack``: a header, then one hex row per CPU."""
    problems = problems if problems is not None else []
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return ConntrackStats()
    header = lines[0].split()
    totals = dict.fromkeys(_CT_KEYS, 0)
    per_cpu = []
    count = None
    for n, line in enumerate(lines[1:], 2):
        vals = line.split()
        if len(vals) != len(header):
            _bad(problems, file, n, "row does not match the header")
            continue
        try:
            row = {h: int(v, 16) for h, v in zip(header, vals, strict=True)}
        except ValueError:
            _bad(problems, file, n, "not hexadecimal")
            continue
        per_cpu.append(row)
        count = row.get("entries", count)  # the same global count on every row
        for k in _CT_KEYS:
            totals[k] += row.get(k, 0)
    return ConntrackStats(count=count, per_cpu=tuple(per_cpu), **totals)


def _int_file(text: str, file: str, problems: Problems) -> int | None:
    s = text.strip()
    if s.isdigit():
        return int(s)
    _bad(problems, file, 1, f"expected a number, got {s[:30]!r}")
    return None


# --------------------------------------------------------------------------- cni, resolv.conf, sysctl


def parse_cni_config(text: str, file: str, problems: Problems | None = None) -> CniConfig | None:
    problems = problems if problems is not None else []
    try:
        raw = json.loads(text)
    except ValueError as exc:
        _bad(problems, file, getattr(exc, "lineno", None), f"not JSON: {exc}")
        return None
    if not isinstance(raw, dict):
        _bad(problems, file, None, "not a CNI configuration object")
        return None
    plugins: list[Any] = raw["plugins"] if isinstance(raw.get("plugins"), list) else [raw]
    types: list[str] = []
    mtu: int | None = None
    for p in plugins:
        if not isinstance(p, dict):
            continue
        if isinstance(p.get("type"), str):
            types.append(p["type"])
        delegate: dict[str, Any] = p["delegate"] if isinstance(p.get("delegate"), dict) else {}
        for holder in (p, delegate):
            v = holder.get("mtu")
            if mtu is None and isinstance(v, int) and not isinstance(v, bool):
                mtu = v
    return CniConfig(
        file=file,
        name=str(raw.get("name", "")),
        cni_version=str(raw.get("cniVersion", "")),
        plugin_types=tuple(types),
        mtu=mtu,
        raw=raw,
    )


def parse_resolv_conf(
    text: str, file: str = "resolv.conf", problems: Problems | None = None
) -> ResolvConf:
    problems = problems if problems is not None else []
    ns: list[str] = []
    search: list[str] = []
    opts: list[tuple[str, str | None]] = []
    for n, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            ns.append(words[1])
        elif words[0] in ("search", "domain"):
            search = words[1:]
        elif words[0] == "options":
            for o in words[1:]:
                k, _, v = o.partition(":")
                opts.append((k, v or None))
        else:
            _bad(problems, file, n, f"unknown resolv.conf directive {words[0]!r}")
    return ResolvConf(nameservers=tuple(ns), search=tuple(search), options=tuple(opts))


def parse_sysctl(
    text: str, file: str = "sysctl.txt", problems: Problems | None = None
) -> dict[str, str]:
    problems = problems if problems is not None else []
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        k, sep, v = s.partition("=")
        if not sep or not k.strip():
            _bad(problems, file, n, f"not key = value: {s[:60]!r}")
            continue
        out[k.strip()] = v.strip()
    return out


# --------------------------------------------------------------------------- bundles

KNOWN_FILES = {
    "ip-route.txt",
    "ip-6-route.txt",
    "ip-d-link.txt",
    "ip-d-link.json",
    "iptables-save.txt",
    "ip6tables-save.txt",
    "ipvsadm-Ln.txt",
    "conntrack-S.txt",
    "nf_conntrack",
    "nf_conntrack_count",
    "nf_conntrack_max",
    "sysctl.txt",
    "resolv.conf",
    "nft-ruleset.txt",
    "README.md",
}


def read_node_bundle(node_dir: Path) -> tuple[NodeArtifacts, list[LoadProblem]]:
    problems: Problems = []
    kw: dict[str, Any] = {}
    files: list[str] = []

    def text(name: str) -> str | None:
        p = node_dir / name
        if not p.is_file():
            return None
        try:
            content = p.read_text(errors="replace")
        except OSError as exc:
            problems.append(
                LoadProblem(
                    level=Level.DEGRADED,
                    message=f"cannot read: {exc.strerror}",
                    origin=Origin(file=str(p)),
                    skipped="file",
                )
            )
            return None
        files.append(str(p))
        return content

    def path(name: str) -> str:
        return str(node_dir / name)

    routes: list[RouteEntry] = []
    for name in ("ip-route.txt", "ip-6-route.txt"):
        t = text(name)
        if t is not None:
            routes += parse_ip_route(t, path(name), problems)
    if routes or (node_dir / "ip-route.txt").is_file():
        kw["routes"] = tuple(routes)
    if (t := text("ip-d-link.json")) is not None:
        kw["links"] = parse_ip_link_json(t, path("ip-d-link.json"), problems)
    elif (t := text("ip-d-link.txt")) is not None:
        kw["links"] = parse_ip_link(t, path("ip-d-link.txt"), problems)
    if (t := text("iptables-save.txt")) is not None:
        dump = parse_iptables_save(t, path("iptables-save.txt"), problems)
        if (t6 := text("ip6tables-save.txt")) is not None:
            d6 = parse_iptables_save(t6, path("ip6tables-save.txt"), problems)
            dump = IptablesDump(chains={**d6.chains, **dump.chains}, rules=dump.rules + d6.rules)
        kw["iptables"] = dump
    if (t := text("ipvsadm-Ln.txt")) is not None:
        kw["ipvs"] = parse_ipvsadm(t, path("ipvsadm-Ln.txt"), problems)
    ct: ConntrackStats | None = None
    if (t := text("conntrack-S.txt")) is not None:
        ct = parse_conntrack_s(t, path("conntrack-S.txt"), problems)
    elif (t := text("nf_conntrack")) is not None:
        ct = parse_proc_nf_conntrack(t, path("nf_conntrack"), problems)
    sysctls = (
        parse_sysctl(t, path("sysctl.txt"), problems)
        if (t := text("sysctl.txt")) is not None
        else None
    )
    count = (
        _int_file(t, path("nf_conntrack_count"), problems)
        if (t := text("nf_conntrack_count")) is not None
        else None
    )
    mx = (
        _int_file(t, path("nf_conntrack_max"), problems)
        if (t := text("nf_conntrack_max")) is not None
        else None
    )
    if sysctls:
        if count is None and sysctls.get("net.netfilter.nf_conntrack_count", "").isdigit():
            count = int(sysctls["net.netfilter.nf_conntrack_count"])
        if mx is None and sysctls.get("net.netfilter.nf_conntrack_max", "").isdigit():
            mx = int(sysctls["net.netfilter.nf_conntrack_max"])
    if ct is not None or count is not None or mx is not None:
        base = ct or ConntrackStats()
        kw["conntrack"] = ConntrackStats(
            count=count if count is not None else base.count,
            max=mx,
            drop=base.drop,
            early_drop=base.early_drop,
            insert_failed=base.insert_failed,
            invalid=base.invalid,
            search_restart=base.search_restart,
            per_cpu=base.per_cpu,
        )
    if sysctls is not None:
        kw["sysctls"] = sysctls
    if (t := text("resolv.conf")) is not None:
        kw["resolv_conf"] = parse_resolv_conf(t, path("resolv.conf"), problems)
    cni_dir = node_dir / "cni"
    if cni_dir.is_dir():
        confs = []
        for f in sorted(cni_dir.iterdir()):
            if f.suffix in (".conflist", ".conf", ".json") and f.is_file():
                files.append(str(f))
                conf = parse_cni_config(f.read_text(errors="replace"), f"cni/{f.name}", problems)
                if conf is not None:
                    confs.append(conf)
        kw["cni_configs"] = tuple(confs)
    text("nft-ruleset.txt")
    for f in sorted(node_dir.iterdir()):
        if f.is_file() and f.name not in KNOWN_FILES:
            problems.append(
                LoadProblem(
                    level=Level.WARNING,
                    message="unknown node artifact file; ignored",
                    origin=Origin(file=str(f)),
                    skipped="file",
                )
            )
    return NodeArtifacts(
        node=node_dir.name, origin=Origin(file=str(node_dir)), files=tuple(files), **kw
    ), problems


def collect_nodes_dir(nodes_dir: Path) -> Iterator[NodeArtifacts | LoadProblem]:
    """Every ``nodes/<node>/`` bundle below ``nodes_dir``."""
    for d in sorted(nodes_dir.iterdir()):
        if d.is_dir():
            art, problems = read_node_bundle(d)
            yield from problems
            yield art

"""Parse node artifacts (C12): the raw output of a node's own tools.

One parser per output kind (the kinds :mod:`netsleuth.sources.node_sniff`
recognises). Every parser takes the section's text, the file it came from,
a problem list and the line number of the text's first line, and tolerates
junk: a line it cannot read becomes a :class:`LoadProblem` with the file and
line, and the rest is parsed. Numbers go through
:func:`netsleuth.model.numbers.parse_int` (ASCII digits, bounded).

Which files hold what, and how one node's files become one
:class:`~netsleuth.model.node_artifacts.NodeArtifacts`, is
:mod:`netsleuth.sources.node_bundle`.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
from typing import Any

from netsleuth.model.node_artifacts import (
    AddressInfo,
    CniConfig,
    ConntrackSample,
    ConntrackStats,
    IpamAllocation,
    IpRule,
    IptablesDump,
    IptablesRule,
    IpvsRealServer,
    IpvsService,
    KernelModules,
    LinkInfo,
    NftRuleset,
    ResolvConf,
    RouteEntry,
)
from netsleuth.model.numbers import parse_int
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


def _shown(line: str) -> str:
    return repr(line.strip()[:60])


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
    "anycast",
}
_ROUTE_DEST = re.compile(r"^(?:default|[0-9a-fA-F:.]+(?:/\d{1,3})?)$")
_ROUTE_KEYS = frozenset({"via", "dev", "proto", "scope", "src", "mtu", "table", "metric"})


def parse_ip_route(
    text: str,
    file: str = "ip-route.txt",
    problems: Problems | None = None,
    line0: int = 1,
    table: str | None = None,
) -> tuple[RouteEntry, ...]:
    """``ip route`` / ``ip -6 route`` / ``ip route show table all|local``.

    ``table`` is the table the command listed (``show table local``): its
    lines do not repeat it. The route type the kernel prints first
    (``local``, ``broadcast``, ``unreachable``…) is kept in
    :attr:`RouteEntry.type`.
    """
    problems = problems if problems is not None else []
    out: list[RouteEntry] = []
    for n, line in enumerate(text.splitlines(), line0):
        words = line.split()
        if not words or line.startswith("#"):
            continue
        if line[0].isspace():  # multipath "nexthop" continuation lines, "cache" lines
            continue
        rtype = None
        if words[0] in _ROUTE_TYPES and len(words) > 1:
            rtype = words[0]
            words = words[1:]
        dest = words[0]
        if not _ROUTE_DEST.match(dest):
            _bad(problems, file, n, f"not a route: {_shown(line)}")
            continue
        kw: dict[str, str] = {}
        flags: set[str] = set()
        i = 1
        while i < len(words):
            w = words[i]
            if w in _ROUTE_KEYS and i + 1 < len(words):
                kw[w] = words[i + 1]
                i += 2
                continue
            flags.add(w)
            i += 1
        out.append(
            RouteEntry(
                destination=dest,
                gateway=kw.get("via"),
                device=kw.get("dev"),
                protocol=kw.get("proto"),
                scope=kw.get("scope"),
                source=kw.get("src"),
                mtu=parse_int(kw.get("mtu"), hi=1 << 20),
                onlink="onlink" in flags,
                table=kw.get("table") or table,
                type=rtype,
            )
        )
    return tuple(out)


def parse_ip_route_get(
    text: str, file: str = "ip-route-get.txt", problems: Problems | None = None, line0: int = 1
) -> tuple[RouteEntry, ...]:
    """``ip route get ADDR``: ``10.244.2.7 via 10.244.2.0 dev flannel.1 src 10.244.1.0 uid 0``."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln[0].isspace()]
    return parse_ip_route("\n".join(lines), file, problems, line0)


# --------------------------------------------------------------------------- ip link / ip addr

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


def _after(words: list[str], key: str) -> str | None:
    if key in words:
        i = words.index(key)
        if i + 1 < len(words):
            return words[i + 1]
    return None


def _link_head(m: re.Match[str]) -> dict[str, Any]:
    rest = m.group(5).split()
    parent = m.group(3)
    return {
        "name": m.group(2),
        "mtu": parse_int(_after(rest, "mtu"), hi=1 << 20),
        "state": _after(rest, "state"),
        "kind": None,
        "parent": None if parent in (None, "NONE") or (parent or "").startswith("if") else parent,
        "flags": tuple(f for f in m.group(4).split(",") if f),
    }


def _link_detail(cur: dict[str, Any], words: list[str]) -> None:
    if cur["kind"] is None and words and words[0] in _LINK_KINDS:
        cur["kind"] = words[0]
        if words[0] == "vxlan":
            cur["vxlan_id"] = parse_int(_after(words, "id"), hi=(1 << 24) - 1)
            cur["vxlan_port"] = parse_int(_after(words, "dstport"), hi=65535)


def parse_ip_link(
    text: str, file: str = "ip-d-link.txt", problems: Problems | None = None, line0: int = 1
) -> tuple[LinkInfo, ...]:
    """``ip link`` / ``ip -d link`` (the ``-d`` detail line names the device kind)."""
    links, _ = _parse_ip_link_addr(text, file, problems, line0)
    return links


def parse_ip_addr(
    text: str, file: str = "ip-addr.txt", problems: Problems | None = None, line0: int = 1
) -> tuple[tuple[LinkInfo, ...], tuple[AddressInfo, ...]]:
    """``ip addr``: the interfaces (as ``ip link`` shows them) and their addresses."""
    return _parse_ip_link_addr(text, file, problems, line0)


def _parse_ip_link_addr(
    text: str, file: str, problems: Problems | None, line0: int
) -> tuple[tuple[LinkInfo, ...], tuple[AddressInfo, ...]]:
    problems = problems if problems is not None else []
    out: list[LinkInfo] = []
    addrs: list[AddressInfo] = []
    cur: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip():
            continue
        m = _LINK_HEAD.match(line)
        if m:
            if cur:
                out.append(LinkInfo(**cur))
            cur = _link_head(m)
            continue
        if cur is None or not line[0].isspace():
            _bad(problems, file, n, f"not part of an interface: {_shown(line)}")
            continue
        words = line.split()
        if words[0] in ("inet", "inet6") and len(words) > 1:
            addr, _, plen = words[1].partition("/")
            family = 6 if words[0] == "inet6" else 4
            prefix = parse_int(plen or ("128" if family == 6 else "32"), hi=128)
            try:
                ipaddress.ip_address(addr)
            except ValueError:
                _bad(problems, file, n, f"not an address: {_shown(line)}")
                continue
            addrs.append(
                AddressInfo(
                    interface=cur["name"],
                    address=addr,
                    prefix=prefix if prefix is not None else (128 if family == 6 else 32),
                    family=family,
                    scope=_after(words, "scope"),
                )
            )
            continue
        _link_detail(cur, words)
    if cur:
        out.append(LinkInfo(**cur))
    return tuple(out), tuple(addrs)


def parse_ip_link_json(
    text: str, file: str = "ip-d-link.json", problems: Problems | None = None, line0: int = 1
) -> tuple[LinkInfo, ...]:
    links, _ = parse_ip_addr_json(text, file, problems, line0)
    return links


def parse_ip_addr_json(
    text: str, file: str = "ip-addr.json", problems: Problems | None = None, line0: int = 1
) -> tuple[tuple[LinkInfo, ...], tuple[AddressInfo, ...]]:
    """``ip -j [-d] link|addr``."""
    problems = problems if problems is not None else []
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        _bad(problems, file, line0, f"not JSON: {exc}")
        return (), ()
    out: list[LinkInfo] = []
    addrs: list[AddressInfo] = []
    for n, item in enumerate(data if isinstance(data, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("ifname"), str):
            _bad(problems, file, line0, f"entry {n} is not an interface")
            continue
        info: dict[str, Any] = item["linkinfo"] if isinstance(item.get("linkinfo"), dict) else {}
        data_: dict[str, Any] = info["info_data"] if isinstance(info.get("info_data"), dict) else {}
        mtu = item.get("mtu")
        vid, vport = data_.get("id"), data_.get("port")
        out.append(
            LinkInfo(
                name=item["ifname"],
                mtu=mtu if isinstance(mtu, int) and not isinstance(mtu, bool) else None,
                state=item.get("operstate") if isinstance(item.get("operstate"), str) else None,
                kind=info.get("info_kind") if isinstance(info.get("info_kind"), str) else None,
                vxlan_id=vid if isinstance(vid, int) and not isinstance(vid, bool) else None,
                vxlan_port=vport
                if isinstance(vport, int) and not isinstance(vport, bool)
                else None,
                parent=item.get("link") if isinstance(item.get("link"), str) else None,
                flags=tuple(str(f) for f in item.get("flags", []) if isinstance(f, str)),
            )
        )
        for a in item.get("addr_info") or []:
            if not isinstance(a, dict) or not isinstance(a.get("local"), str):
                continue
            plen = a.get("prefixlen")
            family = 6 if a.get("family") == "inet6" else 4
            addrs.append(
                AddressInfo(
                    interface=item["ifname"],
                    address=a["local"],
                    prefix=plen if isinstance(plen, int) else (128 if family == 6 else 32),
                    family=family,
                    scope=a.get("scope") if isinstance(a.get("scope"), str) else None,
                )
            )
    return tuple(out), tuple(addrs)


# --------------------------------------------------------------------------- ip rule

_RULE = re.compile(r"^(\d+):\s+(.*?)\s*$")
_RULE_ACTIONS = ("lookup", "table", "blackhole", "unreachable", "prohibit", "goto", "nop")


def parse_ip_rule(
    text: str,
    file: str = "ip-rule.txt",
    problems: Problems | None = None,
    line0: int = 1,
    family: int = 4,
) -> tuple[IpRule, ...]:
    """``ip rule``: ``0:\\tfrom all lookup local``."""
    problems = problems if problems is not None else []
    out: list[IpRule] = []
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip():
            continue
        m = _RULE.match(line)
        prio = parse_int(m.group(1), hi=(1 << 32) - 1) if m else None
        if m is None or prio is None:
            _bad(problems, file, n, f"not an ip rule: {_shown(line)}")
            continue
        words = m.group(2).split()
        cut = next((i for i, w in enumerate(words) if w in _RULE_ACTIONS), len(words))
        fam = family
        if any(":" in w for w in words[:cut] if w not in ("all",)):
            fam = 6
        out.append(
            IpRule(
                priority=prio,
                selector=" ".join(words[:cut]),
                action=" ".join(words[cut:]),
                family=fam,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- iptables-save

# The options the analyses read, with their value: one regex pass per rule line.
_IPT_OPT = re.compile(
    r"(?:^|\s)(!\s+)?(-[jgdp]|--(?:jump|goto|destination|protocol|dport|destination-port"
    r'|to-destination|probability|comment))\s+("(?:[^"\\]|\\.)*"|\S+)'
)
_IPT_FIELD = {
    "-j": "target",
    "--jump": "target",
    "-g": "target",
    "--goto": "target",
    "-d": "destination",
    "--destination": "destination",
    "-p": "protocol",
    "--protocol": "protocol",
    "--dport": "dport",
    "--destination-port": "dport",
    "--to-destination": "to_destination",
    "--probability": "probability",
    "--comment": "comment",
}


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_iptables_save(
    text: str,
    file: str = "iptables-save.txt",
    problems: Problems | None = None,
    line0: int = 1,
    *,
    family: int | None = None,
    backend: str | None = None,
    complete: bool = True,
) -> IptablesDump:
    """``iptables-save`` / ``ip6tables-save`` (either backend), or lines of it.

    Rule lines outside a ``*table`` block (``iptables-save | grep KUBE-SVC``)
    are read as the nat table's when they name kube-proxy's NAT chains, and
    the dump is marked incomplete.
    """
    problems = problems if problems is not None else []
    chains: dict[str, dict[str, str]] = {}
    rules: list[IptablesRule] = []
    table: str | None = None
    append = rules.append
    finditer = _IPT_OPT.finditer
    for n, line in enumerate(text.splitlines(), line0):
        if not line:
            continue
        c = line[0]
        if c == "-":
            if line.startswith(("-A ", "-I ")):
                parts = line.split(None, 2)
                if len(parts) < 2:
                    _bad(problems, file, n, "rule without a chain")
                    continue
                chain = parts[1]
                spec = parts[2] if len(parts) > 2 else ""
                tbl = table
                if tbl is None:
                    complete = False
                    tbl = (
                        "nat"
                        if chain.startswith(("KUBE-SVC", "KUBE-SEP", "KUBE-SVL", "KUBE-EXT"))
                        or (
                            chain in ("KUBE-SERVICES", "KUBE-NODEPORTS", "KUBE-POSTROUTING")
                            and "REJECT" not in spec
                        )
                        else "filter"
                    )
                    chains.setdefault(tbl, {})
                kw: dict[str, Any] = {}
                for m in finditer(spec):
                    key = _IPT_FIELD[m.group(2)]
                    if m.group(1) and key in ("destination", "protocol"):
                        continue  # a negated match says nothing about where it goes
                    kw[key] = m.group(3)
                if "comment" in kw:
                    kw["comment"] = _unquote(kw["comment"])
                dest = kw.get("destination")
                if dest is not None:
                    kw["destination"] = (
                        dest[:-3]
                        if dest.endswith("/32")
                        else dest[:-4]
                        if dest.endswith("/128")
                        else dest
                    )
                prob = kw.get("probability")
                if prob is not None:
                    try:
                        p = float(prob)
                        kw["probability"] = p if 0.0 <= p <= 1.0 else None
                    except ValueError:
                        kw["probability"] = None
                append(IptablesRule(table=tbl, chain=chain, spec=spec, **kw))
                chains[tbl].setdefault(chain, "-")
                continue
            _bad(problems, file, n, f"not an iptables-save line: {_shown(line)}")
            continue
        if c == "#" or line == "COMMIT" or not line.strip():
            continue
        if c == "*":
            table = line[1:].strip()
            chains.setdefault(table, {})
            continue
        if c == ":":
            parts = line[1:].split()
            if not parts:
                _bad(problems, file, n, "empty chain line")
                continue
            if table is None:
                complete = False
                table = "filter" if parts[0] in ("INPUT", "FORWARD") else "nat"
                chains.setdefault(table, {})
            chains[table][parts[0]] = parts[1] if len(parts) > 1 else "-"
            continue
        _bad(problems, file, n, f"not an iptables-save line: {_shown(line)}")
    if family is None:
        family = next(
            (6 if ":" in r.destination else 4 for r in rules if r.destination),
            None,
        )
    return IptablesDump(
        chains=chains, rules=tuple(rules), family=family, backend=backend, complete=complete
    )


# --------------------------------------------------------------------------- nft list ruleset

_NFT_TABLE = re.compile(r"^table (\S+) (\S+) \{", re.M)
_NFT_CHAIN = re.compile(r"^\s+chain \S+ \{", re.M)


def parse_nft_ruleset(
    text: str, file: str = "nft-ruleset.txt", problems: Problems | None = None, line0: int = 1
) -> NftRuleset:
    """``nft list ruleset``: its tables (kube-proxy's nftables mode is ``table ip kube-proxy``)."""
    problems = problems if problems is not None else []
    tables = tuple((m.group(1), m.group(2)) for m in _NFT_TABLE.finditer(text))
    chains = len(_NFT_CHAIN.findall(text))
    # rule lines: indented lines inside chains that are not declarations
    rules = 0
    depth = 0
    for line in text.splitlines():
        s = line.strip()
        if s.endswith("{"):
            depth += 1
            continue
        if s == "}" or s.startswith("}"):
            depth -= 1
            continue
        if (
            depth >= 2
            and s
            and not s.startswith(("type ", "comment ", "policy ", "elements", "flags "))
        ):
            rules += 1
    if depth != 0:
        _bad(problems, file, line0, "unbalanced braces: the ruleset is cut short")
    return NftRuleset(tables=tables, chains=chains, rules=rules)


# --------------------------------------------------------------------------- ipvsadm, /proc/net/ip_vs

_VS = re.compile(r"^(TCP|UDP|SCTP)\s+(\S+):(\d+)(?:\s+(\S+)(.*))?$")
_FWM = re.compile(r"^FWM\s+(\d+)(?:\s+IPv6)?(?:\s+(\S+)(.*))?$")
_RS = re.compile(r"^\s+->\s+(\S+):(\d+)\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)")
_IPVS_HEAD = ("IP Virtual Server", "Prot LocalAddress", "  -> RemoteAddress")


def parse_ipvsadm(
    text: str, file: str = "ipvsadm-Ln.txt", problems: Problems | None = None, line0: int = 1
) -> tuple[IpvsService, ...]:
    """``ipvsadm -Ln`` (or ``-L -n``)."""
    problems = problems if problems is not None else []
    out: list[IpvsService] = []
    cur: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip() or line.startswith(_IPVS_HEAD):
            continue
        m = _VS.match(line)
        if m:
            port = parse_int(m.group(3), hi=65535)
            if cur:
                out.append(IpvsService(**cur))
            cur = None
            if port is None:
                _bad(problems, file, n, f"bad port: {_shown(line)}")
                continue
            cur = {
                "protocol": m.group(1),
                "address": m.group(2).strip("[]"),
                "port": port,
                "scheduler": m.group(4) or "",
                "real_servers": (),
                "flags": tuple(m.group(5).split()) if m.group(5) else (),
            }
            continue
        f = _FWM.match(line)
        if f:
            if cur:
                out.append(IpvsService(**cur))
            cur = {
                "protocol": "FWM",
                "address": "",
                "port": 0,
                "scheduler": f.group(2) or "",
                "real_servers": (),
                "fwmark": parse_int(f.group(1), hi=(1 << 32) - 1),
                "flags": tuple(f.group(3).split()) if f.group(3) else (),
            }
            continue
        r = _RS.match(line)
        if r and cur is not None:
            nums = [parse_int(r.group(i), hi=1 << 40) for i in (2, 4, 5, 6)]
            if any(v is None for v in nums):
                _bad(problems, file, n, f"bad number: {_shown(line)}")
                continue
            rport, weight, active, inactive = (v or 0 for v in nums)
            cur["real_servers"] = (
                *cur["real_servers"],
                IpvsRealServer(
                    address=r.group(1).strip("[]"),
                    port=rport,
                    forward=r.group(3),
                    weight=weight,
                    active=active,
                    inactive=inactive,
                ),
            )
            continue
        _bad(problems, file, n, f"not an ipvsadm line: {_shown(line)}")
    if cur:
        out.append(IpvsService(**cur))
    return tuple(out)


_VS_STATS = re.compile(
    r"^(TCP|UDP|SCTP|FWM)\s+(\S+?)(?::(\d+))?\s+\d+[KMGT]?(?:\s+\d+[KMGT]?){4}\s*$"
)
_RS_STATS = re.compile(r"^\s+->\s+(\S+):(\d+)\s+\d+[KMGT]?(?:\s+\d+[KMGT]?){4}\s*$")


def parse_ipvsadm_stats(
    text: str, file: str = "ipvsadm-stats.txt", problems: Problems | None = None, line0: int = 1
) -> tuple[IpvsService, ...]:
    """``ipvsadm -Ln --stats`` / ``--rate``: the virtual and real servers, without weights
    (their counters are not used; :attr:`IpvsRealServer.weight` is -1: unknown)."""
    problems = problems if problems is not None else []
    out: list[IpvsService] = []
    cur: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip() or line.startswith(_IPVS_HEAD):
            continue
        m = _VS_STATS.match(line)
        if m:
            if cur:
                out.append(IpvsService(**cur))
            cur = {
                "protocol": m.group(1),
                "address": m.group(2).strip("[]"),
                "port": parse_int(m.group(3), hi=65535) or 0,
                "scheduler": "",
                "real_servers": (),
            }
            continue
        r = _RS_STATS.match(line)
        if r and cur is not None:
            cur["real_servers"] = (
                *cur["real_servers"],
                IpvsRealServer(
                    address=r.group(1).strip("[]"),
                    port=parse_int(r.group(2), hi=65535) or 0,
                    weight=-1,
                ),
            )
            continue
        _bad(problems, file, n, f"not an ipvsadm --stats/--rate line: {_shown(line)}")
    if cur:
        out.append(IpvsService(**cur))
    return tuple(out)


_PVS = re.compile(
    r"^(TCP|UDP|SCTP)\s+([0-9A-Fa-f]{8}|\[[0-9a-fA-F:]+\]):([0-9A-Fa-f]{4})\s+(\S+)(.*)$"
)
_PRS = re.compile(
    r"^\s+->\s+([0-9A-Fa-f]{8}|\[[0-9a-fA-F:]+\]):([0-9A-Fa-f]{4})\s+(\S+)\s+(-?\d+)\s+(\d+)\s+(\d+)"
)


def _hex_addr(text: str) -> str | None:
    if text.startswith("["):
        try:
            return str(ipaddress.IPv6Address(text.strip("[]")))
        except ValueError:
            return None
    try:
        return str(ipaddress.IPv4Address(int(text, 16)))
    except ValueError:
        return None


def parse_proc_ip_vs(
    text: str, file: str = "ip_vs", problems: Problems | None = None, line0: int = 1
) -> tuple[IpvsService, ...]:
    """``/proc/net/ip_vs``: ipvsadm's table with addresses and ports in hex."""
    problems = problems if problems is not None else []
    out: list[IpvsService] = []
    cur: dict[str, Any] | None = None
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip() or line.startswith(_IPVS_HEAD):
            continue
        m = _PVS.match(line)
        if m:
            if cur:
                out.append(IpvsService(**cur))
            addr = _hex_addr(m.group(2))
            cur = None
            if addr is None:
                _bad(problems, file, n, f"bad address: {_shown(line)}")
                continue
            flags = m.group(5).split()
            if flags[:1] == ["persistent"] and len(flags) >= 2:
                flags = flags[:2]
            cur = {
                "protocol": m.group(1),
                "address": addr,
                "port": int(m.group(3), 16),
                "scheduler": m.group(4),
                "real_servers": (),
                "flags": tuple(flags),
            }
            continue
        r = _PRS.match(line)
        if r and cur is not None:
            addr = _hex_addr(r.group(1))
            if addr is None:
                _bad(problems, file, n, f"bad address: {_shown(line)}")
                continue
            cur["real_servers"] = (
                *cur["real_servers"],
                IpvsRealServer(
                    address=addr,
                    port=int(r.group(2), 16),
                    forward=r.group(3),
                    weight=parse_int(r.group(4), lo=-1, hi=1 << 31) or 0,
                    active=parse_int(r.group(5), hi=1 << 40) or 0,
                    inactive=parse_int(r.group(6), hi=1 << 40) or 0,
                ),
            )
            continue
        _bad(problems, file, n, f"not a /proc/net/ip_vs line: {_shown(line)}")
    if cur:
        out.append(IpvsService(**cur))
    return tuple(out)


# --------------------------------------------------------------------------- conntrack

_CT_KEYS = ("drop", "early_drop", "insert_failed", "invalid", "search_restart")
_CT_PAIR = re.compile(r"(\w+)=(\S+)")


def parse_conntrack_samples(
    text: str, file: str = "conntrack-S.txt", problems: Problems | None = None, line0: int = 1
) -> list[tuple[int, list[dict[str, int]]]]:
    """``conntrack -S`` runs: ``[(line of the run, [per-CPU counters…])]``. A run ends
    where the CPU numbers start again (two runs pasted one after the other)."""
    problems = problems if problems is not None else []
    runs: list[tuple[int, list[dict[str, int]]]] = []
    seen: set[int] = set()
    for n, line in enumerate(text.splitlines(), line0):
        pairs = _CT_PAIR.findall(line)
        if not pairs:
            if line.strip():
                _bad(problems, file, n, f"not a conntrack -S line: {_shown(line)}")
            continue
        row: dict[str, int] = {}
        for k, v in pairs:
            value = parse_int(v)
            if value is None:
                _bad(problems, file, n, f"{k}={v[:20]!r} is not a counter")
                continue
            row[k] = value
        cpu = row.get("cpu", -1)
        if not runs or cpu in seen:
            runs.append((n, []))
            seen = set()
        seen.add(cpu)
        runs[-1][1].append(row)
    return runs


def sum_counters(per_cpu: list[dict[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in per_cpu:
        for k, v in row.items():
            if k != "cpu":
                totals[k] = totals.get(k, 0) + v
    return totals


def parse_conntrack_s(
    text: str, file: str = "conntrack-S.txt", problems: Problems | None = None, line0: int = 1
) -> ConntrackStats:
    """``conntrack -S``: one ``cpu=N key=value ...`` line per CPU, summed (the last run
    when several were pasted; every run is a sample)."""
    runs = parse_conntrack_samples(text, file, problems, line0)
    samples = tuple(
        ConntrackSample(counters=sum_counters(rows), file=file, line=line) for line, rows in runs
    )
    last = runs[-1][1] if runs else []
    totals = sum_counters(last)
    return ConntrackStats(
        per_cpu=tuple(last),
        samples=samples,
        drop=totals.get("drop", 0),
        early_drop=totals.get("early_drop", 0),
        insert_failed=totals.get("insert_failed", 0),
        invalid=totals.get("invalid", 0),
        search_restart=totals.get("search_restart", 0),
    )


def parse_proc_nf_conntrack(
    text: str, file: str = "nf_conntrack", problems: Problems | None = None, line0: int = 1
) -> ConntrackStats:
    """``/proc/net/stat/nf_conntrack``: a header, then one hex row per CPU."""
    problems = problems if problems is not None else []
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), line0) if ln.strip()]
    if not lines:
        return ConntrackStats()
    header = lines[0][1].split()
    totals = dict.fromkeys(_CT_KEYS, 0)
    per_cpu = []
    count = None
    for n, line in lines[1:]:
        vals = line.split()
        if len(vals) != len(header):
            _bad(problems, file, n, "row does not match the header")
            continue
        try:
            row = {h: int(v, 16) for h, v in zip(header, vals, strict=True) if len(v) <= 16}
        except ValueError:
            _bad(problems, file, n, "not hexadecimal")
            continue
        per_cpu.append(row)
        count = row.get("entries", count)  # the same global count on every row
        for k in _CT_KEYS:
            totals[k] += row.get(k, 0)
    sample = ConntrackSample(
        counters={k: v for k, v in sum_counters(per_cpu).items() if k != "entries"},
        file=file,
        line=line0,
    )
    return ConntrackStats(
        count=count,
        per_cpu=tuple(per_cpu),
        samples=(sample,),
        drop=totals["drop"],
        early_drop=totals["early_drop"],
        insert_failed=totals["insert_failed"],
        invalid=totals["invalid"],
        search_restart=totals["search_restart"],
    )


def parse_number(
    text: str, file: str, problems: Problems | None = None, line0: int = 1
) -> int | None:
    """A file holding one number (``nf_conntrack_count``, ``conntrack -C``)."""
    problems = problems if problems is not None else []
    value = parse_int(text.strip())
    if value is None:
        _bad(problems, file, line0, f"expected a number, got {text.strip()[:30]!r}")
    return value


# --------------------------------------------------------------------------- cni, resolv.conf, sysctl


def parse_cni_config(
    text: str, file: str, problems: Problems | None = None, line0: int = 1
) -> CniConfig | None:
    problems = problems if problems is not None else []
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        _bad(problems, file, line0 + line - 1 if line else line0, f"not JSON: {exc}")
        return None
    if not isinstance(raw, dict):
        _bad(problems, file, line0, "not a CNI configuration object")
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
    text: str, file: str = "resolv.conf", problems: Problems | None = None, line0: int = 1
) -> ResolvConf:
    problems = problems if problems is not None else []
    ns: list[str] = []
    search: list[str] = []
    opts: list[tuple[str, str | None]] = []
    for n, line in enumerate(text.splitlines(), line0):
        words = line.split("#", 1)[0].split(";", 1)[0].split()
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
        elif words[0] == "sortlist":
            continue
        else:
            _bad(problems, file, n, f"unknown resolv.conf directive {words[0]!r}")
    return ResolvConf(nameservers=tuple(ns), search=tuple(search), options=tuple(opts))


def parse_sysctl(
    text: str, file: str = "sysctl.txt", problems: Problems | None = None, line0: int = 1
) -> dict[str, str]:
    problems = problems if problems is not None else []
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), line0):
        s = line.strip()
        if not s or s.startswith(("#", ";")):
            continue
        k, sep, v = s.partition("=")
        if not sep or not k.strip():
            _bad(problems, file, n, f"not key = value: {_shown(s)}")
            continue
        out[k.strip()] = v.strip()
    return out


# --------------------------------------------------------------------------- lsmod

_MODULE = re.compile(r"^([\w-]+)\s+(\d+)\s+(-?\d+)(?:\s+(\S+))?")


def parse_lsmod(
    text: str,
    file: str = "lsmod.txt",
    problems: Problems | None = None,
    line0: int = 1,
    *,
    complete: bool = True,
    asked: tuple[str, ...] = (),
) -> KernelModules:
    """``lsmod`` or ``/proc/modules`` (``name size refcount holders state address``)."""
    problems = problems if problems is not None else []
    names: set[str] = set()
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip() or line.startswith("Module "):
            continue
        m = _MODULE.match(line)
        if m is None:
            _bad(problems, file, n, f"not an lsmod line: {_shown(line)}")
            continue
        names.add(m.group(1).replace("-", "_"))
    return KernelModules(names=frozenset(names), complete=complete, asked=asked)


# --------------------------------------------------------------------------- host-local IPAM

_IPAM_GREP = re.compile(r"^\S*/networks/([^/\s]+)/([^\s:/]+):(.*)$")
_LS_LONG = re.compile(r"^[-dl][rwxsStT-]{9}[.+@]?\s+\d+\s+\S+\s+\S+\s+\d+\s+.*?\s(\S+)$")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_host_local(
    text: str,
    file: str = "host-local.txt",
    problems: Problems | None = None,
    line0: int = 1,
    network: str = "",
) -> tuple[IpamAllocation, ...]:
    """The host-local IPAM plugin's state (``/var/lib/cni/networks/<net>/``): one file per
    allocated address holding ``<container id>\\r\\n<ifname>``. Read from ``grep -r .``
    output (``…/networks/cbr0/10.244.1.5:<id>``) or an ``ls``/``ls -l`` listing (address
    only; the network from the command)."""
    problems = problems if problems is not None else []
    found: dict[tuple[str, str], dict[str, str]] = {}
    for n, line in enumerate(text.splitlines(), line0):
        s = line.rstrip("\r")
        if not s.strip() or s.startswith("total "):
            continue
        m = _IPAM_GREP.match(s)
        if m:
            net, name, value = m.groups()
            if not _is_ip(name):
                continue  # last_reserved_ip.0, lock
            entry = found.setdefault((net, name), {})
            value = value.strip()
            if re.fullmatch(r"[0-9a-fA-F]{12,}", value):
                entry["id"] = value
            elif value:
                entry["if"] = value
            continue
        ls = _LS_LONG.match(s)
        name = ls.group(1) if ls else s.strip()
        if name.startswith("last_reserved_ip") or name == "lock":
            continue
        if _is_ip(name):
            found.setdefault((network, name), {})
            continue
        _bad(problems, file, n, f"not a host-local IPAM entry: {_shown(s)}")
    return tuple(
        IpamAllocation(
            network=net, address=addr, container_id=e.get("id", ""), interface=e.get("if", "")
        )
        for (net, addr), e in found.items()
    )


# --------------------------------------------------------------------------- ethtool -S

_ETHTOOL = re.compile(r"^\s+(\S[^:]*):\s+(-?\d+)\s*$")


def parse_ethtool_stats(
    text: str, file: str = "ethtool-S.txt", problems: Problems | None = None, line0: int = 1
) -> dict[str, int]:
    problems = problems if problems is not None else []
    out: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), line0):
        if not line.strip() or line.startswith("NIC statistics"):
            continue
        m = _ETHTOOL.match(line)
        value = parse_int(m.group(2), lo=-(1 << 63)) if m else None
        if m is None or value is None:
            _bad(problems, file, n, f"not an ethtool -S counter: {_shown(line)}")
            continue
        out[m.group(1)] = value
    return out


# --------------------------------------------------------------------------- date, uptime

_MONTHS = {
    m: i
    for i, m in enumerate(
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], 1
    )
}
_DATE_C = re.compile(
    r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?: ([A-Z]{2,5}))? (\d{4})$"
)


def parse_epoch(text: str) -> float | None:
    """Seconds since the epoch of an RFC 3339 time or a ``date`` line (UTC when it
    names no zone, or names UTC/GMT; other zone names are not trusted: ``None``)."""
    s = text.strip()
    if not s:
        return None
    if s[0].isdigit():
        iso = s.replace("Z", "+00:00")
        m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:?\d\d)$", iso)
        if m is None:
            return None
        frac = float(m.group(2)) if m.group(2) else 0.0
        try:
            dt = datetime.datetime.fromisoformat(m.group(1) + m.group(3))
        except ValueError:
            return None
        return dt.timestamp() + frac
    m = _DATE_C.match(s)
    if m is None or (m.group(6) not in (None, "UTC", "GMT")):
        return None
    month = _MONTHS.get(m.group(1))
    if month is None:
        return None
    try:
        dt = datetime.datetime(
            int(m.group(7)),
            month,
            int(m.group(2)),
            int(m.group(3)),
            int(m.group(4)),
            int(m.group(5)),
            tzinfo=datetime.UTC,
        )
    except ValueError:
        return None
    return dt.timestamp()


def parse_uptime(text: str) -> float | None:
    """``/proc/uptime`` (``12055.33 22024.02``) or ``uptime`` (`` 17:22:42 up 3 days,  2:05,…``)."""
    s = text.strip()
    m = re.match(r"^(\d+\.\d+)\s+\d+\.\d+$", s)
    if m:
        return float(m.group(1))
    m = re.search(r"\bup\s+(?:(\d+) days?,\s+)?(?:(\d+):(\d\d)|(\d+) min)", s)
    if m is None:
        return None
    days = int(m.group(1) or 0)
    hours = int(m.group(2) or 0)
    minutes = int(m.group(3) or m.group(4) or 0)
    return float(((days * 24 + hours) * 60 + minutes) * 60)

"""One node's files → one :class:`~netsleuth.model.node_artifacts.NodeArtifacts`.

Which files belong to a node (:mod:`netsleuth.sources.manifests` decides):

- everything under a ``nodes/<node>/`` folder (netsleuth's own layout, and what
  ``netsleuth collect`` writes);
- everything under a folder named after a Node of the input, anywhere under a
  ``-f`` path (``bundle/worker-1/iptables.txt``);
- a file or folder given as ``-f node=<node>:<path>``.

Each file is sniffed (:mod:`netsleuth.sources.node_sniff`), each section
parsed by its kind, and everything a node's files hold is merged: iptables
dumps per family and backend, routes of every table, links from ``ip link``
and ``ip addr``, conntrack counters from wherever they come (``conntrack -S``
runs are samples; ``date`` outputs before them give them times), the count
and limit from ``conntrack -C``, the ``/proc/sys`` files or ``sysctl``.

Copies of host-local's own directory (``…/networks/<net>/<address>`` files)
are read as allocations; ``README``/``.md`` files are documentation and
skipped. Anything else a node folder holds that is not recognised is a
problem naming the file and line.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from netsleuth.model.logs import LogEvent
from netsleuth.model.node_artifacts import (
    AddressInfo,
    CniConfig,
    ConntrackSample,
    ConntrackStats,
    EvidenceKind,
    EvidenceSection,
    IpamAllocation,
    IpRule,
    IptablesDump,
    IptablesRule,
    IpvsService,
    KernelModules,
    LinkInfo,
    NftRuleset,
    NodeArtifacts,
    ResolvConf,
    RouteEntry,
)
from netsleuth.model.numbers import parse_int
from netsleuth.model.problems import Level, LoadProblem, Origin
from netsleuth.sources import node_artifacts as p
from netsleuth.sources.bounded import DEFAULT_MAX_FILE_BYTES, Refused, read_bounded, walk
from netsleuth.sources.logs import date_boot_times, log_events
from netsleuth.sources.node_sniff import Section, _grep_terms, _pipeline, sniff

K = EvidenceKind
_LOG_KINDS = {K.KUBE_PROXY_LOG, K.COREDNS_LOG, K.CNI_LOG, K.KUBELET_LOG, K.DMESG}
_CT_KEYS = ("drop", "early_drop", "insert_failed", "invalid", "search_restart")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


class NodeEvidence:
    """Collects one node's files; :meth:`build` merges them."""

    def __init__(
        self, node: str, origin: str | None = None, *, limit: int = DEFAULT_MAX_FILE_BYTES
    ) -> None:
        self.node = node
        self.origin = origin
        self.limit = limit
        """The most read from one file (``--max-file-size``, as for manifests)."""
        self.problems: list[LoadProblem] = []
        self.sections: list[EvidenceSection] = []
        self.files: list[str] = []
        self.dumps: list[IptablesDump] = []
        self.routes: list[RouteEntry] = []
        self.route_lookups: list[RouteEntry] = []
        self.links: dict[str, LinkInfo] = {}
        self.addresses: list[AddressInfo] = []
        self.rules: list[IpRule] = []
        self.ipvs_ln: list[IpvsService] | None = None
        self.ipvs_proc: list[IpvsService] | None = None
        self.samples: list[ConntrackSample] = []
        self.count: int | None = None
        self.max: int | None = None
        self.sysctls: dict[str, str] | None = None
        self.resolv: ResolvConf | None = None
        self.modules: list[KernelModules] = []
        self.events: list[LogEvent] = []
        self.ipam: list[IpamAllocation] | None = None
        self.ethtool: dict[str, dict[str, int]] | None = None
        self.cni: list[CniConfig] | None = None
        self.nft: list[NftRuleset] = []
        self.captured_at: float | None = None
        self.uptime: float | None = None
        self.saw_links = False
        self.saw_routes = False
        self.saw_addresses = False
        self.saw_rules = False
        self._short = ""

    # ------------------------------------------------------------------ input

    def add_tree(self, root: Path, base: Path | None = None, *, explicit: bool = False) -> None:
        """Every file under ``root`` (or ``root`` itself), in path order, hidden ones skipped.

        A folder that cannot be listed is a problem naming it (``rglob`` skipped it
        silently); FIFOs, devices and sockets inside folders are problems too (they were
        skipped silently). ``explicit``: ``root`` was named with ``-f node=…:<path>``, so
        when it is a pipe it is read (up to the cap), as ``-f <(…)`` is for manifests.
        """
        if base is None:
            base = root if root.is_dir() else root.parent
        if not root.is_dir():
            self.add_path(root, str(root), short=str(root.relative_to(base)), explicit=explicit)
            return
        paths: list[Path] = []
        for entry in walk(root):
            if isinstance(entry, LoadProblem):
                where = entry.origin.file
                self._problem(Level.DEGRADED, entry.message, where or str(root), None, "folder")
                continue
            top, dirs, files = entry
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            paths.extend(Path(top) / n for n in files if not n.startswith("."))
        for f in sorted(paths):
            self.add_path(f, str(f), short=str(f.relative_to(base)))

    def add_path(
        self,
        path: Path,
        display: str | None = None,
        short: str | None = None,
        *,
        explicit: bool = False,
    ) -> None:
        """Read one file of the node (``display`` names it in messages, ``short`` is its
        path inside the node's folder, used to name CNI configurations), within the
        ``--max-file-size`` cap; only regular files unless ``explicit`` (then a pipe too)."""
        file = display or str(path)
        name = path.name
        if name.startswith(".") or name.lower().startswith("readme") or path.suffix == ".md":
            return
        if path.parent.parent.name == "networks" and (
            _is_ip(name) or name.startswith("last_reserved_ip") or name == "lock"
        ):
            self._ipam_file(path, file)
            return
        raw = read_bounded(path, self.limit, explicit=explicit)
        if isinstance(raw, Refused):
            self._refused(raw, file)
            return
        if b"\0" in raw[:8192]:
            self._problem(
                Level.WARNING, "a binary file, not a command's output", file, None, "file"
            )
            return
        self.add_text(raw.decode("utf-8", errors="replace"), file, name, short=short)

    def _ipam_file(self, path: Path, file: str) -> None:
        if not _is_ip(path.name):
            return
        raw = read_bounded(path, self.limit, explicit=False)
        if isinstance(raw, Refused):
            self._refused(raw, file)
            return
        lines = raw.decode("utf-8", errors="replace").replace("\r", "").split("\n")
        if self.ipam is None:
            self.ipam = []
        self.ipam.append(
            IpamAllocation(
                network=path.parent.name,
                address=path.name,
                container_id=lines[0].strip() if lines else "",
                interface=lines[1].strip() if len(lines) > 1 else "",
            )
        )
        self.files.append(file)
        self.sections.append(
            EvidenceSection(node=self.node, file=file, line=1, kind=K.HOST_LOCAL_IPAM)
        )

    def add_text(self, text: str, file: str, name_hint: str = "", short: str | None = None) -> None:
        """Sniff and parse one file's text."""
        self.files.append(file)
        self._short = short or file
        date: float | None = None
        for sec in sniff(text, name_hint):
            date = self._section(text, sec, file, date)

    def _refused(self, why: Refused, file: str) -> None:
        # Only the node checks lose this file: degraded, not a fatal input error (a pipe
        # or device in a node folder stays a warning, as in manifest folders).
        level = Level.DEGRADED if why.level is Level.FATAL else why.level
        self._problem(level, why.message, file, None, "file")

    def _problem(
        self, level: Level, message: str, file: str, line: int | None, skipped: str | None
    ) -> None:
        self.problems.append(
            LoadProblem(
                level=level,
                message=message,
                origin=Origin(file=file, line=line),
                object=f"Node/{self.node}",
                skipped=skipped,
                affects=("node checks",) if skipped else (),
            )
        )

    def _section(self, text: str, sec: Section, file: str, date: float | None) -> float | None:
        kind = sec.kind
        if kind is None:
            shown = text[
                sec.start : text.find("\n", sec.start, sec.end)
                if "\n" in text[sec.start : sec.end]
                else sec.end
            ]
            if sec.error is not None:
                what = f"`{sec.command}` printed an error" if sec.command else "an error message"
                self._problem(
                    Level.WARNING,
                    f"{what} instead of its output: {sec.error[:160]!r}",
                    file,
                    sec.line,
                    "section",
                )
            else:
                what = f"the output of `{sec.command}`" if sec.command else "this section"
                self._problem(
                    Level.WARNING,
                    f"{what} is not a node capture netsleuth recognises "
                    f"(first line {shown.strip()[:60]!r})",
                    file,
                    sec.line,
                    "section",
                )
            return date
        self.sections.append(
            EvidenceSection(
                node=self.node,
                file=file,
                line=sec.first_line,
                kind=kind,
                detail=sec.detail,
                command=sec.command,
                filtered=sec.filtered,
            )
        )
        body = text[sec.start : sec.end]
        probs = self.problems
        line0 = sec.line
        detail = sec.detail.split()
        if kind == K.IPTABLES_SAVE:
            fam = 6 if "v6" in detail else 4 if "v4" in detail else None
            backend = (
                "nf_tables" if "nf_tables" in detail else "legacy" if "legacy" in detail else None
            )
            self.dumps.append(
                p.parse_iptables_save(
                    body, file, probs, line0, family=fam, backend=backend, complete=not sec.filtered
                )
            )
        elif kind == K.NFT_RULESET:
            self.nft.append(p.parse_nft_ruleset(body, file, probs, line0))
        elif kind == K.IPVSADM:
            if not sec.filtered or self.ipvs_ln is None:
                self.ipvs_ln = [*(self.ipvs_ln or []), *p.parse_ipvsadm(body, file, probs, line0)]
        elif kind in (K.IPVSADM_STATS, K.IPVSADM_RATE):
            p.parse_ipvsadm_stats(body, file, probs, line0)
        elif kind == K.PROC_IP_VS:
            self.ipvs_proc = [
                *(self.ipvs_proc or []),
                *p.parse_proc_ip_vs(body, file, probs, line0),
            ]
        elif kind == K.CONNTRACK_STATS:
            runs = p.parse_conntrack_samples(body, file, probs, line0)
            when = p.parse_epoch(sec.time) if sec.time else date
            for i, (line, rows) in enumerate(runs):
                self.samples.append(
                    ConntrackSample(
                        counters=p.sum_counters(rows),
                        time=when if i == 0 else None,
                        file=file,
                        line=line,
                    )
                )
            date = None  # a later sample needs its own date
        elif kind in (K.CONNTRACK_COUNT, K.NF_CONNTRACK_COUNT):
            v = p.parse_number(body, file, probs, line0)
            if v is not None:
                self.count = v
        elif kind == K.NF_CONNTRACK_MAX:
            v = p.parse_number(body, file, probs, line0)
            if v is not None:
                self.max = v
        elif kind == K.PROC_NF_CONNTRACK:
            st = p.parse_proc_nf_conntrack(body, file, probs, line0)
            if st.count is not None:
                self.count = st.count
            when = p.parse_epoch(sec.time) if sec.time else date
            self.samples.extend(replace(s, time=when) for s in st.samples)
            date = None
        elif kind == K.SYSCTL:
            self.sysctls = {**(self.sysctls or {}), **p.parse_sysctl(body, file, probs, line0)}
        elif kind in (K.IP_LINK, K.IP_ADDR):
            if "json" in detail:
                links, addrs = p.parse_ip_addr_json(body, file, probs, line0)
            else:
                links, addrs = p.parse_ip_addr(body, file, probs, line0)
            self._merge_links(links)
            if kind == K.IP_ADDR:
                self.addresses.extend(addrs)
                self.saw_addresses = True
        elif kind == K.IP_ROUTE:
            table = None
            if "table" in detail:
                t = detail[detail.index("table") + 1 : detail.index("table") + 2]
                table = t[0] if t and t[0] != "all" else None
            self.routes.extend(p.parse_ip_route(body, file, probs, line0, table=table))
            self.saw_routes = True
        elif kind == K.IP_ROUTE_GET:
            self.route_lookups.extend(p.parse_ip_route_get(body, file, probs, line0))
        elif kind == K.IP_RULE:
            self.rules.extend(p.parse_ip_rule(body, file, probs, line0, 6 if "v6" in detail else 4))
            self.saw_rules = True
        elif kind == K.RESOLV_CONF:
            self.resolv = p.parse_resolv_conf(body, file, probs, line0)
        elif kind == K.LSMOD:
            asked: tuple[str, ...] = ()
            if sec.command:
                _, stages = _pipeline(sec.command)
                asked = _grep_terms(stages)
            self.modules.append(
                p.parse_lsmod(body, file, probs, line0, complete=not sec.filtered, asked=asked)
            )
        elif kind in _LOG_KINDS:
            self.events.extend(
                log_events(
                    text,
                    sec.start,
                    sec.end,
                    source=kind.value,
                    file=file,
                    line0=line0,
                    node=self.node,
                )
            )
        elif kind == K.CNI_CONFLIST:
            name = self._short
            if sec.command:
                first, _ = _pipeline(sec.command)
                paths = [w for w in first[1:] if "/" in w and "*" not in w]
                if paths:
                    name = f"{self._short}: {paths[-1].rsplit('/', 1)[-1]}"
            conf = p.parse_cni_config(body, name, probs, line0)
            if conf is not None:
                self.cni = [*(self.cni or []), conf]
        elif kind == K.HOST_LOCAL_IPAM:
            network = ""
            if sec.command:
                m = re.search(r"/networks/([^/\s*]+)", sec.command)
                network = m.group(1) if m else ""
            self.ipam = [*(self.ipam or []), *p.parse_host_local(body, file, probs, line0, network)]
        elif kind == K.ETHTOOL_STATS:
            dev = detail[-1] if detail else "?"
            self.ethtool = {
                **(self.ethtool or {}),
                dev: p.parse_ethtool_stats(body, file, probs, line0),
            }
        elif kind == K.DATE:
            date = p.parse_epoch(body)
            if date is None:
                self._problem(
                    Level.WARNING,
                    f"a date netsleuth cannot place in time (not UTC): {body.strip()[:40]!r}",
                    file,
                    line0,
                    "section",
                )
            elif self.captured_at is None:
                self.captured_at = date
        elif kind == K.UPTIME:
            up = p.parse_uptime(body)
            if up is not None and self.uptime is None:
                self.uptime = up
        elif kind == K.COLLECT_NOTE:
            self._problem(
                Level.WARNING,
                body.removeprefix("# netsleuth collect: ").strip()[:300],
                file,
                line0,
                None,
            )
        return date

    def _merge_links(self, links: tuple[LinkInfo, ...]) -> None:
        self.saw_links = True
        for link in links:
            old = self.links.get(link.name)
            if old is None or (old.kind is None and link.kind is not None):
                self.links[link.name] = link

    # ------------------------------------------------------------------ output

    def _iptables(self) -> IptablesDump | None:
        if not self.dumps:
            return None

        # kube-proxy writes to one backend: the one holding KUBE-SERVICES (nf_tables when
        # both do, as kube-proxy >= 1.29 prefers it when its rules are there).
        def has_kube(d: IptablesDump) -> bool:
            return any("KUBE-SERVICES" in chains for chains in d.chains.values())

        backends = {d.backend for d in self.dumps if has_kube(d)}
        chosen: set[str | None]
        if "nf_tables" in backends:
            chosen = {"nf_tables", None}
        elif "legacy" in backends:
            chosen = {"legacy", None}
        else:
            chosen = {d.backend for d in self.dumps}
        tables: dict[tuple[int | None, str], tuple[dict[str, str], list[IptablesRule]]] = {}
        complete = True
        for d in self.dumps:
            if d.backend not in chosen:
                continue
            complete = complete and d.complete
            by_table: dict[str, list[IptablesRule]] = {t: [] for t in d.chains}
            for r in d.rules:
                by_table.setdefault(r.table, []).append(r)
            for t, table_rules in by_table.items():
                # a later capture of the same table replaces an earlier one
                key = (d.family, t)
                if d.complete or key not in tables:
                    tables[key] = (dict(d.chains.get(t, {})), table_rules)
                else:
                    old_chains, old_rules = tables[key]
                    tables[key] = ({**old_chains, **d.chains.get(t, {})}, old_rules + table_rules)
        chains: dict[str, dict[str, str]] = {}
        rules: list[IptablesRule] = []
        for (_, t), (ch, rs) in tables.items():
            chains.setdefault(t, {}).update(ch)
            rules.extend(rs)
        backend = next((b for b in chosen if b), None)
        return IptablesDump(chains=chains, rules=tuple(rules), backend=backend, complete=complete)

    def _conntrack(self) -> ConntrackStats | None:
        count, mx = self.count, self.max
        sysctls = self.sysctls or {}
        if count is None:
            count = parse_int(sysctls.get("net.netfilter.nf_conntrack_count"))
        if mx is None:
            mx = parse_int(
                sysctls.get("net.netfilter.nf_conntrack_max") or sysctls.get("net.nf_conntrack_max")
            )
        if not self.samples and count is None and mx is None:
            return None
        last = self.samples[-1].counters if self.samples else {}
        return ConntrackStats(
            count=count,
            max=mx,
            samples=tuple(self.samples),
            has_counters=bool(self.samples),
            drop=last.get("drop", 0),
            early_drop=last.get("early_drop", 0),
            insert_failed=last.get("insert_failed", 0),
            invalid=last.get("invalid", 0),
            search_restart=last.get("search_restart", 0),
        )

    def _modules(self) -> KernelModules | None:
        if not self.modules:
            return None
        names: set[str] = set()
        complete = False
        asked: list[str] = []
        for m in self.modules:
            names |= m.names
            complete = complete or m.complete
            asked.extend(m.asked)
        return KernelModules(names=frozenset(names), complete=complete, asked=tuple(asked))

    def _netns(self) -> str | None:
        """Whose network namespace the captures show: a node has bridges, tunnels or
        more than one interface; a pod has ``lo`` and one veth ``eth0``."""
        if not self.links:
            return None
        names = [n for n in self.links if n != "lo"]
        node_like = re.compile(
            r"^(?:cni0|docker0|cbr0|flannel\.\d+|vxlan\.calico|tunl0|cilium_\w+|kube-ipvs0|weave"
            r"|cali\w+|veth\w+|lxc\w+|ens\d+|enp\w+|eno\d+|bond\d+)"
        )
        if any(node_like.match(n) for n in names) or len(names) > 2:
            return "node"
        if names == ["eth0"] and (self.links["eth0"].kind in (None, "veth")):
            return "pod"
        return None

    def build(self) -> tuple[NodeArtifacts, list[LoadProblem]]:
        kw: dict[str, Any] = {}
        if self.saw_routes:
            seen: set[tuple[object, ...]] = set()
            routes = []
            for r in self.routes:
                key = (r.destination, r.table, r.device, r.gateway, r.type)
                if key not in seen:
                    seen.add(key)
                    routes.append(r)
            kw["routes"] = tuple(routes)
        if self.saw_links:
            kw["links"] = tuple(self.links.values())
        if self.saw_addresses:
            kw["addresses"] = tuple(self.addresses)
        if self.saw_rules:
            kw["ip_rules"] = tuple(self.rules)
        if self.route_lookups:
            kw["route_lookups"] = tuple(self.route_lookups)
        ipt = self._iptables()
        if ipt is not None:
            kw["iptables"] = ipt
            kw["iptables_dumps"] = tuple(self.dumps)
        ipvs = self.ipvs_ln if self.ipvs_ln is not None else self.ipvs_proc
        if ipvs is not None:
            kw["ipvs"] = tuple(ipvs)
        ct = self._conntrack()
        if ct is not None:
            kw["conntrack"] = ct
        if self.sysctls is not None:
            kw["sysctls"] = self.sysctls
        if self.resolv is not None:
            kw["resolv_conf"] = self.resolv
        if self.cni is not None:
            kw["cni_configs"] = tuple(self.cni)
        if self.nft:
            kw["nft"] = NftRuleset(
                tables=tuple(t for n in self.nft for t in n.tables),
                chains=sum(n.chains for n in self.nft),
                rules=sum(n.rules for n in self.nft),
            )
        mods = self._modules()
        if mods is not None:
            kw["modules"] = mods
        if self.events:
            boot = (
                self.captured_at - self.uptime
                if self.captured_at is not None and self.uptime is not None
                else None
            )
            kw["events"] = date_boot_times(tuple(self.events), boot)
        if self.ipam is not None:
            kw["ipam"] = tuple(self.ipam)
        if self.ethtool is not None:
            kw["ethtool"] = self.ethtool
        art = NodeArtifacts(
            node=self.node,
            origin=Origin(file=self.origin or (self.files[0] if self.files else None)),
            files=tuple(dict.fromkeys(self.files)),
            captured_at=self.captured_at,
            uptime=self.uptime,
            netns=self._netns(),
            evidence=tuple(self.sections),
            **kw,
        )
        return art, self.problems


def read_node_bundle(
    node_dir: Path, node: str | None = None, *, limit: int = DEFAULT_MAX_FILE_BYTES
) -> tuple[NodeArtifacts, list[LoadProblem]]:
    """Every file under ``node_dir`` as the evidence of ``node`` (default: the folder's name)."""
    ev = NodeEvidence(node or node_dir.name, str(node_dir), limit=limit)
    ev.add_tree(node_dir)
    return ev.build()


def node_folders(nodes_dir: Path) -> list[Path] | LoadProblem:
    """The ``<node>/`` folders of a ``nodes/`` folder, or why it could not be listed."""
    try:
        return sorted(d for d in nodes_dir.iterdir() if d.is_dir())
    except OSError as exc:
        return LoadProblem(
            level=Level.DEGRADED,
            message=f"cannot read folder: {exc.strerror or exc}",
            origin=Origin(file=str(nodes_dir)),
            skipped="the node captures in it",
            affects=("node checks",),
        )


def collect_nodes_dir(
    nodes_dir: Path, *, limit: int = DEFAULT_MAX_FILE_BYTES
) -> Iterator[NodeArtifacts | LoadProblem]:
    """Every ``nodes/<node>/`` bundle below ``nodes_dir``."""
    folders = node_folders(nodes_dir)
    if isinstance(folders, LoadProblem):
        yield folders
        return
    for d in folders:
        art, problems = read_node_bundle(d, limit=limit)
        yield from problems
        yield art

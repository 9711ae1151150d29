"""The probe agent: sends real packets from inside a pod and reports what happened.

Standard library only, one file, so that the very same code runs

- in a lab pod: ``ip netns exec NETNS python3 -m netsleuth.probe.agent``;
- in a live pod: as ``python3 -c SOURCE`` in an ephemeral debug container
  or a probe pod (any image with python3).

It reads a JSON plan on stdin (or as its first argument) and prints one JSON
result on stdout. What it does:

- **DNS as the pod's resolver does it**: reads the pod's own
  ``/etc/resolv.conf`` (nameservers, search list, ``ndots``, ``timeout``,
  ``attempts``), builds the candidate names the way glibc does (a name with
  at least ``ndots`` dots is tried as given first, otherwise the search list
  first; a trailing dot means absolute only), and sends an A and an AAAA
  query per candidate, recording each query's rcode, answers and time;
- **TCP connect / UDP exchange** to each target, several times for a
  Service (to see its endpoints behind the ClusterIP: the lab's responder
  answers with its pod's name), classifying each attempt as connected,
  refused (RST or ICMP port-unreachable: the packet arrived), timeout, or
  unreachable;
- **DF ping sweep**: ICMP echo with the Don't-Fragment bit
  (``IP_PMTUDISC_DO``), binary search for the largest size that gets a reply,
  noting ICMP fragmentation-needed answers; no reply at the smallest size
  means ICMP itself is blocked and the path MTU is not checked.
"""

from __future__ import annotations

import errno
import json
import os
import random
import select
import socket
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

QTYPES = {"A": 1, "AAAA": 28, "CNAME": 5}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}

# --------------------------------------------------------------------------- resolv.conf


def parse_resolv_conf(text: str) -> dict[str, Any]:
    """glibc's reading of resolv.conf: the last ``search`` wins, up to 3 nameservers,
    ``options ndots:N timeout:N attempts:N``."""
    conf: dict[str, Any] = {
        "nameservers": [],
        "search": [],
        "ndots": 1,
        "timeout": 5,
        "attempts": 2,
        "options": [],
    }
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        key, args = parts[0], parts[1:]
        if key == "nameserver" and args and len(conf["nameservers"]) < 3:
            conf["nameservers"].append(args[0])
        elif key in ("search", "domain"):
            conf["search"] = args if key == "search" else args[:1]
        elif key == "options":
            for opt in args:
                conf["options"].append(opt)
                name, _, value = opt.partition(":")
                if name in ("ndots", "timeout", "attempts") and value.isdigit():
                    conf[name] = min(int(value), 15 if name == "ndots" else 30)
    return conf


def candidates(name: str, search: list[str], ndots: int) -> list[str]:
    """Absolute names a glibc resolver tries for ``name``, in order."""
    if name.endswith("."):
        return [name.rstrip(".")]
    searched = [f"{name}.{s.rstrip('.')}" for s in search]
    return [name, *searched] if name.count(".") >= ndots else [*searched, name]


# --------------------------------------------------------------------------- DNS wire


def encode_query(qid: int, name: str, qtype: int) -> bytes:
    out = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        raw = label.encode("idna") if label else b""
        if not raw or len(raw) > 63:
            raise ValueError(f"bad DNS label in {name!r}")
        out += bytes([len(raw)]) + raw
    return out + b"\x00" + struct.pack("!HH", qtype, 1)


def _skip_name(buf: bytes, off: int) -> int:
    while True:
        n = buf[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def decode_response(buf: bytes) -> dict[str, Any]:
    qid, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", buf[:12])
    off = 12
    for _ in range(qd):
        off = _skip_name(buf, off) + 4
    answers = []
    for _ in range(an):
        off = _skip_name(buf, off)
        rtype, _rclass, ttl, rdlen = struct.unpack("!HHIH", buf[off : off + 10])
        off += 10
        rdata = buf[off : off + rdlen]
        off += rdlen
        if rtype == 1 and rdlen == 4:
            answers.append(
                {"type": "A", "value": socket.inet_ntop(socket.AF_INET, rdata), "ttl": ttl}
            )
        elif rtype == 28 and rdlen == 16:
            answers.append(
                {"type": "AAAA", "value": socket.inet_ntop(socket.AF_INET6, rdata), "ttl": ttl}
            )
        elif rtype == 5:
            answers.append({"type": "CNAME", "value": "", "ttl": ttl})
    return {
        "id": qid,
        "rcode": RCODES.get(flags & 0xF, str(flags & 0xF)),
        "truncated": bool(flags & 0x200),
        "answers": answers,
    }


def query(server: str, name: str, qtypes: list[str], timeout: float) -> list[dict[str, Any]]:
    """A and AAAA in parallel from one socket, as glibc sends them."""
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    results: dict[int, dict[str, Any]] = {}
    pending: dict[int, str] = {}
    t0 = time.monotonic()
    try:
        s.connect((server, 53))
        for qt in qtypes:
            qid = random.randint(0, 0xFFFF)
            while qid in pending:
                qid = random.randint(0, 0xFFFF)
            pending[qid] = qt
            s.send(encode_query(qid, name, QTYPES[qt]))
        deadline = t0 + timeout
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([s], [], [], left)
            if not r:
                break
            try:
                data = s.recv(4096)
            except ConnectionRefusedError:
                for qid, qt in pending.items():
                    results[qid] = {
                        "type": qt,
                        "rcode": "REFUSED-ICMP",
                        "answers": [],
                        "ms": _ms(t0),
                    }
                pending.clear()
                break
            try:
                resp = decode_response(data)
            except (struct.error, IndexError, ValueError):
                continue
            if resp["id"] in pending:
                qt = pending.pop(resp["id"])
                results[resp["id"]] = {
                    "type": qt,
                    "rcode": resp["rcode"],
                    "answers": resp["answers"],
                    "ms": _ms(t0),
                }
    except OSError as e:
        for qid, qt in pending.items():
            results[qid] = {
                "type": qt,
                "rcode": "ERROR",
                "error": e.strerror or str(e),
                "answers": [],
                "ms": _ms(t0),
            }
        pending.clear()
    finally:
        s.close()
    out = [{**r, "query": name, "server": server} for r in results.values()]
    for qt in pending.values():
        out.append(
            {
                "type": qt,
                "query": name,
                "server": server,
                "rcode": "TIMEOUT",
                "answers": [],
                "ms": _ms(t0),
            }
        )
    return out


def resolve(name: str, conf: dict[str, Any], qtypes: list[str]) -> dict[str, Any]:
    """The resolver's walk. Like glibc's res_nsearch: NXDOMAIN, an empty answer
    (NODATA) and SERVFAIL move on to the next candidate; a timeout on every
    attempt, or every server refusing, ends the lookup."""
    t0 = time.monotonic()
    queries: list[dict[str, Any]] = []
    addresses: list[str] = []
    outcome = "nxdomain"
    timeout = float(conf.get("timeout", 5))
    attempts = int(conf.get("attempts", 2))
    servers = conf.get("nameservers") or ["127.0.0.1"]
    for cand in candidates(name, conf.get("search", []), int(conf.get("ndots", 1))):
        codes: set[str] = set()
        for _attempt in range(max(attempts, 1)):
            for server in servers:
                got = query(server, cand, qtypes, timeout)
                queries.extend(got)
                codes = {g["rcode"] for g in got}
                if codes & {"NOERROR", "NXDOMAIN", "SERVFAIL"}:
                    addresses = [
                        a["value"] for g in got for a in g["answers"] if a["type"] in ("A", "AAAA")
                    ]
                    break
            else:
                continue
            break
        if addresses:
            outcome = "resolved"
            break
        if not codes & {"NOERROR", "NXDOMAIN", "SERVFAIL"}:
            outcome = "timeout" if codes <= {"TIMEOUT"} else "refused"
            break
        if "SERVFAIL" in codes and outcome == "nxdomain":
            outcome = "servfail"
    return {
        "name": name,
        "outcome": outcome,
        "addresses": addresses,
        "queries": queries,
        "ms": _ms(t0),
    }


# --------------------------------------------------------------------------- TCP / UDP


def _ms(t0: float) -> float:
    return round((time.monotonic() - t0) * 1000, 1)


def tcp_connect(ip: str, port: int, timeout: float) -> dict[str, Any]:
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    try:
        err = s.connect_ex((ip, port))
        if err not in (0, errno.EINPROGRESS):
            return {"status": _status(err), "error": os.strerror(err), "ms": _ms(t0)}
        _, w, _ = select.select([], [s], [], timeout)
        if not w:
            return {"status": "timeout", "ms": _ms(t0)}
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            return {"status": _status(err), "error": os.strerror(err), "ms": _ms(t0)}
        ms = _ms(t0)
        banner = ""
        r, _, _ = select.select([s], [], [], min(timeout, 0.5))
        if r:
            try:
                banner = s.recv(200).decode(errors="replace").strip()
            except OSError:
                banner = ""
        return {"status": "connected", "banner": banner, "ms": ms}
    finally:
        s.close()


DEFAULT_CLUSTER_DOMAIN = "cluster.local"
"""Only for a plan that names no ``cluster_domain`` (the planner always does: it sends the
domain derived from the cluster, see :mod:`netsleuth.facts.cluster_domain`). The agent is
standard library only, so it cannot import that module."""


def udp_exchange(
    ip: str, port: int, timeout: float, cluster_domain: str = DEFAULT_CLUSTER_DOMAIN
) -> dict[str, Any]:
    """A UDP datagram to ``ip:port`` and whether anything answers. Port 53 gets a real query
    for ``kubernetes.default.svc.<cluster_domain>``: a name in the cluster's own zone, which
    the cluster DNS answers itself (under another domain it would forward it upstream)."""
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((ip, port))
        # port 53 gets a real DNS query (a DNS server ignores anything else)
        payload = (
            encode_query(0x4E53, f"kubernetes.default.svc.{cluster_domain.strip('.')}", 1)
            if port == 53
            else b"netsleuth-probe\n"
        )
        # UDP has no retransmission of its own: send up to three times within the
        # timeout, as a DNS client does, so one lost datagram is not a "blocked"
        data = b""
        for i in range(3):
            s.send(payload)
            wait = t0 + timeout * (i + 1) / 3 - time.monotonic()
            r, _, _ = select.select([s], [], [], max(wait, 0))
            if r:
                data = s.recv(2048)
                break
        else:
            return {"status": "timeout", "ms": _ms(t0)}
        return {
            "status": "connected",
            "banner": data.decode(errors="replace").strip(),
            "ms": _ms(t0),
        }
    except OSError as e:
        return {"status": _status(e.errno or 0), "error": e.strerror or str(e), "ms": _ms(t0)}
    finally:
        s.close()


def _status(err: int) -> str:
    if err == errno.ECONNREFUSED:
        return "refused"
    if err in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return "unreachable"
    if err == errno.ETIMEDOUT:
        return "timeout"
    return "error"


# --------------------------------------------------------------------------- DF ping sweep

IP_MTU_DISCOVER = 10
IP_PMTUDISC_DO = 2
IP_MTU = 14


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _ping(
    sock: socket.socket, ip: str, ident: int, seq: int, total: int, timeout: float
) -> dict[str, Any]:
    """One DF echo of ``total`` bytes of IP packet; reply, frag-needed, too-big or timeout."""
    payload = bytes((seq + i) & 0xFF for i in range(max(total - 28, 0)))
    header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
    try:
        sock.sendto(packet, (ip, 0))
    except OSError as e:
        if e.errno == errno.EMSGSIZE:
            return {"result": "local-too-big"}
        return {"result": "error", "error": e.strerror}
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return {"result": "timeout"}
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return {"result": "timeout"}
        data, addr = sock.recvfrom(65535)
        ihl = (data[0] & 0x0F) * 4
        icmp_type, code = data[ihl], data[ihl + 1]
        if icmp_type == 0:
            rid, rseq = struct.unpack("!HH", data[ihl + 4 : ihl + 8])
            if rid == ident and rseq == seq and addr[0] == ip:
                return {"result": "reply"}
        elif icmp_type == 3 and code == 4:
            inner = data[ihl + 8 :]
            iihl = (inner[0] & 0x0F) * 4 if inner else 0
            if len(inner) >= iihl + 8 and socket.inet_ntoa(inner[16:20]) == ip:
                rid, rseq = struct.unpack("!HH", inner[iihl + 4 : iihl + 8])
                if rid == ident and rseq == seq:
                    mtu = struct.unpack("!H", data[ihl + 6 : ihl + 8])[0]
                    return {"result": "frag-needed", "from": addr[0], "mtu": mtu}


TIOCOUTQ = 0x5411


def _tcp_sized(ip: str, port: int, mtu: int, timeout: float) -> str:
    """Send three full segments of a connection whose MSS makes ``mtu``-byte packets
    (DF, as TCP always sets it); ``ok`` when the peer acknowledged (or reset) them,
    ``stuck`` when they stay unacknowledged: bigger packets vanish on the path."""
    import fcntl

    mss = mtu - 40
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(timeout)
        try:
            s.connect((ip, port))
        except OSError:
            return "no-connect"
        s.setblocking(False)
        # whole segments only: a short tail segment would slip through a black hole
        # and, reaching the peer, make it reset the connection
        info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        seg = struct.unpack("I", info[16:20])[0] or mss
        try:
            s.send(b"m" * (seg * 3))
        except (BlockingIOError, ConnectionError):
            return "ok"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # The responder closes after its banner: data reaching a closed socket is
            # answered with a RST, which proves it arrived (and leaves the send queue
            # count as it was, so the error is checked first).
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) in (errno.ECONNRESET, errno.EPIPE):
                return "ok"
            try:
                buf = fcntl.ioctl(s.fileno(), TIOCOUTQ, b"\0\0\0\0")
            except OSError:
                return "ok"
            if struct.unpack("i", buf)[0] == 0:
                return "ok"
            time.sleep(0.02)
        return "stuck"
    finally:
        s.close()


def tcp_mtu_sweep(ip: str, port: int, hi: int, timeout: float) -> dict[str, Any]:
    """Path MTU through a TCP port the policies allow (when ICMP is dropped)."""
    t0 = time.monotonic()
    tried: list[dict[str, Any]] = []

    def attempt(size: int) -> str:
        r = _tcp_sized(ip, port, size, timeout)
        if r == "stuck":  # once more: one lost segment is not an MTU
            r = _tcp_sized(ip, port, size, timeout)
        tried.append({"size": size, "result": f"tcp {r}"})
        return r

    first = attempt(hi)
    if first == "no-connect":
        return {
            "ip": ip,
            "status": "not-checked",
            "reason": f"no ICMP reply and no TCP connection to port {port}",
            "tried": tried,
            "ms": _ms(t0),
        }
    if first == "ok":
        return {
            "ip": ip,
            "status": "ok",
            "path_mtu": hi,
            "via": f"tcp/{port}",
            "tried": tried,
            "ms": _ms(t0),
        }
    lo_ok, hi_bad = 576, hi
    if attempt(lo_ok) != "ok":
        return {
            "ip": ip,
            "status": "not-checked",
            "reason": f"even 576-byte TCP segments to port {port} are not acknowledged",
            "tried": tried,
            "ms": _ms(t0),
        }
    while hi_bad - lo_ok > 8:
        mid = (lo_ok + hi_bad) // 2
        if attempt(mid) == "ok":
            lo_ok = mid
        else:
            hi_bad = mid
    return {
        "ip": ip,
        "status": "reduced",
        "path_mtu": lo_ok,
        "black_hole": True,
        "frag_needed": None,
        "via": f"tcp/{port}",
        "tried": tried,
        "ms": _ms(t0),
    }


def mtu_sweep(
    ip: str, max_size: int | None, timeout: float, tcp_port: int | None = None
) -> dict[str, Any]:
    t0 = time.monotonic()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    except OSError as e:
        return {"ip": ip, "status": "not-checked", "reason": f"no raw socket: {e.strerror}"}
    try:
        sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
        ident = (os.getpid() ^ random.randint(0, 0xFFFF)) & 0xFFFF
        local = _route_mtu(ip)
        hi = min(x for x in (max_size, local) if x) if (max_size or local) else 1500
        seq = 0
        tried: list[dict[str, Any]] = []

        def attempt(size: int) -> dict[str, Any]:
            nonlocal seq
            last: dict[str, Any] = {}
            for _ in range(2):  # one retry: a lost packet is not an MTU
                seq += 1
                last = _ping(sock, ip, ident, seq, size, timeout)
                if last["result"] != "timeout":
                    break
            tried.append({"size": size, **last})
            return last

        small = attempt(84)
        if small["result"] != "reply" and tcp_port:
            out = tcp_mtu_sweep(ip, tcp_port, hi, max(timeout, 0.6))
            out["local_mtu"] = local
            out["icmp"] = "no echo reply at 84 bytes (ICMP dropped)"
            return out
        if small["result"] != "reply":
            return {
                "ip": ip,
                "status": "not-checked",
                "reason": "no ICMP echo reply even at 84 bytes (ICMP blocked or host down)",
                "local_mtu": local,
                "tried": tried,
                "ms": _ms(t0),
            }
        top = attempt(hi)
        if top["result"] == "reply":
            return {
                "ip": ip,
                "status": "ok",
                "path_mtu": hi,
                "local_mtu": local,
                "tried": tried,
                "ms": _ms(t0),
            }
        lo_ok, hi_bad = 84, hi
        frag = top if top["result"] == "frag-needed" else None
        while hi_bad - lo_ok > 1:
            mid = (lo_ok + hi_bad) // 2
            r = attempt(mid)
            if r["result"] == "reply":
                lo_ok = mid
            else:
                hi_bad = mid
                if r["result"] == "frag-needed":
                    frag = r
        return {
            "ip": ip,
            "status": "reduced",
            "path_mtu": lo_ok,
            "local_mtu": local,
            "black_hole": frag is None,
            "frag_needed": frag,
            "tried": tried,
            "ms": _ms(t0),
        }
    finally:
        sock.close()


def _route_mtu(ip: str) -> int | None:
    """The MTU of the route to ``ip`` (IP_MTU on a connected UDP socket)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((ip, 9))
        return int(s.getsockopt(socket.IPPROTO_IP, IP_MTU))
    except OSError:
        return None
    finally:
        s.close()


# --------------------------------------------------------------------------- main


def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    timeout = float(plan.get("timeout", 1.0))
    domain = str(plan.get("cluster_domain") or DEFAULT_CLUSTER_DOMAIN)
    try:
        with open(plan.get("resolv_conf", "/etc/resolv.conf")) as fh:
            rtext = fh.read()
    except OSError:
        rtext = ""
    conf = parse_resolv_conf(rtext)
    if plan.get("dns_timeout"):
        conf["timeout"] = float(plan["dns_timeout"])
    out: dict[str, Any] = {"resolv_conf": conf, "dns": [], "connect": [], "mtu": []}
    with ThreadPoolExecutor(max_workers=int(plan.get("workers", 32))) as pool:
        dns_f = [
            pool.submit(resolve, d["name"], conf, d.get("qtypes", ["A", "AAAA"]))
            for d in plan.get("dns", [])
        ]
        conn_f = []
        for c in plan.get("connect", []):
            udp = c["proto"].upper() != "TCP"
            conn_f.append(
                (
                    c,
                    [
                        pool.submit(udp_exchange, c["ip"], int(c["port"]), timeout, domain)
                        if udp
                        else pool.submit(tcp_connect, c["ip"], int(c["port"]), timeout)
                        for _ in range(int(c.get("repeat", 1)))
                    ],
                )
            )
        mtu_f = [
            pool.submit(
                mtu_sweep, m["ip"], m.get("max"), float(m.get("timeout", 0.3)), m.get("tcp_port")
            )
            for m in plan.get("mtu", [])
        ]
        out["dns"] = [f.result() for f in dns_f]
        out["connect"] = [{**c, "attempts": [f.result() for f in fs]} for c, fs in conn_f]
        out["mtu"] = [f.result() for f in mtu_f]
    return out


def main(argv: list[str]) -> int:
    text = argv[1] if len(argv) > 1 else sys.stdin.read()
    plan = json.loads(text)
    json.dump(run_plan(plan), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

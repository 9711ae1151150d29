# ruff: noqa: UP031  (the printf formats are the point: they are the tools' own)
"""Writes ``data/documented/``: outputs this build machine cannot produce for real.

This kernel has no IPVS (``modprobe ip_vs``: module not found; ``ipvsadm -Ln``: "Can't
initialize ipvs: Protocol not available") and no loadable modules at all (no
``/proc/modules``). So:

- ``ipvsadm-Ln.txt``, ``ipvsadm-stats.txt``, ``ipvsadm-rate.txt`` are rendered here with
  the printf formats of the installed ipvsadm 1.31 (``strings /usr/sbin/ipvsadm``:
  ``"%-4s %s"``, ``"  -> %-28s %-7s %-6d %-10u %-10u"``, ``"%-33s %8s %8s %8s %8s %8s"``…)
  for the virtual servers kube-proxy programs for the Services of
  ``tests/node_artifacts/data/documented/README``;
- ``proc-net-ip_vs.txt`` with the kernel's ``ip_vs_info_seq_show()`` formats
  (net/netfilter/ipvs/ip_vs_ctl.c: ``"%s  %08X:%04X %s "``, ``"  -> %08X:%04X      %-7s %-6d %-10d %-10d"``);
- ``lsmod.txt`` is the real ``lsmod`` (kmod 30) run over a ``/proc/modules`` and
  ``/sys/module`` written in a private mount namespace (see :func:`real_lsmod`).

Run as root: ``python tests/node_artifacts/documented.py``.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).parent / "data" / "documented"

# (proto, vip, port, scheduler flags, [(rip, rport, weight, active, inactive)])
SERVICES = [
    ("TCP", "10.96.0.1", 443, "rr", [("192.168.50.10", 6443, 1, 4, 0)]),
    ("TCP", "10.96.0.10", 53, "rr", [("10.244.1.5", 53, 1, 0, 0), ("10.244.2.7", 53, 1, 0, 0)]),
    (
        "UDP",
        "10.96.0.10",
        53,
        "rr",
        # 10.244.2.6 is terminating: kube-proxy sets its weight to 0 while it drains
        [("10.244.1.5", 53, 1, 0, 3), ("10.244.2.7", 53, 1, 0, 2), ("10.244.2.6", 53, 0, 0, 1)],
    ),
    ("TCP", "10.96.40.2", 80, "rr persistent 10800", [("10.244.1.6", 8080, 1, 2, 1)]),
    ("TCP", "10.96.7.7", 80, "rr", []),
]


def ipvsadm_ln() -> str:
    out = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    for proto, vip, port, sched, rss in SERVICES:
        out.append("%-4s %s %s" % (proto, f"{vip}:{port}", sched))
        for rip, rport, w, a, i in rss:
            out.append("  -> %-28s %-7s %-6d %-10u %-10u" % (f"{rip}:{rport}", "Masq", w, a, i))
    return "\n".join(out) + "\n"


def ipvsadm_numbers(stats: bool) -> str:
    cols = (
        ("Conns", "InPkts", "OutPkts", "InBytes", "OutBytes")
        if stats
        else ("CPS", "InPPS", "OutPPS", "InBPS", "OutBPS")
    )
    out = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "%-33s %8s %8s %8s %8s %8s" % ("Prot LocalAddress:Port", *cols),
        "  -> RemoteAddress:Port",
    ]
    for n, (proto, vip, port, _, rss) in enumerate(SERVICES):
        vals = (12 * (n + 1), 40 * (n + 1), 38 * (n + 1), 4386 * (n + 1), 11297 * (n + 1))
        if not stats:
            vals = tuple(v // 100 for v in vals)
        out.append(
            "%-33s" % ("%-4s %s" % (proto, f"{vip}:{port}")) + "".join(" %8u" % v for v in vals)
        )
        for rip, rport, *_ in rss:
            out.append("  -> %-28s" % f"{rip}:{rport}" + "".join(" %8u" % (v // 2) for v in vals))
    return "\n".join(out) + "\n"


def proc_ip_vs() -> str:
    out = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn",
    ]
    for proto, vip, port, sched, rss in SERVICES:
        words = sched.split()
        line = "%s  %08X:%04X %s " % (proto, int(ipaddress.IPv4Address(vip)), port, words[0])
        if "persistent" in words:
            line += "persistent %d %08X" % (int(words[2]), 0xFFFFFFFF)
        out.append(line)
        for rip, rport, w, a, i in rss:
            out.append(
                "  -> %08X:%04X      %-7s %-6d %-10d %-10d"
                % (int(ipaddress.IPv4Address(rip)), rport, "Masq", w, a, i)
            )
    return "\n".join(out) + "\n"


# name, size, refcount, holders: what a kube-proxy IPVS node with br_netfilter loads.
MODULES = [
    ("ip_vs_sh", 12288, 0, []),
    ("ip_vs_wrr", 12288, 0, []),
    ("ip_vs_rr", 12288, 8, []),
    ("ip_vs", 225280, 14, ["ip_vs_rr", "ip_vs_sh", "ip_vs_wrr"]),
    ("br_netfilter", 32768, 0, []),
    ("bridge", 421888, 1, ["br_netfilter"]),
    ("xt_conntrack", 12288, 12, []),
    ("nf_conntrack", 196608, 6, ["ip_vs", "xt_conntrack"]),
    ("nf_defrag_ipv6", 24576, 2, ["nf_conntrack", "ip_vs"]),
    ("nf_defrag_ipv4", 12288, 1, ["nf_conntrack"]),
    ("vxlan", 143360, 0, []),
    ("overlay", 200704, 14, []),
]


def real_lsmod() -> str:
    """kmod's lsmod over a /proc/modules and /sys/module of MODULES, in a mount namespace."""
    with tempfile.TemporaryDirectory(prefix="nsnodeev-lsmod-") as tmp:
        lines = []
        for name, size, ref, holders in MODULES:
            used = ",".join(holders) + "," if holders else "-"
            lines.append(f"{name} {size} {ref} {used} Live 0x0000000000000000")
        (Path(tmp) / "modules").write_text("\n".join(lines) + "\n")
        script = ["set -e", "mount --make-rprivate /", "mount -t tmpfs none /sys"]
        for name, _, ref, holders in MODULES:
            script.append(
                f"mkdir -p /sys/module/{name}/holders; echo {ref} > /sys/module/{name}/refcnt"
            )
            script += [f"mkdir -p /sys/module/{name}/holders/{h}" for h in holders]
        script += [
            f"cp {tmp}/modules {tmp}/m",
            "mount -t tmpfs none /proc",
            f"cp {tmp}/m /proc/modules",
            "lsmod",
        ]
        proc = subprocess.run(
            ["unshare", "-m", "sh", "-c", "\n".join(script)],
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ipvsadm-Ln.txt").write_text(ipvsadm_ln())
    (OUT / "ipvsadm-stats.txt").write_text(ipvsadm_numbers(True))
    (OUT / "ipvsadm-rate.txt").write_text(ipvsadm_numbers(False))
    (OUT / "proc-net-ip_vs.txt").write_text(proc_ip_vs())
    (OUT / "lsmod.txt").write_text("$ lsmod\n" + real_lsmod())
    return 0


if __name__ == "__main__":
    sys.exit(main())

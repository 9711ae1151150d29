"""Helpers for root lab tests: a test-only lab name prefix and leftovers checks.

Test labs are named ``nstest<hex>``: a user's labs (``lab``, ``demo``, ...)
never start with ``nstest``, and the random part keeps two test processes
(pytest -n 2, several worktrees) apart. Tests never call ``lab down --all``:
it would remove a user's labs.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from netsleuth.lab import names

TEST_PREFIX = "nstest"


def new_lab_name() -> str:
    return TEST_PREFIX + secrets.token_hex(4)


def need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("lab tests need root (network namespaces, iptables)")
    missing = [
        t
        for t in ("ip", "bridge", "iptables-restore", "iptables-save", "dnsmasq")
        if not shutil.which(t)
    ]
    if missing:
        pytest.skip("lab tests need " + ", ".join(missing) + " (CI installs them in .ci/run)")


def host_links() -> set[str]:
    out = subprocess.run(
        ["ip", "-o", "link", "show"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line}


def host_iptables() -> str:
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=False).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith("#"))


def leftovers(lab: str) -> dict[str, list[str]]:
    """Everything of ``lab`` still on the host: namespaces, /etc/netns folders,
    processes naming its state folder, the state folder itself."""
    prefix = names.lab_prefix(lab)
    netns = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, check=True
    ).stdout
    marker = names.state_dir(lab) + "/"
    procs = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in cmd:
                procs.append(f"{d.name}: {cmd}")
    etc = Path(names.NETNS_ETC)
    return {
        "netns": [line.split()[0] for line in netns.splitlines() if line.startswith(prefix)],
        "etc": [p.name for p in etc.iterdir() if p.name.startswith(prefix)] if etc.is_dir() else [],
        "processes": procs,
        "state": [names.state_dir(lab)] if Path(names.state_dir(lab)).exists() else [],
    }


def assert_clean(lab: str) -> None:
    left = leftovers(lab)
    assert not any(left.values()), f"lab {lab} left behind: {left}"

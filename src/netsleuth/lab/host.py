"""The lab's only contact with the host: the commands it runs and the processes
it starts or stops.

``netsleuth.lab`` builds a dataplane, and a dataplane is made with ``ip``,
``bridge``, ``iptables-restore`` and ``dnsmasq``; DESIGN.md keeps running
processes and opening sockets to ``probe/``, so the lab keeps it to this one
module (and to the responder process, the pods' applications), and
import-linter forbids ``subprocess`` and ``socket`` everywhere else outside
``probe/``.

Safety rules enforced here, not by callers' good will:

- every namespace name passed to a command must start with the lab's
  ``netsleuth-<lab>-`` prefix (:func:`require_owned`), so nothing here can
  touch the host namespace or another lab's;
- every command runs either with ``ip -n NETNS``/``ip netns exec NETNS``
  (inside a lab namespace) or is ``ip netns add|del`` of a lab namespace;
- a process is signalled only when its ``/proc/PID/cmdline`` names the lab's
  state folder (:func:`kill_owned`): never by name, never all at once.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from netsleuth.lab import names

TOOLS = ("ip", "bridge", "iptables-restore", "iptables-save", "dnsmasq")


class LabCommandError(RuntimeError):
    """A host command failed; carries the command and its stderr."""

    def __init__(self, argv: list[str], stderr: str, code: int) -> None:
        self.argv = argv
        self.stderr = stderr.strip()
        self.code = code
        super().__init__(f"{' '.join(argv)} exited {code}: {self.stderr}")


def missing_tools(tools: Iterable[str] = TOOLS) -> list[str]:
    return [t for t in tools if shutil.which(t) is None]


def is_root() -> bool:
    return os.geteuid() == 0


def require_owned(lab: str, netns: str) -> str:
    if not names.owns_netns(lab, netns):
        raise ValueError(f"refusing to touch namespace {netns!r}: not lab {lab!r}'s")
    return netns


def run(
    argv: list[str], *, input: str | None = None, check: bool = True, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, input=input, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise LabCommandError(argv, proc.stderr, proc.returncode)
    return proc


# --------------------------------------------------------------------------- namespaces


def list_netns() -> list[str]:
    """Network namespace names (``ip netns list`` prints ``NAME [(id: N)]``)."""
    out = run(["ip", "netns", "list"], check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def add_netns(lab: str, netnses: list[str]) -> None:
    if not netnses:
        return
    for ns in netnses:
        require_owned(lab, ns)
    run(["ip", "-batch", "-"], input="".join(f"netns add {ns}\n" for ns in netnses))


def del_netns(lab: str, netns: str) -> None:
    require_owned(lab, netns)
    run(["ip", "netns", "del", netns], check=False)


def ip_batch(lab: str, netns: str, lines: list[str], tool: str = "ip") -> None:
    """``ip -n NETNS -batch -`` (or ``bridge``): many changes in one process."""
    require_owned(lab, netns)
    if lines:
        run([tool, "-n", netns, "-batch", "-"], input="\n".join(lines) + "\n")


def netns_exec(
    lab: str, netns: str, argv: list[str], *, input: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    require_owned(lab, netns)
    return run(["ip", "netns", "exec", netns, *argv], input=input, check=check)


def sysctl(lab: str, netns: str, settings: dict[str, str]) -> None:
    netns_exec(lab, netns, ["sysctl", "-q", "-w", *(f"{k}={v}" for k, v in settings.items())])


def iptables_restore(lab: str, netns: str, text: str) -> None:
    netns_exec(lab, netns, ["iptables-restore", "-w", "5"], input=text)


def netns_pids(lab: str, netns: str) -> list[int]:
    require_owned(lab, netns)
    out = run(["ip", "netns", "pids", netns], check=False).stdout
    return [int(x) for x in out.split() if x.isdigit()]


# --------------------------------------------------------------------------- /etc/netns


def write_netns_etc(lab: str, netns: str, filename: str, text: str) -> None:
    """``/etc/netns/NETNS/FILE``: ``ip netns exec`` bind-mounts it over ``/etc/FILE``."""
    require_owned(lab, netns)
    d = Path(names.NETNS_ETC) / netns
    d.mkdir(parents=True, exist_ok=True)
    (d / filename).write_text(text)


def remove_netns_etc(lab: str) -> list[str]:
    removed = []
    root = Path(names.NETNS_ETC)
    if root.is_dir():
        for d in root.iterdir():
            if names.owns_netns(lab, d.name) and d.is_dir() and not d.is_symlink():
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d.name)
    return removed


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def owned_pids(lab: str) -> list[int]:
    """Processes whose command line names this lab's state folder."""
    marker = names.state_dir(lab) + "/"
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and marker in _cmdline(int(entry.name)):
            out.append(int(entry.name))
    return sorted(out)


def kill_owned(lab: str, pid: int, timeout: float = 3.0) -> bool:
    """SIGTERM (then SIGKILL) ``pid`` if, and only if, it belongs to ``lab``."""
    marker = names.state_dir(lab) + "/"
    if marker not in _cmdline(pid):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            _reap(pid)
            return True
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def start_dnsmasq(lab: str, netns: str, conf: Path, pid_file: Path) -> int:
    """dnsmasq in a pod namespace; it daemonises and writes ``pid_file``."""
    netns_exec(lab, netns, ["dnsmasq", f"--conf-file={conf}", f"--pid-file={pid_file}"])
    for _ in range(200):
        text = pid_file.read_text().strip() if pid_file.exists() else ""
        if text.isdigit():
            return int(text)
        time.sleep(0.01)
    raise LabCommandError(["dnsmasq", f"--conf-file={conf}"], "no pid file written", 1)


def start_detached(argv: list[str], log: Path) -> int:
    """A long-running helper in its own session (survives the CLI; stopped by pid)."""
    with log.open("ab") as fh:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=fh,
            start_new_session=True,
            close_fds=True,
        )
    return proc.pid


@contextlib.contextmanager
def timer() -> Iterator[list[float]]:
    box: list[float] = []
    t0 = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - t0)

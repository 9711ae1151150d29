"""The lab pods' applications: one process answering on every pod's ports.

Run as ``python -m netsleuth.lab.responder STATE_DIR`` (``lab up`` starts it
detached and ``lab down`` stops it by pid). It reads
``STATE_DIR/responder.json``, enters each pod's network namespace in turn
(``setns(2)``, as ``ip netns exec`` does), opens that pod's listening
sockets there — a socket stays in the namespace it was created in — and
returns to its own namespace. One process then serves every pod:

- TCP: accept, write ``netsleuth-lab <ns>/<pod> tcp/<port>`` and close;
- UDP: answer each datagram with ``netsleuth-lab <ns>/<pod> udp/<port>``.

The banner tells a probe which endpoint answered behind a ClusterIP. Only
``socket``/``selectors`` from the standard library: it is the far end of a
probe, started per lab, and must not import the analysis.
"""

from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import sys
from pathlib import Path

CLONE_NEWNET = 0x40000000


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def open_sockets(pods: list[dict[str, object]]) -> list[tuple[socket.socket, str, bytes]]:
    """Listening sockets for every pod, created inside each pod's namespace."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    out: list[tuple[socket.socket, str, bytes]] = []
    try:
        for pod in pods:
            nsfd = os.open(f"/run/netns/{pod['netns']}", os.O_RDONLY)
            try:
                _setns(nsfd)
            finally:
                os.close(nsfd)
            try:
                for proto, port in pod["listen"]:  # type: ignore[attr-defined]
                    banner = f"netsleuth-lab {pod['key']} {str(proto).lower()}/{port}\n".encode()
                    if proto == "TCP":
                        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                        s.bind((str(pod["ip"]), int(port)))
                        s.listen(128)
                    else:
                        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        s.bind((str(pod["ip"]), int(port)))
                    s.setblocking(False)
                    out.append((s, str(proto), banner))
            finally:
                _setns(own)
    finally:
        os.close(own)
    return out


def serve(state_dir: Path) -> None:
    config = json.loads((state_dir / "responder.json").read_text())
    socks = open_sockets(config["pods"])
    sel = selectors.DefaultSelector()
    for s, proto, banner in socks:
        sel.register(s, selectors.EVENT_READ, (proto, banner))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    (state_dir / "responder.ready").write_text(str(os.getpid()))
    while True:
        for key, _ in sel.select():
            proto, banner = key.data
            ready = key.fileobj
            if not isinstance(ready, socket.socket):
                continue
            try:
                if proto == "TCP":
                    conn, _addr = ready.accept()
                    try:
                        conn.setblocking(True)
                        conn.settimeout(1.0)
                        conn.sendall(banner)
                    except OSError:
                        pass
                    finally:
                        conn.close()
                else:
                    _data, addr = ready.recvfrom(65535)
                    ready.sendto(banner, addr)
            except (BlockingIOError, InterruptedError, ConnectionError):
                continue
            except OSError:
                continue


if __name__ == "__main__":  # pragma: no cover - started by `lab up`
    serve(Path(sys.argv[1]))

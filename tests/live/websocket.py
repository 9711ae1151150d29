"""The server side of RFC 6455 WebSockets, as much as the API server's streaming endpoints use.

The kube-apiserver upgrades ``pods/exec`` (and ``attach``, ``portforward``)
requests to a WebSocket and speaks the channel protocols of
``k8s.io/apimachinery/pkg/util/remotecommand`` over it: every message is a
binary frame whose first byte is the channel (0 stdin, 1 stdout, 2 stderr,
3 error, 4 resize; 255 is the v5 "close this channel" signal). This module
only frames bytes; the channel logic is in :mod:`live.apiserver`.

Frames from a client are always masked (RFC 6455 section 5.1; a server must
close the connection on an unmasked one), frames from the server never are.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from typing import BinaryIO

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA


def accept_key(key: str) -> str:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


class ProtocolError(Exception):
    """The peer broke RFC 6455 (unmasked client frame, bad length, truncated stream)."""


class Connection:
    """A WebSocket after the handshake: thread-safe frame writes, frame reads by one reader."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO, sock: socket.socket | None = None) -> None:
        self._r = rfile
        self._w = wfile
        self._sock = sock
        self._wlock = threading.Lock()
        self.closed = False

    def send(self, payload: bytes, opcode: int = OP_BINARY) -> None:
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([n])
        elif n < 1 << 16:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self._wlock:
            if self.closed:
                return
            self._w.write(head + payload)
            self._w.flush()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send a close frame (once) and stop writing."""
        with self._wlock:
            if self.closed:
                return
            payload = struct.pack("!H", code) + reason.encode()
            try:
                self._w.write(bytes([0x80 | OP_CLOSE, len(payload)]) + payload)
                self._w.flush()
            except OSError:
                pass
            self.closed = True

    def _read_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self._r.read(n - len(data))
            if not chunk:
                raise ProtocolError("connection closed in the middle of a frame")
            data += chunk
        return data

    def recv(self) -> tuple[int, bytes]:
        """The next complete message ``(opcode, payload)``; pings are answered here.

        Raises :class:`EOFError` when the peer closed the TCP connection between frames.
        """
        message = b""
        first_opcode: int | None = None
        while True:
            head = self._r.read(2)
            if not head:
                raise EOFError
            if len(head) < 2:
                head += self._read_exact(1)
            fin, opcode = head[0] & 0x80, head[0] & 0x0F
            masked, n = head[1] & 0x80, head[1] & 0x7F
            if not masked:
                raise ProtocolError("client frames must be masked")
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            mask = self._read_exact(4)
            raw = self._read_exact(n)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(raw))
            if opcode == OP_PING:
                self.send(payload, OP_PONG)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                return OP_CLOSE, payload
            if opcode != OP_CONT:
                first_opcode = opcode
                message = payload
            else:
                message += payload
            if fin:
                return first_opcode if first_opcode is not None else OP_BINARY, message

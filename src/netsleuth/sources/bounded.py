"""Reading untrusted files with bounds: size, file type, nesting and YAML alias expansion.

A dump is other people's data. Before these bounds: a ``*.yaml`` symlink to
``/dev/zero`` read until MemoryError, a FIFO in a folder hung the load, a
1 GB one-line YAML took 24 s and 5 GB, a 621-byte YAML alias tree expanded
to 2.4 GB (and a SIGSEGV under a 4 GB limit), and an unreadable folder was
skipped silently (or raised ``PermissionError``). Now:

- :func:`read_bounded` reads at most ``limit`` bytes (the ``--max-file-size``
  cap) and says so when a file is larger; inside folders only regular files
  are read (FIFOs, devices, sockets and symlinks to them are skipped with a
  problem), while a path given explicitly may be a pipe (``-f <(kubectl …)``)
  and is then read up to the cap;
- :func:`walk` records every entry it cannot read instead of dropping it;
- :func:`alias_bomb` tells a YAML document whose aliases expand it past its
  own size (every node of a YAML document costs at least one byte of text,
  so only aliases can make it larger) before anything walks the expansion.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netsleuth.model.problems import Level, LoadProblem, Origin

DEFAULT_MAX_FILE_BYTES = 256 << 20
"""256 MiB: above the 249 MB JSON List of the 150,000-pod benchmark cluster."""

_KIND = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


def file_kind(mode: int) -> str:
    return _KIND.get(stat.S_IFMT(mode), "not a regular file")


def size_text(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


def parse_size(text: str) -> int:
    """``256M``, ``1G``, ``1GiB``, ``500000`` → bytes (ASCII digits only)."""
    from netsleuth.model.numbers import to_int

    s = text.strip().upper().removesuffix("IB").removesuffix("B")
    scale = 1
    for suffix, mult in (("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("T", 1 << 40)):
        if s.endswith(suffix):
            s, scale = s[: -len(suffix)], mult
            break
    return to_int(s, lo=1, hi=1 << 44) * scale


@dataclass(frozen=True, slots=True)
class Refused:
    """Why a file was not read (the caller turns it into a problem with its own origin)."""

    level: Level
    message: str


def check_file(path: Path, limit: int, *, explicit: bool) -> Refused | None:
    """Whether ``path`` may be read: a regular file (or, given explicitly, a pipe) within ``limit``."""
    try:
        st = os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    except OSError as exc:
        return Refused(Level.FATAL, f"cannot read: {exc.strerror or exc}")
    if stat.S_ISREG(st.st_mode):
        if st.st_size > limit:
            return Refused(
                Level.FATAL,
                f"{size_text(st.st_size)}, over the {size_text(limit)} read from one file "
                "(raise it with --max-file-size)",
            )
        return None
    if explicit and stat.S_ISFIFO(st.st_mode):
        return None  # -f <(kubectl get …): read, up to the cap
    link = " (through a symlink)" if path.is_symlink() else ""
    return Refused(
        Level.WARNING if not explicit else Level.FATAL,
        f"{file_kind(st.st_mode)}{link}, not a regular file: not read",
    )


def read_bounded(path: Path, limit: int, *, explicit: bool = True) -> bytes | Refused:
    """At most ``limit`` bytes of ``path``, or why it was not read."""
    refused = check_file(path, limit, explicit=explicit)
    if refused is not None:
        return refused
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        return Refused(Level.FATAL, f"cannot read: {exc.strerror or exc}")
    if len(data) > limit:
        return Refused(
            Level.FATAL,
            f"more than {size_text(limit)}: over the cap for one file (raise it with "
            "--max-file-size)",
        )
    return data


def read_stream_bounded(stream: Any, limit: int) -> bytes | Refused:
    """Standard input, at most ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        return Refused(
            Level.FATAL,
            f"more than {size_text(limit)} on standard input: over the cap (raise it with "
            "--max-file-size)",
        )
    return bytes(data)


def walk(top: Path) -> Iterator[tuple[str, list[str], list[str]] | LoadProblem]:
    """``os.walk`` that yields a problem for every folder it cannot read (was silent)."""
    errors: list[OSError] = []
    for entry in os.walk(top, onerror=errors.append):
        while errors:
            exc = errors.pop(0)
            yield LoadProblem(
                level=Level.FATAL,
                message=f"cannot read folder: {exc.strerror or exc}",
                origin=Origin(file=str(exc.filename or top)),
                skipped="the folder and everything in it",
            )
        yield entry
    for exc in errors:
        yield LoadProblem(
            level=Level.FATAL,
            message=f"cannot read folder: {exc.strerror or exc}",
            origin=Origin(file=str(exc.filename or top)),
            skipped="the folder and everything in it",
        )


def alias_bomb(data: Any, text_size: int, slack: int = 10_000) -> bool:
    """True when ``data`` has more nodes than its text could hold without aliases.

    Visits at most ``text_size + slack`` nodes, so the cost is bounded by the
    size of the text whatever the aliases would expand to.
    """
    limit = text_size + slack
    count = 0
    stack = [data]
    while stack:
        x = stack.pop()
        count += 1
        if count > limit:
            return True
        if isinstance(x, dict):
            stack.extend(x.values())
            count += len(x)  # the keys
        elif isinstance(x, list):
            stack.extend(x)
    return False

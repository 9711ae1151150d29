"""Offline input: files and directories of YAML/JSON manifests and cluster dumps.

Accepted shapes (the lightkube loader's rules, plus kubectl's outputs):

- a single object, ``kubectl get -o yaml|json`` output;
- ``List`` / ``*List`` objects, nested lists flattened;
- multi-document YAML, with empty documents skipped;
- directories, recursively (``.yaml``, ``.yml``, ``.json``);
  ``scenario.yaml`` / ``faults.yaml`` (netsleuth's scenario descriptors) are skipped;
- node evidence (:mod:`netsleuth.sources.node_bundle`): the files under a
  ``nodes/<node>/`` folder, under a folder named after a Node of the input
  (anywhere below a ``-f`` path), or given as ``-f node=<node>:<path>``, are
  recognised by their content whatever their names;
- ``kubectl cluster-info dump`` output: the ``--output-directory`` layout
  (``nodes.json``, ``<namespace>/pods.json``, ``<namespace>/<pod>/logs.txt``…)
  and the single stream on stdout (concatenated JSON documents with log
  sections between them); the container logs become
  :class:`~netsleuth.model.logs.ContainerLog` evidence.

Every document gets an :class:`Origin` (file, 0-based document index, 1-based
line). A document that does not parse is reported with that origin and
skipped; the other documents of the file still load.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from netsleuth.errors import SourceError
from netsleuth.model.cluster import SourceInfo, SourceKind
from netsleuth.model.logs import ContainerLog
from netsleuth.model.problems import Level, LoadProblem, Origin
from netsleuth.sources import yaml_k8s
from netsleuth.sources.base import Collected, RawObject
from netsleuth.sources.bounded import (
    DEFAULT_MAX_FILE_BYTES,
    Refused,
    alias_bomb,
    check_file,
    read_bounded,
    read_stream_bounded,
    walk,
)

if TYPE_CHECKING:
    from netsleuth.sources.node_bundle import NodeEvidence

# YAML is read as kubectl reads it (go-yaml v2 scalars through JSON), by a Rust
# parser where that provably gives the same values, else by libyaml: see yaml_k8s.
_Loader = yaml_k8s.K8sLoader

MANIFEST_SUFFIXES = {".yaml", ".yml", ".json"}
# netsleuth's own descriptions that sit beside a cluster dump (the test scenarios'
# ``scenario.yaml``, the demo's ``faults.yaml``): not manifests, skipped in directory walks.
DESCRIPTOR_FILES = frozenset({"scenario.yaml", "faults.yaml"})
_DOC_SEP = re.compile(r"^---(?:\s|$)", re.MULTILINE)
# The same separators after the first line, found by their newline: a pattern that
# starts with "^" is tried at every character, one that starts with "\n" is not.
_NL_DOC_SEP = re.compile(r"\n---(?=\s|$)", re.MULTILINE)
_LOG_MARK = b"==== START logs for container"
_NODE_SPEC = re.compile(r"^node=([^:/\s]+):(.+)$")


def _flatten(data: Any, origin: Origin, item_lines: list[int] | None = None) -> Iterator[Collected]:
    """Yield the objects of a document, flattening ``List`` kinds (recursively)."""
    if data is None:
        return
    if isinstance(data, list):
        # A bare YAML/JSON array of objects.
        for n, item in enumerate(data):
            yield from _flatten(item, _item_origin(origin, item_lines, n))
        return
    if not isinstance(data, dict):
        yield LoadProblem(
            level=Level.DEGRADED,
            message=f"document is a {type(data).__name__}, not a Kubernetes object",
            origin=origin,
            skipped="document",
        )
        return
    kind = data.get("kind")
    if (
        isinstance(kind, str)
        and kind.endswith("List")
        and isinstance(data.get("items"), list | type(None))
    ):
        items = data.get("items") or []
        list_api = data.get("apiVersion")
        item_kind = kind[: -len("List")] if kind != "List" else None
        for n, item in enumerate(items):
            if isinstance(item, dict):
                # `kubectl get pods -o json` items lack nothing, but API list items
                # lack apiVersion/kind: take them from the list.
                if item_kind and "kind" not in item:
                    item = {**item, "kind": item_kind}
                if item_kind and "apiVersion" not in item and isinstance(list_api, str):
                    item = {**item, "apiVersion": list_api}
            yield from _flatten(item, _item_origin(origin, item_lines, n))
        return
    yield RawObject(data, origin)


def _flatten_bounded(
    data: Any, origin: Origin, item_lines: list[int] | None = None
) -> Iterator[Collected]:
    """:func:`_flatten`, with nesting too deep for it reported instead of raised."""
    try:
        yield from _flatten(data, origin, item_lines)
    except RecursionError:
        yield LoadProblem(
            level=Level.DEGRADED,
            message="lists nested too deeply to be Kubernetes objects",
            origin=origin,
            skipped="the rest of the document",
        )


def _item_origin(origin: Origin, item_lines: list[int] | None, n: int) -> Origin:
    if item_lines is None:
        return origin  # JSON: items share the document's origin (frozen, safe to share)
    line = item_lines[n] if n < len(item_lines) else origin.line
    return Origin(file=origin.file, document=origin.document, line=line, live=origin.live)


_ITEM_START = re.compile(r"^(\s*)- ")


def _list_item_lines(text: str, first_line: int) -> list[int] | None:
    """Line numbers of the items of a YAML ``items:`` list (kubectl's layout)."""
    lines = text.split("\n")
    start = None
    for n, line in enumerate(lines):
        if line.startswith("items:"):
            start = n
            break
    if start is None:
        return None
    indent: str | None = None
    out: list[int] = []
    for n in range(start + 1, len(lines)):
        line = lines[n]
        if line and not line[0].isspace() and not line.startswith("-"):
            break  # next top-level key
        m = _ITEM_START.match(line)
        if m:
            if indent is None:
                indent = m.group(1)
            if m.group(1) == indent:
                out.append(first_line + n)
    return out


def _no_content(body: str) -> bool:
    """Every line blank, a comment or ``...`` (lines taken one at a time: a big document's
    first line usually settles it, without splitting all of it)."""
    pos = 0
    while True:
        nl = body.find("\n", pos)
        ln = body[pos:] if nl < 0 else body[pos:nl]
        if ln.strip() and not ln.lstrip().startswith("#") and ln.strip() != "...":
            return False
        if nl < 0:
            return True
        pos = nl + 1


def iter_yaml_documents(text: str, file: str) -> Iterator[Collected]:
    """Split on ``---`` ourselves so a broken document costs only itself, with its line."""
    starts = [0] + [m.start() + 1 for m in _NL_DOC_SEP.finditer(text)]
    doc_index = 0
    line_base = 0
    prev_begin = 0
    for n, begin in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(text)
        chunk = text[begin:end]
        # Count newlines incrementally: counting from 0 for every document is quadratic.
        line_base += text.count("\n", prev_begin, begin)
        prev_begin = begin
        first_line = line_base + 1
        body = chunk
        if _DOC_SEP.match(body):
            nl = body.find("\n")
            body = "" if nl < 0 else body[nl + 1 :]
            first_line += 1
        if not body.strip() or _no_content(body):
            if n > 0 or body.strip():
                doc_index += 1
            continue
        origin = Origin(file=file, document=doc_index, line=first_line)
        doc_index += 1
        last = n + 1 == len(starts)
        if len(body) >= CHUNKED_YAML_MIN_CHARS:
            chunked = _iter_yaml_list_chunks(body, origin, last)
            if chunked is not None:
                yield from chunked
                continue
        data, problem = _parse_yaml(body, origin, last)
        if problem is not None:
            yield problem
            continue
        item_lines = (
            _list_item_lines(body, first_line)
            if isinstance(data, dict) and "items" in data
            else None
        )
        yield from _flatten_bounded(data, origin, item_lines)


def _parse_yaml(
    body: str, origin: Origin, last: bool, *, checked: bool = False
) -> tuple[Any, LoadProblem | None]:
    """One YAML document (``origin.line`` is its first line), or the problem that stops it.

    ``checked``: :func:`yaml_k8s.risky` found nothing in it already."""
    first_line = origin.line or 1
    try:
        data = yaml_k8s.load(body, checked=checked)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + mark.line if mark is not None else first_line
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        where = Origin(file=origin.file, document=origin.document, line=line)
        if last and "end of stream" in str(problem):
            return None, LoadProblem(
                level=Level.FATAL,
                message=f"truncated: the input ends inside this YAML document ({problem})",
                origin=where,
                skipped="document",
            )
        return None, LoadProblem(
            level=Level.DEGRADED,
            message=f"YAML parse error: {problem}",
            origin=where,
            skipped="document",
        )
    except (ValueError, TypeError, RecursionError) as exc:  # odd scalars, deep nesting
        return None, LoadProblem(
            level=Level.DEGRADED,
            message=f"YAML parse error: {type(exc).__name__}: {exc}",
            origin=origin,
            skipped="document",
        )
    if "&" in body and "*" in body and alias_bomb(data, len(body)):
        return None, LoadProblem(
            level=Level.FATAL,
            message=f"YAML aliases expand this document far beyond its {len(body):,} bytes "
            "(an alias bomb?): not read",
            origin=origin,
            skipped="document",
        )
    return data, None


# A big YAML ``List`` in kubectl's layout (``items:`` at column 0, each item a
# "- " at column 0) is parsed a slice of items at a time, like a big JSON one.
CHUNKED_YAML_MIN_CHARS = 1 << 20
_YAML_CHUNK_CHARS = 1 << 20
_YAML_ITEMS = re.compile(r"^items:[ \t]*\n(?=- )", re.MULTILINE)
# Line starts, found by the newline before them (see _NL_DOC_SEP): "- " and a top-level key.
_NL_YAML_ITEM = re.compile(r"\n- ")
_NL_YAML_TOP = re.compile(r"\n[^\s#-]")


def _iter_yaml_list_chunks(body: str, origin: Origin, last: bool) -> Iterator[Collected] | None:
    """The items of a big kubectl-layout YAML ``List``, parsed in slices; ``None`` if not one.

    Memory stays bounded (one slice's values at a time) and a slice the fast
    parser cannot take costs only itself. A cut is a line starting "- " at
    column 0 inside the ``items:`` block, which is an item boundary unless it
    falls inside a multi-line quoted string; then the slice before it cannot
    parse (its quote never closes), and the rest of the list is parsed whole,
    so a wrong cut costs speed, never values. The document minus its items must
    parse as a ``List`` with ``items: []``, or this is not used.
    """
    m = _YAML_ITEMS.search(body)
    if m is None:
        return None
    start = m.end()
    # body[start - 1] is the newline ending "items:"
    top = _NL_YAML_TOP.search(body, start - 1)
    end = top.start() + 1 if top is not None else len(body)
    try:
        shell = yaml_k8s.load(body[: m.start()] + "items: []\n" + body[end:])
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return None
    if (
        type(shell) is not dict
        or shell.get("items") != []
        or not str(shell.get("kind", "")).endswith("List")
    ):
        return None
    cuts = [x.start() + 1 for x in _NL_YAML_ITEM.finditer(body, start - 1, end)]
    if not cuts or cuts[0] != start:
        return None

    # One scan for the whole list: the items the fast parser cannot take (a
    # "7997e89481" hash, a plain "yes") are read alone by libyaml, the others in
    # slices by the fast parser without scanning again.
    marks = yaml_k8s.risky_at(body, start, end)

    def items() -> Iterator[Collected]:
        first_line = origin.line or 1
        line = first_line + body.count("\n", 0, start)
        counted = start
        i = 0
        k = 0  # marks[k] is the first mark at or after cuts[i]
        while i < len(cuts):
            while k < len(marks) and marks[k] < cuts[i]:
                k += 1
            nxt = cuts[i + 1] if i + 1 < len(cuts) else end
            checked = not (k < len(marks) and marks[k] < nxt)
            j = i + 1
            if checked:
                # Up to about _YAML_CHUNK_CHARS of unmarked items, ending on an item start.
                mark = marks[k] if k < len(marks) else end
                limit = cuts[i] + _YAML_CHUNK_CHARS
                while (
                    j < len(cuts)
                    and cuts[j] < limit
                    and (cuts[j + 1] if j + 1 < len(cuts) else end) <= mark
                ):
                    j += 1
            stop = cuts[j] if j < len(cuts) else end
            checked = checked and not yaml_k8s.risky_end(body, cuts[i], stop)
            lines = []
            for c in cuts[i:j]:
                line += body.count("\n", counted, c)
                counted = c
                lines.append(line)
            at = Origin(file=origin.file, document=origin.document, line=lines[0])
            data, problem = _parse_yaml(body[cuts[i] : stop], at, False, checked=checked)
            if problem is None and isinstance(data, list) and len(data) == j - i:
                yield from _flatten_bounded({**shell, "items": data}, origin, lines)
                i = j
                continue
            # A cut inside a multi-line string, or a broken item: the rest in one piece.
            data, problem = _parse_yaml(body[cuts[i] : end], at, last)
            if problem is not None:
                yield LoadProblem(
                    level=problem.level,
                    message=problem.message.replace(
                        "YAML parse error", "YAML parse error in the items list"
                    ),
                    origin=problem.origin,
                    skipped=f"the items of the list from item {i + 1} on",
                )
                return
            rest = data if isinstance(data, list) else [data]
            more = (
                [first_line + body.count("\n", 0, c) for c in cuts[i:]]
                if len(rest) == len(cuts) - i
                else None
            )
            yield from _flatten_bounded({**shell, "items": rest}, origin, more)
            return

    return items()


# A big ``List`` is parsed a slice of items at a time (see :func:`_iter_json_list_chunks`).
CHUNKED_JSON_MIN_BYTES = 16 << 20
_CHUNK_BYTES = 1 << 20
_ITEMS_KEY = re.compile(rb'"items"\s*:\s*\[')
# Where one list item ends and the next begins, in compact and in indented (kubectl) JSON.
# A match can also fall inside an item (an ownerReferences entry starts with apiVersion);
# every cut is verified by parsing, see below.
_ITEM_CUT = re.compile(rb'\}\s*,\s*\{\s*"(?:apiVersion|kind|metadata)"')


def _iter_json_list_chunks(raw: bytes, file: str) -> Iterator[Collected] | None:
    """Parse a large JSON ``List`` in slices of about a megabyte, or ``None`` if it is not one.

    Parsing 200 MB in one ``orjson.loads`` keeps every dict of every item alive
    at once (2 GB for 150k pods) and pays for faulting that memory in; slices
    are decoded and freed one after another, which halves peak memory and is
    faster. Correctness does not rest on the cut heuristics: the document minus
    its items must parse as an object whose ``items`` is the list we are cutting,
    and every slice must parse on its own as a sequence of whole values. JSON
    parsing is deterministic, so a slice that starts on an item boundary and
    parses whole ends on one too, and the slices concatenated are exactly the
    items. A slice that does not parse is widened to the next cut; if the rest
    of the list does not parse at all, the items before it are kept and the
    rest is reported as a problem.
    """
    m = _ITEMS_KEY.search(raw, 0, 1 << 20)
    end = raw.rfind(b"]")
    if m is None or end < m.end():
        return None
    start = m.end()
    try:
        # The key belongs to the top-level object (its head closes with "]}")...
        orjson.loads(raw[:start] + b"]}")
        # ...and the last "]" closes its value.
        shell = orjson.loads(raw[:start] + raw[end:])
    except orjson.JSONDecodeError:
        return None
    if (
        type(shell) is not dict
        or shell.get("items") != []
        or not str(shell.get("kind", "")).endswith("List")
    ):
        return None

    def items() -> Iterator[Collected]:
        origin = Origin(file=file, document=0, line=1)
        pos, done = start, 0
        while pos < end:
            cut = _ITEM_CUT.search(raw, pos + _CHUNK_BYTES, end)
            chunk: list[Any] | None = None
            for _attempt in range(8):
                stop = end if cut is None else cut.start() + 1
                try:
                    chunk = orjson.loads(b"[" + raw[pos:stop] + b"]")
                    break
                except orjson.JSONDecodeError:
                    if cut is None:
                        break
                    cut = _ITEM_CUT.search(raw, cut.end(), end)
            if chunk is None:
                try:
                    chunk = orjson.loads(b"[" + raw[pos:end] + b"]")
                    stop = end
                except orjson.JSONDecodeError as exc:
                    at = pos - 1 + exc.pos
                    cut_short = not raw[pos:end].rstrip().endswith((b"}", b"]"))
                    yield LoadProblem(
                        level=Level.FATAL if cut_short else Level.DEGRADED,
                        message=f"JSON parse error in the items list: {exc.msg}"
                        + (" (truncated: the list ends inside an item)" if cut_short else ""),
                        origin=Origin(
                            file=file, document=0, line=raw.count(b"\n", 0, max(at, 0)) + 1
                        ),
                        skipped=f"the items of the list from item {done + 1} on",
                    )
                    return
            yield from _flatten({**shell, "items": chunk}, origin)
            done += len(chunk)
            if stop >= end:
                return
            pos = raw.index(b",", stop) + 1

    return items()


_JSON_OPEN = re.compile(r"[{\[]")
_ITEMS_KEY_TEXT = re.compile(r'"items"\s*:\s*\[')


class _LongNumber(ValueError):
    """A JSON integer too long to be a Kubernetes value (``int()`` raised past 4,300 digits)."""

    def __init__(self, digits: int) -> None:
        super().__init__(f"a number {digits:,} digits long")
        self.digits = digits


_MAX_JSON_INT_DIGITS = 100
"""Kubernetes integers are int64 (19 digits); longer ones are reported, not converted."""


def _json_int(text: str) -> int:
    if len(text) > _MAX_JSON_INT_DIGITS:
        raise _LongNumber(len(text.lstrip("-")))
    return int(text)


def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(parse_int=_json_int)


# Finds where a document with a too-long number ends, to skip it whole.
_LENIENT = json.JSONDecoder(parse_int=lambda text: 0)


def _truncated(exc: json.JSONDecodeError, s: str) -> bool:
    """The parse failed because the input ended, not because of a malformed value."""
    return exc.pos >= len(s.rstrip()) or exc.msg.startswith("Unterminated string")


def _salvage_list(s: str, pos: int, file: str, doc: int, line: int) -> Iterator[Collected]:
    """The complete items of a ``List`` cut short (a truncated ``kubectl get -o json``)."""
    m = _ITEMS_KEY_TEXT.search(s, pos)
    if m is None:
        return
    decoder = _decoder()
    try:
        shell = decoder.decode(s[pos : m.start()] + '"items": []}')
    except (ValueError, RecursionError):
        return
    if not isinstance(shell, dict) or not str(shell.get("kind", "")).endswith("List"):
        return
    items: list[Any] = []
    at = m.end()
    while True:
        while at < len(s) and s[at] in " \t\r\n,":
            at += 1
        try:
            item, at = decoder.raw_decode(s, at)
        except (ValueError, RecursionError):
            break
        items.append(item)
    if items:
        yield from _flatten({**shell, "items": items}, Origin(file=file, document=doc, line=line))


def iter_json_documents(text: str | bytes, file: str) -> Iterator[Collected]:
    """One JSON document, or a stream of them (``kubectl cluster-info dump`` stdout)."""
    if isinstance(text, bytes) and len(text) >= CHUNKED_JSON_MIN_BYTES:
        chunked = _iter_json_list_chunks(text, file)
        if chunked is not None:
            yield from chunked
            return
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    else:
        yield from _flatten_bounded(data, Origin(file=file, document=0, line=1))
        return
    s = text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
    decoder = _decoder()
    pos = 0
    doc = 0
    # Line numbers are counted from the previous document on: counting from the
    # start of the stream for every document is quadratic (20k documents: 121 s).
    line, counted = 1, 0
    while pos < len(s):
        # Skip whitespace and log sections between documents.
        m = _JSON_OPEN.search(s, pos)
        if m is None:
            break
        gap = s[pos : m.start()]
        pos = m.start()
        line += s.count("\n", counted, pos)
        counted = pos
        long_number: _LongNumber | None = None
        try:
            try:
                data, end = decoder.raw_decode(s, pos)
            except _LongNumber as exc:
                # int() raised past 4,300 digits (a traceback); no Kubernetes field is that
                # long. Decoded again without converting, to know where the document ends.
                long_number = exc
                data, end = _LENIENT.raw_decode(s, pos)
        except json.JSONDecodeError as exc:
            if _truncated(exc, s):
                # The input ends inside this document: say so (it is not a malformed
                # object, and its fragments must not be read as objects without a kind).
                yield from _salvage_list(s, pos, file, doc, line)
                yield LoadProblem(
                    level=Level.FATAL,
                    message="truncated: the input ends inside this JSON document "
                    f"({exc.msg} at line {exc.lineno}); what follows the cut is missing",
                    origin=Origin(file=file, document=doc, line=line),
                    skipped="the rest of the document",
                )
                return
            if doc == 0 and not gap.strip():
                yield LoadProblem(
                    level=Level.DEGRADED,
                    message=f"JSON parse error: {exc.msg}",
                    origin=Origin(file=file, document=doc, line=exc.lineno),
                    skipped="document",
                )
                # Try to resynchronise on the next line that opens an object.
            nl = s.find("\n", pos)
            pos = len(s) if nl < 0 else nl + 1
            continue
        except RecursionError:
            yield LoadProblem(
                level=Level.DEGRADED,
                message="JSON nested too deeply",
                origin=Origin(file=file, document=doc, line=line),
                skipped="document",
            )
            nl = s.find("\n", pos)
            pos = len(s) if nl < 0 else nl + 1
            continue
        if long_number is not None:
            yield LoadProblem(
                level=Level.DEGRADED,
                message=f"JSON holds {long_number}: not a Kubernetes value (int64 at most)",
                origin=Origin(file=file, document=doc, line=line),
                skipped="document",
            )
        else:
            yield from _flatten_bounded(data, Origin(file=file, document=doc, line=line))
        doc += 1
        pos = end


def read_file(
    path: Path, *, limit: int = DEFAULT_MAX_FILE_BYTES, explicit: bool = True
) -> Iterator[Collected]:
    """The objects of one file, read within ``limit`` bytes (see :mod:`netsleuth.sources.bounded`).

    ``explicit``: the path was given with ``-f`` (a pipe is read too); inside a
    folder only regular files are read.
    """
    file = str(path)
    raw = read_bounded(path, limit, explicit=explicit)
    if isinstance(raw, Refused):
        yield LoadProblem(
            level=raw.level, message=raw.message, origin=Origin(file=file), skipped="file"
        )
        return
    if _LOG_MARK in raw:
        # `kubectl cluster-info dump` on stdout: JSON documents with container logs between.
        from netsleuth.sources.logs import blank_container_logs

        text, logs = blank_container_logs(raw.decode("utf-8", errors="replace"), file)
        yield from logs
        if text.lstrip()[:1] in ("{", "["):
            yield from iter_json_documents(text, file)
        return
    if path.suffix == ".json" or raw.lstrip()[:1] in (b"{", b"["):
        yield from iter_json_documents(raw, file)
        return
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        yield LoadProblem(
            level=Level.FATAL,
            message=f"not UTF-8 text (byte {exc.start})",
            origin=Origin(file=file),
            skipped="file",
        )
        return
    yield from iter_yaml_documents(text, file)


def _is_object(item: Collected) -> bool:
    return isinstance(item, RawObject) and isinstance(item.data.get("kind"), str)


def _held_back(items: Iterator[Collected], pending: list[Collected]) -> Iterator[Collected]:
    """Stream a file's objects, but hold back what comes before its first Kubernetes object
    (problems, and values without a ``kind``): a file that holds none may be a node capture
    (``ip -j link``, a CNI ``.json``) and its problems are then not manifest problems.
    ``pending`` keeps them for the caller."""
    seen_object = False
    for item in items:
        if seen_object:
            yield item
        elif _is_object(item):
            seen_object = True
            yield from pending
            pending.clear()
            yield item
        else:
            pending.append(item)


class _Counter:
    """Counts the objects (not problems) that pass through."""

    def __init__(self) -> None:
        self.objects = 0

    def count(self, items: Iterator[Collected]) -> Iterator[Collected]:
        for item in items:
            if _is_object(item):
                self.objects += 1
            yield item


def _node_spec(p: str) -> tuple[str, Path] | None:
    """``node=<name>:<path>`` (when no file is literally named so)."""
    m = _NODE_SPEC.match(p)
    if m is None or Path(p).exists():
        return None
    return m.group(1), Path(m.group(2))


def _container_logs_file(path: Path) -> Iterator[ContainerLog]:
    """The container logs of a ``cluster-info dump --output-directory`` ``logs.txt``."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
        if _LOG_MARK not in head:
            return
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return
    from netsleuth.sources.logs import blank_container_logs

    _, logs = blank_container_logs(text, str(path))
    yield from logs


class ManifestSource:
    """Files and directories given with ``-f``; ``-`` reads standard input."""

    def _read_stdin(self) -> str | LoadProblem:
        import sys

        raw = read_stream_bounded(sys.stdin.buffer, self.max_file_bytes)
        if isinstance(raw, Refused):
            return LoadProblem(
                level=raw.level, message=raw.message, origin=Origin(file="<stdin>"), skipped="file"
            )
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return LoadProblem(
                level=Level.FATAL,
                message=f"not UTF-8 text (byte {exc.start})",
                origin=Origin(file="<stdin>"),
                skipped="file",
            )

    def __init__(
        self,
        paths: list[str],
        *,
        stdin_text: str | None = None,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    ) -> None:
        self.paths = paths
        self._stdin_text = stdin_text
        self._files: list[str] = []
        self.max_file_bytes = max_file_bytes
        """The most read from one file (and from standard input)."""

    def info(self) -> SourceInfo:
        return SourceInfo(kind=SourceKind.OFFLINE, paths=tuple(self.paths))

    def collect(self) -> Iterator[Collected]:
        # node_bundle (the node-capture sniffers) is imported when node evidence turns up:
        # a plain manifest read does not pay for it.
        node_names: set[str] = set()
        # Files that are not manifests (or manifests that held no object): node evidence when
        # a folder above them (below the -f root) is named after a Node. (root, file, problems)
        candidates: list[tuple[Path, Path, list[Collected]]] = []
        evidence: dict[str, NodeEvidence] = {}

        def node_of(name: str, origin: str) -> NodeEvidence:
            from netsleuth.sources.node_bundle import NodeEvidence

            ev = evidence.get(name)
            if ev is None:
                ev = evidence[name] = NodeEvidence(name, origin, limit=self.max_file_bytes)
            return ev

        def watch(items: Iterator[Collected]) -> Iterator[Collected]:
            for item in items:
                if isinstance(item, RawObject) and item.data.get("kind") == "Node":
                    name = (item.data.get("metadata") or {}).get("name")
                    if isinstance(name, str):
                        node_names.add(name)
                yield item

        explicit: list[tuple[str, Path]] = []
        for p in self.paths:
            if p == "-":
                text = self._stdin_text
                if text is None:
                    read = self._read_stdin()
                    if isinstance(read, LoadProblem):
                        yield read
                        continue
                    text = read
                if "==== START logs for container" in text:
                    from netsleuth.sources.logs import blank_container_logs

                    text, logs = blank_container_logs(text, "<stdin>")
                    yield from logs
                if text.lstrip()[:1] in ("{", "["):
                    yield from watch(iter_json_documents(text, "<stdin>"))
                else:
                    yield from watch(iter_yaml_documents(text, "<stdin>"))
                continue
            spec = _node_spec(p)
            if spec is not None:
                if not spec[1].exists():
                    raise SourceError(
                        f"no such file or directory: {spec[1]} (in -f {p})",
                        tip="-f node=<node name>:<file or directory of that node's captures>",
                    )
                explicit.append(spec)
                continue
            path = Path(p)
            if not path.exists():
                raise SourceError(
                    f"no such file or directory: {p}", tip="Check the path given with -f."
                )
            if not path.is_dir():
                pending: list[Collected] = []
                got = _Counter()
                reader = read_file(path, limit=self.max_file_bytes, explicit=True)
                yield from watch(got.count(_held_back(reader, pending)))
                if not got.objects:
                    # no Kubernetes object in it: a node capture if a folder above is a Node's
                    candidates.append((path.parent, path, pending))
                continue
            for entry in walk(path):
                if isinstance(entry, LoadProblem):
                    yield entry
                    continue
                root, dirs, files = entry
                dirs.sort()
                rootp = Path(root)
                if "nodes" in dirs:
                    from netsleuth.sources.node_bundle import node_folders

                    dirs.remove("nodes")
                    folders = node_folders(rootp / "nodes")
                    if isinstance(folders, LoadProblem):
                        yield folders  # the rest of the input is still read
                        folders = []
                    for d in folders:
                        node_of(d.name, str(d)).add_tree(d, d)
                # Skip hidden folders (.git) and tool folders.
                dirs[:] = [d for d in dirs if not d.startswith(".") and not d.startswith("_")]
                for name in sorted(files):
                    fp = rootp / name
                    if name.startswith("."):
                        continue
                    refused = check_file(fp, self.max_file_bytes, explicit=False)
                    if refused is not None:
                        # FIFOs, devices, sockets (and links to them) are never read from a
                        # folder: a *.yaml link to /dev/zero read until MemoryError, a FIFO hung.
                        yield LoadProblem(
                            level=refused.level,
                            message=refused.message,
                            origin=Origin(file=str(fp)),
                            skipped="file",
                        )
                        continue
                    if fp.suffix in MANIFEST_SUFFIXES and name not in DESCRIPTOR_FILES:
                        pending = []
                        got = _Counter()
                        reader = read_file(fp, limit=self.max_file_bytes, explicit=False)
                        yield from watch(got.count(_held_back(reader, pending)))
                        if not got.objects:
                            candidates.append((path, fp, pending))
                    elif name not in DESCRIPTOR_FILES:
                        candidates.append((path, fp, []))
        for top, fp, pending in candidates:
            node = _owning_node(top, fp, node_names)
            if node is not None:
                folder = _node_folder(top, fp, node)
                node_of(node, str(folder)).add_path(fp, str(fp), short=str(fp.relative_to(folder)))
                continue
            yield from pending
            if not pending and fp.suffix in (".txt", ".log"):
                yield from _container_logs_file(fp)
        for node, target in explicit:
            node_of(node, str(target)).add_tree(target, explicit=True)
        for ev in evidence.values():
            art, problems = ev.build()
            yield from problems
            yield art


def _owning_node(root: Path, file: Path, nodes: set[str]) -> str | None:
    """The Node a file belongs to: the nearest folder above it, up to and including the
    ``-f`` root, that is named after a Node of the input."""
    if not nodes:
        return None
    d = file.parent
    while True:
        if d.name in nodes:
            return d.name
        if d == root or d == d.parent or root not in d.parents:
            return None
        d = d.parent


def _node_folder(root: Path, file: Path, node: str) -> Path:
    d = file.parent
    while d.name != node and d != d.parent:
        d = d.parent
    return d

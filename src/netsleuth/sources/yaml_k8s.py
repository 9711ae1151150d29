"""YAML read as Kubernetes reads it, fast where that is provably the same.

kubectl and the API server read YAML through ``sigs.k8s.io/yaml``: go-yaml v2
decodes it (YAML 1.1 flavoured), the result is converted to JSON, and the JSON
is what Kubernetes sees. Plain (unquoted) scalars are therefore typed by
go-yaml v2's rules, not by YAML 1.2's nor by PyYAML's:

- ``y``, ``yes``, ``on``, ``n``, ``no``, ``off`` (in lower, Title and UPPER
  case) are booleans, like ``true``/``false``;
- integers are Go's ``ParseInt(s, 0, 64)`` with ``_`` removed: ``0x1F``,
  ``0o17``, ``0b101``, ``0755`` (octal), ``1_000``; beyond int64, uint64, then
  a float, then a string;
- ``1e3`` and ``1.`` are floats; a float with an integral value becomes a JSON
  integer (``1.0`` is read as ``1``);
- timestamps stay strings, and so do ``1:20`` (no base 60) and ``=``;
- map keys become JSON object keys: ``80: x`` has the key ``"80"``,
  ``true: x`` the key ``"true"``.

:class:`K8sLoader` is PyYAML's libyaml loader with those rules: the reference,
and the reader of anything the fast path does not take, with PyYAML's exact
error positions.

The fast path is ``yaml_rs`` (Rust, YAML 1.2 core schema), about 15x faster
than PyYAML here. YAML 1.2 and go-yaml v2 disagree only on plain scalars of a
few shapes (the words above, numbers other than plain decimal integers, keys
that are not strings) and on tags, anchors and directives. :func:`risky` finds
every place such a scalar could start; a text with none is read by
``yaml_rs`` and gives the same value as :class:`K8sLoader` (the tests hold the
two to each other on every corpus file and on generated scalars). Anything
else, or anything ``yaml_rs`` refuses, goes to :class:`K8sLoader`.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_yaml_rs: Any
_FAST_OPTS: dict[str, Any] = {}
try:
    import yaml_rs as _yaml_rs

    _FAST_OPTS = {
        "parse_datetime": False,  # go-yaml v2 reads timestamps into strings
        "duplicate_key_policy": _yaml_rs.DuplicateKeyPolicy.LastWins,  # as go-yaml v2, PyYAML
    }
except ImportError:  # pragma: no cover - without the Rust parser, PyYAML reads everything
    _yaml_rs = None

try:
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Base = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

_BOOLS: dict[str, bool] = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE"), True),
    **dict.fromkeys(("on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE"), False),
    **dict.fromkeys(("off", "Off", "OFF"), False),
}
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
_SPECIAL_FLOATS: dict[str, float] = {
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
# go-yaml v2's resolve table: only a plain scalar starting with one of these can be
# anything but a string ("<<" is the merge key, matched by value).
_HINTS = frozenset("0123456789+-.yYnNtTfFoO~<")
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
# Go's strconv.ParseInt(s, 0, 64) syntax, after go-yaml removed every "_".
_GO_INT = re.compile(
    r"([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[oO]([0-7]+)|0[bB]([01]+)|(0[0-7]*)|([1-9][0-9]*))\Z"
)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1


def _go_int(plain: str) -> int | None:
    m = _GO_INT.match(plain)
    if m is None:
        return None
    sign, hx, octal, binary, zero_octal, dec = m.groups()
    if hx is not None:
        v = int(hx, 16)
    elif octal is not None:
        v = int(octal, 8)
    elif binary is not None:
        v = int(binary, 2)
    elif zero_octal is not None:
        v = int(zero_octal, 8)
    else:
        if len(dec) > 20:  # beyond uint64 whatever the digits
            return None
        v = int(dec)
    if sign == "-":
        return -v if v <= _INT64_MAX + 1 else None
    if v <= _INT64_MAX or (not sign and v <= _UINT64_MAX):
        return v  # ParseInt, else ParseUint (which takes no sign)
    return None


def json_number(v: float) -> int | float:
    """A float as it comes back from Kubernetes' JSON: integral values are integers."""
    if v.is_integer() and abs(v) < 2.0**63:
        return int(v)
    return v


def go_plain(value: str) -> Any:
    """The value of a plain scalar as go-yaml v2 reads it (then through JSON)."""
    if not value:
        return None
    c = value[0]
    if c not in _HINTS:
        return value
    if value in _BOOLS:
        return _BOOLS[value]
    if value in _NULLS:
        return None
    if value in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[value]
    if c == ".":
        if _DOT_FLOAT.match(value):
            return json_number(float(value))
        return value
    if c in "0123456789+-":
        plain = value.replace("_", "")
        n = _go_int(plain)
        if n is not None:
            return n
        if _GO_FLOAT.match(plain):
            f = float(plain)
            if not math.isinf(f):  # Go's ParseFloat reports out-of-range: a string
                return json_number(f)
    return value


def _tag_of(value: Any) -> str:
    if value is None:
        return _NULL
    t = type(value)
    if t is str:
        return _STR
    if t is bool:
        return _BOOL
    if t is int:
        return _INT
    return _FLOAT


def _json_key(k: Any) -> Any:
    """A non-string map key as sigs.k8s.io/yaml writes it into JSON."""
    if type(k) is bool:
        return "true" if k else "false"
    if type(k) is int:
        return str(k)
    if type(k) is float:
        if math.isnan(k):
            return ".nan"
        if math.isinf(k):
            return ".inf" if k > 0 else "-.inf"
        return str(json_number(k)) if k.is_integer() and abs(k) < 1e21 else repr(k)
    return k


class K8sLoader(_Base):  # type: ignore[misc,valid-type]
    """libyaml's safe loader typing plain scalars as kubectl (go-yaml v2 + JSON) does.

    Our own subclass, so PyYAML's global loaders stay as they are.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            if implicit[0] and (not value or value[0] in _HINTS):
                if value == "<<":
                    return _MERGE
                return _tag_of(go_plain(value))
            return _STR
        if kind is SequenceNode:
            return _SEQ
        return _MAP

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        for k in mapping:
            if type(k) is not str:
                return {_json_key(k): v for k, v in mapping.items()}
        return mapping


def _construct_plain(loader: Any, node: Node) -> Any:
    value = loader.construct_scalar(node)
    typed = go_plain(value)
    if _tag_of(typed) != node.tag and not (node.tag == _FLOAT and type(typed) is int):
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot read {value!r} as {node.tag}", node.start_mark
        )
    return typed


def _construct_str(loader: Any, node: Node) -> Any:
    return loader.construct_scalar(node)


for _tag in (_INT, _FLOAT, _BOOL, _NULL):
    K8sLoader.add_constructor(_tag, _construct_plain)
# go-yaml v2 reads a timestamp into a string; YAML 1.1's "=" (tag:yaml.org,2002:value)
# is the string "=" to kubectl (kube-prometheus's Alertmanager CRD has one).
K8sLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)
K8sLoader.add_constructor("tag:yaml.org,2002:value", _construct_str)


# Where the two readers may differ: a plain scalar that YAML 1.2 and go-yaml v2
# type differently, a tag, anchor, alias or directive, or text libyaml refuses and
# the Rust parser takes. A scalar is looked for wherever it could start (after
# whitespace, "[", "{" or ","; a superset of where YAML lets one start) up to where
# a plain scalar ends (end of line, a comment, a flow indicator, or ": " when it
# was a key). A text with none of these is read alike by both.
_END = r"[ \t\r]*+(?:$|#|,|\]|\}|:(?:[ \t\r]|$))"
_TOKENS = (
    # tags, anchors, aliases, directives, reserved indicators, merge keys, empty and
    # complex keys
    r"[!&*%@`?:]|<<",
    # YAML 1.1 booleans that YAML 1.2 reads as strings
    r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)" + _END,
    # every number but a plain decimal int64: floats (1.0 is read as 1), 1e3, +1,
    # 0755, 1_000, 2^63 and beyond
    r"(?!-?(?:0|[1-9][0-9]{0,17})" + _END + r")"
    r"[-+]?_*(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9_]+)?" + _END,
    r"[-+]?0(?:[xX][0-9a-fA-F_]*|[oO][0-7_]*|[bB][01_]*)" + _END,
    r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)" + _END,
    # keys that are not strings: JSON makes strings of them
    r"(?:true|True|TRUE|false|False|FALSE|null|Null|NULL|~|[-+]?[0-9][0-9_.]*)"
    r"[ \t]*:(?:[ \t\r]|$)",
)
# Each pattern leads with a character set: Python's re scans for it quickly.
_RISKY = (
    re.compile(
        r"[\s\[{,](?=[!&*%@`<?:yYnNoOtTfF~0-9+.\-_])(?:" + "|".join(_TOKENS) + ")",
        re.MULTILINE,
    ),
    # libyaml refuses: ":" right before a flow indicator, "|" or ">" starting a flow item
    re.compile(r":[,\]}]"),
    re.compile(r"[\[{,][ \t]*+[|>]"),
    re.compile(r"[|>](?<=[\s\[{,:][|>])(?![-+0-9]*[ \t]*(?:#|$))", re.MULTILINE),
    # a number or true/null in a flow mapping may be a key without a value
    re.compile(r"[{,][ \t]*+(?:[-+]?[0-9]|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)"),
    # a document end marker: more than one document in the text
    re.compile(r"\n\.\.\."),
)
# A block scalar header near the end: an empty "|" there is "" to libyaml, "\n" to Rust.
_BLOCK_AT_END = re.compile(r"[|>][-+0-9]*[ \t]*(?:#[^\n]*)?$", re.MULTILINE)


def _scan_at(text: str, start: int, end: int) -> list[int]:
    return [m.start() for rx in _RISKY for m in rx.finditer(text, start, end)]


# Below this many characters one scan of the text is as quick as finding its lines.
_BY_LINE_MIN_CHARS = 1 << 16
# More distinct lines than this share of the lines: one scan of the text is as quick.
_BY_LINE_MAX_DISTINCT = 0.5


def risky_at(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Where in ``text[start:end]`` the fast parser might read differently (sorted).

    Every pattern of ``_RISKY`` matches inside one line, its first character
    possibly the newline before the line (a token at column 0), and none takes
    that newline otherwise. So the marks of a line depend on the line alone, and
    a kubectl dump repeats most of its lines (replicas, defaults): each distinct
    line is scanned once, and its marks are placed at every line equal to it.
    The result is the same list as one scan of ``text[start:end]``.
    """
    end = len(text) if end is None else end
    nl = text.find("\n", start, end)
    if end - start < _BY_LINE_MIN_CHARS or nl < 0:
        out = _scan_at(text, start, end)
        out.sort()
        return out
    out = _scan_at(text, start, nl)  # the first line, without the newline before it
    lines = text[nl + 1 : end].split("\n")
    distinct = set(lines)  # order is irrelevant: marks are per line, and sorted at the end
    if len(distinct) > len(lines) * _BY_LINE_MAX_DISTINCT:  # few repeats: one scan is quicker
        out = _scan_at(text, start, end)
        out.sort()
        return out
    # The distinct lines, each after a newline as in the text.
    joined = "\n" + "\n".join(distinct)
    marks: dict[str, list[int]] = {}  # line -> offsets of its marks (-1: the newline before)
    for p in _scan_at(joined, 0, len(joined)):
        begin = joined.rfind("\n", 0, p + 1) + 1  # p itself may be the newline before
        stop = joined.find("\n", begin)
        marks.setdefault(joined[begin : stop if stop >= 0 else len(joined)], []).append(p - begin)
    if len(marks) > _FIND_MAX_LINES:
        pos = nl + 1
        for line in lines:
            offsets = marks.get(line)
            if offsets is not None:
                out.extend(pos + off for off in offsets)
            pos += len(line) + 1
    else:  # a few marked lines: find them (a fast search per line beats a loop over all)
        last = end - len(lines[-1])  # where the last line starts
        for line, offsets in marks.items():
            needle = "\n" + line + "\n"
            at = text.find(needle, nl, end)
            while at >= 0:
                out.extend(at + 1 + off for off in offsets)
                at = text.find(needle, at + len(line) + 1, end)
            if lines[-1] == line:  # the last line: no newline after it in the range
                out.extend(last + off for off in offsets)
    out.sort()
    return out


# More marked lines than this: one loop over the lines places their marks.
_FIND_MAX_LINES = 8


def risky_end(text: str, start: int, end: int) -> bool:
    """An empty block scalar may end ``text[start:end]`` (libyaml and Rust differ there)."""
    stop = end
    while stop > start and text[stop - 1] in " \t\r\n":
        stop -= 1
    return _BLOCK_AT_END.search(text, max(start, stop - 256), stop) is not None


def risky(text: str) -> bool:
    """True where the fast parser might read the text differently from Kubernetes."""
    padded = "\n" + text[:64]  # a token at the very start has no character before it
    for rx in _RISKY:
        if rx.search(text) is not None or rx.search(padded) is not None:
            return True
    end = len(text.rstrip())
    return _BLOCK_AT_END.search(text, max(0, end - 256)) is not None


NOT_FAST: Any = object()
"""What :func:`load_fast` returns when the text is for :class:`K8sLoader`."""


def load_fast(text: str) -> Any:
    """One YAML document through the fast parser, or :data:`NOT_FAST`."""
    if _yaml_rs is None or risky(text):
        return NOT_FAST
    try:
        return _yaml_rs.loads(text, **_FAST_OPTS)
    except Exception:  # any refusal: PyYAML decides, and says where
        return NOT_FAST


def load(text: str, *, checked: bool = False) -> Any:
    """One YAML document as Kubernetes reads it (PyYAML's errors, with positions).

    ``checked``: the caller found nothing :func:`risky` in the text already.
    """
    if checked and _yaml_rs is not None:
        try:
            return _yaml_rs.loads(text, **_FAST_OPTS)
        except Exception:
            return yaml.load(text, Loader=K8sLoader)
    data = load_fast(text)
    if data is NOT_FAST:
        return yaml.load(text, Loader=K8sLoader)
    return data

"""Write objects as ``kubectl get -A -o yaml`` does: one ``List`` document, go-yaml's layout.

    python bench/kubectl_yaml.py bench/out/cluster-envelope-1.json -o bench/out/cluster-envelope-1.kubectl.yaml

kubectl marshals through JSON and go-yaml (sigs.k8s.io/yaml): map keys sorted,
two-space indentation, sequence items at their parent key's indentation, empty
maps and lists as ``{}`` / ``[]``, a string double-quoted only where a plain
scalar would read as something else (``"true"``, ``"80"``, timestamps) or
would not parse, multi-line strings as ``|`` blocks. This is a benchmark input
generator, not a YAML emitter for general use.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

import orjson

# Plain scalars go-yaml writes unquoted: no indicator at the start, no ": " / " #",
# no leading/trailing space (a conservative subset of its rules).
_PLAIN = re.compile(r"[A-Za-z0-9_./(][A-Za-z0-9 _./:@=,+()~<>!?%*&$'\[\]-]*\Z")
_NOT_STR = re.compile(
    r"(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL|\.inf|\.Inf|\.INF|\.nan|\.NaN|\.NAN|<<)\Z"
    r"|\d{4}-\d\d?-\d\d?"  # a timestamp
)


def _numeric(s: str) -> bool:
    """Would go-yaml v2 read this plain scalar as a number?"""
    if s[0] not in "0123456789+-.":
        return False
    plain = s.replace("_", "")
    try:
        int(plain, 0)
        return True
    except ValueError:
        pass
    if re.fullmatch(r"0[0-7]+|0o[0-7]+|[-+]?0b[01]+", plain):
        return True
    return bool(re.fullmatch(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?", plain))


def _scalar(s: str) -> str:
    if (
        s
        and _PLAIN.match(s)
        and not s.endswith(" ")
        and ": " not in s
        and " #" not in s
        and not s.endswith(":")
        and not _NOT_STR.match(s)
        and not _numeric(s)
    ):
        return s
    return orjson.dumps(s).decode()


def _value(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int | float):
        return repr(v)
    return _scalar(v)


def _emit(obj: Any, indent: str, out: list[str]) -> None:
    """Emit a non-empty map or list whose first line continues the current one."""
    if isinstance(obj, dict):
        first = True
        for k in sorted(obj):
            v = obj[k]
            lead = "" if first else indent
            first = False
            key = _scalar(str(k))
            if isinstance(v, dict) and v:
                out.append(f"{lead}{key}:\n{indent}  ")
                _emit(v, indent + "  ", out)
            elif isinstance(v, list) and v:
                out.append(f"{lead}{key}:\n{indent}")
                _emit(v, indent, out)
            elif isinstance(v, str) and "\n" in v:
                body = v.split("\n")
                chomp = "" if v.endswith("\n") else "-"
                if not chomp:
                    body = body[:-1]
                block = "".join(f"{indent}  {ln}\n" if ln else "\n" for ln in body)
                out.append(f"{lead}{key}: |{chomp}\n{block}")
            else:
                out.append(f"{lead}{key}: {_flow_empty(v)}\n")
    else:
        first = True
        for item in obj:
            lead = "" if first else indent
            first = False
            if isinstance(item, dict | list) and item:
                out.append(f"{lead}- ")
                _emit(item, indent + "  ", out)
            else:
                out.append(f"{lead}- {_flow_empty(item)}\n")


def _flow_empty(v: Any) -> str:
    if isinstance(v, dict):
        return "{}"
    if isinstance(v, list):
        return "[]"
    return _value(v)


def write_list(items: Iterable[Any], out: TextIO) -> None:
    """One ``kind: List`` document, as ``kubectl get -A -o yaml`` prints it."""
    out.write("apiVersion: v1\nitems:\n")
    buf: list[str] = []
    for item in items:
        buf.append("- ")
        _emit(item, "  ", buf)
        if len(buf) > 20000:
            out.write("".join(buf))
            buf.clear()
    out.write("".join(buf))
    out.write('kind: List\nmetadata:\n  resourceVersion: ""\n')


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("json", help="a JSON List (bench/gen_cluster.py output)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    data = orjson.loads(Path(a.json).read_bytes())
    with open(a.output, "w") as out:
        write_list(data["items"], out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

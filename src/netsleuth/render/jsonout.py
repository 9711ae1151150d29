"""Dataclasses, enums and tuples to JSON (orjson), and YAML."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from netsleuth.model.problems import LoadProblem


def to_jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        items = [to_jsonable(v) for v in obj]
        return sorted(items, key=str) if isinstance(obj, set | frozenset) else items
    return obj


def dumps_json(obj: Any) -> str:
    return (
        orjson.dumps(
            to_jsonable(obj), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        ).decode()
        + "\n"
    )


def dumps_plain_json(doc: Any) -> str:
    """:func:`dumps_json` for a document already made of dicts, lists, tuples, str, numbers
    (no walk: orjson writes it as it is; 10x faster on 90k connections)."""
    return dumps_plain_json_bytes(doc).decode()


def dumps_plain_json_bytes(doc: Any) -> bytes:
    """:func:`dumps_plain_json` as UTF-8 bytes (to write to a binary stream as they are)."""
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"


def dumps_yaml(obj: Any) -> str:
    import yaml

    return str(
        yaml.safe_dump(
            to_jsonable(obj), sort_keys=False, default_flow_style=False, allow_unicode=True
        )
    )


def problems_json(problems: Iterable[LoadProblem]) -> list[dict[str, object]]:
    """Load problems as the ``problems`` list of every JSON document."""
    return [
        {
            "level": str(p.level),
            "message": p.message,
            "file": p.origin.file,
            "document": p.origin.document,
            "line": p.origin.line,
            "object": p.object,
            "skipped": p.skipped,
            "affects": list(p.affects),
        }
        for p in problems
    ]

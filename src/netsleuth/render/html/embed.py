"""Safe embedding of untrusted text in the report page.

Every name, label, annotation and message in a report comes from a
cluster and is untrusted. The page gets it in two ways:

- HTML text and attributes: jinja2 with autoescape on, after
  :func:`visible` made control characters visible (an ANSI escape in a
  label shows as ``\\x1b[31m``, it does not reach a terminal someone pastes
  into, and bidi overrides cannot reorder what is shown);
- the map's data, inline JSON in ``<script type="application/json">``:
  :func:`script_json` escapes ``<``, ``>`` and ``&`` (so neither
  ``</script>`` nor ``<!--`` can end or change the script element) and
  U+2028/U+2029 (line terminators to older JavaScript parsers) as
  ``\\uXXXX`` escapes, which ``JSON.parse`` turns back into the same text.

The page also carries a Content-Security-Policy that allows only its own
inline script and style (by hash) and no network access, so even a
rendering bug could not run injected script or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import orjson
from markupsafe import Markup

_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]"
)


def _show(m: re.Match[str]) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def visible(text: object) -> str:
    """``text`` with control characters (C0 but tab and newline, DEL, C1) and bidi
    controls replaced by visible escapes."""
    s = text if isinstance(text, str) else str(text)
    return _CONTROL.sub(_show, s)


_SCRIPT_UNSAFE = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def script_json(value: Any) -> Markup:
    """JSON for the inside of ``<script type="application/json">``: nothing in it can end
    the element, open a comment, or be read as markup."""
    raw = orjson.dumps(value)
    for bad, good in _SCRIPT_UNSAFE:
        raw = raw.replace(bad, good)
    return Markup(raw.decode())  # escaped above for this context


def csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script or style."""
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"

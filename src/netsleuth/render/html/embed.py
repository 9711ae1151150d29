"""Safe embedding of untrusted text in the report page.

Every name, label, annotation and message in a report comes from a
cluster and is untrusted. The page gets it in two ways:

- HTML text and attributes: jinja2 with autoescape on, after
  :func:`visible` (the project's one helper,
  :func:`netsleuth.model.untrusted.visible`) made control characters visible
  (an ANSI escape in a label shows as ``\\x1b[31m``, it does not reach a
  terminal someone pastes into, and bidi overrides cannot reorder what is
  shown); multi-line blocks keep their line breaks (:func:`visible_lines`);
- the map's data, inline JSON in ``<script type="application/json">``:
  :func:`script_json` passes every string in it (keys too) through the same
  :func:`visible`, then escapes ``<``, ``>`` and ``&`` (so neither
  ``</script>`` nor ``<!--`` can end or change the script element) and
  U+2028/U+2029 as ``\\uXXXX`` escapes, which ``JSON.parse`` turns back into
  the same text. The page's script (``assets/report.js``) thus receives text
  that is already as it must be shown, and inserts it only as text
  (``textContent``, canvas ``fillText``); it has no escaping of its own, so
  the map, the panel and the HTML parts show a name the same way.

The page also carries a Content-Security-Policy that allows only its own
inline script and style (by hash) and no network access, so even a
rendering bug could not run injected script or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson
from markupsafe import Markup

from netsleuth.model.untrusted import visible as _visible


def visible(text: object) -> str:
    """``text`` as :func:`netsleuth.model.untrusted.visible` shows it (the one helper every
    format uses): control, format and separator characters replaced by visible escapes."""
    return _visible(text if isinstance(text, str) else str(text))


def visible_lines(text: object) -> str:
    """:func:`visible` line by line, keeping the line breaks: for ``<pre>`` blocks of
    several lines (a YAML snippet to merge). A ``\\r`` or any other control is escaped."""
    s = text if isinstance(text, str) else str(text)
    return "\n".join(_visible(line) for line in s.split("\n"))


_SCRIPT_UNSAFE = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def visible_json(value: Any) -> Any:
    """``value`` (dicts, lists, strings, numbers) with every string, keys included, made
    :func:`visible`. Lists of numbers (the map's run-length rows) are returned as they are."""
    if isinstance(value, str):
        return _visible(value)
    if isinstance(value, dict):
        return {
            (_visible(k) if isinstance(k, str) else k): visible_json(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        if set(map(type, value)) <= _INT:  # a run-length row: nothing to escape (C speed)
            return value
        return [visible_json(x) for x in value]
    return value


_INT = {int}


def script_json(value: Any) -> Markup:
    """JSON for the inside of ``<script type="application/json">``: every string
    :func:`visible`, and nothing in it can end the element, open a comment, or be read
    as markup."""
    raw = orjson.dumps(visible_json(value))
    for bad, good in _SCRIPT_UNSAFE:
        raw = raw.replace(bad, good)
    return Markup(raw.decode())  # escaped above for this context


def csp_hash(source: str) -> str:
    """The CSP source expression allowing exactly this inline script or style."""
    digest = hashlib.sha256(source.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"

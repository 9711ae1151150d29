"""Untrusted text (names, labels, messages from a dump or a cluster) made safe to show.

:func:`visible` escapes the characters a terminal would obey instead of
show (ESC/OSC sequences, newlines, bidi overrides), so a hostile name can
neither rewrite the screen nor forge an output line. Printable text, in any
script, is left as it is.
"""

from __future__ import annotations

import unicodedata

# Unicode categories that a terminal does not show as a glyph of its own:
# controls (C0, C1, DEL), format characters (bidi overrides, zero-width
# joiners), line/paragraph separators, surrogates, private use, unassigned.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})


def is_visible_char(ch: str) -> bool:
    """True when ``ch`` prints as itself: not a control, format or separator character."""
    if ch == " ":
        return True
    if ch.isascii():
        return 0x20 < ord(ch) < 0x7F
    cat = unicodedata.category(ch)
    return cat not in _INVISIBLE and not cat.startswith("Z")


def escape_char(ch: str) -> str:
    """A visible escape for one character: ``\\n``, ``\\t``, ``\\x1b``, ``\\u202e``."""
    simple = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
    if ch in simple:
        return simple[ch]
    code = ord(ch)
    if code < 0x80:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: str) -> str:
    """``text`` with every invisible character replaced by a visible escape.

    Untrusted text (names, annotations, messages from a dump) goes through
    this before it reaches a terminal, a table cell or a comment line, so
    ESC/OSC sequences and newlines are shown rather than obeyed. Printable
    text (including non-ASCII letters) is returned unchanged.

    >>> visible("web\\x1b]8;;http://x\\x07")
    'web\\\\x1b]8;;http://x\\\\x07'
    >>> visible("café")
    'café'
    """
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch if is_visible_char(ch) else escape_char(ch) for ch in text)

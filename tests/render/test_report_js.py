"""The report's script puts text in the page one way only (an audit of ``report.js``).

The page generator makes every cluster string visible before the page is
written (:mod:`netsleuth.render.html.embed`); the script must then insert
text as text and nothing else: ``textContent`` in ``setText``, canvas
``fillText`` in ``drawText``, ``href`` (page-local anchors) in
``setAnchor``, and no API that parses markup, runs code or loads a URL.
The browser test (``test_html_browser.py``) proves the same on hostile data.
"""

from __future__ import annotations

import re
from importlib import resources

JS = (resources.files("netsleuth.render.html") / "assets" / "report.js").read_text("utf-8")


def _code() -> list[tuple[int, str]]:
    """The script's lines without comments (``//`` to the end of a line, ``/* … */``)."""
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), JS, flags=re.S)
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        # a "//" comment: not inside a string or a regex on these lines
        line = re.sub(r"(?<![:\"'\\])//.*$", "", line)
        out.append((n, line))
    return out


def _lines_with(pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [line.strip() for _, line in _code() if rx.search(line)]


def test_no_markup_code_or_url_sinks() -> None:
    forbidden = (
        r"\binnerHTML\b",
        r"\bouterHTML\b",
        r"\binsertAdjacentHTML\b",
        r"\bdocument\.write",
        r"\bcreateContextualFragment\b",
        r"\bDOMParser\b",
        r"\beval\s*\(",
        r"\bnew\s+Function\b",
        r"\bsetTimeout\s*\(\s*[\"']",  # a string as code
        r"\bsrcdoc\b",
        r"\.src\s*=",
        r"\.action\s*=",
        r"\blocation\s*(\.\w+\s*)?=(?!=)",
        r"\bwindow\.open\b",
        r"\bcreateElement\s*\(\s*[\"'](script|iframe|object|embed|img|svg|link|style|a)[\"']",
        r"\bfetch\s*\(",
        r"\bXMLHttpRequest\b",
        r"\bimportScripts\b",
        r"\.style\.\w+\s*=|\.cssText\b",
    )
    for pattern in forbidden:
        assert not _lines_with(pattern), pattern


def test_text_goes_through_one_function_per_sink() -> None:
    assert _lines_with(r"\.textContent\s*=(?!=)") == [
        "function setText(node, s) { node.textContent = String(s); }"
    ]
    assert _lines_with(r"\bfillText\s*\(") == [
        'ctx.fillText(s.length > max ? s.slice(0, max - 1) + "…" : s, x, y);'
    ]
    # and that fillText line is drawText's body
    body = JS.split("function drawText(", 1)[1].split("\n    }\n", 1)[0]
    assert "ctx.fillText(" in body
    assert _lines_with(r"\.href\s*=(?!=)") == [
        'function setAnchor(a, id) { a.href = ANCHOR.test(String(id)) ? "#" + id : "#"; }'
    ]
    assert "var ANCHOR = /^[A-Za-z0-9_-]+$/;" in JS  # page-local ids only
    # no other property that renders text or markup is written
    for prop in ("innerText", "outerText", "nodeValue", "title", "placeholder", "value"):
        writes = _lines_with(rf"\.{prop}\s*=(?!=)")
        allowed = ["ta.value = text;"] if prop == "value" else []  # the copy buffer (a textarea)
        assert writes == allowed, (prop, writes)
    for call in ("createTextNode", "insertAdjacentText", "append(", "prepend(", "replaceWith("):
        assert not _lines_with(re.escape(call)), call


def test_attributes_written_are_ours() -> None:
    names = re.findall(r"setAttribute\(\s*([^,]+),", "\n".join(line for _, line in _code()))
    assert names, "setAttribute calls are found"
    for name in names:
        assert re.fullmatch(r"\"(data-[a-z-]+|readonly)\"", name.strip()), name


def test_no_escaping_of_its_own() -> None:
    """One escaping function (Python's ``visible``, applied by the generator): the script
    neither escapes nor unescapes (a second escaper would disagree with the first)."""
    assert not _lines_with(r"\.replace\(")
    assert not _lines_with(r"\b(un)?escape\s*\(|decodeURI|encodeURI")

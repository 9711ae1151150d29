r"""Untrusted text in exported cells: CSV that a spreadsheet opens, Markdown that a forge renders.

CSV (OWASP "CSV injection"): a cell starting with ``=``, ``+``, ``-``, ``@``
(or tab / carriage return) is a formula to Excel, LibreOffice and Google
Sheets — ``=HYPERLINK("http://evil","x")`` as a workload name would run
there. Such cells get a leading ``'``, which spreadsheets show as text. A
lone ``-`` or ``+`` (a placeholder) is left alone; it is not a formula.

Markdown: ``|`` ends a table cell and a newline ends the row, so a name
could forge rows; ``[..](..)``, backticks, emphasis and HTML tags would
render as links, code or markup. They are backslash-escaped (``<``/``>``
as entities) and control characters shown escaped.

>>> csv_cell('=HYPERLINK("http://evil","x")')
'\'=HYPERLINK("http://evil","x")'
>>> csv_cell("-"), csv_cell("-1+1"), csv_cell("web")
('-', "'-1+1", 'web')
>>> md_cell("a|b\nc [x](http://evil) <img>")
'a\\|b\\\\nc \\[x\\](http://evil) &lt;img&gt;'
"""

from __future__ import annotations

from netsleuth.model.untrusted import visible

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MD_ESCAPE = {
    "\\": "\\\\",
    "|": "\\|",
    "`": "\\`",
    "*": "\\*",
    "_": "\\_",
    "[": "\\[",
    "]": "\\]",
    "<": "&lt;",
    ">": "&gt;",
}


def csv_cell(text: str) -> str:
    """``text`` safe for a spreadsheet: formula starts neutralised, invisible characters escaped."""
    if text.startswith(_FORMULA_START) and text not in ("-", "+"):
        text = "'" + text
    return visible(text)


def csv_cells(*values: str) -> list[str]:
    return [csv_cell(v) for v in values]


def md_cell(text: str) -> str:
    """``text`` as the content of one Markdown table cell: no cell, row, link or HTML breaks out."""
    return "".join(_MD_ESCAPE.get(ch, ch) for ch in visible(text))


def md_row(*values: str) -> str:
    """``| a | b |`` with every cell escaped."""
    return "| " + " | ".join(md_cell(v) for v in values) + " |"

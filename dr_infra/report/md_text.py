"""Markdown text made inert: journal strings are untrusted and a pull-request comment renders HTML and links.

Escaping ``<``/``>``/``&`` as entities and Markdown's punctuation with backslashes shows a hostile name such as
``<script>`` or ``[x](http://...)`` as text, and ``|`` cannot break a table.
"""

from __future__ import annotations

import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md(value: Any) -> str:
    """Untrusted text as inert inline Markdown: one line, HTML entities, punctuation escaped."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.split()) or "-"


def code(value: Any) -> str:
    """A value in a code span, or ``-``; backticks inside are replaced so the span cannot be closed early."""
    if value is None or value == "":
        return "-"
    text = " ".join(str(value).replace("`", "'").split()).replace("|", "\\|")
    return f"`{text}`"

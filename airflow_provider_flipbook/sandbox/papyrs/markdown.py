"""Papyrs's markdown endpoint renderer (markdown-it, tables on) and the HTML sanitizer of widgets."""

from __future__ import annotations

import html
import re
from typing import Any


def render_markdown(source: str) -> list[tuple[str, dict[str, Any]]]:
    """Markdown to (classname, widget spec) pairs: headings apart, everything between them as HTML."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(source)
    widgets: list[tuple[str, dict[str, Any]]] = []
    pending: list = []

    def flush() -> None:
        if pending:
            widgets.append(("Paragraph", {"val": md.renderer.render(pending, md.options, {}).strip()}))
            pending.clear()

    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            flush()
            level = min(int(token.tag[1]), 4)
            widgets.append(
                ("Heading", {"val": html.escape(tokens[index + 1].content), "heading": f"h{level}"})
            )
            index += 3
            continue
        pending.append(token)
        index += 1
    flush()
    return widgets


def sanitize(value: str) -> str:
    """Drop script, style and iframe elements from widget HTML."""
    return re.sub(r"(?is)<(script|style|iframe)[^>]*>.*?</\1>", "", value)

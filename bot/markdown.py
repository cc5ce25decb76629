"""The model's Markdown as Telegram text plus entities, with nothing the model wrote lost.

telegramify-markdown drops raw HTML, so "a <tag>" arrived as "a " and "<script>alert(1)</script>"
as nothing. Here inline and block HTML are kept as the literal text they are; as the result is
sent with entities (no parse mode), Telegram shows them exactly as written.
"""

from __future__ import annotations

from typing import Any

from telegramify_markdown import converter
from telegramify_markdown.config import get_runtime_config
from telegramify_markdown.entity import MessageEntity

# The only inline HTML the converter gives a meaning to.
_SPOILER_TAGS = frozenset({"<tg-spoiler>", "</tg-spoiler>"})


class _KeepingHtml(converter.EventWalker):
    """The library's walker, with HTML events written out as text instead of skipped."""

    def __init__(self, config: Any, source: str) -> None:
        super().__init__(config, source)
        self._html_block: list[str] | None = None

    def _on_inline_html(self, html: str) -> None:
        if html.strip().lower() in _SPOILER_TAGS:
            super()._on_inline_html(html)
        else:
            self._on_text(html)

    def _handle_event(self, event: Any) -> None:
        inner, source = event, None
        if isinstance(event, tuple) and len(event) == 2 and isinstance(event[1], dict):
            inner, source = event
        if isinstance(inner, dict):
            if inner.get("Start") == "HtmlBlock":
                # A block of HTML is laid out like a paragraph of text.
                self._on_start_paragraph(self._source_start(source))
                self._html_block = []
                return
            if inner.get("End") == "HtmlBlock":
                self._on_text("".join(self._html_block or []).rstrip("\n"))
                self._html_block = None
                self._mark_block_end()
                return
            if "Html" in inner:
                if self._html_block is not None:
                    self._html_block.append(inner["Html"])
                else:
                    self._on_text(inner["Html"])
                return
        super()._handle_event(event)


def convert(markdown: str) -> tuple[str, list[MessageEntity]]:
    """Plain text and entities for `markdown`, every character of its HTML kept."""
    config = get_runtime_config()
    text, events = converter._parse(markdown, converter.STANDARD_OPTIONS, latex_escape=True)
    converted, entities, _ = _KeepingHtml(config, text).walk(events)
    return converted, list(entities)

"""The model's Markdown as Telegram text plus entities, with nothing the model wrote lost.

telegramify-markdown drops raw HTML, so "a <tag>" arrived as "a " and "<script>alert(1)</script>"
as nothing. Here inline and block HTML are kept as the literal text they are; as the result is
sent with entities (no parse mode), Telegram shows them exactly as written. Tables are aligned
as they ask (bot.tables), the links in their cells, which a monospace block cannot carry, listed
under them; the pictures (`![alt](https://…)`) are collected for sending as photos.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegramify_markdown import converter
from telegramify_markdown.config import get_runtime_config
from telegramify_markdown.entity import MessageEntity

from bot import tables

# The only inline HTML the converter gives a meaning to.
_SPOILER_TAGS = frozenset({"<tg-spoiler>", "</tg-spoiler>"})


@dataclass(frozen=True, slots=True)
class Picture:
    """An image of the model's Markdown: where it is, and its alt text."""

    url: str
    alt: str


@dataclass(frozen=True, slots=True)
class Rendered:
    """The model's Markdown for Telegram: text, entities, and the pictures it shows."""

    text: str
    entities: list[MessageEntity]
    pictures: tuple[Picture, ...]


class _KeepingHtml(converter.EventWalker):
    """The library's walker, with HTML events written out as text instead of skipped, tables
    aligned with their links kept, and pictures collected."""

    def __init__(self, config: Any, source: str) -> None:
        super().__init__(config, source)
        self._html_block: list[str] | None = None
        self._alignments: tuple[str, ...] = ()
        # Links inside a table's cells, as (text, url), and where the open one's text starts.
        self._cell_links: list[tuple[str, str]] = []
        self._cell_link: tuple[int, str] | None = None
        self.pictures: list[Picture] = []
        self._picture: tuple[str, list[str]] | None = None

    def _on_start(self, tag: Any, source_range: dict[str, int] | None = None) -> None:
        if isinstance(tag, dict) and "Table" in tag:
            self._alignments = tuple(tag["Table"])
        if isinstance(tag, dict) and "Link" in tag and self._in_table_cell:
            self._cell_link = (len(self._cell_parts), tag["Link"].get("dest_url", ""))
        super()._on_start(tag, source_range)
        if isinstance(tag, dict) and "Image" in tag:
            url = tag["Image"].get("dest_url", "")
            if url.lower().startswith(("https://", "http://")):
                self._picture = (url, [])

    def _on_end(self, tag: Any) -> None:
        if tag == "Link" and self._cell_link is not None:
            start, url = self._cell_link
            text = " ".join("".join(self._cell_parts[start:]).split())
            if url:
                self._cell_links.append((text or url, url))
            self._cell_link = None
        if tag == "Image" and self._picture is not None:
            url, alt = self._picture
            self.pictures.append(Picture(url, " ".join("".join(alt).split())))
            self._picture = None
        super()._on_end(tag)

    def _on_text(self, text: str) -> None:
        if self._picture is not None:
            self._picture[1].append(text)
        super()._on_text(text)

    def _format_table(self, rows: list[list[str]]) -> str:
        return tables.aligned(rows, self._alignments)

    def _on_end_table(self) -> None:
        super()._on_end_table()
        # A monospace block cannot hold a link: each is listed under the table, clickable.
        links, self._cell_links = self._cell_links, []
        for text, url in links:
            self._buf.write("\n🔗 ")
            start = self._buf.utf16_offset
            self._buf.write(text)
            self._entities.append(
                MessageEntity(
                    type="text_link", offset=start, length=self._buf.utf16_offset - start, url=url
                )
            )

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


def render(markdown: str) -> Rendered:
    """Plain text and entities for `markdown`, every character of its HTML kept, and the
    pictures it shows by http(s) URL."""
    config = get_runtime_config()
    text, events = converter._parse(markdown, converter.STANDARD_OPTIONS, latex_escape=True)
    walker = _KeepingHtml(config, text)
    converted, entities, _ = walker.walk(events)
    return Rendered(converted, list(entities), tuple(walker.pictures))


def convert(markdown: str) -> tuple[str, list[MessageEntity]]:
    """Plain text and entities for `markdown`, every character of its HTML kept."""
    rendered = render(markdown)
    return rendered.text, rendered.entities

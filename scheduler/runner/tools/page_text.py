"""A fetched body as text: decode it, and extract an HTML page's title and main text.

Synchronous and CPU-bound: `web_fetch` runs `readable_text` in the extraction workers
(`extraction`), never in the event loop.
"""

from __future__ import annotations

import codecs
import json
import re
from html.parser import HTMLParser
from typing import Literal, TypeAlias

BodyKind: TypeAlias = Literal["html", "json", "text"]

# HTML beyond this is not handed to the extractor: its cost grows faster than the page, and the
# model gets at most 20,000 characters of text anyway.
MAX_HTML_CHARS = 250_000

_INVISIBLE = re.compile(
    r"<(script|style|noscript|template|svg)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)


def trimmed_html(html: str) -> str:
    """The part of a page worth extracting: no scripts, styles or inline SVG, and at most
    MAX_HTML_CHARS characters."""
    return _INVISIBLE.sub(" ", html[: MAX_HTML_CHARS * 4])[:MAX_HTML_CHARS]


def body_kind(media_type: str) -> BodyKind | None:
    """How a media type is turned into text, or None when it is not text at all."""
    if media_type in {"text/html", "application/xhtml+xml"}:
        return "html"
    if media_type in {"application/json", "text/json"} or media_type.endswith("+json"):
        return "json"
    if media_type.startswith("text/") or media_type == "application/xml":
        return "text"
    if media_type.endswith("+xml"):  # RSS, Atom, SVG source and friends
        return "text"
    return None


def readable_text(
    kind: BodyKind, body: bytes, charset: str | None, url: str
) -> tuple[str | None, str]:
    """(title, text) of a body; synchronous and CPU-bound, run it in an extraction worker."""
    if kind == "html":
        return html_text(trimmed_html(decode(body, charset, html=True)), url)
    text = decode(body, charset, html=False)
    if kind == "json":
        return None, _pretty_json(text)
    return None, text


def decode(body: bytes, declared: str | None, *, html: bool) -> str:
    """Decode with the byte-order mark, the declared charset, an HTML <meta> charset, UTF-8 if
    the bytes are valid UTF-8, and windows-1252 (the web's default) otherwise, in that order."""
    for candidate in (_bom_encoding(body), declared, _meta_charset(body) if html else None):
        if candidate is None:
            continue
        try:
            return body.decode(candidate, errors="replace")
        except (LookupError, UnicodeError):  # unknown names, and codecs like idna that refuse
            continue
    try:
        # final=False: a multi-byte character cut by the size cap is dropped, not fatal.
        return codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return body.decode("windows-1252", errors="replace")


def _bom_encoding(body: bytes) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


_META_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


def _meta_charset(body: bytes) -> str | None:
    match = _META_CHARSET.search(body[:4096])
    if match is None:
        return None
    name = match.group(1).decode("ascii")
    # A page that could be read to find this tag is not UTF-16, whatever it says (WHATWG).
    return "utf-8" if name.lower().startswith(("utf-16", "utf16")) else name


def _pretty_json(text: str) -> str:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # cut by the size cap, or not JSON after all
        return text
    return json.dumps(value, indent=2, ensure_ascii=False)


def html_text(html: str, url: str) -> tuple[str | None, str]:
    """(title, main text as Markdown) of an HTML page; links are made absolute against `url`."""
    # Imported here: it costs a quarter of a second at start-up and only runs in a thread.
    import trafilatura

    tree = trafilatura.load_html(html)
    title = _clean_title(tree.findtext(".//title")) if tree is not None else None
    text = trafilatura.extract(
        tree if tree is not None else html,
        url=url,
        output_format="markdown",
        include_formatting=True,
        include_links=True,
        include_tables=True,
        include_images=False,
        include_comments=True,
    )
    if not text:  # trafilatura found no main text (a fragment, a tiny page): strip the tags
        text = _TagStripper.text_of(html)
    return title, text


def _clean_title(title: str | None) -> str | None:
    if title is None:
        return None
    return " ".join(title.split()) or None


class _TagStripper(HTMLParser):
    """All visible text of an HTML document, one line per block element."""

    _INVISIBLE = frozenset({"script", "style", "noscript", "template", "title"})
    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article"}
        | {"header", "footer", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "hr"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._invisible_depth = 0

    @classmethod
    def text_of(cls, html: str) -> str:
        stripper = cls()
        stripper.feed(html)
        stripper.close()
        lines = (" ".join(line.split()) for line in "".join(stripper._parts).splitlines())
        return "\n".join(line for line in lines if line)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._INVISIBLE:
            self._invisible_depth += 1
        elif tag in self._BLOCKS:
            self._parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._INVISIBLE:
            self._invisible_depth = max(0, self._invisible_depth - 1)
        elif tag in self._BLOCKS:
            self._parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._invisible_depth == 0:
            self._parts.append(data)

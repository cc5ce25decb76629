"""Readable text of fetched pages, extracted in worker processes with a time limit.

Text extraction (trafilatura over lxml) is CPU work that grows faster than the page: a crafted
2 MB page took 23 s of CPU. In a thread of the bot's process it also holds the GIL for long
stretches and stalls the event loop. So the HTML is trimmed first (scripts and styles dropped,
then cut at `MAX_HTML_CHARS`), and the work runs in a small pool of worker processes, each a
plain `python -m` of this module speaking a tiny framed protocol over its stdin and stdout. A
page gets CPU_SECONDS_PER_PAGE of CPU (RLIMIT_CPU) and EXTRACTION_SECONDS in all; a worker over
either is gone and replaced, and the fetch reports the page as too costly to read.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import math
import re
import resource
import struct
import sys
import weakref
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal, TypeAlias

from core.logs import get_logger

log = get_logger(__name__)

BodyKind: TypeAlias = Literal["html", "json", "text"]

# HTML beyond this is not handed to the extractor: its cost grows faster than the page, and the
# model gets at most 20,000 characters of text anyway.
MAX_HTML_CHARS = 250_000
# A page may use this much CPU in its worker (the kernel stops the worker past it), and take
# this long in all, waiting for the CPU included.
CPU_SECONDS_PER_PAGE = 4
EXTRACTION_SECONDS = 12.0
WORKERS = 2
STARTUP_SECONDS = 60.0
_READY = b"ready\n"

_HEADER = struct.Struct(">I")
_INVISIBLE = re.compile(
    r"<(script|style|noscript|template|svg)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL
)


class ExtractionTimeoutError(Exception):
    """The page was too costly to read within the limit."""


def trimmed_html(html: str) -> str:
    """The part of a page worth extracting: no scripts, styles or inline SVG, and at most
    MAX_HTML_CHARS characters."""
    return _INVISIBLE.sub(" ", html[: MAX_HTML_CHARS * 4])[:MAX_HTML_CHARS]


@dataclass
class _Worker:
    process: asyncio.subprocess.Process

    async def ask(self, request: dict[str, Any], body: bytes) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        header = json.dumps(request).encode()
        self.process.stdin.write(_HEADER.pack(len(header)) + header + _HEADER.pack(len(body)))
        self.process.stdin.write(body)
        await self.process.stdin.drain()
        size = _HEADER.unpack(await self.process.stdout.readexactly(_HEADER.size))[0]
        answer: dict[str, Any] = json.loads(await self.process.stdout.readexactly(size))
        return answer

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


class ExtractionPool:
    """Up to `size` worker processes, started when first needed."""

    def __init__(self, size: int = WORKERS, seconds: float | None = None) -> None:
        self._size = size
        self._seconds = seconds if seconds is not None else EXTRACTION_SECONDS
        self._idle: list[_Worker] = []
        self._slots: asyncio.Semaphore | None = None

    async def readable_text(
        self, kind: BodyKind, body: bytes, charset: str | None, url: str
    ) -> tuple[str | None, str]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            worker = self._idle.pop() if self._idle else await _start_worker()
            request = {"kind": kind, "charset": charset, "url": url}
            try:
                async with asyncio.timeout(self._seconds):
                    answer = await worker.ask(request, body)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as error:
                worker.kill()
                await worker.process.wait()
                if isinstance(error, TimeoutError):
                    raise ExtractionTimeoutError(url) from None
                raise ExtractionTimeoutError(url) from error
            except BaseException:  # cancelled mid-answer: the worker's state is unknown
                worker.kill()
                raise
            self._idle.append(worker)
        return answer.get("title"), str(answer.get("text", ""))

    async def close(self) -> None:
        for worker in self._idle:
            worker.kill()
            await worker.process.wait()
        self._idle.clear()


async def _start_worker() -> _Worker:
    """A new worker, once it has imported the extractor (that time is not the page's)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "scheduler.runner.tools.extraction",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(STARTUP_SECONDS):
            await process.stdout.readexactly(len(_READY))
    except (TimeoutError, asyncio.IncompleteReadError):
        process.kill()
        await process.wait()
        raise ExtractionTimeoutError("the extraction worker did not start") from None
    return _Worker(process)


# One pool per event loop: worker pipes belong to the loop that started them.
_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ExtractionPool] = (
    weakref.WeakKeyDictionary()
)


def default_pool() -> ExtractionPool:
    loop = asyncio.get_running_loop()
    pool = _POOLS.get(loop)
    if pool is None:
        pool = _POOLS[loop] = ExtractionPool()
    return pool


def _serve() -> None:
    """The worker: read requests from stdin, answer on stdout, until stdin closes."""
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sink.write(_READY)
    sink.flush()

    def read(size: int) -> bytes:
        data = source.read(size)
        if len(data) < size:
            raise EOFError
        return data

    while True:
        try:
            request = json.loads(read(_HEADER.unpack(read(_HEADER.size))[0]))
            body = read(_HEADER.unpack(read(_HEADER.size))[0])
        except EOFError:
            return
        # This page's CPU budget: SIGXCPU ends the worker when it is spent.
        usage = resource.getrusage(resource.RUSAGE_SELF)
        spent = math.ceil(usage.ru_utime + usage.ru_stime)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (spent + CPU_SECONDS_PER_PAGE, hard))
        title, text = readable_text(request["kind"], body, request["charset"], request["url"])
        answer = json.dumps({"title": title, "text": text}).encode()
        sink.write(_HEADER.pack(len(answer)) + answer)
        sink.flush()


# --- readable text (runs in the workers) -----------------------------------------------------


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


if __name__ == "__main__":
    _serve()

"""Readable text of fetched pages, extracted in worker processes with a time limit.

Text extraction (trafilatura over lxml) is CPU work that grows faster than the page: a crafted
2 MB page took 23 s of CPU. In a thread of the bot's process it also holds the GIL for long
stretches and stalls the event loop. So the HTML is trimmed first (scripts and styles dropped,
then cut at `page_text.MAX_HTML_CHARS`), and the work runs in a small pool of worker processes,
each a plain `python -m` of this module speaking a tiny framed protocol over its stdin and
stdout. A
page gets CPU_SECONDS_PER_PAGE of CPU (RLIMIT_CPU) and EXTRACTION_SECONDS in all; a worker over
either is gone and replaced, and the fetch reports the page as too costly to read.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import struct
import sys
import weakref
from dataclasses import dataclass
from typing import Any

from core.logs import get_logger
from scheduler.documents import DocumentError, DocumentKind, document_text
from scheduler.runner.tools.page_text import readable_text

log = get_logger(__name__)

# A page may use this much CPU in its worker (the kernel stops the worker past it), and take
# this long in all, waiting for the CPU included.
CPU_SECONDS_PER_PAGE = 4
EXTRACTION_SECONDS = 12.0
WORKERS = 2
STARTUP_SECONDS = 60.0
# A document may make its worker this much larger (address space) while it is read; past it
# the reading fails with MemoryError, and the worker is replaced.
DOCUMENT_MEMORY_BYTES = 512 * 1024 * 1024
_READY = b"ready\n"

_HEADER = struct.Struct(">I")


class ExtractionTimeoutError(Exception):
    """The page was too costly to read within the limit."""


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
        self, kind: str, body: bytes, charset: str | None, url: str
    ) -> tuple[str | None, str]:
        answer = await self._ask({"kind": kind, "charset": charset, "url": url}, body, url)
        return answer.get("title"), str(answer.get("text", ""))

    async def document_text(self, kind: DocumentKind, body: bytes, max_bytes: int) -> str:
        """A document's text (scheduler.documents), read in a worker within the time, CPU and
        memory limits; raises DocumentError, or ExtractionTimeoutError when it was too costly."""
        answer = await self._ask({"document": kind, "max_bytes": max_bytes}, body, "document")
        if "error" in answer:
            raise DocumentError(str(answer["error"]), int(answer.get("size", 0)))
        return str(answer.get("text", ""))

    async def _ask(self, request: dict[str, Any], body: bytes, what: str) -> dict[str, Any]:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            worker = self._idle.pop() if self._idle else await _start_worker()
            try:
                async with asyncio.timeout(self._seconds):
                    answer = await worker.ask(request, body)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as error:
                worker.kill()
                await worker.process.wait()
                if isinstance(error, TimeoutError):
                    raise ExtractionTimeoutError(what) from None
                raise ExtractionTimeoutError(what) from error
            except BaseException:  # cancelled mid-answer: the worker's state is unknown
                worker.kill()
                raise
            if answer.get("replace"):
                worker.kill()  # it ran out of memory: a fresh one is cleaner
                await worker.process.wait()
            else:
                self._idle.append(worker)
        return answer

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
        if "document" in request:
            answer = json.dumps(_read_document(request, body)).encode()
        else:
            title, text = readable_text(request["kind"], body, request["charset"], request["url"])
            answer = json.dumps({"title": title, "text": text}).encode()
        sink.write(_HEADER.pack(len(answer)) + answer)
        sink.flush()


def _read_document(request: dict[str, Any], body: bytes) -> dict[str, Any]:
    """A document's text, or why not, with the worker's address space bounded meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    bound = _address_space() + DOCUMENT_MEMORY_BYTES
    if hard != resource.RLIM_INFINITY:
        bound = min(bound, hard)
    resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
    try:
        return {"text": document_text(request["document"], body, int(request["max_bytes"]))}
    except DocumentError as error:
        return {"error": error.code, "size": error.size}
    except MemoryError:
        return {"error": "too_costly", "replace": True}
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int:
    """This process's virtual size in bytes (Linux's /proc; elsewhere a generous guess)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 2 * 1024 * 1024 * 1024


if __name__ == "__main__":
    _serve()

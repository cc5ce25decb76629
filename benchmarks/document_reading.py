"""Hostile and large documents against the attachment reader: does reading them stall the bot?

A PDF bomb (200 KB inflating to 200 MB), a PDF of 18,000 lines of text and a 900 KB CSV are
read at once through the extraction workers (`ExtractionPool.document_text`), while a probe
measures the longest time the event loop could not run (target ≤ 100 ms). It prints that stall
and each document's outcome and wall time.

    uv run python benchmarks/document_reading.py
"""

from __future__ import annotations

import asyncio
import time

import common  # noqa: F401 - puts the repository on sys.path

from scheduler.documents import DocumentError
from scheduler.runner.tools.extraction import ExtractionPool, ExtractionTimeoutError
from tests.fakes.documents import pdf, pdf_bomb

STALL_TARGET_MS = 100.0
LIMIT = 1_000_000


def long_pdf(lines_of_text: int = 18_000) -> bytes:
    """A page drawing `lines_of_text` lines (pypdf reads every one)."""
    lines = b"".join(
        b"BT /F1 10 Tf 72 "
        + str(700 - (i % 60) * 10).encode()
        + b" Td (line "
        + str(i).encode()
        + b" of a long report) Tj ET\n"
        for i in range(lines_of_text)
    )
    return pdf(lines, compress=True)


async def probe(stop: asyncio.Event) -> float:
    longest = 0.0
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        longest = max(longest, time.perf_counter() - before - 0.01)
    return longest * 1000


async def read(pool: ExtractionPool, name: str, kind: str, body: bytes) -> str:
    started = time.perf_counter()
    try:
        text = await pool.document_text(kind, body, LIMIT)  # type: ignore[arg-type]
        outcome = f"read, {len(text.encode()):,} bytes of text"
    except DocumentError as error:
        outcome = f"refused ({error.code})"
    except ExtractionTimeoutError:
        outcome = "refused (took too long)"
    return (
        f"{name:<16} {len(body):>11,} bytes  {outcome:<34} {time.perf_counter() - started:6.2f} s"
    )


async def main() -> None:
    pool = ExtractionPool()
    await pool.document_text("text", b"warm up", LIMIT)  # start the workers first
    stop = asyncio.Event()
    stall = asyncio.create_task(probe(stop))
    csv = ("product,price\n" + "kettle,29.90\n" * 69_000).encode()
    lines = await asyncio.gather(
        read(pool, "pdf bomb", "pdf", pdf_bomb()),
        read(pool, "18,000-line pdf", "pdf", long_pdf()),
        read(pool, "900 KB csv", "text", csv),
    )
    stop.set()
    longest = await stall
    await pool.close()
    print("\n".join(lines))
    verdict = "ok" if longest <= STALL_TARGET_MS else "OVER TARGET"
    print(f"longest event-loop stall: {longest:.1f} ms (target ≤ {STALL_TARGET_MS:.0f}) {verdict}")


if __name__ == "__main__":
    asyncio.run(main())

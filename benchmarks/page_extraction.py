"""Crafted pages against the web tool: does reading them stall the bot?

Three copies of a crafted 1.8 MB page (small linked paragraphs, 23 s of extraction CPU when
handed to trafilatura whole) are fetched at once through `fetch_page` from a local server,
while a probe measures the longest time the event loop could not run (target ≤ 100 ms). It
prints that stall, the wall time of the three fetches, and the CPU the extraction workers used
(target: a few seconds per page at most).

    uv run python benchmarks/page_extraction.py
"""

from __future__ import annotations

import asyncio
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401 - puts the repository on sys.path

from scheduler.runner.tools.web_fetch import FetchPolicy, WebFetchError, fetch_page

STALL_TARGET_MS = 100.0
CPU_TARGET_SECONDS = 5.0


def crafted_page(paragraphs: int = 20_000) -> str:
    return (
        "<html><body><article>"
        + "".join(
            f"<p>Paragraph {i} with <a href='/l{i}'>a link</a> and <b>bold</b> text.</p>"
            for i in range(paragraphs)
        )
        + "</article></body></html>"
    )


async def main() -> None:
    page = crafted_page()
    # The page is served by another process, so that only the bot's side runs in this loop.
    folder = Path(tempfile.mkdtemp(prefix="cronpilot-crafted-"))
    (folder / "crafted.html").write_text(page)
    port = free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is measured
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await measure(page, port)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def measure(page: str, port: int) -> None:
    policy = FetchPolicy(allowed_test_addresses=frozenset({("127.0.0.1", port)}))
    url = f"http://127.0.0.1:{port}/crafted.html"
    for _ in range(100):  # the server process is starting
        try:
            await fetch_page(url, policy)
            break
        except WebFetchError:
            await asyncio.sleep(0.1)

    # The fetch above started an extraction worker, as in a running bot.
    longest = 0.0
    stop = asyncio.Event()

    async def probe() -> None:
        nonlocal longest
        while not stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            longest = max(longest, time.perf_counter() - before - 0.005)

    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    watching = asyncio.create_task(probe())
    started = time.perf_counter()
    results = await asyncio.gather(
        *(fetch_page(url, policy) for _ in range(3)), return_exceptions=True
    )
    wall = time.perf_counter() - started
    stop.set()
    await watching
    # Worker CPU shows in RUSAGE_CHILDREN only once they exit.
    from scheduler.runner.tools.extraction import default_pool

    await default_pool().close()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (children.ru_utime - children_before.ru_utime) + (
        children.ru_stime - children_before.ru_stime
    )
    outcomes = [
        f"error: {r}" if isinstance(r, WebFetchError) else f"{len(r.text)} chars"  # type: ignore[union-attr]
        for r in results
    ]
    print(f"page: {len(page) / 1e6:.1f} MB; three fetched at once: {', '.join(outcomes)}")
    print(f"wall time for the three: {wall:.2f} s")
    print(
        f"longest event-loop stall: {longest * 1000:.1f} ms (target ≤ {STALL_TARGET_MS:.0f} ms)"
        f" {'✓' if longest * 1000 <= STALL_TARGET_MS else '✗'}"
    )
    per_page = cpu / 3
    print(
        f"extraction CPU per page: {per_page:.2f} s (target ≤ {CPU_TARGET_SECONDS:.0f} s)"
        f" {'✓' if per_page <= CPU_TARGET_SECONDS else '✗'}"
    )


if __name__ == "__main__":
    asyncio.run(main())

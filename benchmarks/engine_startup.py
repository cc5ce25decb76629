"""Start-up with many stored tasks: time to a ready scheduler, event-loop stalls, memory.

A fresh process (the same imports as `cronpilot run`) starts the engine against PostgreSQL
holding --tasks tasks, while a watchdog coroutine measures the longest time the event loop
could not run (target ≤ 100 ms); the parent reports the seconds from spawning the process to
the scheduler being ready (target ≤ 3 s) and the resident memory then (target ≤ 300 MB with
10,000 tasks). As in `cronpilot run`, LiteLLM is not loaded before the scheduler is ready: it
loads afterwards in a worker thread, and the longest stall meanwhile is printed against the
250 ms that one-time load may cost.

    uv run python benchmarks/engine_startup.py [--tasks 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from common import scratch_database, seed

HERE = Path(__file__).resolve()
STALL_TARGET_MS = 100.0
LOAD_STALL_TARGET_MS = 250.0
READY_TARGET_SECONDS = 3.0


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def child(url: str) -> None:
    import gc

    # As `cronpilot run` does (cronpilot.cli): no collections while it imports.
    gc.disable()
    from collections.abc import AsyncIterator

    import cronpilot.runtime  # noqa: F401 - what `cronpilot run` imports, so its cost is counted
    from core.logs import configure
    from cronpilot.serve import load_before_serving
    from scheduler.clock import SystemClock
    from scheduler.engine import Engine, EngineSettings
    from scheduler.llm import LiteLLMClient
    from storage.database import create_engine, create_sessionmaker
    from storage.records import Run, Task

    configure(level="WARNING")
    # As `cronpilot run` does before its event loop starts: what is imported is frozen.
    load_before_serving()
    gc.enable()
    imported = time.time()
    imported_cpu = time.process_time()

    class Idle:
        async def execute(self, run: Run, task: Task) -> None:
            return None

    longest = 0.0

    async def watchdog() -> AsyncIterator[None]:
        nonlocal longest
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            longest = max(longest, time.perf_counter() - before - 0.005)
            yield None

    async def watch() -> None:
        async for _ in watchdog():
            pass

    monitor = asyncio.create_task(watch())
    await asyncio.sleep(0)
    database = create_engine(url)
    engine = Engine(create_sessionmaker(database), Idle(), SystemClock(), EngineSettings())
    jobs = await engine.start()
    ready = time.time()
    ready_cpu = time.process_time()
    await asyncio.sleep(0.2)  # let the watchdog see the tail of start-up
    stall_start = longest
    memory_ready = resident_mb()
    # What the runtime does next, in the background: the LLM client's warm-up (LiteLLM loaded
    # in a worker thread) and a freeze of what start-up allocated.
    longest = 0.0
    await LiteLLMClient(api_base=None, api_key=None).warm_up()
    gc.freeze()
    await asyncio.sleep(0.2)
    stall_llm = longest
    memory_llm = resident_mb()
    await engine.stop()
    monitor.cancel()
    await database.dispose()
    print(
        json.dumps(
            {
                "ready_at": ready,
                "imported_at": imported,
                "cpu_imported": imported_cpu,
                "cpu_ready": ready_cpu,
                "jobs": jobs,
                "longest_stall": stall_start,
                "longest_stall_llm_load": stall_llm,
                "rss_ready_mb": memory_ready,
                "rss_with_llm_mb": memory_llm,
            }
        )
    )


async def prepare(url: str, total: int) -> None:
    from core.logs import configure
    from scheduler.clock import SystemClock
    from storage.database import create_engine, create_sessionmaker
    from storage.migrate import upgrade_to_head

    configure(level="WARNING")
    await upgrade_to_head(url)
    database = create_engine(url)
    now = SystemClock().now()
    # Spread over the next day, as daily tasks are; a few hundred fall within the horizon.
    instants = [now + timedelta(seconds=30 + (i * 86_400) // total) for i in range(total)]
    await seed(
        create_sessionmaker(database), chats=total, tasks=total, next_run_at=instants, now=now
    )
    await database.dispose()


def measure(url: str, total: int) -> None:
    started = time.perf_counter()
    asyncio.run(prepare(url, total))
    print(f"seeded {total} tasks in {time.perf_counter() - started:.1f} s")
    spawned = time.time()
    output = subprocess.run(
        [sys.executable, str(HERE), "--child", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    ready = result["ready_at"] - spawned
    verdict = "✓" if ready <= READY_TARGET_SECONDS else "✗"
    print(
        f"process start to scheduler ready: {ready:.2f} s "
        f"(target ≤ {READY_TARGET_SECONDS:g} s) {verdict}"
    )
    print(
        f"of which imports (before the event loop starts): {result['imported_at'] - spawned:.2f} s"
    )
    print(
        f"CPU the process used until ready: {result['cpu_ready']:.2f} s "
        f"(imports {result['cpu_imported']:.2f} s); load average {os.getloadavg()[0]:.1f}"
    )
    print(f"alarm jobs armed: {result['jobs']}")
    for label, key, target in (
        ("during start", "longest_stall", STALL_TARGET_MS),
        ("after start, while LiteLLM loads", "longest_stall_llm_load", LOAD_STALL_TARGET_MS),
    ):
        stall = result[key] * 1000
        verdict = "✓" if stall <= target else "✗"
        print(
            f"longest event-loop stall {label}: {stall:.1f} ms (target ≤ {target:g} ms) {verdict}"
        )
    print(f"resident memory when ready: {result['rss_ready_mb']:.0f} MB")
    print(f"resident memory with the LLM library loaded: {result['rss_with_llm_mb']:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--child", metavar="URL")
    arguments = parser.parse_args()
    if arguments.child:
        sys.path.insert(0, str(HERE.parent.parent))
        asyncio.run(child(arguments.child))
    else:
        with scratch_database("cronpilot_bench_start") as database_url:
            measure(database_url, arguments.tasks)

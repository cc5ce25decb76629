"""The 09:00 burst: 1,000 tasks in 1,000 chats due in the same minute, each run waiting 2 s for
its model. How long until the last result is in its chat?

The real bot (PTB Application with cronpilot's rate limiter, engine, runner, LiteLLM client) on
PostgreSQL, against the fake Bot API with Telegram's limits (30 messages a second overall, about
one a second per chat) and a fake LLM that takes `--llm-seconds` to answer every call; the two
fakes run in a process of their own, as Telegram and the provider are not on the bot's CPU.
Telegram's 30 messages a second make 1,000 results take at least 34 s; the target is the last
result within 45 s of the due instant, with no 429 answers provoked.

    uv run python benchmarks/burst.py [--tasks 1000] [--llm-seconds 2] [--runs N] [--starts R]

`--runs` overrides MAX_CONCURRENT_RUNS and `--starts` RUN_STARTS_PER_SECOND (default: the
settings' defaults; `--starts 0` starts every run as soon as it has a slot).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import statistics
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

from common import FarSide, scratch_database, seed
from sqlalchemy import select, text

from bot.ratelimit import MessageRateLimiter
from core.logs import configure
from core.settings import load_settings
from cronpilot.runtime import build_runtime
from scheduler.llm import LiteLLMClient
from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import RunRow
from tests.fakes.clock import FakeClock
from tests.fakes.llm import DelayedReply, FakeLLM, TextReply
from tests.fakes.telegram import FakeTelegram, RateLimits

DUE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CPU_PER_RUN_TARGET_MS = 12.0
TARGET_SECONDS = 45.0
FLOOR_SECONDS = 34.0


def serve_fakes(connection: Connection, tasks: int, llm_seconds: float) -> None:
    """The far side, in a process of its own as Telegram and the provider are (`FarSide`): the
    fake Bot API and the fake LLM. Sends their addresses, then, when told the due instant, the
    arrival time of every result (seconds after it) and the count of 429 answers."""
    asyncio.run(_serve_fakes(tasks, llm_seconds, connection))


async def _serve_fakes(tasks: int, llm_seconds: float, connection: Connection) -> None:
    in_flight = 0
    peak = 0

    def slow_answer(request: Any) -> Any:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)

        def answered() -> None:
            nonlocal in_flight
            in_flight -= 1

        asyncio.get_running_loop().call_later(llm_seconds, answered)
        return DelayedReply(llm_seconds, TextReply("Here is today's summary."))

    async with FakeTelegram(rate_limits=RateLimits()) as fake, FakeLLM(default=slow_answer) as llm:
        for index in range(tasks):
            fake.private_chat(fake.user(10_000_000 + index, f"User {index}"))
        connection.send((fake.token, fake.base_url, llm.base_url))
        loop = asyncio.get_running_loop()
        due: float = await loop.run_in_executor(None, connection.recv)
        far_cpu = time.process_time()
        arrivals: list[float] = []
        counted = 0
        while len(arrivals) < tasks and time.time() - due < 600:
            await asyncio.sleep(0.005)
            now = time.time() - due
            new = fake.calls[counted:]
            counted += len(new)
            arrivals.extend(now for call in new if call.method.lower() == "sendmessage")
        far_cpu = time.process_time() - far_cpu
        methods = collections.Counter(call.method for call in fake.calls)
        connection.send((arrivals, fake.rate_limited_count, peak, far_cpu, dict(methods)))
        await loop.run_in_executor(None, connection.recv)  # the bot has stopped


class Watch:
    """How many connections the database has open, sampled twice a second, and how late a 5 ms
    sampler wakes on the bot's event loop (its stalls)."""

    def __init__(self, database_url: str) -> None:
        self.db_peak = 0
        self.worst_stall = 0.0
        self._database = create_engine(database_url, pool_size=1)
        self._stop = asyncio.Event()

    async def run(self) -> None:
        step = 0.005
        last_db = 0.0
        while not self._stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(step)
            now = time.perf_counter()
            self.worst_stall = max(self.worst_stall, now - before - step)
            if now - last_db > 0.5:
                last_db = now
                async with self._database.connect() as connection:
                    count = (
                        await connection.execute(
                            text(
                                "SELECT count(*) FROM pg_stat_activity"
                                " WHERE datname = current_database()"
                            )
                        )
                    ).scalar_one()
                self.db_peak = max(self.db_peak, int(count) - 1)  # not this connection

    def stop(self) -> None:
        self._stop.set()

    async def close(self) -> None:
        await self._database.dispose()


async def measure(
    url: str,
    tasks: int,
    llm_seconds: float,
    concurrent_runs: int | None,
    starts_per_second: float | None,
) -> None:
    configure(level="WARNING")
    await upgrade_to_head(url)
    database = create_engine(url)
    await seed(
        create_sessionmaker(database),
        chats=tasks,
        tasks=tasks,
        next_run_at=[DUE] * tasks,
        now=DUE - timedelta(days=1),
    )
    await database.dispose()
    await LiteLLMClient(api_base=None, api_key=None).warm_up()
    gc.collect()
    gc.freeze()

    async with FarSide(serve_fakes, tasks, llm_seconds).running() as far_side:
        await _measure(url, tasks, llm_seconds, concurrent_runs, starts_per_second, far_side)


async def _measure(
    url: str,
    tasks: int,
    llm_seconds: float,
    concurrent_runs: int | None,
    starts_per_second: float | None,
    far_side: FarSide,
) -> None:
    token, telegram_url, llm_url = await far_side.receive()
    values: dict[str, Any] = {
        "telegram_bot_token": token,
        "telegram_api_base_url": telegram_url,
        "database_url": url,
        "llm_api_base": llm_url,
        "llm_api_key": "sk-bench-0123456789",
        "allowed_users": "*",
        "parser_model": "off",
        "run_timeout_seconds": 120,
    }
    if concurrent_runs is not None:
        values["max_concurrent_runs"] = concurrent_runs
    if starts_per_second is not None:
        values["run_starts_per_second"] = starts_per_second
    settings = load_settings(**values)
    clock = FakeClock(DUE - timedelta(seconds=1))
    runtime = build_runtime(settings, clock=clock, rate_limiter=MessageRateLimiter())
    await runtime.start()
    watch = Watch(url)
    try:
        watching = asyncio.create_task(watch.run())
        gc_time = [0.0, 0.0]

        def timed(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                gc_time[1] = time.process_time()
            else:
                gc_time[0] += time.process_time() - gc_time[1]

        gc.callbacks.append(timed)
        cpu = time.process_time()
        far_side.send(time.time())
        clock.current = DUE
        claims = await runtime.engine.claim_due()
        await runtime.engine.wait_idle()
        cpu = time.process_time() - cpu
        arrivals, rate_limited, llm_peak, far_cpu, methods = await far_side.receive()
        watch.stop()
        await watching
        async with create_sessionmaker(create_engine(url, pool_size=1))() as session:
            problems = (
                await session.execute(
                    select(RunRow.status, RunRow.reason_code, RunRow.delivery_error).where(
                        (RunRow.status != "succeeded") | RunRow.delivery_error.is_not(None)
                    )
                )
            ).all()
    finally:
        await watch.close()
        await runtime.stop()

    print(f"tasks due at once: {tasks}; model time per run: {llm_seconds:g} s")
    print(
        f"MAX_CONCURRENT_RUNS: {settings.max_concurrent_runs}; "
        f"RUN_STARTS_PER_SECOND: {settings.run_starts_per_second:g}; "
        f"DATABASE_POOL_SIZE: {settings.database_pool_size}"
    )
    print(f"runs claimed: {len(claims)}; results delivered: {len(arrivals)}")
    for problem, count in collections.Counter(problems).most_common(5):
        print(f"  {count} × {problem}")
    if arrivals:
        last = arrivals[-1]
        verdict = "ok" if last <= TARGET_SECONDS and len(arrivals) == tasks else "MISSED"
        print(
            f"last result in its chat after {last:.1f} s "
            f"(target ≤ {TARGET_SECONDS:g} s, floor {FLOOR_SECONDS:g} s): {verdict}"
        )
        quantiles = statistics.quantiles(arrivals, n=20) if len(arrivals) > 1 else arrivals
        print(
            f"result latency: first {arrivals[0]:.1f} s, p50 {statistics.median(arrivals):.1f} s,"
            f" p95 {quantiles[-1]:.1f} s"
        )
    print(f"CPU time of the bot's process: {cpu:.1f} s (garbage collection {gc_time[0]:.1f} s)")
    per_run = cpu / tasks * 1000
    print(
        f"CPU per run: {per_run:.1f} ms (target ≤ {CPU_PER_RUN_TARGET_MS:g} ms) "
        f"{'✓' if per_run <= CPU_PER_RUN_TARGET_MS else '✗'}"
    )
    print(f"CPU time of the fakes' process: {far_cpu:.1f} s")
    calls = ", ".join(f"{name} {count}" for name, count in sorted(methods.items()))
    print(f"Bot API calls: {calls}")
    # Results leave at Telegram's pace only while the bot has CPU to spare for sending them.
    buckets = collections.Counter(int(arrival // 5) * 5 for arrival in arrivals)
    print(
        "results arriving per 5 s:",
        "; ".join(f"{start}–{start + 5} s: {buckets[start]}" for start in sorted(buckets)),
    )
    print(f"429 answers from the Bot API: {rate_limited} (target 0)")
    print(f"model calls in flight at once, at most: {llm_peak}")
    print(f"database connections open at once, at most: {watch.db_peak}")
    print(f"longest event-loop stall seen by a 5 ms sampler: {watch.worst_stall * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000)
    parser.add_argument("--llm-seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=None, help="MAX_CONCURRENT_RUNS")
    parser.add_argument("--starts", type=float, default=None, help="RUN_STARTS_PER_SECOND")
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_burst") as database_url:
        asyncio.run(
            measure(
                database_url,
                arguments.tasks,
                arguments.llm_seconds,
                arguments.runs,
                arguments.starts,
            )
        )

"""1,000 of 10,000 tasks due in the same instant: are all claimed and run, and how late?

Real PostgreSQL, the real engine woken by APScheduler on the system clock, the real runner and
LiteLLM client against a fake OpenAI-compatible server that answers at once, and a delivery that
only counts. Prints the claim lateness behind the scheduled instant (target p99 ≤ 100 ms), how
many ran, and how many were missed (target 0), whether every occurrence was claimed exactly
once, when the last was claimed (target ≤ 1 s after the instant) and the longest event-loop
stall from the instant until all were claimed (target ≤ 100 ms).

The bigger instant, 10,000 of 100,000 tasks, is measured on the claims alone (the runs would
take the model's time, not the engine's): `--claims-only` starts no run, each claim is counted.

    uv run python benchmarks/engine_claims.py [--tasks 10000] [--due 1000]
    uv run python benchmarks/engine_claims.py --tasks 100000 --due 10000 --claims-only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from common import describe, scratch_database, seed
from sqlalchemy import func, select, update

from core.logs import configure
from scheduler.clock import SystemClock
from scheduler.engine import Claim, Engine, EngineSettings
from scheduler.llm import LiteLLMClient
from scheduler.runner.runner import RunnerSettings, TaskRunner
from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import RunRow, TaskRow
from storage.records import Run, RunStatus, Task
from tests.fakes.llm import FakeLLM

LAST_CLAIM_TARGET_SECONDS = 1.0
STALL_TARGET_MS = 100.0


class RecordingEngine(Engine):
    """The real engine, noting how late behind its instant each claim it wins is."""

    def __init__(self, *args: Any, lateness: list[float]) -> None:
        super().__init__(*args)
        self.lateness = lateness

    async def claim_due(self) -> list[Claim]:
        claims = await super().claim_due()
        self.lateness.extend(claim.lateness_seconds for claim in claims)
        return claims


class Idle:
    """An executor that starts nothing: the claims alone are measured."""

    async def execute(self, run: Run, task: Task) -> None:
        return None


class LoopWatch:
    """The longest time the event loop could not run while it watches."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.longest = 0.0
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        return self.longest

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.longest = max(self.longest, time.perf_counter() - before - 0.005)


class CountingDelivery:
    def __init__(self) -> None:
        self.delivered = 0

    @contextlib.asynccontextmanager
    async def working(self, chat_id: int) -> AsyncIterator[None]:
        yield

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        self.delivered += 1
        return [self.delivered]

    async def send_failure(self, task: Task, run: Run, reason: str) -> int:
        return 0

    async def send_paused(self, task: Task, reason: str) -> None:
        return None


async def measure(url: str, total: int, due_count: int, *, claims_only: bool) -> None:
    configure(level="WARNING")
    if True:
        await upgrade_to_head(url)
        database = create_engine(url, pool_size=30)
        sessions = create_sessionmaker(database)
        clock = SystemClock()
        now = clock.now()
        # The due tasks are parked far ahead; they get their instant only once the engine is
        # ready, so a slow start cannot eat into the lead time and make the claims look late.
        parked = now + timedelta(days=3)
        later = now + timedelta(days=1)
        instants = [
            parked if i < due_count else later + timedelta(minutes=i % 600) for i in range(total)
        ]
        started = time.perf_counter()
        await seed(sessions, chats=total, tasks=total, next_run_at=instants, now=now)
        seconds = time.perf_counter() - started
        print(f"seeded {total} tasks in {seconds:.1f} s")

        async with FakeLLM() as llm:
            client = LiteLLMClient(api_base=llm.base_url, api_key="sk-bench")
            await client.warm_up()
            # As `cronpilot run` does once LiteLLM is loaded: its ~200 MB of objects would
            # otherwise be rescanned by every full garbage collection (pauses of 150–400 ms).
            gc.freeze()
            delivery = CountingDelivery()
            runner = TaskRunner(
                sessions, client, delivery, clock, RunnerSettings(model="openai/gpt-4o-mini")
            )
            lateness: list[float] = []
            engine = RecordingEngine(
                sessions,
                Idle() if claims_only else runner,
                clock,
                EngineSettings(),
                lateness=lateness,
            )
            started = time.perf_counter()
            await engine.start()
            print(f"engine started with {total} tasks in {time.perf_counter() - started:.2f} s")
            due = (clock.now() + timedelta(seconds=2)).replace(microsecond=0) + timedelta(seconds=1)
            async with sessions() as session, session.begin():
                await session.execute(
                    update(TaskRow).where(TaskRow.next_run_at == parked).values(next_run_at=due)
                )
            engine.arm(due)
            print(f"engine ready; {due_count} tasks armed for {due:%H:%M:%S}")
            watch = LoopWatch()
            await asyncio.sleep(max(0.0, (due - clock.now()).total_seconds() - 0.5))
            watch.start()
            deadline = time.monotonic() + 600
            while len(lateness) < due_count and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the tail of the last batch
            stall = await watch.stop()
            while (  # noqa: ASYNC110
                not claims_only and delivery.delivered < due_count and time.monotonic() < deadline
            ):
                await asyncio.sleep(0.05)
            finished_at = datetime.now(UTC)
            await engine.wait_idle()
            await engine.stop()

        async with sessions() as session:
            by_status = select(RunRow.status, func.count()).group_by(RunRow.status)
            counts = dict((await session.execute(by_status)).all())
            at_instant = select(func.count(), func.count(func.distinct(RunRow.task_id))).where(
                RunRow.scheduled_for == due
            )
            occurrences, distinct_tasks = (await session.execute(at_instant)).one()
        await database.dispose()

    print(f"claimed: {len(lateness)} of {due_count}")
    print(f"claim lateness behind the instant: {describe(lateness)}")
    print(f"runs by status: { {str(k): v for k, v in counts.items()} }")
    print(f"missed: {counts.get(RunStatus.MISSED, 0)}, delivered: {delivery.delivered}")
    once = occurrences == distinct_tasks == due_count == len(lateness)
    print(
        f"occurrences recorded at the instant: {occurrences} for {distinct_tasks} tasks, "
        f"claims won: {len(lateness)}: each claimed once {'✓' if once else '✗'}"
    )
    last = max(lateness, default=float("nan"))
    print(
        f"last claimed {last:.2f} s after the instant (target ≤ {LAST_CLAIM_TARGET_SECONDS:g} s) "
        f"{'✓' if last <= LAST_CLAIM_TARGET_SECONDS else '✗'}"
    )
    print(
        f"longest event-loop stall around the instant: {stall * 1000:.1f} ms "
        f"(target ≤ {STALL_TARGET_MS:g} ms) {'✓' if stall * 1000 <= STALL_TARGET_MS else '✗'}"
    )
    if not claims_only:
        done = (finished_at - due).total_seconds()
        print(f"all {due_count} runs done {done:.2f} s after the instant")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--claims-only", action="store_true")
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_claims") as database_url:
        asyncio.run(
            measure(database_url, arguments.tasks, arguments.due, claims_only=arguments.claims_only)
        )

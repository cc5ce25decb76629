"""1,000 of 10,000 tasks due in the same instant: are all claimed and run, and how late?

Real PostgreSQL, the real engine woken by APScheduler on the system clock, the real runner and
LiteLLM client against a fake OpenAI-compatible server that answers at once, and a delivery that
only counts. Prints the claim lateness behind the scheduled instant (target p99 ≤ 100 ms), how
many ran, and how many were missed (target 0).

    uv run python benchmarks/engine_claims.py [--tasks 10000] [--due 1000]
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


class RecordingEngine(Engine):
    """The real engine, noting how late behind its instant each claim it wins is."""

    def __init__(self, *args: Any, lateness: list[float]) -> None:
        super().__init__(*args)
        self.lateness = lateness

    async def claim_due(self) -> list[Claim]:
        claims = await super().claim_due()
        self.lateness.extend(claim.lateness_seconds for claim in claims)
        return claims


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


async def measure(url: str, total: int, due_count: int) -> None:
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
            engine = RecordingEngine(sessions, runner, clock, EngineSettings(), lateness=lateness)
            await engine.start()
            due = (clock.now() + timedelta(seconds=2)).replace(microsecond=0) + timedelta(seconds=1)
            async with sessions() as session, session.begin():
                await session.execute(
                    update(TaskRow).where(TaskRow.next_run_at == parked).values(next_run_at=due)
                )
            engine.arm(due)
            print(f"engine ready; {due_count} tasks armed for {due:%H:%M:%S}")
            deadline = time.monotonic() + 120
            while delivery.delivered < due_count and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            finished_at = datetime.now(UTC)
            await engine.wait_idle()
            await engine.stop()

        async with sessions() as session:
            by_status = select(RunRow.status, func.count()).group_by(RunRow.status)
            counts = dict((await session.execute(by_status)).all())
        await database.dispose()

    print(f"claimed: {len(lateness)} of {due_count}")
    print(f"claim lateness behind the instant: {describe(lateness)}")
    print(f"runs by status: { {str(k): v for k, v in counts.items()} }")
    print(f"missed: {counts.get(RunStatus.MISSED, 0)}, delivered: {delivery.delivered}")
    done = (finished_at - due).total_seconds()
    print(f"all {due_count} runs done {done:.2f} s after the instant")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1_000)
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_claims") as database_url:
        asyncio.run(measure(database_url, arguments.tasks, arguments.due))

"""The database's part of a run: what the 09:00 burst costs the bot's process besides the model
and Telegram.

`--tasks` daily tasks in as many chats, all due at one instant, claimed and run by the real
engine and runner on PostgreSQL, with the model and the Bot API replaced by stand-ins in the
process that cost next to nothing: the model answers at once, and the delivery reads the chat's
language (application/languages.py, as the bot's delivery does) and hands back a message id.
What is left is the database work of each run (claim, start, close, language, message record)
and the runner around it. Prints the CPU time per run and the round trips per run (counted with
SQLAlchemy's events; a BEGIN, COMMIT or ROLLBACK counts only when it reaches the server).
`benchmarks/burst.py` measures the whole run, with LiteLLM and the Bot API requests.

    uv run python benchmarks/run_records.py [--tasks 1000] [--rounds 3]

CPU time is load-sensitive; compare variants back to back, with `uptime`'s load noted.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from common import scratch_database, seed
from sqlalchemy import text

from application.access import Access, NoMembers
from application.languages import Languages
from core.logs import configure
from core.settings import AllowedUsers
from scheduler.engine import Engine as Scheduler
from scheduler.engine import EngineSettings
from scheduler.llm import Completion
from scheduler.runner.runner import RunnerSettings, TaskRunner
from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.records import Run, Task
from tests.fakes.clock import FakeClock
from tests.fakes.delivery import FakeDelivery
from tests.round_trips import RoundTrips

DUE = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class InstantModel:
    """Answers every request at once, as a model that costs nothing would."""

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        timeout: float,  # noqa: ASYNC109
    ) -> Completion:
        return Completion("Here is today's summary.", (), 10, 5, 0.0001, model)

    async def warm_up(self) -> None:
        return None


class SpeakingDelivery(FakeDelivery):
    """Reads the chat's language for every result, as the bot's delivery does."""

    def __init__(self, languages: Languages) -> None:
        super().__init__()
        self._languages = languages

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        await self._languages.of_chat(task.chat_id)
        return await super().send_result(task, run, text)


@contextlib.asynccontextmanager
async def seeded(url: str, tasks: int) -> AsyncIterator[None]:
    database = create_engine(url)
    try:
        async with database.begin() as connection:
            await connection.execute(text("TRUNCATE runs, spending, tasks, chats CASCADE"))
        await seed(
            create_sessionmaker(database),
            chats=tasks,
            tasks=tasks,
            next_run_at=[DUE] * tasks,
            now=DUE - timedelta(days=1),
        )
        yield
    finally:
        await database.dispose()


async def one_round(url: str, tasks: int) -> tuple[float, int]:
    """CPU seconds and round trips for `tasks` runs due at once, claim to message record."""
    async with seeded(url, tasks):
        database = create_engine(url)
        sessions = create_sessionmaker(database)
        clock = FakeClock(DUE)
        access = Access(sessions, AllowedUsers(everyone=True), NoMembers(), clock)
        delivery = SpeakingDelivery(Languages(sessions, access))
        runner = TaskRunner(
            sessions,
            InstantModel(),
            delivery,
            clock,
            RunnerSettings(model="bench-model", run_starts_per_second=0),
        )
        engine = Scheduler(sessions, runner, clock, EngineSettings())
        round_trips = RoundTrips()
        try:
            with round_trips.listening(), round_trips.counted():
                cpu = time.process_time()
                claims = await engine.claim_due()
                await engine.wait_idle()
                cpu = time.process_time() - cpu
        finally:
            await database.dispose()
        if len(claims) != tasks or len(delivery.results) != tasks:
            reasons = collections.Counter(str(reason) for _, reason in delivery.failures)
            raise RuntimeError(
                f"{len(claims)} claimed, {len(delivery.results)} delivered, failed: {reasons}"
            )
        return cpu, round_trips.total


async def measure(url: str, tasks: int, rounds: int) -> None:
    configure(level="WARNING")
    await upgrade_to_head(url)
    await one_round(url, min(tasks, 50))  # warm: imports, compiled statements, prepared plans
    figures = [await one_round(url, tasks) for _ in range(rounds)]
    per_run = [cpu / tasks * 1000 for cpu, _ in figures]
    trips = collections.Counter(count for _, count in figures)
    print(f"runs due at once: {tasks}; rounds: {rounds}")
    print(
        "CPU per run (database and runner, no model, no Bot API): "
        + ", ".join(f"{value:.2f}" for value in per_run)
        + f" ms (median {statistics.median(per_run):.2f} ms)"
    )
    print("round trips per run: " + ", ".join(f"{count / tasks:.2f}" for count in sorted(trips)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_run_records") as database_url:
        asyncio.run(measure(database_url, arguments.tasks, arguments.rounds))

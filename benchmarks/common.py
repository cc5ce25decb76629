"""What the benchmarks share: a throwaway PostgreSQL database and fast task seeding."""

from __future__ import annotations

import contextlib
import statistics
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from storage.models import ChatRow, TaskRow  # noqa: E402
from storage.records import TaskKind, TaskState  # noqa: E402
from tests.postgres import postgres_server  # noqa: E402


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database migrated by the caller, dropped afterwards."""
    with postgres_server() as server:
        url = server.create_database(prefix)
        try:
            yield url
        finally:
            server.drop_database(url)


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    chats: int,
    tasks: int,
    next_run_at: Sequence[datetime],
    now: datetime,
    cron: str = "0 9 * * *",
) -> None:
    """`tasks` daily cron tasks spread over `chats` chats; task i runs next at next_run_at[i]."""
    async with sessions() as session, session.begin():
        for start in range(0, chats, 10_000):
            await session.execute(
                insert(ChatRow),
                [
                    {
                        "id": 10_000_000 + i,
                        "type": "private",
                        "title": None,
                        "timezone": None,
                        "active": True,
                        "created_at": now,
                    }
                    for i in range(start, min(chats, start + 10_000))
                ],
            )
        for start in range(0, tasks, 10_000):
            await session.execute(
                insert(TaskRow),
                [
                    {
                        "chat_id": 10_000_000 + i % chats,
                        "created_by": 1,
                        "name": f"task {i}",
                        "prompt": "Summarize the news",
                        "kind": TaskKind.CRON,
                        "cron": cron,
                        "timezone": "UTC",
                        "state": TaskState.ACTIVE,
                        "next_run_at": next_run_at[i],
                        "consecutive_failures": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(tasks, start + 10_000))
                ],
            )


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe(values: Sequence[float], unit: str = "ms", scale: float = 1000.0) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {percentile(values, 0.5) * scale:.1f} {unit}, "
        f"p99 {percentile(values, 0.99) * scale:.1f} {unit}, "
        f"max {max(values) * scale:.1f} {unit}, mean {statistics.fmean(values) * scale:.1f} {unit}"
    )

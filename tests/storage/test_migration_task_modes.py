"""0010_task_kinds: tasks written before modes existed carry over unchanged, as AI tasks, on
both databases; the downgrade gives them back as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import tasks
from storage.database import create_engine, create_sessionmaker
from storage.migrate import downgrade_to, upgrade_to_head
from storage.records import TaskKind, TaskMode, TaskState
from tests.postgres import Server
from tests.storage.earlier import read_rows, write_rows

BEFORE_MODES = "0015_replicas"
EARLIER = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
COLUMNS = "id, chat_id, name, prompt, kind, cron, run_at, timezone, state, next_run_at"


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(
    request: pytest.FixtureRequest, pg_server: Server, tmp_path: Path
) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'modes.db'}"
        return
    url = pg_server.create_database("cronpilot_task_modes")
    try:
        yield url
    finally:
        pg_server.drop_database(url)


async def test_existing_tasks_become_ai_tasks_unchanged(database_url: str) -> None:
    url = database_url
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE_MODES)
    await write_rows(
        url,
        "chats",
        [{"id": 7, "type": "private", "title": None, "active": True, "created_at": EARLIER}],
    )
    common = {
        "chat_id": 7,
        "created_by": 7,
        "timezone": "Europe/Berlin",
        "consecutive_failures": 0,
        "created_at": EARLIER,
        "updated_at": EARLIER,
    }
    await write_rows(
        url,
        "tasks",
        [
            {
                **common,
                "id": 1,
                "name": "News",
                "prompt": "summarize the news",
                "kind": "cron",
                "cron": "0 9 * * *",
                "state": "active",
                "next_run_at": EARLIER,
            },
            {
                **common,
                "id": 2,
                "name": "Water",
                "prompt": "Remind me to drink water",
                "kind": "once",
                "run_at": EARLIER,
                "state": "finished",
            },
        ],
    )
    await write_rows(
        url,
        "runs",
        [
            {
                "id": 1,
                "task_id": 1,
                "scheduled_for": EARLIER,
                "trigger": "schedule",
                "status": "succeeded",
                "output": "The news.",
                "delivery_pending": False,
            }
        ],
    )
    before = await read_rows(url, f"SELECT {COLUMNS} FROM tasks ORDER BY id")

    await upgrade_to_head(url)
    assert await read_rows(url, f"SELECT {COLUMNS} FROM tasks ORDER BY id") == before
    # The tasks' history stays too (copying the table on SQLite would cascade it away).
    assert await read_rows(url, "SELECT id, output FROM runs") == [(1, "The news.")]
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            found = [await tasks.get(session, 1), await tasks.get(session, 2)]
    finally:
        await engine.dispose()
    assert [(task.mode, task.kind, task.state) for task in found if task] == [
        (TaskMode.AI, TaskKind.CRON, TaskState.ACTIVE),
        (TaskMode.AI, TaskKind.ONCE, TaskState.FINISHED),
    ]

    await downgrade_to(url, BEFORE_MODES)
    assert await read_rows(url, f"SELECT {COLUMNS} FROM tasks ORDER BY id") == before
    assert await read_rows(url, "SELECT id, output FROM runs") == [(1, "The news.")]

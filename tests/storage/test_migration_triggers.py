"""0014_triggers on both databases: earlier rows (and what points at them) carry over
unchanged, the new triggers are accepted, and the downgrade gives the earlier schema back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.database import create_engine
from storage.migrate import downgrade_to, model_drift, upgrade_to_head
from tests.postgres import Server
from tests.storage.earlier import read_rows, write_rows

BEFORE = "0009_run_reasons"
EARLIER = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql", "sqlite"])
def url(request: pytest.FixtureRequest, pg_server: Server, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'triggers.db'}"
        return
    created = pg_server.create_database("cronpilot_triggers")
    try:
        yield created
    finally:
        pg_server.drop_database(created)


async def _write_history(url: str) -> None:
    await write_rows(
        url,
        "chats",
        [{"id": 42, "type": "private", "title": None, "active": True, "created_at": EARLIER}],
    )
    await write_rows(
        url,
        "tasks",
        [
            {
                "id": task_id,
                "chat_id": 42,
                "created_by": 42,
                "name": f"Task {task_id}",
                "prompt": "the news",
                "kind": "cron",
                "cron": "0 9 * * *",
                "timezone": "UTC",
                "state": "active",
                "next_run_at": EARLIER + timedelta(days=1),
                "consecutive_failures": 0,
                "created_at": EARLIER,
                "updated_at": EARLIER,
            }
            for task_id in (1, 2)
        ],
    )
    await write_rows(
        url,
        "runs",
        [
            {
                "id": number,
                "task_id": 1,
                "scheduled_for": EARLIER + timedelta(days=number),
                "trigger": trigger,
                "status": "succeeded",
                "output": f"answer {number}",
                "delivered_message_id": 100 + number,
                "delivery_pending": False,
            }
            for number, trigger in enumerate(("schedule", "manual", "retry"), 1)
        ],
    )
    await write_rows(
        url,
        "followups",
        [
            {
                "id": 1,
                "task_id": 1,
                "run_id": 2,
                "chat_id": 42,
                "user_id": 42,
                "question": "why?",
                "status": "succeeded",
                "answer": "because",
                "created_at": EARLIER,
            }
        ],
    )
    await write_rows(url, "message_parts", [{"chat_id": 42, "message_id": 900, "run_id": 3}])


RUNS = "SELECT id, task_id, trigger, status, output, delivered_message_id FROM runs ORDER BY id"
TASKS = "SELECT id, name, state, next_run_at FROM tasks ORDER BY id"


async def test_rows_carry_over_and_the_downgrade_gives_them_back(url: str) -> None:
    await upgrade_to_head(url)
    await downgrade_to(url, BEFORE)
    await _write_history(url)
    runs_before = await read_rows(url, RUNS)
    tasks_before = await read_rows(url, TASKS)

    await upgrade_to_head(url)
    assert await read_rows(url, RUNS) == runs_before
    assert await read_rows(url, TASKS) == tasks_before
    # What points at the runs is still there (no table was copied and dropped under it).
    assert await read_rows(url, "SELECT run_id FROM followups") == [(2,)]
    assert await read_rows(url, "SELECT run_id FROM message_parts") == [(3,)]
    assert (
        await read_rows(
            url, "SELECT trigger_hash, after_task_id, after_always, quiet_changed FROM tasks"
        )
        == [(None, None, False, False)] * 2
    )
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(model_drift) == []
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("UPDATE tasks SET after_task_id = 1, trigger_hash = 'ab' WHERE id = 2")
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO runs (id, task_id, scheduled_for, trigger, status, payload, "
                    "delivery_pending) VALUES (4, 1, :at, 'event', 'succeeded', '{\"a\": 1}', "
                    "false), (5, 2, :at, 'after', 'running', NULL, false)"
                ),
                {"at": EARLIER + timedelta(days=9)},
            )
            await connection.execute(sa.text("UPDATE runs SET parent_run_id = 4 WHERE id = 5"))
        # A run of one task starts each follower once.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text(
                        "INSERT INTO runs (task_id, scheduled_for, trigger, status, "
                        "parent_run_id, delivery_pending) "
                        "VALUES (2, :at, 'after', 'running', 4, false)"
                    ),
                    {"at": EARLIER + timedelta(days=10)},
                )
        # Unknown triggers are still refused.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    sa.text(
                        "INSERT INTO runs (task_id, scheduled_for, trigger, status, "
                        "delivery_pending) VALUES (1, :at, 'whim', 'running', false)"
                    ),
                    {"at": EARLIER},
                )
        # A task that goes takes its followers' link with it, not the followers.
        async with engine.begin() as connection:
            await connection.execute(sa.text("DELETE FROM runs WHERE id = 4"))
        assert await read_rows(url, "SELECT parent_run_id FROM runs WHERE id = 5") == [(None,)]
    finally:
        await engine.dispose()

    await downgrade_to(url, BEFORE)
    assert await read_rows(url, "SELECT id, trigger FROM runs WHERE id = 5") == [(5, "manual")]
    assert await read_rows(url, RUNS + " LIMIT 3") == runs_before
    assert await read_rows(url, "SELECT run_id FROM message_parts") == [(3,)]
    columns = {
        row[0]
        for row in await read_rows(
            url,
            "SELECT name FROM pragma_table_info('tasks')"
            if url.startswith("sqlite")
            else "SELECT column_name FROM information_schema.columns WHERE table_name = 'tasks'",
        )
    }
    assert "after_task_id" not in columns
    assert "trigger_hash" not in columns
    # Back at the earlier revision, the new triggers are refused again.
    with pytest.raises(IntegrityError):
        await write_rows(
            url,
            "runs",
            [
                {
                    "task_id": 1,
                    "scheduled_for": EARLIER,
                    "trigger": "event",
                    "status": "running",
                    "delivery_pending": False,
                }
            ],
        )
    await upgrade_to_head(url)
    assert await read_rows(url, RUNS + " LIMIT 3") == runs_before

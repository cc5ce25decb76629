"""The HTTP API's `mode` (reminder or AI task) and the next run's skip, end to end: the real bot
and its HTTP server against the fake Bot API and the fake LLM."""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from application.tasks import PAGE_SIZE
from storage.records import RunStatus, TaskMode
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import asgi_client, token_for

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, database_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, database_url, http_port=0)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_mode_is_read_set_and_changed_and_the_next_run_skipped(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    alice = fake.user(ALICE, "Alice")
    token = await token_for(fake, alice)
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        words = {"chat_id": ALICE, "text": "remind me to drink water every 2 hours"}
        reminder = (await api.post("/api/v1/tasks", json=words)).json()
        assert reminder["mode"] == "reminder"
        asked = {"chat_id": ALICE, "text": "every day at 8 remind me to stretch", "mode": "ai"}
        ai = (await api.post("/api/v1/tasks", json=asked)).json()
        assert ai["mode"] == "ai"
        explicit = {"chat_id": ALICE, "prompt": "Stand up", "cron": "0 11 * * *"}
        stand_up = (await api.post("/api/v1/tasks", json=explicit)).json()
        assert stand_up["mode"] == "reminder"
        bad = await api.post("/api/v1/tasks", json={**words, "mode": "robot"})
        assert bad.status_code == 422

        changed = await api.patch(f"/api/v1/tasks/{ai['id']}", json={"mode": "reminder"})
        assert changed.status_code == 200, changed.text
        assert changed.json()["mode"] == "reminder"
        assert (await api.get(f"/api/v1/tasks/{ai['id']}")).json()["mode"] == "reminder"
        # A new prompt keeps the mode it had.
        renamed = await api.patch(f"/api/v1/tasks/{ai['id']}", json={"prompt": "Summarize HN"})
        assert renamed.json()["mode"] == "reminder"

        skipped = await api.post(f"/api/v1/tasks/{stand_up['id']}/skip")
        assert skipped.status_code == 200, skipped.text
        assert skipped.json()["skipped_for"] == "2026-11-26T10:00:00Z"
        again = await api.post(f"/api/v1/tasks/{stand_up['id']}/skip")
        assert again.status_code == 409
        assert "skipped already" in again.json()["error"]
        undone = await api.delete(f"/api/v1/tasks/{stand_up['id']}/skip")
        assert undone.status_code == 200, undone.text
        assert (await api.delete(f"/api/v1/tasks/{stand_up['id']}/skip")).status_code == 409
        await api.post(f"/api/v1/tasks/{stand_up['id']}/skip")

    # Its time comes: the skip holds, and the reminders ran without the model.
    runs = await bot.fire_due(NOW.replace(hour=12))
    assert {run.task_id for run in runs} == {reminder["id"]}
    assert [run.status for run in await bot.history(ALICE, stand_up["id"])] == [RunStatus.SKIPPED]
    assert llm.requests == []
    modes = {task.id: task.mode for task in await bot.tasks_of(ALICE)}
    assert modes == {
        reminder["id"]: TaskMode.REMINDER,
        ai["id"]: TaskMode.REMINDER,
        stand_up["id"]: TaskMode.REMINDER,
    }


# Set while a counted request is made: the engine's own jobs (sweeps, heartbeats) run in
# other tasks, whose statements are not the request's.
_counting: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "counting", default=None
)


@contextmanager
def statements(database: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements the code run inside the block sends to `database`."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        into = _counting.get()
        if into is not None:
            into.append(statement)

    event.listen(database.sync_engine, "before_cursor_execute", count)
    token = _counting.set(sent)
    try:
        yield sent
    finally:
        _counting.reset(token)
        event.remove(database.sync_engine, "before_cursor_execute", count)


async def test_a_page_of_tasks_costs_the_same_statements_for_one_task_as_for_a_full_page(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    """The list says which tasks have their next run skipped without a query per task."""
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    database = bot.runtime.database
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:

        async def add(hour: int) -> int:
            body = {"chat_id": ALICE, "prompt": f"Stand up {hour}", "cron": f"0 {hour} * * *"}
            made = await api.post("/api/v1/tasks", json=body)
            assert made.status_code == 201, made.text
            task_id: int = made.json()["id"]
            return task_id

        async def listed() -> tuple[dict[int, str | None], list[str]]:
            with statements(database) as sent:
                page = await api.get("/api/v1/tasks", params={"chat_id": ALICE})
            assert page.status_code == 200, page.text
            return {task["id"]: task["skipped_for"] for task in page.json()["tasks"]}, sent

        first = await add(11)
        assert (await api.post(f"/api/v1/tasks/{first}/skip")).status_code == 200
        await listed()  # the first request's one-time work (sign-in cache, connections)
        one, alone = await listed()
        assert one == {first: "2026-11-26T10:00:00Z"}

        others = [await add(hour) for hour in range(12, 12 + PAGE_SIZE - 1)]
        assert (await api.post(f"/api/v1/tasks/{others[-1]}/skip")).status_code == 200
        full, with_page = await listed()
        assert full == {
            first: "2026-11-26T10:00:00Z",
            **dict.fromkeys(others[:-1]),
            others[-1]: "2026-11-26T19:00:00Z",
        }
        assert len(with_page) == len(alone), (alone, with_page)

"""The HTTP API's `mode` (reminder or AI task) and the next run's skip, end to end: the real bot
and its HTTP server against the fake Bot API and the fake LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

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

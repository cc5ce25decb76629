"""End to end: a scheduled run that failed for a reason that heals tries again by itself
(RUN_RETRY_DELAYS), across a restart, and only a run whose tries are spent counts toward the
pause; over the fake Bot API with the real LiteLLM client."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from storage.records import RunStatus, RunTrigger, TaskState
from tests.bot_harness import ALICE, BERLIN, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every weekday at 9am summarize the top Hacker News stories"
FRIDAY_9 = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
# The runner tries a call three times within one run before the run fails.
ATTEMPTS_PER_RUN = 3


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(ALICE, "Alice")


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


async def started(fake: FakeTelegram, llm: FakeLLM, url: str, **changes: Any) -> BotUnderTest:
    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, url, **changes), FakeClock(NOW))
    await bot.start()
    return bot


def fail_run(llm: FakeLLM, status: int = 503) -> None:
    for _ in range(ATTEMPTS_PER_RUN):
        llm.reply_error(status, "upstream overloaded")


async def test_a_transient_failure_tries_again_by_itself_and_the_result_follows(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url, run_retry_delays="20s,40s")
    try:
        task_id = await create_task(fake, dm, alice, HN)
        fail_run(llm)
        since = fake.checkpoint()
        await bot.fire_due(FRIDAY_9)
        notice = await fake.wait_for_message(dm, lambda m: "failed" in m.text, since=since)
        assert "try again" in notice.text
        assert "09:00:20" in notice.text or "9:00:20" in notice.text or "09:00" in notice.text

        # The try survives a restart, and is claimed once.
        await bot.restart()
        fail_run(llm)
        since = fake.checkpoint()
        # (The engine's own alarm for the instant may claim it before the test does.)
        await bot.fire_due(FRIDAY_9 + timedelta(seconds=20))
        await bot.fire_due(FRIDAY_9 + timedelta(seconds=21))
        second = await fake.wait_for_message(dm, lambda m: "try again" in m.text, since=since)
        assert [run.attempt for run in await bot.history(ALICE, task_id)] == [2, 1]

        # The third try works. The first notice is edited to say so; the second one can no
        # longer be edited (deleted, say), which changes nothing else.
        fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
        llm.reply_text("Top story: a fake model answered at last.")
        since = fake.checkpoint()
        await bot.fire_due(FRIDAY_9 + timedelta(seconds=60))
        result = await fake.wait_for_message(
            dm, lambda m: "answered at last" in m.text, since=since
        )
        assert "failed" not in result.text
        settled = await fake.wait_for_message(
            dm, lambda m: m.message_id == notice.message_id, since=since
        )
        assert "⚠️ Task #" in settled.text
        assert "✅ Try 3 worked (Fri 27 Nov 2026 09:01 CET)." in settled.text
        assert "try again" not in settled.text
        assert settled.button_labels == []
        [kept] = [m for m in fake.messages(dm) if m.message_id == second.message_id]
        assert "try again" in kept.text

        runs = await bot.history(ALICE, task_id)
        assert [(run.status, run.attempt, run.retry_at) for run in runs] == [
            (RunStatus.SUCCEEDED, 3, None),
            (RunStatus.FAILED, 2, None),
            (RunStatus.FAILED, 1, None),
        ]
        assert {run.trigger for run in runs[:2]} == {RunTrigger.RETRY}
        assert runs[0].retry_of == runs[1].id
        assert runs[1].retry_of == runs[2].id
        [task] = await bot.tasks_of(ALICE)
        assert task.consecutive_failures == 0
        history = await fake.send_text(dm, alice, f"/history {task_id}")
        shown = await fake.wait_for_message(dm, lambda m: "Last runs" in m.text)
        assert "try 3" in shown.text
        assert "try 2" in shown.text
        del history
    finally:
        await bot.stop()


async def test_only_spent_tries_count_toward_the_pause_and_refusals_never_try_again(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url, run_retry_delays="20s")
    try:
        task_id = await create_task(fake, dm, alice, HN)
        # A refused key does not heal: no try, and it counts at once.
        llm.reply_error(401, "bad key")
        await bot.fire_due(FRIDAY_9)
        [refused] = await bot.history(ALICE, task_id)
        assert (refused.status, refused.retry_at) == (RunStatus.FAILED, None)
        [task] = await bot.tasks_of(ALICE)
        assert task.consecutive_failures == 1

        # A failure that heals counts only once its one try failed too.
        monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
        fail_run(llm)
        await bot.fire_due(monday_9)
        [task] = await bot.tasks_of(ALICE)
        assert task.consecutive_failures == 1
        fail_run(llm)
        await bot.fire_due(monday_9 + timedelta(seconds=20))
        [task] = await bot.tasks_of(ALICE)
        assert task.consecutive_failures == 2
        assert task.state is TaskState.ACTIVE
        newest = (await bot.history(ALICE, task_id))[0]
        assert (newest.attempt, newest.retry_at) == (2, None)

        # Off: nothing tries again.
        await bot.stop()
        bot = await started(fake, llm, pg_url, run_retry_delays="off")
        fail_run(llm)
        await bot.fire_due(datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN))
        assert (await bot.history(ALICE, task_id))[0].retry_at is None
        [task] = await bot.tasks_of(ALICE)
        assert task.state is TaskState.PAUSED
    finally:
        await bot.stop()

"""End to end: why a run ended is said in the chat's language from its code and facts, for runs
recorded before reasons had codes (read once by the migration) as for runs recorded after."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.migrate import downgrade_to, upgrade_to_head
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser
from tests.storage.earlier import BEFORE_REASONS, write_rows

pytestmark = pytest.mark.usefixtures("litellm_imported")

EARLIER = NOW - timedelta(days=1)


async def say(fake: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> FakeMessage:
    await fake.send_text(chat, user, text)
    return await fake.wait_for_message(chat)


async def _leave_history_as_the_previous_version_did(url: str) -> None:
    """A task whose run failed while its process was alive, then the process died before the
    chat heard of it; an earlier occurrence was skipped and a follow-up got no answer."""
    await write_rows(
        url,
        "chats",
        [{"id": ALICE, "type": "private", "title": None, "active": True, "created_at": EARLIER}],
    )
    await write_rows(
        url,
        "tasks",
        [
            {
                "id": 1,
                "chat_id": ALICE,
                "created_by": ALICE,
                "name": "Morning news",
                "prompt": "summarize the news",
                "kind": "cron",
                "cron": "0 9 * * *",
                "timezone": "Europe/Berlin",
                "state": "active",
                "next_run_at": NOW + timedelta(days=1),
                "consecutive_failures": 1,
                "created_at": EARLIER,
                "updated_at": EARLIER,
            }
        ],
    )
    await write_rows(
        url,
        "workers",
        [{"id": "gone", "started_at": EARLIER, "heartbeat_at": NOW - timedelta(seconds=10)}],
    )
    await write_rows(
        url,
        "runs",
        [
            {
                "task_id": 1,
                "scheduled_for": EARLIER,
                "trigger": "schedule",
                "status": "skipped",
                "finished_at": EARLIER,
                "error": "the previous run was still going",
                "owner": "gone",
                "delivery_pending": False,
            },
            {
                "task_id": 1,
                "scheduled_for": NOW - timedelta(minutes=1),
                "trigger": "schedule",
                "status": "failed",
                "started_at": NOW - timedelta(minutes=1),
                "finished_at": NOW - timedelta(seconds=20),
                "error": "the LLM provider rejected the API key (HTTP 401)",
                "owner": "gone",
                "delivery_pending": True,
            },
        ],
    )
    await write_rows(
        url,
        "followups",
        [
            {
                "task_id": 1,
                "chat_id": ALICE,
                "user_id": ALICE,
                "question": "and the weather?",
                "status": "failed",
                "error": "the model gave an empty answer",
                "created_at": EARLIER,
                "finished_at": EARLIER,
            }
        ],
    )


async def test_failures_from_before_and_after_the_upgrade_are_said_in_russian(
    fake: FakeTelegram, llm: FakeLLM, sqlite_url: str
) -> None:
    await downgrade_to(sqlite_url, BEFORE_REASONS)
    await _leave_history_as_the_previous_version_did(sqlite_url)
    await upgrade_to_head(sqlite_url)

    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, sqlite_url), FakeClock(NOW))
    await bot.start()
    try:
        boris = fake.user(ALICE, "Boris", language_code="en")
        dm = fake.private_chat(boris)
        chosen = await say(fake, dm, boris, "/language ru")
        assert chosen.text.startswith("🌐 Готово")

        # The dead process's lease lapses: the notice it owed is taken over and sent.
        bot.clock.current = NOW + timedelta(minutes=2)
        await bot.engine.refill()
        await bot.engine.wait_idle()
        before = await fake.wait_for_message(dm, lambda m: m.text.startswith("⚠️"))
        assert before.text == (
            "⚠️ Задача №1 не выполнена: провайдер LLM отклонил API-ключ (HTTP 401)"
        )

        since = fake.checkpoint()
        llm.reply_error(400, "Unsupported parameter: temperature")
        await fake.send_text(dm, boris, "/run 1")
        after = await fake.wait_for_message(dm, lambda m: m.text.startswith("⚠️"), since=since)
        assert after.text == "⚠️ Задача №1 не выполнена: провайдер LLM отклонил запрос (HTTP 400)"
        await bot.engine.wait_idle()

        history = await say(fake, dm, boris, "/history 1")
        lines = history.text.splitlines()
        assert "   ↳ провайдер LLM отклонил запрос (HTTP 400)" in lines
        assert "   ↳ провайдер LLM отклонил API-ключ (HTTP 401)" in lines
        assert "   ↳ предыдущий запуск ещё не закончился" in lines
        assert "   ↳ модель дала пустой ответ" in lines
        assert fake.errors == []
    finally:
        await bot.stop()

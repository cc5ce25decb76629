"""End to end: reminders without a model, the reminder/AI switch, Snooze and Done, /skip N, and
a bot with no model at all (the real PTB Application against the fake Bot API and fake LLM, on
PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from core.reasons import NoModelSetUp, SkippedByPerson
from storage.records import RunStatus, TaskKind, TaskMode, TaskState
from tests.bot_harness import ALICE, BERLIN, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, database_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, database_url), FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(ALICE, "Alice")


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


async def say(fake: FakeTelegram, chat: FakeChat, user: FakeUser, text: str) -> FakeMessage:
    await fake.send_text(chat, user, text)
    return await fake.wait_for_message(chat)


async def press(
    fake: FakeTelegram, chat: FakeChat, user: FakeUser, message: FakeMessage, label: str
) -> FakeMessage:
    """Press the button and return the message as the press left it (edited in place)."""
    since = fake.checkpoint()
    query = await fake.press(chat, user, message, label)
    answer = await fake.wait_for_callback_answer(query)
    assert not answer.show_alert, answer.text
    return await fake.wait_for_message(
        chat, lambda m: m.message_id == message.message_id, since=since
    )


async def confirm(fake: FakeTelegram, chat: FakeChat, user: FakeUser, card: FakeMessage) -> int:
    scheduled = await press(fake, chat, user, card, "Confirm")
    assert "Scheduled — task #" in scheduled.text
    return int(scheduled.text.split("task #")[1].split()[0])


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN)


async def test_a_reminder_by_words_arrives_without_the_model(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    help_text = await say(fake, dm, alice, "/help")
    assert "/skip N: skip the next run of task N" in help_text.text
    card = await say(fake, dm, alice, "remind me to drink water every 2 hours")
    assert "Reminder:" in card.text
    assert "without any AI model" in card.text
    assert "💵 Cost: free: a reminder asks no AI model." in card.text
    assert "🤖 Let the AI do it" in card.button_labels
    task_id = await confirm(fake, dm, alice, card)
    [task] = await bot.tasks_of(dm.id)
    assert (task.mode, task.cron) == (TaskMode.REMINDER, "0 */2 * * *")

    since = fake.checkpoint()
    await bot.fire_due(at(26, 12))
    posted = await fake.wait_for_message(dm, since=since)
    assert posted.text == "⏰ Reminder: Drink water"
    assert posted.button_labels == ["⏸ Pause"]
    assert llm.requests == []
    [run] = await bot.history(dm.id, task_id)
    assert (run.status, run.prompt_tokens, run.completion_tokens, run.cost) == (
        RunStatus.SUCCEEDED,
        0,
        0,
        0.0,
    )
    assert run.delivered_message_id == posted.message_id
    assert chat_actions_typing(fake, dm) == 0


def chat_actions_typing(fake: FakeTelegram, chat: FakeChat) -> int:
    return sum(1 for action in fake.chat_actions(chat) if action == "typing")


async def test_a_request_for_information_stays_an_ai_task_and_the_card_switches_it(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "remind me of the weather every day at 8")
    assert "AI task:" in card.text
    assert "a month (estimate)" in card.text
    switched = await press(fake, dm, alice, card, "Just remind me")
    assert "Reminder:" in switched.text
    # The estimate follows the switch: a reminder is free, an AI task is priced again.
    assert "Cost: free" in switched.text
    assert "a month (estimate)" not in switched.text
    assert "🤖 Let the AI do it" in switched.button_labels
    back = await press(fake, dm, alice, switched, "Let the AI do it")
    assert "AI task:" in back.text
    assert "a month (estimate)" in back.text
    task_id = await confirm(fake, dm, alice, back)
    [task] = await bot.tasks_of(dm.id)
    assert task.mode is TaskMode.AI

    # On the task card, the same switch makes it a reminder; its run then needs no model.
    shown = await say(fake, dm, alice, f"/task {task_id}")
    assert "AI task:" in shown.text
    assert "Model:" in shown.text
    reminder_card = await press(fake, dm, alice, shown, "Just remind me")
    assert "Reminder:" in reminder_card.text
    assert "Model:" not in reminder_card.text  # a reminder runs on no model
    since = fake.checkpoint()
    await bot.fire_due(at(27, 8))
    posted = await fake.wait_for_message(dm, since=since)
    assert posted.text == "⏰ Reminder: The weather"
    assert llm.requests == []


async def test_a_one_time_reminder_snoozes_and_is_done(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "at 5pm remind me to call mum")
    task_id = await confirm(fake, dm, alice, card)
    since = fake.checkpoint()
    await bot.fire_due(at(26, 17))
    posted = await fake.wait_for_message(dm, since=since)
    assert posted.text == "⏰ Reminder: Call mum"
    assert posted.button_labels == ["💤 15 min", "💤 1 hour", "💤 Tomorrow", "✅ Done"]

    snoozed = await press(fake, dm, alice, posted, "15 min")
    assert "Snoozed until Thu 26 Nov 2026 17:15 CET" in snoozed.text
    assert snoozed.button_labels == []
    [task] = await bot.tasks_of(dm.id)
    assert (task.state, task.kind, task.next_run_at) == (
        TaskState.ACTIVE,
        TaskKind.ONCE,
        at(26, 17, 15),
    )

    since = fake.checkpoint()
    await bot.fire_due(at(26, 17, 15))
    again = await fake.wait_for_message(dm, since=since)
    assert again.text == "⏰ Reminder: Call mum"
    tomorrow = await press(fake, dm, alice, again, "Tomorrow")
    assert "Snoozed until Fri 27 Nov 2026 17:15 CET" in tomorrow.text

    since = fake.checkpoint()
    await bot.fire_due(at(27, 17, 15))
    third = await fake.wait_for_message(dm, since=since)
    done = await press(fake, dm, alice, third, "Done")
    assert done.text == "✅ Done: Call mum"
    assert done.button_labels == []
    [task] = await bot.tasks_of(dm.id)
    assert (task.state, task.next_run_at) == (TaskState.FINISHED, None)
    assert [run.status for run in await bot.history(dm.id, task_id)] == [RunStatus.SUCCEEDED] * 3
    assert llm.requests == []


async def test_skip_skips_exactly_the_next_run_and_undo_brings_it_back(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await confirm(
        fake, dm, alice, await say(fake, dm, alice, "every day at 9 summarize the news")
    )
    skipped = await say(fake, dm, alice, f"/skip {task_id}")
    assert f"The next run of task #{task_id} (Fri 27 Nov 2026 09:00 CET) is skipped" in (
        skipped.text
    )
    shown = await say(fake, dm, alice, f"/task {task_id}")
    assert "Next run skipped: Fri 27 Nov 2026 09:00 CET" in shown.text
    assert "⏭ Skip next" not in shown.button_labels
    again = await say(fake, dm, alice, f"/skip {task_id}")
    assert "skipped already" in again.text

    # Its time comes: nothing runs, nothing is posted; the day after runs as usual.
    since = fake.checkpoint()
    assert await bot.fire_due(at(27, 9)) == []
    assert llm.requests == []
    llm.reply_text("The news.")
    await bot.fire_due(at(28, 9))
    result = await fake.wait_for_message(dm, since=since)
    assert "The news." in result.text
    assert len(llm.requests) == 1
    history = await bot.history(dm.id, task_id)
    assert [(run.scheduled_for, run.status) for run in history] == [
        (at(28, 9), RunStatus.SUCCEEDED),
        (at(27, 9), RunStatus.SKIPPED),
    ]
    assert history[1].reason == SkippedByPerson(user_id=ALICE)

    # Skip next on the card, then /skip N undo before it is due: it runs after all.
    card = await say(fake, dm, alice, f"/task {task_id}")
    marked = await press(fake, dm, alice, card, "Skip next")
    assert "Next run skipped: Sun 29 Nov 2026 09:00 CET" in marked.text
    undone = await say(fake, dm, alice, f"/skip {task_id} undo")
    assert "runs at Sun 29 Nov 2026 09:00 CET after all" in undone.text
    nothing = await say(fake, dm, alice, f"/skip {task_id} undo")
    assert "No coming run" in nothing.text
    llm.reply_text("Sunday news.")
    assert len(await bot.fire_due(at(29, 9))) == 1
    assert len(llm.requests) == 2


async def test_a_bot_without_a_model_is_a_reminder_bot(
    fake: FakeTelegram, llm: FakeLLM, database_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    settings = bot_settings(fake, llm, database_url, llm_model="none", llm_api_key="")
    assert not settings.has_model
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        card = await say(fake, dm, alice, "remind me to drink water every 2 hours")
        assert "Reminder:" in card.text
        # No model to hand it to: the switch is not offered.
        assert not any("Let the AI do it" in label for label in card.button_labels)
        task_id = await confirm(fake, dm, alice, card)
        since = fake.checkpoint()
        await bot.fire_due(at(26, 12))
        posted = await fake.wait_for_message(dm, since=since)
        assert posted.text == "⏰ Reminder: Drink water"

        refused = await say(fake, dm, alice, "every day at 9 summarize the news")
        assert refused.text.startswith("🤖 No AI model is set up on this bot")
        await fake.send_text(dm, alice, "why water?", reply_to=posted)
        answer = await fake.wait_for_message(dm)
        assert "no AI model is set up on this bot" in answer.text
        assert llm.requests == []
        [run] = await bot.history(dm.id, task_id)
        assert run.status is RunStatus.SUCCEEDED
        shown = await say(fake, dm, alice, f"/task {task_id}")
        query = await fake.press(dm, alice, shown, "Let the AI do it")
        alert = await fake.wait_for_callback_answer(query)
        assert "No AI model is set up" in (alert.text or "")
    finally:
        await bot.stop()


def test_no_model_reason_is_a_reason() -> None:
    assert NoModelSetUp().message() == "no AI model is set up on this bot"

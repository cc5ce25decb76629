"""End to end: the real PTB Application over HTTP against a fake Bot API and a fake LLM."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from storage.records import RunStatus, RunTrigger, Task, TaskState
from tests.bot_harness import (
    ALICE,
    BERLIN,
    BOB,
    MALLORY,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
    create_task,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser, RateLimits

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every weekday at 9am summarize the top Hacker News stories"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
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


async def test_newcomer_path(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    # /start greets, shows the zone, offers the location button.
    welcome = await say(fake, dm, alice, "/start")
    assert "I'm cronpilot" in welcome.text
    assert "Europe/Berlin" in welcome.text
    assert "every weekday at 9am" in welcome.text
    markup = json.loads(str(fake.calls_to("sendMessage")[-1]["reply_markup"]))
    assert markup["keyboard"][0][0]["request_location"] is True
    assert [name for name, _ in fake.commands][:2] == ["tasks", "new"]

    # The request becomes a card with the right next three runs.
    card = await say(fake, dm, alice, HN)
    assert "Schedule this task?" in card.text
    assert "Summarize the top Hacker News stories" in card.text
    assert "Monday to Friday at 09:00" in card.text
    assert "0 9 * * 1-5" in card.text
    assert "Europe/Berlin" in card.text
    runs = re.findall(r"• (.+)", card.text)
    assert runs == [
        "Fri 27 Nov 2026 09:00 CET",
        "Mon 30 Nov 2026 09:00 CET",
        "Tue 01 Dec 2026 09:00 CET",
    ]
    assert card.button_labels == ["✅ Confirm", "✏️ Edit", "✖️ Cancel", "⏰ Just remind me"]
    assert "🤖 AI task: the AI model does this at each run." in card.text

    # Confirm edits the card in place.
    query = await fake.press(dm, alice, card, "Confirm")
    scheduled = await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    assert scheduled.message_id == card.message_id
    assert scheduled.edits == 1
    task_id = int(re.search(r"task #(\d+)", scheduled.text).group(1))  # type: ignore[union-attr]
    assert (await fake.wait_for_callback_answer(query)).text == f"Scheduled as task #{task_id}"
    assert scheduled.has_button("Run now")
    assert scheduled.has_button("Pause")

    # /tasks lists it.
    listing = await say(fake, dm, alice, "/tasks")
    assert f"#{task_id}" in listing.text
    assert "Summarize the top Hacker News stories" in listing.text
    assert "next Fri 27 Nov 2026 09:00 CET" in listing.text
    assert listing.has_button(f"Run now #{task_id}")

    # Run now: "typing…", then the result with its buttons.
    llm.reply_text(
        "**1.** Rust 2.0 released\n**2.** A new SQLite", prompt_tokens=321, completion_tokens=45
    )
    since = fake.checkpoint()
    await fake.press(dm, alice, listing, f"Run now #{task_id}")
    result = await fake.wait_for_message(dm, lambda m: "Rust 2.0" in m.text, since=since)
    assert result.text.startswith(f"📋 Summarize the top Hacker News stories · task #{task_id}")
    assert "1. Rust 2.0 released" in result.text  # Markdown became entities, not raw stars
    assert "**" not in result.text
    assert "1." in result.entity_texts("bold")
    assert result.button_labels == ["🔁 Run again", "⏸ Pause"]
    assert "typing" in fake.chat_actions(dm)
    await bot.engine.wait_idle()

    # History shows the run with its tokens.
    history = await say(fake, dm, alice, f"/history {task_id}")
    assert "manual · <b>" not in history.text  # rendered, not raw HTML
    assert "succeeded" in history.text
    assert "366 tokens (321 in, 45 out)" in history.text
    [run] = await bot.history(ALICE, task_id)
    assert run.delivered_message_id == result.message_id
    assert run.trigger is RunTrigger.MANUAL
    assert fake.errors == []


async def test_scheduled_result_arrives_once_at_its_time(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    due = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
    llm.reply_text("Friday digest")
    since = fake.checkpoint()
    assert await bot.fire_due(due - timedelta(seconds=1)) == []
    runs = await bot.fire_due(due)
    assert [(r.task_id, r.scheduled_for) for r in runs] == [(task_id, due)]
    await fake.wait_for_message(dm, lambda m: "Friday digest" in m.text, since=since)
    # The same instant again (a second alarm, a refill): nothing more.
    assert await bot.fire_due(due + timedelta(seconds=30)) == []
    results = [m for m in fake.messages(dm) if "Friday digest" in m.text]
    assert len(results) == 1
    [task] = await bot.tasks_of(ALICE)
    assert task.next_run_at == datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)


async def test_edit_and_cancel(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "every day at 7 check the weather in Paris")
    pressed = await fake.press(dm, alice, card, "Edit")
    prompt = await fake.wait_for_message(dm, lambda m: "corrected request" in m.text)
    assert prompt.force_reply
    await fake.wait_for_callback_answer(pressed)
    await fake.send_text(dm, alice, "every day at 8 check the weather in Lyon", reply_to=prompt)
    new_card = await fake.wait_for_message(
        dm, lambda m: "Lyon" in m.text and m.has_button("Confirm")
    )
    assert "Every day at 08:00" in new_card.text
    old = await fake.wait_for_message(
        dm, lambda m: m.message_id == card.message_id and "Replaced" in m.text
    )
    assert "Replaced by a corrected request" in old.text
    assert old.buttons == []

    await fake.press(dm, alice, new_card, "Cancel")
    cancelled = await fake.wait_for_message(dm, lambda m: m.message_id == new_card.message_id)
    assert cancelled.text.startswith("✖️ Cancelled")
    assert cancelled.buttons == []
    assert await bot.tasks_of(ALICE) == []


async def test_a_misspelled_schedule_word_is_read_and_the_card_says_so(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "evry day at 8am send me a news summary")

    assert "Every day at 08:00" in card.text
    assert "0 8 * * *" in card.text
    assert "Read “evry” as “every”." in card.text
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    assert (task.cron, task.prompt) == ("0 8 * * *", "Send me a news summary")


async def test_a_fortnightly_request_is_an_interval_from_the_first_matching_day(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "every other week on monday at 10 send the team update")

    assert "Every 2 weeks on Monday at 10:00, starting Mon 30 Nov 2026" in card.text
    runs = re.findall(r"• (.+)", card.text)
    assert runs == [
        "Mon 30 Nov 2026 10:00 CET",
        "Mon 14 Dec 2026 10:00 CET",
        "Mon 28 Dec 2026 10:00 CET",
    ]


async def confirmed(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser, card: FakeMessage
) -> Task:
    """Press Confirm on the card: the one task the chat then has."""
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    [task] = await bot.tasks_of(ALICE)
    return task


async def test_a_schedule_with_a_start_is_kept_with_it_and_runs_from_it(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "weekdays starting next monday at 9:30 post the standup")

    assert "Monday to Friday at 09:30, starting Mon 30 Nov 2026" in card.text
    assert re.findall(r"• (.+)", card.text)[0] == "Mon 30 Nov 2026 09:30 CET"
    task = await confirmed(bot, fake, dm, alice, card)
    assert (task.cron, task.prompt) == ("30 9 * * 1-5", "Post the standup")
    assert task.run_at == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # the start: Monday 00:00
    assert task.next_run_at == datetime(2026, 11, 30, 8, 30, tzinfo=UTC)


async def test_a_time_with_an_offset_from_utc_keeps_that_offset(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "every day at 6pm UTC+2 check the shop")

    assert "UTC+02:00" in card.text
    assert re.findall(r"• (.+)", card.text)[0] == "Thu 26 Nov 2026 17:00 CET"
    task = await confirmed(bot, fake, dm, alice, card)
    assert (task.cron, task.timezone) == ("0 18 * * *", "UTC+02:00")
    assert task.next_run_at == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


async def test_edit_prompt_is_found_by_its_message_not_its_wording(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, "every day at 7 check the weather in Paris")
    pressed = await fake.press(dm, alice, card, "Edit")
    prompt = await fake.wait_for_message(dm, lambda m: "corrected request" in m.text)
    await fake.wait_for_callback_answer(pressed)
    # The prompt names no request: the draft is found through the prompt's message id,
    # which the database keeps across a restart.
    assert card.buttons[0].callback_data is not None
    draft_id = card.buttons[0].callback_data.split(":")[1]
    assert draft_id not in prompt.text
    await bot.restart()
    await fake.send_text(dm, alice, "every day at 9 check the weather in Nice", reply_to=prompt)
    new_card = await fake.wait_for_message(dm, lambda m: "Nice" in m.text)
    assert new_card.has_button("Confirm")
    old = await fake.wait_for_message(
        dm, lambda m: m.message_id == card.message_id and "Replaced" in m.text
    )
    assert old.buttons == []

    # Once the request expired, a reply to its prompt is told so (and makes nothing).
    pressed = await fake.press(dm, alice, new_card, "Edit")
    second = await fake.wait_for_message(
        dm, lambda m: "corrected request" in m.text and m.message_id != prompt.message_id
    )
    await fake.wait_for_callback_answer(pressed)
    bot.clock.current = NOW + timedelta(hours=25)
    await fake.send_text(dm, alice, "every day at 10 check the weather", reply_to=second)
    told = await fake.wait_for_message(dm, lambda m: "expired" in m.text)
    assert "send it again" in told.text
    assert await bot.tasks_of(ALICE) == []


async def test_stale_draft(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    card = await say(fake, dm, alice, HN)
    bot.clock.current = NOW + timedelta(hours=25)
    query = await fake.press(dm, alice, card, "Confirm")
    answer = await fake.wait_for_callback_answer(query)
    assert answer.show_alert
    assert "expired" in answer.text
    stale = await fake.wait_for_message(dm, lambda m: m.message_id == card.message_id)
    assert stale.buttons == []
    assert await bot.tasks_of(ALICE) == []

    # A card pressed twice: the second press is told the request is no longer open.
    bot.clock.current = NOW
    card = await say(fake, dm, alice, HN)
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    again = await fake.press_data(dm, alice, card, f"dc:{card.buttons[0].callback_data}")
    assert (await fake.wait_for_callback_answer(again)).show_alert


async def test_forged_callback_for_another_chats_task_is_refused(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    bob = fake.user(BOB, "Bob")
    bobs = fake.private_chat(bob)
    hello = await say(fake, bobs, bob, "/help")
    for data in (
        f"tr:{task_id}",
        f"ty:{task_id}",
        f"tp:{task_id}",
        f"th:{task_id}",
        "zz:1",
        "x" * 64,
    ):
        query = await fake.press_data(bobs, bob, hello, data)
        answer = await fake.wait_for_callback_answer(query)
        assert answer.show_alert, data
    [task] = await bot.tasks_of(ALICE)
    assert task.id == task_id
    assert task.state is TaskState.ACTIVE
    assert await bot.history(ALICE, task_id) == []


async def test_groups_admins_manage_members_read(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
    team = fake.group(-1001234567890, "Team", owner=alice, members=[bob])
    # A member may not create tasks…
    await fake.send_text(team, bob, f"/new {HN}")
    refused = await fake.wait_for_message(team)
    assert "Only this group's admins" in refused.text
    # …an admin may, also by mentioning the bot.
    await fake.send_text(
        team, alice, f"@{fake.bot.username} every monday at 10 post the stand-up prompt"
    )
    card = await fake.wait_for_message(team, lambda m: m.has_button("Confirm"))
    # The member cannot press the admin's card.
    query = await fake.press(team, bob, card, "Confirm")
    assert "admins" in (await fake.wait_for_callback_answer(query)).text
    await fake.press(team, alice, card, "Confirm")
    scheduled = await fake.wait_for_message(team, lambda m: "Scheduled" in m.text)
    # Replying to the bot is a request too.
    await fake.send_text(
        team, alice, "every friday at 16 ask for the weekly report", reply_to=scheduled
    )
    reply_card = await fake.wait_for_message(team, lambda m: m.has_button("Confirm"))
    assert "weekly report" in reply_card.text
    await fake.press(team, alice, reply_card, "Cancel")
    await fake.wait_for_message(team, lambda m: m.text.startswith("✖️ Cancelled"))
    # Members can read…
    listing = await say(fake, team, bob, "/tasks")
    assert "stand-up prompt" in listing.text
    # …but not change.
    [task] = await bot.tasks_of(team.id)
    query = await fake.press(team, bob, listing, f"Pause #{task.id}")
    assert "admins" in (await fake.wait_for_callback_answer(query)).text
    await fake.send_text(team, bob, f"/delete {task.id}")
    assert "Only this group's admins" in (await fake.wait_for_message(team)).text
    assert (await bot.tasks_of(team.id))[0].state is TaskState.ACTIVE


async def test_user_not_allowed_is_told_their_id(bot: BotUnderTest, fake: FakeTelegram) -> None:
    mallory = fake.user(MALLORY, "Mallory")
    chat = fake.private_chat(mallory)
    reply = await say(fake, chat, mallory, HN)
    assert "not allowed" in reply.text
    assert str(MALLORY) in reply.text
    assert await bot.tasks_of(MALLORY) == []


async def test_bot_blocked_pauses_the_chats_tasks(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    fake.block(dm)
    llm.reply_text("nobody will read this")
    runs = await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
    assert [r.task_id for r in runs] == [task_id]
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.PAUSED
    [run] = await bot.history(ALICE, task_id)
    assert run.status is RunStatus.SUCCEEDED
    assert run.delivery_error is not None
    assert "blocked" in run.delivery_error.lower()


async def test_restart_keeps_tasks_and_drafts(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    open_card = await say(fake, dm, alice, "every sunday at 18:00 plan my week")
    await bot.restart()
    # The draft made before the restart can still be confirmed…
    await fake.press(dm, alice, open_card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text and "Plan my week" in m.text)
    # …and the task made before it still runs.
    llm.reply_text("after the restart")
    since = fake.checkpoint()
    await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
    await fake.wait_for_message(dm, lambda m: "after the restart" in m.text, since=since)
    assert sorted(t.id for t in await bot.tasks_of(ALICE))[0] == task_id
    assert len(await bot.tasks_of(ALICE)) == 2


async def test_failure_message_retry_and_auto_pause(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    for _ in range(2):
        llm.reply_error(400, "Bad request: model refused")
    since = fake.checkpoint()
    await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
    failure = await fake.wait_for_message(dm, lambda m: "failed" in m.text, since=since)
    assert failure.text.startswith(f"⚠️ Task #{task_id} failed")
    assert failure.button_labels == ["🔁 Retry"]
    # Retry fails again, and says so; it does not count towards pausing the schedule.
    await fake.press(dm, alice, failure, "Retry")
    await fake.wait_for_message(
        dm, lambda m: "failed" in m.text and m.message_id != failure.message_id
    )
    await bot.engine.wait_idle()
    # Two more failed scheduled runs make three in a row: the task pauses and says so.
    for day in (30, 1):
        llm.reply_error(400, "Bad request: model refused")
        month = 11 if day == 30 else 12
        await bot.fire_due(datetime(2026, month, day, 9, 0, tzinfo=BERLIN))
    notice = await fake.wait_for_message(dm, lambda m: "is paused" in m.text, timeout=10)
    assert f"/resume {task_id}" in notice.text
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.PAUSED
    triggers = [r.trigger for r in reversed(await bot.history(ALICE, task_id))]
    assert triggers == [
        RunTrigger.SCHEDULE,
        RunTrigger.RETRY,
        RunTrigger.SCHEDULE,
        RunTrigger.SCHEDULE,
    ]


async def test_pause_resume_delete_and_pagination(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    ids = [await create_task(fake, dm, alice, f"every day at {h}:00 say {h}") for h in range(6, 18)]
    listing = await say(fake, dm, alice, "/tasks")
    assert "page 1 of 2" in listing.text
    assert listing.has_button("Next")
    await fake.press(dm, alice, listing, "Next")
    second = await fake.wait_for_message(dm, lambda m: "page 2 of 2" in m.text)
    assert second.message_id == listing.message_id
    assert f"#{ids[10]}" in second.text

    await fake.press(dm, alice, second, f"Pause #{ids[11]}")
    paused = await fake.wait_for_message(dm, lambda m: "paused" in m.text and "page 2" in m.text)
    assert paused.has_button(f"Resume #{ids[11]}")
    await fake.send_text(dm, alice, f"/resume {ids[11]}")
    assert "active again" in (await fake.wait_for_message(dm)).text

    await fake.send_text(dm, alice, f"/delete {ids[0]}")
    ask = await fake.wait_for_message(dm)
    assert "cannot be undone" in ask.text
    await fake.press(dm, alice, ask, "Keep it")
    await fake.wait_for_message(dm, lambda m: "was kept" in m.text)
    await fake.send_text(dm, alice, f"/delete {ids[0]}")
    ask = await fake.wait_for_message(dm)
    await fake.press(dm, alice, ask, "Delete it")
    await fake.wait_for_message(dm, lambda m: "Deleted task" in m.text)
    assert len(await bot.tasks_of(ALICE)) == 11

    # /edit re-schedules a task through a new card.
    edit_card = await say(fake, dm, alice, f"/edit {ids[1]} every monday at 7:15 say hello")
    assert f"Change task #{ids[1]}?" in edit_card.text
    await fake.press(dm, alice, edit_card, "Confirm")
    await fake.wait_for_message(dm, lambda m: f"task #{ids[1]}" in m.text and "Scheduled" in m.text)
    edited = next(t for t in await bot.tasks_of(ALICE) if t.id == ids[1])
    assert (edited.cron, edited.prompt) == ("15 7 * * 1", "Say hello")
    assert len(await bot.tasks_of(ALICE)) == 11

    detail = await say(fake, dm, alice, f"/task {ids[2]}")
    assert f"Task #{ids[2]}" in detail.text
    assert "Every day at 08:00" in detail.text
    missing = await say(fake, dm, alice, f"/task {ids[0]}")
    assert "no task" in missing.text.lower()


async def test_timezone_command_and_location(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    reply = await say(fake, dm, alice, "/timezone America/New_York")
    assert "America/New_York" in reply.text
    card = await say(fake, dm, alice, "every day at 9 stretch")
    assert "America/New_York" in card.text
    assert "Thu 26 Nov 2026 09:00 EST" in card.text
    bad = await say(fake, dm, alice, "/timezone Mars/Olympus")
    assert "know the time zone Mars/Olympus" in bad.text
    await fake.send_location(dm, alice, latitude=35.68, longitude=139.69)
    tokyo = await fake.wait_for_message(dm)
    assert "Asia/Tokyo" in tokyo.text


async def test_rate_limits_are_respected(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    """With Telegram-like limits and the production limiter: a burst of long results to one
    chat is paced, and Telegram never has to answer 429."""
    fake.rate_limits = RateLimits()
    from bot.ratelimit import MessageRateLimiter

    under_test = BotUnderTest(
        fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW), MessageRateLimiter()
    )
    await under_test.start()
    try:
        ids = [
            await create_task(fake, dm, alice, f"every day at 9:{m:02d} say hi") for m in (0, 5, 10)
        ]
        for _ in ids:
            llm.reply_text("word " * 1500)  # about two messages each
        runs = await under_test.fire_due(datetime(2026, 11, 27, 9, 10, tzinfo=BERLIN))
        assert len(runs) == 3
        assert fake.rate_limited_count == 0
        assert fake.errors == []
        assert sum(m.text.startswith("📋") for m in fake.messages(dm)) == 3
    finally:
        await under_test.stop()
    assert datetime.now(UTC) > NOW - timedelta(days=1)

"""No dead ends: every message and button gets one clear answer, said once, through the real bot
(PTB over HTTP against the fake Bot API and the fake LLM)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.refusals import WAITING
from storage.records import RunStatus, RunTrigger, TaskState
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
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every weekday at 9am summarize the top Hacker News stories"
FRIDAY_9 = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
MONDAY_9 = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)
TUESDAY_9 = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)


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


async def settled(fake: FakeTelegram, chat: FakeChat, user: FakeUser) -> None:
    """Wait until the bot has dealt with everything sent so far: /help is answered last."""
    await fake.send_text(chat, user, "/help")
    await fake.wait_for_message(chat, lambda m: "Managing tasks" in m.text, timeout=10)


# --- 4: one reason, said once ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello", "🤔 I couldn't find a schedule in that. Try e.g."),
        ("on february 30 at 9 do x", "🤔 There is no February 30.\n\nSay what to do and when"),
        ("* * * * * spam", "❌ That schedule can't be used: every 1 minute is more often"),
    ],
)
async def test_a_decline_says_its_reason_once_and_punctuated(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser, text: str, expected: str
) -> None:
    answer = await say(fake, dm, alice, text)
    assert answer.text.startswith(expected)
    first_line = answer.text.splitlines()[0]
    assert ".." not in answer.text
    assert first_line.count("couldn't find a schedule") <= 1
    assert first_line.endswith((".", "”.", "minutes."))
    if "February" in text:
        assert "couldn't find a schedule" not in answer.text


# --- 5: manual silent runs ------------------------------------------------------------------


async def test_run_now_with_nothing_to_report_says_so_but_schedules_stay_silent(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_text("NOTHING_TO_REPORT")
    await fake.send_text(dm, alice, f"/run {task_id}")
    note = await fake.wait_for_message(dm, lambda m: "nothing to report" in m.text, timeout=10)
    assert note.text.startswith(f"🤫 Task #{task_id}")
    assert note.has_button("Run again")
    await bot.engine.wait_idle()
    llm.reply_text("NOTHING_TO_REPORT")
    since = fake.checkpoint()
    [run] = await bot.fire_due(FRIDAY_9)
    assert run.trigger is RunTrigger.SCHEDULE
    statuses = [r.status for r in await bot.history(ALICE, task_id)]
    assert statuses == [RunStatus.SILENT, RunStatus.SILENT]
    await settled(fake, dm, alice)
    assert not [m for m in fake.messages(dm) if m.last_event > since and "🤫" in m.text]


# --- 6: a second Confirm --------------------------------------------------------------------


async def test_pressing_confirm_twice_is_harmless(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    await fake.send_text(dm, alice, HN)
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    stale_copy = FakeMessage(**card.__dict__)  # the card as the second press saw it
    await fake.press(dm, alice, card, "Confirm")
    scheduled = await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    buttons_before = scheduled.button_labels
    second = await fake.press_data(dm, alice, card, stale_copy.buttons[0].callback_data or "")
    answer = await fake.wait_for_callback_answer(second)
    assert answer.text is not None
    assert "already confirmed" in answer.text
    assert "send it again" not in answer.text
    await settled(fake, dm, alice)
    assert card.text == scheduled.text
    assert card.button_labels == buttons_before
    assert len(await bot.tasks_of(ALICE)) == 1


# --- 7: unknown commands --------------------------------------------------------------------


async def test_an_unknown_command_gets_one_short_help(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    since = fake.checkpoint()
    answer = await say(fake, dm, alice, "/frobnicate now")
    assert answer.text.startswith("I don't know the command /frobnicate.")
    assert "/help" in answer.text
    await settled(fake, dm, alice)
    replies = [m for m in fake.messages(dm) if m.last_event > since]
    assert len(replies) == 2  # the short help, then /help's answer


# --- 8: Edit --------------------------------------------------------------------------------


async def test_edit_then_writing_without_replying_leaves_one_live_card(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    await fake.send_text(dm, alice, "every day at 9 read the news")
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    await fake.press(dm, alice, card, "Edit")
    prompt = await fake.wait_for_message(dm, lambda m: m.force_reply)
    assert "request" not in prompt.text.lower() or "(request" not in prompt.text
    assert not re.search(r"[A-Za-z0-9_-]{8}\)", prompt.text)
    await fake.send_text(dm, alice, "every day at 10 read the news")  # not a reply
    new_card = await fake.wait_for_message(
        dm, lambda m: m.has_button("Confirm") and m.message_id != card.message_id
    )
    assert "10:00" in new_card.text
    await fake.wait_for_message(
        dm, lambda m: m.message_id == card.message_id and "Replaced" in m.text
    )
    live = [m for m in fake.messages(dm) if m.has_button("Confirm")]
    assert [m.message_id for m in live] == [new_card.message_id]
    # The next request is a request of its own again.
    await fake.send_text(dm, alice, "every day at 11 water the plants")
    await fake.wait_for_message(dm, lambda m: m.has_button("Confirm") and "11:00" in m.text)
    assert len([m for m in fake.messages(dm) if m.has_button("Confirm")]) == 2


# --- 9: angle brackets ----------------------------------------------------------------------


async def test_text_in_angle_brackets_reaches_the_chat(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    await create_task(fake, dm, alice, HN)
    answer = "a * star and <tag>\n\n<script>alert(1)</script>\n\n**bold** x < y > z"
    llm.reply_text(answer)
    since = fake.checkpoint()
    await bot.fire_due(FRIDAY_9)
    result = await fake.wait_for_message(dm, lambda m: "📋" in m.text, since=since)
    assert "a * star and <tag>" in result.text
    assert "<script>alert(1)</script>" in result.text
    assert "bold x < y > z" in result.text
    assert result.entity_texts("bold")[-1] == "bold"


# --- 10: auto-pause -------------------------------------------------------------------------


async def test_only_scheduled_failures_pause_and_the_notice_can_resume(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    for _ in range(3):  # three failed manual runs: the schedule is not to blame
        llm.reply_error(400, "Bad request: model refused")
        await fake.send_text(dm, alice, f"/run {task_id}")
        await fake.wait_for_message(dm, lambda m: "failed" in m.text, timeout=10)
        await bot.engine.wait_idle()
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.ACTIVE
    for day in (FRIDAY_9, MONDAY_9, TUESDAY_9):
        llm.reply_error(400, "Bad request: model refused")
        await bot.fire_due(day)
    notice = await fake.wait_for_message(dm, lambda m: "is paused" in m.text, timeout=10)
    assert notice.button_labels == ["▶️ Resume"]
    assert "exploded" not in notice.text
    await fake.press(dm, alice, notice, "Resume")
    await fake.wait_for_message(dm, lambda m: "is paused" not in m.text or m.edit_date, timeout=10)
    for _ in range(50):
        if (await bot.tasks_of(ALICE))[0].state is TaskState.ACTIVE:
            break
        await asyncio.sleep(0.1)
    assert (await bot.tasks_of(ALICE))[0].state is TaskState.ACTIVE


# --- 11 and A5: plain words -----------------------------------------------------------------


async def test_history_says_tokens_plainly_and_failures_hide_the_providers_words(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_text("digest", prompt_tokens=229, completion_tokens=69)
    await bot.fire_due(FRIDAY_9)
    leaked = "sk-proj-leaked-by-provider-0123456789"
    llm.reply_error(400, f"exploded while reading key {leaked}")
    since = fake.checkpoint()
    await bot.fire_due(MONDAY_9)
    failure = await fake.wait_for_message(dm, lambda m: "failed" in m.text, since=since)
    assert failure.text == (
        f"⚠️ Task #{task_id} failed: the LLM provider refused the request (HTTP 400)"
    )
    history = await say(fake, dm, alice, f"/history {task_id}")
    assert "298 tokens (229 in, 69 out)" in history.text
    assert "exploded" not in history.text
    assert leaked not in history.text


async def test_a_group_member_pressing_run_now_is_told_what_they_may_do(
    bot: BotUnderTest, fake: FakeTelegram, alice: FakeUser
) -> None:
    bob = fake.user(BOB, "Bob")
    team = fake.group(-1001234567890, "Team", owner=alice, members=[bob])
    task_id = await create_task(fake, team, alice, f"/new {HN}")
    listing = await say(fake, team, bob, "/tasks")
    query = await fake.press(team, bob, listing, f"Run now #{task_id}")
    answer = await fake.wait_for_callback_answer(query)
    assert answer.text is not None
    assert "Only this group's admins can create, run or change tasks" in answer.text
    assert "/tasks" in answer.text
    assert len(answer.text) <= 200


# --- A6: abuse --------------------------------------------------------------------------------


async def test_an_edited_run_command_does_not_run_again(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_text("first")
    command = await fake.send_text(dm, alice, f"/run {task_id}")
    await fake.wait_for_message(dm, lambda m: "first" in m.text, timeout=10)
    await bot.engine.wait_idle()
    llm.reply_text("second")
    fake.inject_update({"edited_message": command.to_json() | {"edit_date": command.date + 60}})
    await settled(fake, dm, alice)
    await bot.engine.wait_idle()
    assert len(await bot.history(ALICE, task_id)) == 1


async def test_a_flood_of_requests_makes_a_bounded_number_of_drafts(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    settings = bot_settings(fake, llm, pg_url, user_messages_per_minute=5)
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        for number in range(30):
            await fake.send_text(dm, alice, f"every day at 9 say {number}")
        await fake.wait_for_message(dm, lambda m: "faster than I can take them" in m.text)
        await asyncio.sleep(0.5)  # any card the flood made has been sent by now
        await bot.engine.wait_idle()
        cards = [m for m in fake.messages(dm) if m.has_button("Confirm")]
        warnings = [m for m in fake.messages(dm) if "faster than" in m.text]
        assert len(cards) == 5
        assert len(warnings) == 1
        # A minute later the person is heard again.
        bot.clock.current = NOW.replace(minute=2)
        await fake.send_text(dm, alice, "every day at 9 say again")
        await fake.wait_for_message(dm, lambda m: "Say again" in m.text and m.has_button("Confirm"))
    finally:
        await bot.stop()


async def test_a_stranger_is_answered_once_per_period(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    mallory = fake.user(MALLORY, "Mallory")
    dm = fake.private_chat(mallory)
    for _ in range(20):
        await fake.send_text(dm, mallory, "let me in")
    await fake.wait_for_message(dm, lambda m: str(MALLORY) in m.text)
    await asyncio.sleep(0.5)
    assert len(fake.messages(dm)) == 1
    bot.clock.current = NOW.replace(hour=NOW.hour + 2)
    await fake.send_text(dm, mallory, "let me in")
    await fake.wait_for_message(dm, lambda m: str(MALLORY) in m.text)
    assert len(fake.messages(dm)) == 2


async def test_a_flood_of_strangers_does_not_hold_up_the_allowed(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    # Every refusal hangs (Telegram takes its time): whoever waits for one waits long.
    fake.hang_up_next("sendMessage", times=10_000, after=60.0, text_contains="ALLOWED_USERS")
    strangers = [fake.user(900_000_000 + n, f"Stranger {n}") for n in range(300)]
    for stranger in strangers:
        await fake.send_text(fake.private_chat(stranger), stranger, "let me in")
    greeting = await say(fake, dm, alice, "/start")
    assert "/timezone" in greeting.text
    # The refusals go one at a time, behind everyone else: the first still hangs (PTB gives
    # up on it after 5 s, and a very slow machine may have reached the second).
    refusals = [c for c in fake.calls_to("sendMessage") if "ALLOWED_USERS" in str(c["text"])]
    assert 1 <= len(refusals) <= 2
    # At most WAITING more wait; the others were dropped, and those strangers will be told
    # the next time they write.
    assert bot.runtime is not None
    held = bot.runtime.telegram.bot_data
    assert held.refusals.dropped >= len(strangers) - 1 - WAITING - len(refusals)
    dropped = [s for s in strangers if held.limits.stranger(s.id)]
    assert len(dropped) == held.refusals.dropped


async def test_a_huge_id_gets_a_clear_answer(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    huge = "9" * 32
    answer = await say(fake, dm, alice, f"/task {huge}")
    assert answer.text == (
        f"❌ There is no task #{huge} in this chat. /tasks lists the ones there are."
    )
    listing = await say(fake, dm, alice, "/tasks")
    query = await fake.press_data(dm, alice, listing, f"tr:{huge}")
    button = await fake.wait_for_callback_answer(query)
    assert button.text == "That button is not valid any more."
    assert not [e for e in fake.errors if e.error_code >= 500]
    assert not [m for m in fake.messages(dm) if "Something went wrong" in m.text]


async def test_a_kick_by_an_admin_not_on_the_allowlist_pauses_at_once(
    bot: BotUnderTest, fake: FakeTelegram, alice: FakeUser
) -> None:
    mallory = fake.user(MALLORY, "Mallory")
    team = fake.group(-1009876543210, "Team", owner=alice, admins=[mallory])
    await create_task(fake, team, alice, f"/new {HN}")
    member = {"id": fake.bot.id, "is_bot": True, "first_name": "cronpilot"}
    fake.inject_update(
        {
            "my_chat_member": {
                "chat": {"id": team.id, "type": "supergroup", "title": "Team"},
                "from": {"id": MALLORY, "is_bot": False, "first_name": "Mallory"},
                "date": 1_790_000_000,
                "old_chat_member": {"status": "member", "user": member},
                "new_chat_member": {"status": "kicked", "user": member, "until_date": 0},
            }
        }
    )
    for _ in range(50):
        if (await bot.tasks_of(team.id))[0].state is TaskState.PAUSED:
            break
        await asyncio.sleep(0.1)
    assert (await bot.tasks_of(team.id))[0].state is TaskState.PAUSED

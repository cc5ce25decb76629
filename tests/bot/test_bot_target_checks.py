"""End to end: a target that refuses results. A Telegram target that refuses a copy is checked
again (is the chat there, may the bot post, does whoever chose it still administer it); the copy
records why, the task's own chat is told once (across a restart) until a copy gets through there
again, and the other targets go on. A target failing in a way that heals by itself is tried
again and given up after TARGET_ATTEMPTS. A reply to a copy in another chat is answered there,
for those who may read that chat; the task itself is changed only in its own chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from core.reasons import (
    DeliveryGaveUp,
    DestinationHttp,
    TargetCannotPost,
    TargetNotAdmin,
)
from scheduler.runner.targets import TARGET_ATTEMPTS
from storage.records import DeliveryState, TargetDelivery
from tests.bot.targets_harness import (
    FRIDAY,
    GROUP,
    HN,
    MONDAY,
    Receiver,
    answer,
    bot_with_destinations,
    results,
)
from tests.bot.test_bot_conversations import answer_recorded
from tests.bot_harness import (
    ALICE,
    BERLIN,
    BOB,
    CAROL,
    MALLORY,
    OPERATOR,
    BotUnderTest,
    create_task,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

PARTNERS = -1001000000023
TUESDAY = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)
WEDNESDAY = datetime(2026, 12, 2, 9, 0, tzinfo=BERLIN)
NOTICE = "could not post its result to"


@pytest.fixture
async def bot(
    fake: FakeTelegram, llm: FakeLLM, database_url: str, receiver: Receiver, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    destinations = {"hook": receiver.url}
    async with bot_with_destinations(fake, llm, database_url, tmp_path, destinations) as bot:
        yield bot


@pytest.fixture
def group(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    """Alice's group, with no other administrator."""
    return fake.group(GROUP, "Team", owner=alice)


async def copies_of(bot: BotUnderTest, task_id: int) -> dict[str, TargetDelivery]:
    """The newest run's copies by target, as the application reports them."""
    [run, *_] = await bot.history(GROUP, task_id)
    assert bot.runtime is not None
    found = await bot.runtime.use_cases.targets.outcomes(OPERATOR, task_id, [run.id])
    return {copy.label: copy for copy in found.get(run.id, [])}


async def test_a_channel_that_refuses_is_checked_told_once_and_told_again_after_it_worked(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    receiver: Receiver,
) -> None:
    task_id = await create_task(fake, group, alice, HN)
    await answer(fake, group, alice, f"/target {task_id} here @news hook")
    # Someone took the bot's right to post in the channel.
    news.bot_is_admin = False

    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    # The others got it: the chat and the webhook.
    assert len(results(fake, group, "friday digest")) == 1
    assert len(receiver.received) == 1
    assert results(fake, news, "friday digest") == []
    copies = await copies_of(bot, task_id)
    assert copies["@news"].state is DeliveryState.FAILED
    assert copies["@news"].reason == TargetCannotPost()
    assert copies["hook"].state is DeliveryState.SENT
    [notice] = results(fake, group, NOTICE)
    assert "could not post its result to @news: the bot can't post there" in notice.text
    history = await answer(fake, group, alice, f"/history {task_id}")
    assert "✓ this chat · ✗ @news: the bot can't post there · ✓ hook" in history
    # The target stays in the task's list.
    [task] = await bot.tasks_of(GROUP)
    assert [target.label for target in task.elsewhere] == ["@news", "hook"]

    # Refused again, after a restart: not told again.
    await bot.restart()
    llm.reply_text("monday digest")
    await bot.fire_due(MONDAY)
    assert len(results(fake, group, "monday digest")) == 1
    assert (await copies_of(bot, task_id))["@news"].reason == TargetCannotPost()
    assert len(results(fake, group, NOTICE)) == 1

    # It works again: the copy arrives, and the next refusal is told again.
    news.bot_is_admin = True
    llm.reply_text("tuesday digest")
    await bot.fire_due(TUESDAY)
    assert len(results(fake, news, "tuesday digest")) == 1
    assert (await copies_of(bot, task_id))["@news"].state is DeliveryState.SENT
    news.bot_is_admin = False
    llm.reply_text("wednesday digest")
    await bot.fire_due(WEDNESDAY)
    assert len(results(fake, group, NOTICE)) == 2
    assert len(receiver.received) == 4


async def test_a_target_whose_chooser_is_no_admin_any_more_says_so(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, group: FakeChat, alice: FakeUser
) -> None:
    bob = fake.user(BOB, "Bob")
    # The bot is a member of the partners' group; Alice was one of its administrators.
    partners = fake.group(PARTNERS, "Partners", owner=bob, admins=[alice])
    task_id = await create_task(fake, group, alice, HN)
    said = await answer(fake, group, alice, f"/target {task_id} {PARTNERS}")
    assert "posts to Partners" in said
    fake.set_member_status(partners, alice, "member")
    # The group no longer lets members post: Telegram refuses the bot's copy.
    fake.fail_next(
        "sendMessage",
        400,
        "Bad Request: not enough rights to send text messages to the chat",
        text_contains="friday digest",
    )
    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    copies = await copies_of(bot, task_id)
    assert copies["Partners"].state is DeliveryState.FAILED
    assert copies["Partners"].reason == TargetNotAdmin(user_id=ALICE)
    [notice] = results(fake, group, NOTICE)
    assert f"user {ALICE}, who chose this target, is no longer an administrator there" in (
        notice.text
    )
    # Cards and notices stay in the task's own chat, never in the target.
    assert results(fake, partners, NOTICE) == []


async def test_a_busy_telegram_target_is_tried_again_and_a_failing_one_given_up(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    news: FakeChat,
    alice: FakeUser,
    receiver: Receiver,
) -> None:
    task_id = await create_task(fake, group, alice, HN)
    await answer(fake, group, alice, f"/target {task_id} here @news hook")
    # Telegram's front end fails twice for the channel's copy; the webhook keeps failing.
    fake.fail_next("sendMessage", 502, "Bad Gateway", times=2, text_contains="friday digest")
    receiver.failing = True
    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    assert len(results(fake, news, "friday digest")) == 1
    assert len(results(fake, group, "friday digest")) == 1
    assert receiver.attempts == TARGET_ATTEMPTS
    copies = await copies_of(bot, task_id)
    assert copies["@news"].state is DeliveryState.SENT
    assert copies["hook"].state is DeliveryState.FAILED
    assert copies["hook"].reason == DeliveryGaveUp(
        attempts=TARGET_ATTEMPTS, error=DestinationHttp(status=500)
    )
    [run, *_] = await bot.history(GROUP, task_id)
    assert not run.delivery_pending
    history = await answer(fake, group, alice, f"/history {task_id}")
    assert (
        "✗ hook: gave up after 8 attempts; the last error was: the service answered HTTP 500"
        in history
    )
    [notice] = results(fake, group, NOTICE)
    assert "could not post its result to hook: gave up after 8 attempts" in notice.text


async def reply(
    fake: FakeTelegram, chat: FakeChat, user: FakeUser, message: FakeMessage, text: str
) -> FakeMessage:
    sent = await fake.send_text(chat, user, text, reply_to=message)
    return await fake.wait_for_message(chat, lambda m: m.reply_to_message_id == sent.message_id)


async def test_a_reply_to_a_result_in_another_chat_is_answered_there(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    group: FakeChat,
    alice: FakeUser,
    database_url: str,
) -> None:
    carol, mallory = fake.user(CAROL, "Carol"), fake.user(MALLORY, "Mallory")
    partners = fake.group(PARTNERS, "Partners", owner=alice, members=[carol, mallory])
    task_id = await create_task(fake, group, alice, HN)
    await answer(fake, group, alice, f"/target {task_id} here {PARTNERS}")
    llm.reply_text("1. Rust 2.0 is out\n2. A new SQLite release")
    await bot.fire_due(FRIDAY)
    [copy] = results(fake, partners, "Rust 2.0")

    # Carol, allowed and a member there, asks about it: answered there, as a reply.
    llm.reply_text("It changes the borrow checker.")
    answered = await reply(fake, partners, carol, copy, "what is new in Rust 2.0?")
    assert "It changes the borrow checker." in answered.text
    asked = llm.requests[-1]["messages"]
    assert "Rust 2.0 is out" in str(asked)
    assert results(fake, group, "borrow checker") == []
    # The thread goes on from the answer, in that chat.
    await answer_recorded(database_url, answered)
    llm.reply_text("Since version 2.0 only.")
    again = await reply(fake, partners, carol, answered, "since when?")
    assert "Since version 2.0 only." in again.text
    assert "It changes the borrow checker." in str(llm.requests[-1]["messages"])
    assert bot.runtime is not None
    asked_about = await bot.runtime.use_cases.conversations.history(OPERATOR, task_id)
    assert {(item.chat_id, item.user_id) for item in asked_about} == {(PARTNERS, CAROL)}

    # Changing the task is for its own chat; the model is not asked.
    calls = len(llm.requests)
    refused = await reply(fake, partners, carol, copy, "only on weekdays at 8am")
    assert f"Task #{task_id} belongs to another chat" in refused.text
    assert len(llm.requests) == calls
    [task] = await bot.tasks_of(GROUP)
    assert task.cron == "0 9 * * 1-5"

    # Neither a question nor a change: what may be done here.
    llm.reply_text("NOT_A_QUESTION")
    unclear = await reply(fake, partners, carol, copy, "nice one")
    assert "The task itself is changed in its own chat." in unclear.text
    calls = len(llm.requests)

    # Someone not on ALLOWED_USERS is told so, and the model is not asked.
    stranger = await reply(fake, partners, mallory, copy, "what else?")
    assert str(MALLORY) in stranger.text
    assert len(llm.requests) == calls

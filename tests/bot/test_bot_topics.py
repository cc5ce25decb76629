"""End to end: forum topics. A task made in a topic posts its card, results and notices there;
a topic that is closed or gone sends the next message to the main thread once, with a note."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from bot.callbacks import ConfirmDraft, RunTask
from tests.bot_harness import ALICE, BERLIN, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

FORUM = -1001000000007
HN = "every weekday at 9am summarize the top Hacker News stories"
FRIDAY = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN)


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
def forum(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    chat = fake.group(FORUM, "Team", owner=alice, forum=True)
    fake.open_topic(chat, 7)
    return chat


async def create_in_topic(
    fake: FakeTelegram, chat: FakeChat, user: FakeUser, thread: int | None
) -> tuple[int, FakeMessage]:
    """/new in the topic, Confirm on the card: the task's number and its card."""
    await fake.send_text(chat, user, f"/new {HN}", thread=thread)
    card = await fake.wait_for_message(
        chat, lambda m: any(ConfirmDraft.matches(b.callback_data) for b in m.buttons)
    )
    since = fake.checkpoint()
    await fake.press(chat, user, card, "Confirm")
    scheduled = await fake.wait_for_message(
        chat, lambda m: m.message_id == card.message_id and "Scheduled" in m.text, since=since
    )
    [run] = [
        RunTask.unpack(b.callback_data)
        for b in scheduled.buttons
        if RunTask.matches(b.callback_data)
    ]
    assert run is not None
    return run.task_id, scheduled


async def test_a_task_made_in_a_topic_posts_there_until_the_topic_closes(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, forum: FakeChat, alice: FakeUser
) -> None:
    task_id, card = await create_in_topic(fake, forum, alice, 7)
    assert card.thread_id == 7

    # Run now: the result in topic 7.
    llm.reply_text("manual digest")
    since = fake.checkpoint()
    await fake.press(forum, alice, card, "Run now")
    result = await fake.wait_for_message(forum, lambda m: "manual digest" in m.text, since=since)
    assert result.thread_id == 7
    await bot.engine.wait_idle()

    # The scheduled result: topic 7 too.
    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    [scheduled] = [m for m in fake.messages(forum) if "friday digest" in m.text]
    assert scheduled.thread_id == 7

    # /tasks in the topic says where each task posts.
    await fake.send_text(forum, alice, "/tasks", thread=7)
    listing = await fake.wait_for_message(
        forum, lambda m: f"#{task_id}" in m.text and "topic" in m.text
    )
    assert listing.thread_id == 7
    assert "topic 7" in listing.text

    # The topic is closed: the next result comes to the main thread after a note, once.
    fake.close_topic(forum, 7)
    llm.reply_text("monday digest")
    await bot.fire_due(MONDAY)
    [monday] = [m for m in fake.messages(forum) if "monday digest" in m.text]
    assert monday.thread_id is None
    notes = [m for m in fake.messages(forum) if "closed or gone" in m.text]
    assert len(notes) == 1
    assert notes[0].thread_id is None
    assert f"/target {task_id} here" in notes[0].text
    [run, *_] = await bot.history(FORUM, task_id)
    assert run.delivered_message_id == monday.message_id
    assert [e for e in fake.errors if "TOPIC_CLOSED" not in e.description] == []


async def test_a_deleted_topic_sends_failures_to_the_main_thread(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, forum: FakeChat, alice: FakeUser
) -> None:
    task_id, _ = await create_in_topic(fake, forum, alice, 7)
    fake.delete_topic(forum, 7)
    llm.reply_error(400, "Bad request: model refused")
    await bot.fire_due(FRIDAY)
    [failure] = [
        m for m in fake.messages(forum) if "failed" in m.text.lower() and f"#{task_id}" in m.text
    ]
    assert failure.thread_id is None
    assert any("closed or gone" in m.text for m in fake.messages(forum))


async def test_a_private_chat_in_threaded_mode_keeps_its_topic(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, alice: FakeUser
) -> None:
    dm = fake.private_chat(alice)
    fake.open_topic(dm, 3)
    await fake.send_text(dm, alice, HN, thread=3)
    card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
    assert card.thread_id == 3
    since = fake.checkpoint()
    await fake.press(dm, alice, card, "Confirm")
    await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text, since=since)
    llm.reply_text("friday digest")
    await bot.fire_due(FRIDAY)
    [result] = [m for m in fake.messages(dm) if "friday digest" in m.text]
    assert result.thread_id == 3


async def test_a_follow_up_reply_in_a_topic_is_answered_in_that_topic(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, forum: FakeChat, alice: FakeUser
) -> None:
    await create_in_topic(fake, forum, alice, 7)
    fake.open_topic(forum, 9)
    llm.reply_text("friday digest: Rust 2.0 is out")
    await bot.fire_due(FRIDAY)
    [result] = [m for m in fake.messages(forum) if "friday digest" in m.text]
    assert result.thread_id == 7

    llm.reply_text("It changes the borrow checker.")
    since = fake.checkpoint()
    question = await fake.send_text(forum, alice, "what is new in Rust 2.0?", reply_to=result)
    assert question.thread_id == 7
    answer = await fake.wait_for_message(
        forum, lambda m: m.reply_to_message_id == question.message_id, since=since
    )
    assert "borrow checker" in answer.text
    assert answer.thread_id == 7
    # The bot named the topic itself, not leaving it to Telegram to infer from the reply.
    [sent] = [
        call for call in fake.calls_to("sendMessage") if "borrow checker" in str(call.get("text"))
    ]
    assert str(sent.get("message_thread_id")) == "7"

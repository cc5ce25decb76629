"""End to end: what becomes of follow-ups. /history shows them with what they cost, one left
running by a process that died is marked interrupted at the next start, and a reply to any
message of a result (or an answer) split into several is a reply to the whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.reasons import AnswerInterrupted
from storage.database import create_engine, create_sessionmaker
from storage.models import FollowupRow
from storage.records import RunStatus
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM, TextReply
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every weekday at 9am summarize the top Hacker News stories"
# Long enough for three Telegram messages (4096 characters at most each), short enough to
# reach the model whole as a follow-up's context.
LONG = "\n\n".join(f"**{n}.** " + f"story {n} " * 35 for n in range(1, 31))


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


async def reply_to(
    fake: FakeTelegram, chat: FakeChat, user: FakeUser, message: FakeMessage, text: str
) -> FakeMessage:
    sent = await fake.send_text(chat, user, text, reply_to=message)
    return await fake.wait_for_message(chat, lambda m: m.reply_to_message_id == sent.message_id)


async def followup_rows(url: str) -> list[FollowupRow]:
    engine = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = (await session.execute(select(FollowupRow).order_by(FollowupRow.id))).scalars()
            return list(rows)
    finally:
        await engine.dispose()


async def recorded(url: str, count: int) -> list[FollowupRow]:
    """The follow-ups once `count` of them have their answer's message recorded (the bot does
    so right after sending; a reply quicker than that would not find its thread)."""
    async with asyncio.timeout(5):
        while True:
            rows = await followup_rows(url)
            if sum(row.message_id is not None for row in rows) >= count:
                return rows
            await asyncio.sleep(0.02)


async def test_history_shows_follow_ups_with_their_question_status_and_tokens(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_text("Rust 2.0 released.", prompt_tokens=300, completion_tokens=40)
    await fake.send_text(dm, alice, f"/run {task_id}")
    result = await fake.wait_for_message(dm, lambda m: "Rust 2.0" in m.text)
    await bot.engine.wait_idle()

    llm.reply_text("It is a new major version.", prompt_tokens=120, completion_tokens=30)
    answer = await reply_to(fake, dm, alice, result, "what is <new> in it?")
    assert answer.text == "It is a new major version."
    llm.reply_error(401, "bad key")
    failed = await reply_to(fake, dm, alice, result, "and the second story?")
    assert failed.text.startswith("⚠️ I couldn't answer that: the LLM provider rejected")

    history = await say(fake, dm, alice, f"/history {task_id}")
    runs, asked = history.text.split("💬 Last follow-ups")
    assert "340 tokens (300 in, 40 out)" in runs  # the run's own line, as before …
    lines = asked.strip().splitlines()
    # … and the follow-ups follow, newest first, with what each one cost.
    assert "failed" in lines[0]
    assert lines[1] == "   ❓ and the second story?"
    assert lines[2] == "   ↳ the LLM provider rejected the API key (HTTP 401)"
    assert "answered · 150 tokens (120 in, 30 out)" in lines[3]
    assert lines[4] == "   ❓ what is <new> in it?"  # the user's text, escaped in the HTML

    # The same from the task's 📜 History button.
    card = next(m for m in fake.messages(dm) if m.has_button("📜 History"))
    since = fake.checkpoint()
    await fake.press(dm, alice, card, "📜 History")
    shown = await fake.wait_for_message(dm, lambda m: "Last follow-ups" in m.text, since=since)
    assert "❓ what is <new> in it?" in shown.text
    assert fake.errors == []


async def test_a_follow_up_left_running_by_a_dead_process_is_interrupted_at_start(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    pg_url: str,
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_text("Rust 2.0 released.")
    await fake.send_text(dm, alice, f"/run {task_id}")
    result = await fake.wait_for_message(dm, lambda m: "Rust 2.0" in m.text)
    await bot.engine.wait_idle()

    # A follow-up this process is still answering is left alone by recovery …
    gate = asyncio.Event()
    llm.reply_when(gate, TextReply("Still here."))
    sent = await fake.send_text(dm, alice, "anything new?", reply_to=result)
    async with asyncio.timeout(5):
        while not await followup_rows(pg_url):  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    await bot.engine.recover()
    [live] = await followup_rows(pg_url)
    assert live.status is RunStatus.RUNNING
    assert live.owner == bot.engine.worker_id
    gate.set()
    answer = await fake.wait_for_message(dm, lambda m: m.reply_to_message_id == sent.message_id)
    assert answer.text == "Still here."

    # … one whose process died (here: its owner never beat again) is closed at the next start.
    engine = create_engine(pg_url, pool_size=1)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            await session.execute(
                update(FollowupRow).values(status=RunStatus.RUNNING, owner="0" * 32, answer=None)
            )
    finally:
        await engine.dispose()
    bot.clock.current = NOW + timedelta(minutes=5)
    await bot.restart()
    [dead] = await followup_rows(pg_url)
    assert dead.status is RunStatus.INTERRUPTED
    assert (dead.reason_code, dead.reason_facts) == (AnswerInterrupted.code, {})
    assert dead.finished_at == NOW + timedelta(minutes=5)

    history = await say(fake, dm, alice, f"/history {task_id}")
    assert "interrupted" in history.text.split("Last follow-ups")[1]
    assert "↳ the bot stopped before it could answer" in history.text


async def test_a_reply_to_any_part_of_a_long_result_or_answer_is_about_it(
    bot: BotUnderTest,
    fake: FakeTelegram,
    llm: FakeLLM,
    dm: FakeChat,
    alice: FakeUser,
    pg_url: str,
) -> None:
    task_id = await create_task(fake, dm, alice, HN)
    llm.reply_text(LONG)
    since = fake.checkpoint()
    await fake.send_text(dm, alice, f"/run {task_id}")
    last = await fake.wait_for_message(dm, lambda m: "story 30" in m.text, since=since)
    await bot.engine.wait_idle()
    parts = [m for m in fake.messages(dm) if m.last_event > since and "story" in m.text]
    assert len(parts) >= 3
    middle = parts[len(parts) // 2]

    asked = len(llm.requests)
    llm.reply_text("Story 15 is the longest.")
    answer = await reply_to(fake, dm, alice, middle, "which story is the longest?")
    assert answer.text == "Story 15 is the longest."
    # A question about the run, not a new request: the model read the whole result.
    [request] = llm.requests[asked:]
    assistant = [m["content"] for m in request["messages"] if m["role"] == "assistant"]
    assert assistant == [LONG.strip()]

    llm.reply_text("Story 30 closes it.")
    closing = await reply_to(fake, dm, alice, last, "and the last one?")
    assert closing.text == "Story 30 closes it."

    # An answer split into several messages: a reply to its last part continues its thread.
    await recorded(pg_url, 2)
    llm.reply_text(LONG)
    since = fake.checkpoint()
    sent = await fake.send_text(dm, alice, "list them all again", reply_to=closing)
    tail = await fake.wait_for_message(dm, lambda m: "story 30" in m.text, since=since)
    assert (
        tail.message_id
        != (
            await fake.wait_for_message(dm, lambda m: m.reply_to_message_id == sent.message_id)
        ).message_id
    )
    rows = await recorded(pg_url, 3)
    llm.reply_text("Thirty.")
    counted = await reply_to(fake, dm, alice, tail, "how many were there?")
    assert counted.text == "Thirty."
    rows = await followup_rows(pg_url)
    assert rows[-1].parent_id == rows[-2].id
    assert [row.task_id for row in rows] == [task_id] * 4
    assert len(await bot.tasks_of(ALICE)) == 1
    assert fake.errors == []

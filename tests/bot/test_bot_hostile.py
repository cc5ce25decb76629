"""Hostile and odd input through the real bot: always a sensible reply, never a crash, nothing
half-saved, nothing Telegram would refuse."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser, RateLimits

pytestmark = pytest.mark.usefixtures("litellm_imported")

SORRY = "Something went wrong"

# (what the user sends, a fragment the reply must contain)
HOSTILE = [
    (" ", "empty"),
    ("\u200b\u200b", "schedule"),
    ("x" * 10_000, "characters long"),
    ("\x00\x01\x02\x1b[31m every day at 9 do it", "Schedule this task?"),
    ("<b>bold</b> every day at 9 do it", "<b>bold</b>"),  # shown as typed, not as HTML
    ("every day at 9 <script>alert(1)</script>", "<script>alert(1)</script>"),
    ("every day at 9 *bold* _it_ `code` [x](javascript:alert(1))", "javascript:alert(1)"),
    ("every day at 9 &amp; &lt; & done", "&amp; &lt; & done"),
    ("every day at 25:00 do something", "🤔"),
    ("every 0 minutes ping", "🤔"),
    ("every 99999999999999999999 minutes ping", "🤔"),
    ("every 1 seconds ping", "more often than this bot allows"),
    ("* * * * * spam me", "more often than this bot allows"),
    ("61 * * * * x", "minute 61 is out of range"),
    ("0 0 31 2 * never", "never runs"),
    ("@reboot do x", "🤔"),
    ("in 99999999 days do x", "🤔"),
    ("in 2000 years do x", "more than 100 years ahead"),
    ("tomorrow at 8pm", "🤔"),
    ("remind me", "🤔"),
    ("hello", "🤔"),
    ("what time is it?", "🤔"),
    ("🔥🔥🔥", "🤔"),
    ("كل يوم الساعة 9 اقرأ الأخبار", "🤔"),
    ("'; DROP TABLE tasks; -- every day at 9", "DROP TABLE tasks"),
    ("%s %d {0} {task} every day at 9", "%s %d {0} {task}"),
    ("every day at 9" + "\n" * 50 + "read the news", "Schedule this task?"),
    ("0 9 * * 1-5 " + "é" * 3000, "Schedule this task?"),
    ("/task abc", "Usage: /task N"),
    ("/task 99999999999999999999999", "no task #99999999999999999999999"),
    ("/task -1", "Usage: /task N"),
    ("/pause", "Usage: /pause N"),
    ("/delete 0", "no task #0"),
    ("/history 1e9", "Usage: /history N"),
    ("/run 12 extra words", "no task #12"),
    ("/edit", "Usage: /edit N"),
    ("/edit 1", "Usage: /edit N"),
    ("/edit 1 every day at 9 x", "no task #1"),
    ("/new", "Write the task after /new"),
    ("/timezone ../../etc/passwd", "know the time zone"),
    ("/timezone " + "A" * 500, "know the time zone"),
    ("/timezone Europe/Berlin; rm -rf /", "know the time zone"),
    ("/tasks -5", "no tasks"),
    ("/tasks 999999", "no tasks"),
    ("/cancel", "open request"),  # the cards left open above
    ("/cancel", "nothing to cancel"),
    ("/unknowncommand", "I don't know the command /unknowncommand."),
]


@pytest.fixture
async def world(pg_url: str) -> AsyncIterator[tuple[FakeTelegram, BotUnderTest]]:
    async with FakeTelegram(rate_limits=RateLimits.unlimited()) as fake, FakeLLM() as llm:
        bot = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
        await bot.start()
        try:
            yield fake, bot
        finally:
            await bot.stop()


async def test_hostile_inputs_get_sensible_replies(
    world: tuple[FakeTelegram, BotUnderTest],
) -> None:
    fake, bot = world
    alice: FakeUser = fake.user(ALICE, "Alice")
    dm: FakeChat = fake.private_chat(alice)
    assert len(HOSTILE) >= 30
    for text, expected in HOSTILE:
        await fake.send_text(dm, alice, text)
        if expected is None:
            await asyncio.sleep(0.3)  # an unknown command is ignored; give it a chance to reply
            continue
        reply = await fake.wait_for_message(
            dm, lambda m, expected=expected: expected in m.text, timeout=10
        )
        assert len(reply.text) <= 4096
    assert not [m.text for m in fake.messages(dm) if SORRY in m.text]
    assert fake.errors == []
    assert await bot.tasks_of(ALICE) == []  # nothing was confirmed, so nothing was saved


async def test_every_card_button_fits_telegrams_limits(
    world: tuple[FakeTelegram, BotUnderTest],
) -> None:
    fake, bot = world
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    long_prompt = "0 9 * * 1-5 " + "summarize " * 380
    await fake.send_text(dm, alice, long_prompt)
    card = await fake.wait_for_message(dm)
    assert card.has_button("Confirm")
    assert all(len((b.callback_data or "").encode()) <= 64 for b in card.buttons)
    await fake.press(dm, alice, card, "Confirm")
    done = await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text)
    assert len(done.text) < 1000  # the long prompt is shortened on the card
    [task] = await bot.tasks_of(ALICE)
    assert task.prompt.startswith("Summarize summarize")
    assert len(task.name) <= 60
    listing = await fake.send_text(dm, alice, "/tasks")
    del listing
    shown = await fake.wait_for_message(dm)
    assert all(len((b.callback_data or "").encode()) <= 64 for b in shown.buttons)
    assert fake.errors == []

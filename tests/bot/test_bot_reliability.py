"""Faults a user meets through the bot: odd URLs in a run, a database that goes away, delivery
that fails, presses that race. The real PTB Application over the fake Bot API and fake LLM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from storage.records import RunStatus
from tests.bot_harness import (
    ALICE,
    BERLIN,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
    create_task,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

DAILY = "every day at 9am summarize the news"
NEXT_NINE = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)


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


# --- A4: odd URLs ------------------------------------------------------------------------------


async def test_odd_urls_become_tool_errors_the_model_reads_and_the_result_arrives(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, DAILY)
    odd = ["https://xn--/", "mailto:someone@example.com", "about:blank", "data:text/plain,hi"]
    llm.reply_tool_calls([("web_fetch", {"url": url}) for url in odd])
    llm.reply_text("I could not read any of those pages.")
    since = fake.checkpoint()
    [run] = await bot.fire_due(NEXT_NINE)
    await fake.wait_for_message(dm, lambda m: "could not read" in m.text, since=since)

    results = [m["content"] for m in llm.requests[-1]["messages"] if m["role"] == "tool"]
    assert len(results) == len(odd)
    assert all(result.startswith("error: refused: ") for result in results)
    [stored] = [r for r in await bot.history(ALICE, task_id) if r.id == run.id]
    assert stored.status is RunStatus.SUCCEEDED


# --- A3: presses that race ---------------------------------------------------------------------


async def test_two_quick_presses_of_confirm_in_a_group_make_one_task(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE, "Alice")
    team = fake.group(-1001234567890, "Team", owner=alice)
    for attempt in range(5):
        await fake.send_text(team, alice, f"/new every monday at 10 post stand-up prompt {attempt}")
        card = await fake.wait_for_message(
            team, lambda m, n=attempt: m.has_button("Confirm") and f"prompt {n}" in m.text
        )
        first = await fake.press(team, alice, card, "Confirm")
        second = await fake.press(team, alice, card, "Confirm")
        answers = [await fake.wait_for_callback_answer(q) for q in (first, second)]
        assert sum("Scheduled as task" in (a.text or "") for a in answers) == 1
    assert len(await bot.tasks_of(team.id)) == 5


async def test_twelve_concurrent_confirms_respect_the_quota(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser
) -> None:
    quota = bot.settings.max_tasks_per_chat
    for number in range(quota - 5):
        await create_task(fake, dm, alice, f"every day at 7:{number:02d} say {number}")
    cards = []
    for number in range(12):
        await fake.send_text(dm, alice, f"every day at 8:{number:02d} say more {number}")
        cards.append(
            await fake.wait_for_message(
                dm, lambda m, n=number: m.has_button("Confirm") and f"more {n}" in m.text
            )
        )
    queries = [await fake.press(dm, alice, card, "Confirm") for card in cards]
    answers = [(await fake.wait_for_callback_answer(q)).text or "" for q in queries]
    assert sum("Scheduled as task" in a for a in answers) == 5
    assert sum(f"already has {quota} tasks" in a for a in answers) == 7
    assert len(await bot.tasks_of(ALICE)) == quota

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

"""End to end: a task's own model (/model), the fallback a failing model hands over to, and a
task's own tools (/tools), over the fake Bot API with the real LiteLLM client and Router."""

from __future__ import annotations

from typing import Any

import pytest

from bot.callbacks import ToggleTool
from storage.records import RunStatus
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import ErrorReply, FakeLLM
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")

MODELS = "fast=openai/fast-model,smart=openai/smart-model"


@pytest.fixture
def alice(fake: FakeTelegram) -> FakeUser:
    return fake.user(ALICE, "Alice")


@pytest.fixture
def dm(fake: FakeTelegram, alice: FakeUser) -> FakeChat:
    return fake.private_chat(alice)


async def started(fake: FakeTelegram, llm: FakeLLM, url: str, **changes: Any) -> BotUnderTest:
    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, url, **changes), FakeClock(NOW))
    await bot.start()
    return bot


async def say(
    fake: FakeTelegram, dm: FakeChat, alice: FakeUser, text: str, *, expect: str
) -> FakeMessage:
    since = fake.checkpoint()
    await fake.send_text(dm, alice, text)
    return await fake.wait_for_message(dm, lambda m: expect in m.text, since=since)


async def test_a_task_runs_on_its_model_and_a_failing_one_hands_over_to_its_fallback(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(
        fake, llm, pg_url, models=MODELS, model_fallbacks="smart>fast", run_retry_delays="off"
    )
    try:
        task_id = await create_task(fake, dm, alice, "every morning at 8 summarize the news")
        shown = await say(fake, dm, alice, f"/model {task_id}", expect="runs on")
        assert "openai/gpt-4o-mini" in shown.text
        assert "fast, smart" in shown.text

        await say(fake, dm, alice, f"/model {task_id} smart", expect="now runs on smart")
        card = await say(fake, dm, alice, f"/task {task_id}", expect="Model:")
        assert "smart" in card.text
        refused = await say(fake, dm, alice, f"/model {task_id} huge", expect="huge")
        assert "fast, smart" in refused.text

        llm.reply_text("Calm day in the news.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Calm day")
        await bot.engine.wait_idle()
        assert llm.requests[-1]["model"] == "smart-model"

        # The smart model answers 500: the fast one takes the run over.
        llm.enqueue(ErrorReply(500, "overloaded"))
        llm.reply_text("Quiet day, said the fast model.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Quiet day")
        await bot.engine.wait_idle()
        assert [request["model"] for request in llm.requests[-2:]] == [
            "smart-model",
            "fast-model",
        ]
        runs = await bot.history(dm.id, task_id)
        assert [(run.status, run.model) for run in runs[:2]] == [
            (RunStatus.SUCCEEDED, "fast"),
            (RunStatus.SUCCEEDED, "smart"),
        ]
        history = await say(fake, dm, alice, f"/history {task_id}", expect="Last runs")
        assert "🤖 fast" in history.text
        assert "🤖 smart" in history.text

        # Back to the default.
        await say(fake, dm, alice, f"/model {task_id} default", expect="now runs on")
        llm.reply_text("Default answer.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Default answer")
        await bot.engine.wait_idle()
        assert llm.requests[-1]["model"] == "gpt-4o-mini"
    finally:
        await bot.stop()


def _tool_names(request: dict[str, Any]) -> set[str]:
    return {tool["function"]["name"] for tool in request.get("tools") or ()}


async def test_a_task_is_offered_only_its_own_tools(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url)
    try:
        task_id = await create_task(fake, dm, alice, "every morning at 8 summarize the news")
        llm.reply_text("First.")
        await say(fake, dm, alice, f"/run {task_id}", expect="First.")
        await bot.engine.wait_idle()
        assert "web_fetch" in _tool_names(llm.requests[-1])

        listing = await say(fake, dm, alice, f"/tools {task_id} -web_fetch", expect="Tools of")
        assert "⬜ web fetch" in listing.text
        llm.reply_text("Second.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Second.")
        await bot.engine.wait_idle()
        assert "web_fetch" not in _tool_names(llm.requests[-1])
        assert "current_time" in _tool_names(llm.requests[-1])

        # Its button turns it back on.
        button = next(b for b in listing.buttons if ToggleTool.matches(b.callback_data))
        since = fake.checkpoint()
        await fake.press_data(dm, alice, listing, button.callback_data)
        await fake.wait_for_message(
            dm, lambda m: m.message_id == listing.message_id and "✅" in m.text, since=since
        )
        llm.reply_text("Third.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Third.")
        await bot.engine.wait_idle()
        assert "web_fetch" in _tool_names(llm.requests[-1])

        wrong = await say(fake, dm, alice, f"/tools {task_id} -telepathy", expect="telepathy")
        assert "web_fetch" in wrong.text
    finally:
        await bot.stop()


async def test_the_card_shows_an_estimate_and_a_task_past_its_cap_is_skipped(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url)
    try:
        card = await say(fake, dm, alice, "every morning at 8 summarize the news", expect="Cost")
        # gpt-4o-mini's price for a typical run (3,000 + 500 tokens) × 30 mornings.
        assert "≈ $0.00075 a run, ≈ $0.022 a month" in card.text
        await fake.send_text(dm, alice, "/cancel")
        task_id = await create_task(fake, dm, alice, "every morning at 8 summarize the news")

        llm.reply_text("Spent a little.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Spent a little")
        await bot.engine.wait_idle()
        capped = await say(fake, dm, alice, f"/budget {task_id} 0.000001", expect="may spend")
        assert "$0.000001" in capped.text
        card = await say(fake, dm, alice, f"/task {task_id}", expect="Monthly cap")

        asked = len(llm.requests)
        since = fake.checkpoint()
        await fake.send_text(dm, alice, f"/run {task_id}")
        told = await fake.wait_for_message(dm, lambda m: "did not run" in m.text, since=since)
        assert "monthly cap of $0.000001 is spent" in told.text
        await bot.engine.wait_idle()
        await say(fake, dm, alice, f"/run {task_id}", expect="Running task")
        await bot.engine.wait_idle()
        runs = await bot.history(dm.id, task_id)
        assert [run.status for run in runs[:2]] == [RunStatus.SKIPPED, RunStatus.SKIPPED]
        assert {run.reason.code for run in runs[:2] if run.reason} == {"task_cap_reached"}
        assert len(llm.requests) == asked
        notices = [m for m in fake.messages(dm) if "did not run" in m.text]
        assert len(notices) == 1  # told once a month

        refused = await say(fake, dm, alice, f"/budget {task_id} 5000", expect="between")
        assert "$1000" in refused.text
        await say(fake, dm, alice, f"/budget {task_id} off", expect="no monthly cap")
        llm.reply_text("Running again.")
        await say(fake, dm, alice, f"/run {task_id}", expect="Running again")
        await bot.engine.wait_idle()
    finally:
        await bot.stop()

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


async def press(
    fake: FakeTelegram, dm: FakeChat, alice: FakeUser, message: FakeMessage, label: str
) -> FakeMessage:
    """Press the button and return the message as the press left it (edited in place)."""
    since = fake.checkpoint()
    query = await fake.press(dm, alice, message, label)
    answer = await fake.wait_for_callback_answer(query)
    assert not answer.show_alert, answer.text
    return await fake.wait_for_message(
        dm, lambda m: m.message_id == message.message_id, since=since
    )


def _estimate(text: str) -> str:
    [line] = [line for line in text.splitlines() if "Cost" in line]
    return line


async def test_the_card_chooses_the_model_and_prices_the_task_on_it(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url, models="fast=openai/gpt-4o-mini,smart=openai/gpt-4o")
    try:
        card = await say(fake, dm, alice, "every morning at 8 summarize the news", expect="Cost")
        assert "🤖 Model: openai/gpt-4o-mini" in card.text
        assert "≈ $0.00075 a run, ≈ $0.022 a month" in _estimate(card.text)
        # The button names the model and takes the next one: fast, smart, then the default.
        fast = await press(fake, dm, alice, card, "🧠 Model: openai/gpt-4o-mini")
        assert "🤖 Model: fast" in fast.text
        assert "🧠 Model: fast" in fast.button_labels
        smart = await press(fake, dm, alice, fast, "🧠 Model: fast")
        assert "🤖 Model: smart" in smart.text
        # gpt-4o's price for the same typical run: the estimate follows the model.
        assert "≈ $0.013 a run, ≈ $0.38 a month" in _estimate(smart.text)

        scheduled = await press(fake, dm, alice, smart, "Confirm")
        assert "Scheduled — task #" in scheduled.text
        assert "🤖 Model: smart" in scheduled.text
        [task] = await bot.tasks_of(dm.id)
        assert task.model == "smart"
        llm.reply_text("Smart news.")
        await say(fake, dm, alice, f"/run {task.id}", expect="Smart news")
        await bot.engine.wait_idle()
        assert llm.requests[-1]["model"] == "gpt-4o"

        # After a run, /task N estimates from what its runs cost; /usage names the model.
        shown = await say(fake, dm, alice, f"/task {task.id}", expect="Model:")
        assert "🤖 Model: smart" in shown.text
        assert "a month (estimate)" in _estimate(shown.text)
        usage = await say(fake, dm, alice, "/usage", expect="Usage in")
        assert "By model" in usage.text
        assert "• smart: 1 run · " in usage.text

        # /edit N: the card shows the task's own model, and Confirm keeps it.
        edit = await say(
            fake, dm, alice, f"/edit {task.id} every morning at 9 summarize the news", expect="Cost"
        )
        assert "🤖 Model: smart" in edit.text
        await press(fake, dm, alice, edit, "Confirm")
        [task] = await bot.tasks_of(dm.id)
        assert (task.model, task.cron) == ("smart", "0 9 * * *")

        # A reminder has no model to choose.
        reminder = await say(fake, dm, alice, "remind me to drink water every 2 hours", expect="⏰")
        assert not any("Model" in label for label in reminder.button_labels)
        assert "Model:" not in reminder.text
    finally:
        await bot.stop()


async def test_the_card_after_confirm_skips_the_next_run_and_undoes_it(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url)
    try:
        card = await say(fake, dm, alice, "every day at 9 summarize the news", expect="Cost")
        scheduled = await press(fake, dm, alice, card, "Confirm")
        skipped = await press(fake, dm, alice, scheduled, "⏭ Skip next")
        assert "Next run skipped: Fri 27 Nov 2026 09:00 CET" in skipped.text
        assert "⏭ Skip next" not in skipped.button_labels
        [task] = await bot.tasks_of(dm.id)
        shown = await say(fake, dm, alice, f"/task {task.id}", expect="Next run skipped")
        undone = await press(fake, dm, alice, shown, "↩️ Undo skip")
        assert "Next run skipped" not in undone.text
        assert "⏭ Skip next" in undone.button_labels
        # Undone: the run at 09:00 happens.
        llm.reply_text("Friday news.")
        since = fake.checkpoint()
        await bot.fire_due(NOW.replace(day=27, hour=9))
        await fake.wait_for_message(dm, lambda m: "Friday news" in m.text, since=since)
    finally:
        await bot.stop()

"""End to end: tasks that search the web, call an MCP tool, and stop at the monthly budget, over
the fake Bot API with the real LiteLLM client, a fake SearXNG and a real MCP server."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core.reasons import BudgetSpent
from scheduler.parsing.llm_parser import TOOL_NAME
from storage.records import RunStatus
from tests.bot_harness import ALICE, BERLIN, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.mcp_tracker import stdio_entry
from tests.fakes.searxng import FakeSearXNG
from tests.fakes.telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def searx() -> AsyncIterator[FakeSearXNG]:
    async with FakeSearXNG() as server:
        yield server


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


async def run_now(
    bot: BotUnderTest, fake: FakeTelegram, dm: FakeChat, alice: FakeUser, task_id: int, text: str
) -> FakeMessage:
    since = fake.checkpoint()
    await fake.send_text(dm, alice, f"/run {task_id}")
    message = await fake.wait_for_message(dm, lambda m: text in m.text, since=since)
    await bot.engine.wait_idle()
    return message


async def test_a_task_searches_the_web_and_the_answer_reaches_the_chat(
    fake: FakeTelegram,
    llm: FakeLLM,
    pg_url: str,
    searx: FakeSearXNG,
    dm: FakeChat,
    alice: FakeUser,
) -> None:
    searx.results["rust compiler news"] = [
        ("Rust 1.99 released", "https://blog.rust-lang.org/1.99", "Faster incremental builds.")
    ]
    bot = await started(
        fake, llm, pg_url, search_provider="searxng", search_api_base=searx.base_url
    )
    try:
        task_id = await create_task(
            fake, dm, alice, "every morning at 8 search the web for news about the Rust compiler"
        )
        llm.reply_tool_calls([("web_search", {"query": "rust compiler news"})])
        llm.reply_text("Rust 1.99 is out: faster incremental builds.")
        result = await run_now(bot, fake, dm, alice, task_id, "Rust 1.99 is out")
        assert result.text.endswith("Rust 1.99 is out: faster incremental builds.")
        assert searx.queries == ["rust compiler news"]
        search_answer = llm.requests[1]["messages"][-1]
        assert "Rust 1.99 released\n   https://blog.rust-lang.org/1.99" in search_answer["content"]

        await fake.send_text(dm, alice, f"/history {task_id}")
        trace = await fake.wait_for_message(dm, lambda m: "Last runs" in m.text)
        assert "🔧 web_search ×1" in trace.text
    finally:
        await bot.stop()


async def test_a_task_calls_an_mcp_tool_and_its_answer_reaches_the_chat(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser, tmp_path: Path
) -> None:
    config = tmp_path / "mcp.json"
    log = tmp_path / "calls.log"
    config.write_text(json.dumps({"mcpServers": {"tracker": stdio_entry(log=log)}}))
    bot = await started(fake, llm, pg_url, mcp_config=str(config))
    try:
        task_id = await create_task(
            fake, dm, alice, "every day at 9 tell me the state of issue 7 in the tracker"
        )
        llm.reply_tool_calls([("tracker__lookup_issue", {"number": 7})])
        llm.reply_text("Issue 7 is still open; Dana has it.")
        await run_now(bot, fake, dm, alice, task_id, "Dana has it")
        tools = {tool["function"]["name"] for tool in llm.requests[0]["tools"]}
        assert "tracker__lookup_issue" in tools
        assert llm.requests[1]["messages"][-1]["content"] == (
            "Issue #7: Compiler crashes on nested closures (open, assigned to Dana)"
        )
        assert "lookup_issue 7" in log.read_text()
    finally:
        await bot.stop()
    # The server stopped with the bot.
    pid = int(log.read_text().splitlines()[0].split()[1])
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_past_its_budget_a_chat_is_told_once_and_the_model_is_not_called(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url, chat_monthly_budget_usd=0.01)
    try:
        task_id = await create_task(fake, dm, alice, "every day at 9 summarize the news")
        # 100,000 + 10,000 tokens of gpt-4o-mini: $0.015 + $0.006.
        llm.reply_text("The news.", prompt_tokens=100_000, completion_tokens=10_000)
        await run_now(bot, fake, dm, alice, task_id, "The news.")

        notice = await run_now(bot, fake, dm, alice, task_id, "did not run")
        assert notice.text == (
            f"💸 Task #{task_id} Summarize the news did not run: this chat has spent $0.02 of "
            "its $0.01 monthly budget. Runs start again next month; /usage shows where it went."
        )
        assert len(llm.requests) == 1
        # Its scheduled run the next morning is skipped too, without a second notice that day…
        bot.clock.current = datetime(2026, 11, 27, 8, 0, tzinfo=BERLIN)
        await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
        runs = await bot.history(ALICE, task_id)
        assert [run.status for run in runs[:2]] == [RunStatus.SKIPPED, RunStatus.SKIPPED]
        assert runs[0].reason == BudgetSpent()
        notices = [m for m in fake.messages(dm) if "did not run" in m.text]
        assert len(notices) == 2  # the 26th's and the 27th's
        assert len(llm.requests) == 1

        await fake.send_text(dm, alice, "/usage")
        report = await fake.wait_for_message(dm, lambda m: "Usage in" in m.text)
        assert report.text.splitlines() == [
            "💰 Usage in November 2026 (UTC)",
            f"#{task_id} Summarize the news: 1 run · 110,000 tokens · $0.0210",
            "Total: 1 run · 110,000 tokens · $0.0210",
            "🤖 By model (the model that answered each run):",
            "• openai/gpt-4o-mini: 1 run · 110,000 tokens · $0.0210",
            "The monthly budget of $0.01 is spent: runs are skipped until the month ends.",
        ]

        # December: the task runs again.
        bot.clock.current = datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)
        llm.reply_text("December news.")
        await run_now(bot, fake, dm, alice, task_id, "December news.")
        assert len(llm.requests) == 2
    finally:
        await bot.stop()


async def test_past_its_budget_a_chat_gets_no_model_reading_its_requests_but_the_rules_still_work(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(
        fake, llm, pg_url, chat_monthly_budget_usd=0.01, parser_model="openai/gpt-4o-mini"
    )
    try:
        # A request the rules decline goes to the model, on the chat's bill: $0.0210.
        llm.reply_tool_calls(
            [(TOOL_NAME, {"understood": False, "reason": "When should I remind you?"})],
            prompt_tokens=100_000,
            completion_tokens=10_000,
        )
        since = fake.checkpoint()
        await fake.send_text(dm, alice, "remind me about the dentist sometime")
        await fake.wait_for_message(dm, lambda m: "When should I remind you" in m.text, since=since)
        assert len(llm.requests) == 1

        since = fake.checkpoint()
        await fake.send_text(dm, alice, "remind me about the dentist sometime")
        refused = await fake.wait_for_message(dm, lambda m: "budget" in m.text, since=since)
        assert refused.text == (
            "💸 This chat's monthly budget is spent, so the language model was not asked to read "
            "this request. Requests the rules understand still work, e.g. “every weekday at 9 "
            "summarize the news” or “0 9 * * 1-5 summarize the news”; /usage shows where the "
            "budget went."
        )
        assert len(llm.requests) == 1

        # What the rules read needs no model: the card comes as ever.
        since = fake.checkpoint()
        await fake.send_text(dm, alice, "every day at 9 call the dentist")
        card = await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"), since=since)
        assert "Call the dentist" in card.text
        assert len(llm.requests) == 1
    finally:
        await bot.stop()


async def test_usage_without_a_budget_says_so(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url)
    try:
        await fake.send_text(dm, alice, "/usage")
        report = await fake.wait_for_message(dm, lambda m: "Usage in" in m.text)
        assert report.text.splitlines() == [
            "💰 Usage in November 2026 (UTC)",
            "Nothing was spent this month yet.",
            "No monthly budget is set.",
        ]
        assert "usage" in [name for name, _ in fake.commands]
    finally:
        await bot.stop()


async def test_a_request_read_by_the_llm_parser_is_on_the_chats_bill(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, dm: FakeChat, alice: FakeUser
) -> None:
    bot = await started(fake, llm, pg_url, parser_model="openai/gpt-4o-mini")
    try:
        llm.reply_tool_calls(
            [
                (
                    TOOL_NAME,
                    {
                        "understood": True,
                        "kind": "cron",
                        "cron": "30 7 * * 1",
                        "prompt": "water the ficus",
                    },
                )
            ],
            prompt_tokens=2_000,
            completion_tokens=100,
        )
        await fake.send_text(dm, alice, "whenever the week starts, early, water the ficus")
        await fake.wait_for_message(dm, lambda m: m.has_button("Confirm"))
        await fake.send_text(dm, alice, "/usage")
        report = await fake.wait_for_message(dm, lambda m: "Usage in" in m.text)
        assert report.text.splitlines()[1] == (
            "Schedule requests read by the model: 2,100 tokens · $0.0004"
        )
    finally:
        await bot.stop()

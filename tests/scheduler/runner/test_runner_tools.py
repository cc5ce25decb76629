"""The runner with web search, MCP tools and the monthly budget: real LiteLLM against the fake
OpenAI-compatible server, a fake SearXNG, a real MCP server, real databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from application.access import Access, NoMembers
from application.permissions import Actor
from application.usage import PARSE, Ledger, UsageReports
from core.reasons import BudgetSpent, DatabaseUnavailable
from core.settings import AllowedUsers
from scheduler.llm import LiteLLMSearch
from scheduler.runner.tools.mcp import McpServers
from scheduler.runner.tools.web_search import WebSearchToolset
from storage import tasks
from storage.records import RunStatus
from tests.busy_pool import busy_pool
from tests.fakes.clock import FakeClock
from tests.fakes.llm import FakeLLM
from tests.fakes.mcp_tracker import stdio_config
from tests.fakes.searxng import FakeSearXNG
from tests.scheduler.runner.test_runner import CHAT, START, Sessions, make_world

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def searx() -> AsyncIterator[FakeSearXNG]:
    async with FakeSearXNG() as server:
        yield server


async def test_web_search_reaches_the_provider_and_the_answer_the_chat(
    sessions: Sessions, llm: FakeLLM, searx: FakeSearXNG
) -> None:
    searx.results["rust compiler news"] = [
        ("Rust 1.99 released", "https://blog.rust-lang.org/1.99", "Faster incremental builds.")
    ]
    search = LiteLLMSearch(provider="searxng", api_base=searx.base_url, api_key=None)
    world = make_world(sessions, llm, toolsets=[WebSearchToolset(search)])
    task = await world.task("Every morning, the news about the Rust compiler")
    llm.reply_tool_calls([("web_search", {"query": "rust compiler news"}), ("current_time", {})])
    llm.reply_tool_calls([("web_search", {"query": "rustc release notes"})])
    llm.reply_text("Rust 1.99 is out with faster incremental builds.")

    run = await world.run(task)

    assert run.status is RunStatus.SUCCEEDED
    assert searx.queries == ["rust compiler news", "rustc release notes"]
    first = llm.requests[0]
    assert "web_search" in {tool["function"]["name"] for tool in first["tools"]}
    assert "Use web_search to find current pages" in first["messages"][0]["content"]
    tool_message = llm.requests[1]["messages"][-2]
    assert tool_message["role"] == "tool"
    assert "1. Rust 1.99 released\n   https://blog.rust-lang.org/1.99" in tool_message["content"]
    assert world.delivery.results == [(task.id, "Rust 1.99 is out with faster incremental builds.")]
    assert run.tool_calls == (("web_search", 2), ("current_time", 1))


async def test_a_failing_search_is_a_tool_error_and_the_run_goes_on(
    sessions: Sessions, llm: FakeLLM, searx: FakeSearXNG
) -> None:
    searx.fail_with = 503
    search = LiteLLMSearch(provider="searxng", api_base=searx.base_url, api_key=None)
    world = make_world(sessions, llm, toolsets=[WebSearchToolset(search)])
    task = await world.task("News")
    llm.reply_tool_calls([("web_search", {"query": "news"})])
    llm.reply_text("I could not search today.")
    run = await world.run(task)
    assert run.status is RunStatus.SUCCEEDED
    tool_message = llm.requests[1]["messages"][-1]
    assert tool_message["content"].startswith(
        "error: the search provider searxng failed (HTTP 503)"
    )


async def test_an_mcp_tool_is_called_and_its_answer_reaches_the_chat(
    sessions: Sessions, llm: FakeLLM, tmp_path: Path
) -> None:
    servers = McpServers([stdio_config(log=tmp_path / "calls.log")])
    try:
        world = make_world(sessions, llm, toolsets=servers.servers)
        task = await world.task("Tell me the state of issue 7")
        llm.reply_tool_calls([("tracker__lookup_issue", {"number": 7})])
        llm.reply_text("Issue 7 is still open and assigned to Dana.")
        run = await world.run(task)
        assert run.status is RunStatus.SUCCEEDED
        assert llm.requests[1]["messages"][-1]["content"] == (
            "Issue #7: Compiler crashes on nested closures (open, assigned to Dana)"
        )
        assert world.delivery.results == [(task.id, "Issue 7 is still open and assigned to Dana.")]
        assert run.tool_calls == (("tracker__lookup_issue", 1),)
        assert "lookup_issue 7" in (tmp_path / "calls.log").read_text()
    finally:
        await servers.stop()


async def test_a_run_whose_budget_check_finds_no_free_connection_fails_for_now_and_tries_again(
    sessions: Sessions, llm: FakeLLM, pg_url: str
) -> None:
    """Under CPU starvation the pool's checkouts timed out and such runs failed with
    internal_error, for good; the database being busy heals, so the run tries again."""
    clock = FakeClock(START)
    async with busy_pool(pg_url) as starved:
        usage = Ledger(starved, clock, budget_usd=5.0)
        world = make_world(sessions, llm, budget=usage, clock=clock, retry_delays=(60.0, 300.0))
        task = await world.task("Summarize the news")
        run = await world.run(task)

    assert run.status is RunStatus.FAILED
    assert run.reason == DatabaseUnavailable()
    assert run.reason.transient
    assert run.retry_at == START + timedelta(seconds=60)
    assert world.delivery.failures == [(task.id, DatabaseUnavailable())]
    assert llm.requests == []


async def test_past_the_budget_runs_are_skipped_without_the_llm_and_the_chat_told_once_a_day(
    sessions: Sessions, llm: FakeLLM
) -> None:
    clock = FakeClock(datetime(2026, 11, 29, 9, 0, tzinfo=UTC))
    usage = Ledger(sessions, clock, budget_usd=0.0001)
    world = make_world(sessions, llm, budget=usage, clock=clock)
    task = await world.task("Summarize the news")
    llm.reply_text("Done.", prompt_tokens=1000, completion_tokens=500)
    first = await world.run(task)
    assert first.status is RunStatus.SUCCEEDED
    assert first.cost is not None
    assert first.cost >= 0.0001
    reached = await usage.reached(CHAT)
    assert reached is not None
    assert reached.spent_usd == pytest.approx(first.cost)

    second = await world.run(task)
    assert second.status is RunStatus.SKIPPED
    assert second.reason == BudgetSpent()
    assert len(llm.requests) == 1  # the model was not asked
    assert world.delivery.over_budget == [(task.id, pytest.approx(first.cost), 0.0001)]

    clock.current += timedelta(hours=3)  # same day in Berlin: not told again
    third = await world.run(task)
    assert third.status is RunStatus.SKIPPED
    assert len(world.delivery.over_budget) == 1

    clock.current = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # the next day: told again
    await world.run(task)
    assert len(world.delivery.over_budget) == 2

    clock.current = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)  # still November in UTC
    assert (await world.run(task)).status is RunStatus.SKIPPED

    clock.current = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # a new month: runs again
    llm.reply_text("December news.")
    december = await world.run(task)
    assert december.status is RunStatus.SUCCEEDED
    assert len(llm.requests) == 2
    # A skipped run is not a failure: the task stays active.
    async with sessions() as session:
        current = await tasks.get(session, task.id)
    assert current is not None
    assert current.consecutive_failures == 0


async def test_usage_counts_runs_parses_and_deleted_tasks_for_the_month(
    sessions: Sessions, llm: FakeLLM
) -> None:
    clock = FakeClock(START)
    usage = Ledger(sessions, clock, budget_usd=5.0)
    world = make_world(sessions, llm, budget=usage, clock=clock)
    kept = await world.task("Summarize the news")
    gone = await world.task("Check the weather")
    llm.reply_text("One.", prompt_tokens=100, completion_tokens=10)
    llm.reply_text("Two.", prompt_tokens=200, completion_tokens=20)
    llm.reply_text("Three.", prompt_tokens=300, completion_tokens=30)
    await world.run(kept)
    await world.run(kept)
    await world.run(gone)
    await usage.record(CHAT, kind=PARSE, prompt_tokens=50, completion_tokens=5, cost=None)
    async with sessions() as session, session.begin():
        await tasks.delete(session, gone.id)

    # What /usage shows of the same ledger.
    access = Access(sessions, AllowedUsers(everyone=True), NoMembers(), clock)
    reports = UsageReports(sessions, clock, 5.0, access)
    report = await reports.month(Actor.operator(), CHAT)
    assert report.month_start == datetime(2026, 11, 1, tzinfo=UTC)
    first, deleted, parse = report.lines
    assert (first.task_id, first.name, first.runs, first.tokens) == (kept.id, kept.name, 2, 330)
    assert first.cost > 0
    assert first.unpriced == 0
    assert (parse.kind, parse.runs, parse.tokens, parse.cost) == (PARSE, 0, 55, 0)
    assert parse.unpriced == 1
    assert (deleted.task_id, deleted.runs, deleted.tokens) == (None, 1, 330)
    assert report.runs == 3
    assert report.tokens == 715
    assert report.left_usd == pytest.approx(5.0 - report.cost)

    clock.current = datetime(2026, 12, 1, tzinfo=UTC)
    assert (await reports.month(Actor.operator(), CHAT)).lines == ()

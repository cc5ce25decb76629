"""Faults a user meets through the bot: odd URLs in a run, a database that goes away, delivery
that fails, presses that race. The real PTB Application over the fake Bot API and fake LLM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.migrate import upgrade_to_head
from storage.records import RunStatus, TaskState
from tests.bot_harness import (
    ALICE,
    BERLIN,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
    create_task,
)
from tests.fakes.llm import FakeLLM, TextReply
from tests.fakes.telegram import FakeChat, FakeTelegram, FakeUser
from tests.postgres import PrivateServer, throwaway_server

pytestmark = pytest.mark.usefixtures("litellm_imported")

DAILY = "every day at 9am summarize the news"
ROOT = Path(__file__).resolve().parents[2]
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


# --- A: the database goes away during runs -----------------------------------------------------


@pytest.fixture
def private_pg() -> Iterator[tuple[PrivateServer, str]]:
    """A PostgreSQL server of this test's own, migrated, which the test stops and starts (the
    shared server on 5432 is never touched)."""
    with throwaway_server() as server:
        url = server.create_database()
        asyncio.run(upgrade_to_head(url))
        yield server, url


async def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - other tasks change what it reads
            await asyncio.sleep(0.02)


async def test_a_database_outage_during_runs_loses_nothing(
    fake: FakeTelegram,
    llm: FakeLLM,
    private_pg: tuple[PrivateServer, str],
    dm: FakeChat,
    alice: FakeUser,
) -> None:
    server, url = private_pg
    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, url), FakeClock(NOW))
    await bot.start()
    try:
        ids = [
            await create_task(fake, dm, alice, f"every day at 9am report number {n}")
            for n in range(3)
        ]
        # Three runs are in their LLM call when the database goes away.
        thinking = asyncio.Event()
        for n in range(3):
            llm.reply_when(thinking, TextReply(f"Answer {n} is ready."))
        bot.clock.current = NEXT_NINE
        claims = await bot.engine.claim_due()
        assert [c.run.status for c in claims] == [RunStatus.RUNNING] * 3
        await wait_until(lambda: len(llm.requests) == 3)
        server.stop()

        # The answers arrive while the database is away…
        since = fake.checkpoint()
        thinking.set()
        for n in range(3):
            await fake.wait_for_message(dm, lambda m, n=n: f"Answer {n}" in m.text, since=since)
        # …and the bot still answers, asking to try again in a moment.
        await fake.send_text(dm, alice, "/tasks")
        busy = await fake.wait_for_message(dm, lambda m: "try again in a moment" in m.text)
        assert "database" in busy.text

        server.start()
        await bot.engine.wait_idle()
        posted = {m.message_id: m.text for m in fake.messages(dm) if "Answer " in m.text}
        outputs = []
        for task_id in ids:
            [run] = await bot.history(ALICE, task_id)
            assert run.status is RunStatus.SUCCEEDED
            assert run.output is not None
            assert run.delivered_message_id is not None
            assert run.output in posted[run.delivered_message_id]
            assert not run.delivery_pending
            outputs.append(run.output)
        assert sorted(outputs) == [f"Answer {n} is ready." for n in range(3)]

        # The tasks are not stuck: the next day's runs run, they are not skipped.
        for n in range(3):
            llm.reply_text(f"Next day {n}.")
        next_runs = await bot.fire_due(NEXT_NINE + timedelta(days=1))
        assert [r.status for r in next_runs] == [RunStatus.RUNNING] * 3
        for task_id in ids:
            statuses = [r.status for r in await bot.history(ALICE, task_id)]
            assert statuses == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    finally:
        await bot.stop()


# --- A2: delivery that fails -------------------------------------------------------------------


async def test_a_result_rides_out_server_errors_and_flood_waits(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, DAILY)
    fake.fail_next("sendMessage", 502, "Bad Gateway")
    fake.fail_next("sendMessage", 500, "Internal Server Error")
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1, times=5)
    llm.reply_text("Today's news, at last.")
    since = fake.checkpoint()
    await bot.fire_due(NEXT_NINE)
    result = await fake.wait_for_message(dm, lambda m: "at last" in m.text, since=since)
    assert [e.error_code for e in fake.errors] == [502, 500, 429, 429, 429, 429, 429]
    [run] = await bot.history(ALICE, task_id)
    assert run.status is RunStatus.SUCCEEDED
    assert run.delivered_message_id == result.message_id
    assert not run.delivery_pending


async def test_history_shows_a_result_not_delivered_yet(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, DAILY)
    fake.fail_next("sendMessage", 502, "Bad Gateway", times=10_000, text_contains="stuck")
    llm.reply_text("This one is stuck.")
    bot.clock.current = NEXT_NINE
    await bot.engine.claim_due()
    await wait_until(lambda: len(fake.errors) >= 3)
    await fake.send_text(dm, alice, f"/history {task_id}")
    history = await fake.wait_for_message(dm, lambda m: "Last runs" in m.text)
    assert "not delivered yet" in history.text
    # Telegram takes messages again: the result arrives and the history says no more.
    fake.clear_faults()
    await fake.wait_for_message(dm, lambda m: "This one is stuck." in m.text)
    await bot.engine.wait_idle()
    [run] = await bot.history(ALICE, task_id)
    assert not run.delivery_pending
    assert run.delivered_message_id is not None


async def test_a_chat_that_is_gone_is_not_retried(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, dm: FakeChat, alice: FakeUser
) -> None:
    task_id = await create_task(fake, dm, alice, DAILY)
    fake.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    llm.reply_text("Nobody will read this.")
    await bot.fire_due(NEXT_NINE)
    [run] = await bot.history(ALICE, task_id)
    assert not run.delivery_pending
    assert run.delivery_error == "Forbidden: bot was blocked by the user"
    assert [e.error_code for e in fake.errors] == [403]
    [task] = await bot.tasks_of(ALICE)
    assert task.state is TaskState.PAUSED


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_cronpilot(
    fake: FakeTelegram, llm: FakeLLM, database: Path
) -> asyncio.subprocess.Process:
    """`cronpilot run` as a process, against the fakes, logging JSON to stderr."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "TELEGRAM_", "LLM_", "WEBHOOK_", "HEALTH_", "HTTP_"))
    }
    environment.update(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "LLM_API_BASE": llm.base_url,
            "LLM_API_KEY": "sk-process-test-key",
            "ALLOWED_USERS": str(ALICE),
            "PARSER_MODEL": "off",
            "LOG_FORMAT": "json",
            "PYTHONPATH": str(ROOT),
        }
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cronpilot.cli",
        "run",
        cwd=database.parent,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_cronpilot(process: asyncio.subprocess.Process) -> list[dict[str, Any]]:
    """SIGTERM; the process must exit 0. Returns its JSON log lines."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    text = stderr.decode()
    assert process.returncode == 0, text[-3000:]
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def stored_run(database: Path) -> tuple[str, int, int | None]:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        row = connection.execute(
            "SELECT status, delivery_pending, delivered_message_id FROM runs"
        ).fetchone()
    return str(row[0]), int(row[1]), row[2]


@pytest.mark.timeout(240)
async def test_sigterm_while_waiting_out_a_flood_wait_and_the_result_after_restart(
    fake: FakeTelegram, llm: FakeLLM, tmp_path: Path, dm: FakeChat, alice: FakeUser
) -> None:
    database = tmp_path / "bot.db"
    process = await start_cronpilot(fake, llm, database)
    try:
        await fake.send_text(dm, alice, "/start")
        await fake.wait_for_message(dm, timeout=60)
        task_id = await create_task(fake, dm, alice, DAILY)
        thinking = asyncio.Event()
        llm.reply_when(thinking, TextReply("The flooded result."))
        await fake.send_text(dm, alice, f"/run {task_id}")
        await fake.wait_for_message(dm, lambda m: f"task #{task_id} now" in m.text)
        fake.fail_next(
            "sendMessage",
            429,
            "Too Many Requests: retry after 30",
            retry_after=30,
            times=1000,
            text_contains="flooded",
        )
        thinking.set()
        await wait_until(lambda: any(e.error_code == 429 for e in fake.errors), timeout=30)
    finally:
        events = await stop_cronpilot(process)
    assert "bot.stopping" in [e["event"] for e in events]
    assert [e for e in events if e.get("level") in ("error", "critical")] == []
    # Recorded as succeeded and still owed to the chat: nothing half-written.
    assert stored_run(database) == ("succeeded", 1, None)

    # Telegram takes messages again; the next start sends what was owed.
    fake.clear_faults()
    since = fake.checkpoint()
    process = await start_cronpilot(fake, llm, database)
    try:
        result = await fake.wait_for_message(
            dm, lambda m: "The flooded result." in m.text, since=since, timeout=60
        )
        await wait_until(lambda: stored_run(database)[1] == 0, timeout=30)
    finally:
        events = await stop_cronpilot(process)
    assert "delivery.adopted" in [e["event"] for e in events]
    assert stored_run(database) == ("succeeded", 0, result.message_id)
    assert len([m for m in fake.messages(dm) if "The flooded result." in m.text]) == 1

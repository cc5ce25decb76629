"""The terminal front door as an operator meets it: `cronpilot chat` driven through its stdin,
`cronpilot tasks` / `cronpilot runs` on the same database, and the plain-words commands
`migrate` and `check`. Real processes, a real SQLite file, the fake LLM over HTTP."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from pathlib import Path

import pytest

from application.permissions import Actor, Door
from core.reasons import EmptyAnswer, FailedInARow, ModelNotFound
from core.settings import AllowedUsers, Settings
from cronpilot.runtime import assemble
from scheduler.clock import SystemClock
from scheduler.llm import LiteLLMClient
from storage.records import RunStatus
from terminal import text
from terminal.delivery import TerminalDelivery
from tests.cronpilot.process import run_cronpilot
from tests.fakes.llm import FakeLLM
from tests.fakes.records import a_run, a_task
from tests.fakes.telegram import FakeTelegram
from tests.postgres import Server

pytestmark = pytest.mark.usefixtures("litellm_imported")


def environment(tmp_path: Path, llm: FakeLLM | None = None) -> dict[str, str]:
    values = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cronpilot.db'}",
        "PARSER_MODEL": "off",
        "DEFAULT_TIMEZONE": "Europe/Berlin",
    }
    if llm is not None:
        values |= {"LLM_API_BASE": llm.base_url, "LLM_API_KEY": "sk-terminal-test-0123456789"}
    return values


# Eight processes, each bounded by run_cronpilot's own 120 s: together about 45 s of CPU (about
# 4 s each to import the package, and LiteLLM's import of about 5 s more in the two that need
# the model: `chat`'s cost estimate and `tasks run`), nothing waited on besides; 120 s for all
# of them was too little on a shared machine under load.
@pytest.mark.timeout(360)
async def test_chat_then_operate_the_task_from_the_command_line(
    tmp_path: Path, llm: FakeLLM
) -> None:
    env = environment(tmp_path, llm)
    llm.reply_text("Three stories about <b>Rust</b> today.")
    conversation = "\n".join(
        [
            "hello",
            "every day at 9 read the news",
            "every day at 10 read the news",  # replaces the card: one live card
            "/model huge",
            "/model fast",
            "yes",
            "/tasks",
            "/run 1",
            "/task 1",
            "/history 1",
            "/frobnicate",
            "/quit",
        ]
    )
    env["MODELS"] = "fast=openai/gpt-4o-mini"
    chat = await run_cronpilot(tmp_path, env, "chat", stdin=conversation + "\n")
    assert chat.status == 0, chat.output
    said = chat.stdout
    assert "PARSER_MODEL=off" in said
    assert "runs need" in said.lower() or "still needs a model" in said
    assert "🤔 I couldn't find a schedule in that." in said
    # Two requests, and the second card again with its new model.
    assert said.count("Schedule this task?") == 3
    # The card names the model and says what the task will cost, worded as the bot's card;
    # /model picks another one of MODELS.
    assert "  Model:     openai/gpt-4o-mini" in said
    assert "❌ No model named 'huge'; MODELS names fast." in said
    assert "  Model:     fast" in said
    assert re.search(r"Cost: +≈ \$0\.00075 a run, ≈ \$0\.02\d a month \(estimate\)", said)
    assert "✅ Scheduled — task #1" in said
    # It says plainly that this terminal does not run tasks on their schedule.
    assert "this terminal does not run tasks on their schedule" in said
    assert "/run 1 runs it now" in said
    assert re.search(r"#1 Read the news · [^\n]*10:00[^\n]* · active", said)
    assert "Three stories about <b>Rust</b> today." in said
    assert "manual · succeeded" in said
    # After a run, /task 1 estimates from what its runs cost (the fake LLM's tokens).
    task_card = said[said.index("Task #1 · ") :]
    assert re.search(r"Cost: +≈ \$[0-9.]+ a run, ≈ \$[0-9.,]+ a month \(estimate\)", task_card)
    assert "15 tokens (10 in, 5 out)" in said
    assert "I don't know the command /frobnicate." in said

    listed = await run_cronpilot(tmp_path, env, "tasks", "--json")
    assert listed.status == 0, listed.output
    [task] = json.loads(listed.stdout)
    assert (task["id"], task["cron"], task["state"]) == (1, "0 10 * * *", "active")
    assert llm.requests[0]["model"] == "gpt-4o-mini"

    paused = await run_cronpilot(tmp_path, env, "tasks", "pause", "1")
    assert paused.status == 0
    assert "paused" in paused.stdout.splitlines()[0]
    again = await run_cronpilot(tmp_path, env, "tasks", "pause", "1")
    assert again.status == 1
    assert again.stderr.strip() == "cronpilot: task #1 is paused, not active"

    llm.reply_text("NOTHING_TO_REPORT")
    ran = await run_cronpilot(tmp_path, env, "tasks", "run", "1", "--json")
    assert ran.status == 0, ran.output
    assert json.loads(ran.stdout)["status"] == "silent"

    runs = await run_cronpilot(tmp_path, env, "runs", "1", "--json")
    assert [run["status"] for run in json.loads(runs.stdout)] == ["silent", "succeeded"]
    missing = await run_cronpilot(tmp_path, env, "tasks", "show", "7", "--json")
    assert missing.status == 1
    assert json.loads(missing.stdout) == {"error": "there is no task #7"}
    deleted = await run_cronpilot(tmp_path, env, "tasks", "delete", "1")
    assert deleted.stdout.strip() == "deleted task #1 Read the news"


async def _telegram_task(database_url: str, chat_id: int) -> None:
    """A task made in a Telegram chat, through the application as the bot makes it."""
    settings = Settings(
        database_url=database_url,
        parser_model="off",
        allowed_users=AllowedUsers(ids=frozenset({chat_id})),
    )
    runtime = assemble(
        settings,
        TerminalDelivery(io.StringIO()),
        clock=SystemClock(),
        llm=LiteLLMClient.from_settings(settings),
    )
    try:
        await runtime.use_cases.chats.see(chat_id, type="private", title="Alice")
        alice = Actor(chat_id, Door.BOT, chat_id=chat_id, chat_type="private")
        card = await runtime.use_cases.drafts.create(alice, chat_id, "every day at 9 read the news")
        await runtime.use_cases.drafts.confirm(alice, card.draft_id)
    finally:
        await runtime.database.dispose()


async def test_tasks_run_posts_the_result_to_the_chat_as_run_now_does(
    tmp_path: Path, llm: FakeLLM, fake: FakeTelegram
) -> None:
    alice = fake.user(4242, "Alice")
    dm = fake.private_chat(alice)
    env = environment(tmp_path, llm)
    assert (await run_cronpilot(tmp_path, env, "migrate")).status == 0
    await _telegram_task(env["DATABASE_URL"], dm.id)

    # Without a token the result is shown here, and it says it was not posted.
    llm.reply_text("Nothing posted this time.")
    alone = await run_cronpilot(tmp_path, env, "tasks", "run", "1")
    assert alone.status == 0, alone.output
    assert "not posted to the chat: TELEGRAM_BOT_TOKEN is not set" in alone.stdout
    assert "Nothing posted this time." in alone.stdout
    assert fake.messages(dm) == []

    with_bot = env | {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
    llm.reply_text("Three stories about **Rust** today.")
    ran = await run_cronpilot(tmp_path, with_bot, "tasks", "run", "1")
    assert ran.status == 0, ran.output
    assert f"posted to chat {dm.id}" in ran.stdout
    assert "Three stories about **Rust** today." in ran.stdout
    [result] = fake.messages(dm)
    assert result.text.startswith("📋 Read the news · task #1")
    assert "Three stories about Rust today." in result.text
    assert "Rust" in result.entity_texts("bold")
    assert result.button_labels == ["🔁 Run again", "⏸ Pause"]
    assert fake.token.split(":")[1] not in ran.output
    runs = await run_cronpilot(tmp_path, env, "runs", "1", "--json")
    assert [run["status"] for run in json.loads(runs.stdout)] == ["succeeded", "succeeded"]


async def test_migrate_says_whether_it_changed_anything(tmp_path: Path) -> None:
    env = environment(tmp_path)
    first = await run_cronpilot(tmp_path, env, "migrate")
    assert first.status == 0, first.output
    assert "upgraded from an empty database to revision" in first.stdout
    second = await run_cronpilot(tmp_path, env, "migrate")
    assert "already at the newest revision" in second.stdout
    assert "no change" in second.stdout


async def test_check_speaks_plainly(tmp_path: Path, pg_server: Server) -> None:
    invalid = await run_cronpilot(
        tmp_path,
        {"MAX_TASKS_PER_CHAT": "many", "MIN_INTERVAL_SECONDS": "5", "LOG_LEVEL": "loud"},
        "check",
    )
    assert invalid.status == 2
    assert invalid.lines == [
        "✗ settings: MAX_TASKS_PER_CHAT: must be a whole number, such as 25 — "
        "fix it in .env or in the environment",
        "✗ settings: MIN_INTERVAL_SECONDS: must be at least 60 — "
        "fix it in .env or in the environment",
        "✗ settings: LOG_LEVEL: must be one of 'DEBUG', 'INFO', 'WARNING' or 'ERROR' — "
        "fix it in .env or in the environment",
    ]
    # A server that answers, and a database that is not there.
    url = pg_server.database_url("cronpilot_never_created")
    missing = await run_cronpilot(tmp_path, {"DATABASE_URL": url, "PARSER_MODEL": "off"}, "check")
    [database] = [line for line in missing.lines if line.startswith("✗ database")]
    assert "does not exist" in database
    assert "create it with `createdb -h" in database
    [parser] = [line for line in missing.lines if "parser model" in line]
    assert parser.startswith("✓ parser model: off")


async def test_the_terminal_words_a_reason_in_english_and_shows_its_code_and_facts() -> None:
    task = a_task(id=1, name="Read the news")
    reason = ModelNotFound(model="openai/gpt-x", status=404)
    run = a_run(task, status=RunStatus.FAILED, output=None, reason=reason)
    message = "model openai/gpt-x or its API was not found (HTTP 404)"
    assert text.run_line(run, "UTC").endswith(f"\n    error: {message}")
    shown = text.run_json(run)
    assert shown["error"] == message
    assert shown["reason"] == {
        "code": "model_not_found",
        "facts": {"model": "openai/gpt-x", "status": 404},
        "message": message,
    }
    assert text.run_json(dataclasses.replace(run, reason=None))["reason"] is None

    out = io.StringIO()
    delivery = TerminalDelivery(out)
    await delivery.send_failure(task, run, reason)
    await delivery.send_paused(task, FailedInARow(count=3, error=EmptyAnswer()))
    assert out.getvalue().splitlines() == [
        f"⚠️ Task #1 failed: {message}",
        "⏸ Task #1 Read the news is paused: it failed 3 times in a row; the last error was: "
        "the model gave an empty answer",
    ]

"""`cronpilot check` against real SQLite files, the fake Bot API and the fake LLM over HTTP."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from core.checks import CheckResult
from core.errors import ConfigurationError
from core.reasons import CallFailed
from core.settings import Settings
from cronpilot.check import (
    check_database,
    check_llm,
    check_settings,
    check_telegram,
    check_voice,
    exit_status,
    render,
    run_checks,
    settings_failed,
)
from scheduler.llm import Completion, LiteLLMClient, PermanentLLMError
from scheduler.transcription import LiteLLMTranscriber
from storage.migrate import RevisionState, alembic_config
from tests.fakes.llm import ErrorReply, FakeLLM, Reply, TextReply
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

API_KEY = "sk-test-cronpilot-check-0123456789"
WRONG_TOKEN = "987654321:AAWrongTokenWrongTokenWrongToken12345"
UNREACHABLE_POSTGRES = "postgresql+asyncpg://cronpilot:pa55word-x@127.0.0.1:9/cronpilot"
NOT_LISTENING = "http://127.0.0.1:9"
MIGRATE = "run `cronpilot migrate`"

# The newest revision, whichever it is now.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields or name.endswith("_API_KEY"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def make_settings(**values: Any) -> Settings:
    values.setdefault("allowed_users", "42")
    return Settings(_env_file=None, **values)


def file_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


# --- the whole run ------------------------------------------------------------------------------


async def test_everything_ok(sqlite_url: str, telegram: FakeTelegram, llm: FakeLLM) -> None:
    llm.reply_text("OK")
    settings = make_settings(
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        database_url=sqlite_url,
        llm_api_base=llm.base_url,
        llm_api_key=API_KEY,
    )
    results = await run_checks(settings)
    assert render(results) == (
        "✓ settings: valid: long polling, 1 allowed user, default time zone UTC\n"
        f"✓ database: {sqlite_url} is at revision {HEAD} (newest)\n"
        "✓ telegram: connected as @cronpilot_test_bot (bot id 123456789)\n"
        '✓ llm: openai/gpt-4o-mini answered "OK"'
    )
    assert exit_status(results) == 0
    assert [call.method for call in telegram.calls] == ["getMe"]
    assert llm.requests[0]["model"] == "gpt-4o-mini"
    assert llm.requests[0]["messages"] == [{"role": "user", "content": "Reply with OK"}]
    assert llm.requests[0].headers["Authorization"] == f"Bearer {API_KEY}"


async def test_everything_failing_says_what_to_fix_and_no_secret(tmp_path: Path) -> None:
    settings = make_settings(
        telegram_bot_token=WRONG_TOKEN,
        telegram_api_base_url=f"{NOT_LISTENING}/bot",
        database_url=UNREACHABLE_POSTGRES,
        llm_api_base=f"{NOT_LISTENING}/v1",
        llm_api_key=API_KEY,
    )
    results = await run_checks(settings)
    output = render(results)
    assert output == (
        "✓ settings: valid: long polling, 1 allowed user, default time zone UTC\n"
        "✗ database: cannot reach the database at "
        "postgresql+asyncpg://cronpilot:***@127.0.0.1:9/cronpilot: connection refused "
        "(is PostgreSQL running on that host and port?) — check DATABASE_URL and that the "
        "database server is running\n"
        "✗ telegram: cannot reach the Bot API at http://127.0.0.1:9/bot: connection refused — "
        "check the network and TELEGRAM_API_BASE_URL\n"
        "✗ llm: the provider did not answer: could not connect to the LLM provider — "
        "check LLM_API_BASE and the network, or try again later"
    )
    assert exit_status(results) == 1
    for secret in (WRONG_TOKEN, WRONG_TOKEN.partition(":")[2], API_KEY, "pa55word-x"):
        assert secret not in output


async def test_a_different_parser_model_is_checked_too(
    sqlite_url: str, telegram: FakeTelegram
) -> None:
    def by_model(body: Mapping[str, Any]) -> Reply:
        if body["model"] == "gpt-nope":
            return ErrorReply(404, "The model `gpt-nope` does not exist")
        return TextReply("OK")

    async with FakeLLM(default=by_model) as llm:
        settings = make_settings(
            telegram_bot_token=telegram.token,
            telegram_api_base_url=telegram.base_url,
            database_url=sqlite_url,
            llm_api_base=llm.base_url,
            llm_api_key=API_KEY,
            parser_model="openai/gpt-nope",
        )
        results = await run_checks(settings)
    assert render(results).splitlines()[3:] == [
        '✓ llm: openai/gpt-4o-mini answered "OK"',
        "✗ parser model: model openai/gpt-nope or its API was not found (HTTP 404): The model "
        "`gpt-nope` does not exist — check PARSER_MODEL: provider/model, as in "
        "openai/gpt-4o-mini",
    ]
    assert exit_status(results) == 1


# --- settings -----------------------------------------------------------------------------------


def test_empty_token_and_allowed_users_are_warned_about() -> None:
    results = [check_settings(make_settings(allowed_users=""))]
    assert render(results) == (
        "! settings: valid, but TELEGRAM_BOT_TOKEN is not set and ALLOWED_USERS is empty, so "
        "the bot refuses everyone — get a token from @BotFather and put it in "
        "TELEGRAM_BOT_TOKEN; set ALLOWED_USERS to your Telegram user id (the bot tells it to "
        "anyone it refuses), or to * for everyone"
    )
    assert exit_status(results) == 0  # a warning alone does not fail the check


def test_valid_settings_are_summarised() -> None:
    settings = make_settings(
        telegram_bot_token=WRONG_TOKEN,
        allowed_users="*",
        webhook_url="https://bot.example.com/telegram",
        http_port=8080,
        default_timezone="Europe/Berlin",
    )
    assert render([check_settings(settings)]) == (
        "✓ settings: valid: webhook at https://bot.example.com/telegram, HTTP on port 8080, "
        "everyone may use the "
        "bot, default time zone Europe/Berlin"
    )


def test_settings_that_do_not_load_are_one_failed_line_each() -> None:
    error = ConfigurationError("DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone\nX: y")
    results = settings_failed(error)
    assert render(results) == (
        "✗ settings: DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA time zone — "
        "fix it in .env or in the environment\n"
        "✗ settings: X: y — fix it in .env or in the environment"
    )
    assert exit_status(results) == 1


# --- database -----------------------------------------------------------------------------------


async def test_database_at_head(sqlite_url: str) -> None:
    result = await check_database(make_settings(database_url=sqlite_url))
    assert result == CheckResult("database", True, f"{sqlite_url} is at revision {HEAD} (newest)")


async def test_database_with_no_tables_is_behind_head(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    sqlite3.connect(path).close()  # an empty SQLite file, as a first `touch` would leave
    result = await check_database(make_settings(database_url=file_url(path)))
    assert render([result]) == (
        f"✗ database: {file_url(path)} has no cronpilot tables yet (the newest revision is "
        f"{HEAD}) — {MIGRATE}"
    )


async def test_database_at_an_older_revision_is_behind_head(
    monkeypatch: pytest.MonkeyPatch, sqlite_url: str
) -> None:
    # Only one revision exists so far, so "older" is what revision_state would report.
    async def older(_url: str) -> RevisionState:
        return RevisionState(current="0001", head="0002")

    monkeypatch.setattr("cronpilot.check.revision_state", older)
    result = await check_database(make_settings(database_url=sqlite_url))
    assert render([result]) == (
        f"✗ database: {sqlite_url} is at revision 0001, behind the newest 0002 — {MIGRATE}"
    )


async def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "cronpilot.db"
    result = await check_database(make_settings(database_url=file_url(path)))
    assert render([result]) == f"✗ database: there is no SQLite file at {path} yet — {MIGRATE}"
    assert not path.exists()


async def test_a_missing_sqlite_folder_is_named(tmp_path: Path) -> None:
    path = tmp_path / "data" / "cronpilot.db"
    result = await check_database(make_settings(database_url=file_url(path)))
    assert render([result]) == (
        f"✗ database: the folder {path.parent} for the SQLite file {path} does not exist — "
        "create the folder, or point DATABASE_URL somewhere else"
    )


async def test_database_migrated_by_a_newer_cronpilot(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE cronpilot_alembic_version SET version_num = 'ffff9999'")
    connection.close()
    result = await check_database(make_settings(database_url=sqlite_url))
    assert render([result]) == (
        "✗ database: the database is at revision ffff9999, which this cronpilot does not know "
        f"(its newest is {HEAD}); it was migrated by a newer cronpilot, so upgrade cronpilot "
        "instead"
    )


async def test_unreachable_database() -> None:
    result = await check_database(make_settings(database_url=UNREACHABLE_POSTGRES))
    assert result == CheckResult(
        "database",
        False,
        "cannot reach the database at postgresql+asyncpg://cronpilot:***@127.0.0.1:9/cronpilot: "
        "connection refused (is PostgreSQL running on that host and port?)",
        "check DATABASE_URL and that the database server is running",
    )


# --- Telegram -----------------------------------------------------------------------------------


async def test_get_me_ok(telegram: FakeTelegram) -> None:
    settings = make_settings(
        telegram_bot_token=telegram.token, telegram_api_base_url=telegram.base_url
    )
    result = await check_telegram(settings)
    assert result == CheckResult(
        "telegram", True, "connected as @cronpilot_test_bot (bot id 123456789)"
    )


async def test_a_rejected_token(telegram: FakeTelegram) -> None:
    settings = make_settings(
        telegram_bot_token=WRONG_TOKEN, telegram_api_base_url=telegram.base_url
    )
    results = await run_checks(settings, llm=AnsweringLLM())
    output = render([result for result in results if result.name == "telegram"])
    assert output == (
        "✗ telegram: the token was rejected (HTTP 401 Unauthorized) — get a new one from "
        "@BotFather and put it in TELEGRAM_BOT_TOKEN"
    )
    assert telegram.errors[0].error_code == 401
    assert WRONG_TOKEN not in render(results)


async def test_a_wrong_api_base_path(telegram: FakeTelegram) -> None:
    base = telegram.base_url.removesuffix("/bot") + "/telegram/bot"
    settings = make_settings(telegram_bot_token=telegram.token, telegram_api_base_url=base)
    assert render([await check_telegram(settings)]) == (
        f"✗ telegram: the Bot API at {base} answered 404 Not Found — check "
        "TELEGRAM_API_BASE_URL (it ends in /bot) and TELEGRAM_BOT_TOKEN"
    )


async def test_an_unreachable_bot_api() -> None:
    settings = make_settings(
        telegram_bot_token=WRONG_TOKEN, telegram_api_base_url=f"{NOT_LISTENING}/bot"
    )
    assert render([await check_telegram(settings)]) == (
        "✗ telegram: cannot reach the Bot API at http://127.0.0.1:9/bot: connection refused — "
        "check the network and TELEGRAM_API_BASE_URL"
    )


async def test_no_token() -> None:
    assert render([await check_telegram(make_settings())]) == (
        "✗ telegram: TELEGRAM_BOT_TOKEN is not set — get a token from @BotFather and put it "
        "in TELEGRAM_BOT_TOKEN"
    )


# --- the LLM ------------------------------------------------------------------------------------


def llm_settings(api_base: str, **values: Any) -> Settings:
    return make_settings(llm_api_base=api_base, llm_api_key=API_KEY, **values)


async def test_llm_ok(llm: FakeLLM) -> None:
    llm.reply_text("OK, and a good morning to you, who asked me to reply with OK!")
    settings = llm_settings(llm.base_url)
    result = await check_llm(settings, LiteLLMClient.from_settings(settings))
    assert result == CheckResult(
        "llm", True, 'openai/gpt-4o-mini answered "OK, and a good morning to you, who aske…"'
    )


async def test_llm_rejects_the_key(llm: FakeLLM) -> None:
    llm.reply_error(401, f"Incorrect API key provided: {API_KEY}")
    settings = llm_settings(llm.base_url)
    output = render([await check_llm(settings, LiteLLMClient.from_settings(settings))])
    assert output == (
        "✗ llm: the LLM provider rejected the API key (HTTP 401) — check LLM_API_KEY (or the "
        "provider's own variable, such as OPENAI_API_KEY)"
    )
    assert API_KEY not in output


async def test_llm_provider_fails(llm: FakeLLM) -> None:
    llm.reply_error(500, "The server had an error while processing your request.")
    settings = llm_settings(llm.base_url)
    assert render([await check_llm(settings, LiteLLMClient.from_settings(settings))]) == (
        "✗ llm: the provider did not answer: the LLM provider failed (HTTP 500): The server had "
        "an error while processing your request. — check LLM_API_BASE and the network, or try "
        "again later"
    )


async def test_llm_unreachable() -> None:
    settings = llm_settings(f"{NOT_LISTENING}/v1")
    assert render([await check_llm(settings, LiteLLMClient.from_settings(settings))]) == (
        "✗ llm: the provider did not answer: could not connect to the LLM provider — check "
        "LLM_API_BASE and the network, or try again later"
    )


async def test_llm_unknown_model(llm: FakeLLM) -> None:
    llm.reply_error(404, "The model `gpt-nope` does not exist")
    settings = llm_settings(llm.base_url, llm_model="openai/gpt-nope")
    assert render([await check_llm(settings, LiteLLMClient.from_settings(settings))]) == (
        "✗ llm: model openai/gpt-nope or its API was not found (HTTP 404): The model `gpt-nope` "
        "does not exist — check LLM_MODEL: provider/model, as in openai/gpt-4o-mini"
    )


async def test_unknown_parser_model_names_its_setting(llm: FakeLLM) -> None:
    llm.reply_error(404, "The model `gpt-nope` does not exist")
    settings = llm_settings(llm.base_url, parser_model="openai/gpt-nope")
    result = await check_llm(settings, LiteLLMClient.from_settings(settings), parser=True)
    assert result.name == "parser model"
    assert result.fix == "check PARSER_MODEL: provider/model, as in openai/gpt-4o-mini"
    assert llm.requests[0]["model"] == "gpt-nope"


# --- secrets ------------------------------------------------------------------------------------


class AnsweringLLM:
    async def complete(
        self, messages: Sequence[Mapping[str, Any]], *, model: str, **_: Any
    ) -> Completion:
        return Completion("OK", (), 1, 1, None, model)


class LeakyLLM:
    """A client whose error text carries the key, as a careless provider adapter might."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def complete(self, *_: Any, **__: Any) -> Completion:
        raise PermanentLLMError(
            CallFailed(model="x"), f"the provider says key {self.key} is not allowed here"
        )


async def test_secrets_are_redacted_from_every_result() -> None:
    settings = make_settings(
        telegram_bot_token=WRONG_TOKEN,
        telegram_api_base_url=f"{NOT_LISTENING}/bot",
        database_url=UNREACHABLE_POSTGRES,
        llm_api_key="my-very-own-llm-key",
    )
    results = await run_checks(settings, llm=LeakyLLM("my-very-own-llm-key"))
    llm_line = render(results).splitlines()[-1]
    assert llm_line == (
        "✗ llm: the LLM call for model x failed: the provider says key [redacted] is not "
        "allowed here — check LLM_MODEL, LLM_API_KEY and LLM_API_BASE"
    )


# --- voice --------------------------------------------------------------------------------------


async def test_voice_is_checked_with_a_second_of_silence(llm: FakeLLM) -> None:
    settings = llm_settings(llm.base_url, transcription_model="openai/whisper-1")
    result = await check_voice(settings, LiteLLMTranscriber.from_settings(settings))
    assert result == CheckResult(
        "voice", True, "openai/whisper-1 transcribes voice notes of up to 120 s"
    )
    [request] = llm.transcription_requests
    assert request["file"].startswith(b"RIFF")
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_a_voice_provider_that_fails_is_a_failed_line(llm: FakeLLM) -> None:
    llm.transcription_error(404, "The model `whisper-9` does not exist")
    settings = llm_settings(
        llm.base_url, transcription_model="openai/whisper-9", voice_max_seconds=60
    )
    results = await run_checks(settings, llm=AnsweringLLM())
    [voice] = [result for result in results if result.name == "voice"]
    assert not voice.ok
    assert "whisper-9" in voice.detail
    assert voice.fix == (
        "check TRANSCRIPTION_MODEL, TRANSCRIPTION_API_KEY and TRANSCRIPTION_API_BASE"
    )

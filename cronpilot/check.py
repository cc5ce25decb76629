"""`cronpilot check`: the settings, the database, the Bot API and the LLM, each said plainly.

`run_checks` returns one `CheckResult` per thing checked, in a fixed order (settings, database,
telegram, llm, the parser's model when it is another one, voice when TRANSCRIPTION_MODEL is
set, then the lines of every configured tool module, in the registry's order: the search
provider when one is set, one per MCP server); `render` turns them into one line each,
`✓ name: detail`, `! name: detail — fix` (works, but worth changing) or `✗ name: detail — fix`;
`exit_status` is 0 when nothing failed. No secret (the bot token, the LLM key, the webhook
secret, the database password) ever appears in a result.
"""

from __future__ import annotations

import asyncio
import io
import socket
import ssl
import wave
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from core.checks import CheckResult
from core.errors import ConfigurationError, DatabaseError
from core.logs import Redactor
from core.reasons import AccessRefused, BadApiBase, KeyRejected, ModelNotFound, NoKey
from core.settings import Settings
from core.tls import tls_context
from scheduler.destinations import check_destinations
from scheduler.llm import (
    LiteLLMClient,
    LLMClient,
    LLMError,
    PermanentLLMError,
    TransientLLMError,
)
from scheduler.parsing.request import PARSER_OFF
from scheduler.runner.tools.registry import check_tools
from scheduler.transcription import LiteLLMTranscriber, Transcriber
from storage.database import MissingDatabaseError
from storage.migrate import revision_state

DATABASE_TIMEOUT_SECONDS = 20.0
TELEGRAM_TIMEOUT_SECONDS = 10.0
LLM_TIMEOUT_SECONDS = 30.0
LLM_PROMPT = "Reply with OK"
_ANSWER_SHOWN_CHARS = 40

MIGRATE = "run `cronpilot migrate`"
ASK_BOTFATHER = "get a token from @BotFather and put it in TELEGRAM_BOT_TOKEN"
CHECK_DATABASE = "check DATABASE_URL and that the database server is running"
CHECK_BOT_API = "check the network and TELEGRAM_API_BASE_URL"


async def run_checks(settings: Settings, *, llm: LLMClient | None = None) -> list[CheckResult]:
    """Check everything `cronpilot run` needs; the checks run at once, the order is fixed."""
    if llm is None:
        llm = LiteLLMClient.from_settings(settings)
    model = check_llm(settings, llm) if settings.has_model else no_model()
    checks = [check_database(settings), check_telegram(settings), model]
    parser_off = settings.effective_parser_model.strip().lower() in PARSER_OFF
    if settings.effective_parser_model != settings.llm_model and not parser_off:
        checks.append(check_llm(settings, llm, parser=True))
    if settings.transcription_model is not None:
        checks.append(check_voice(settings, LiteLLMTranscriber.from_settings(settings)))
    found, tools = await asyncio.gather(asyncio.gather(*checks), check_tools(settings))
    results = [
        check_settings(settings),
        *found,
        *tools,
        *check_destinations(settings.destinations),
    ]
    if parser_off and settings.has_model:
        results.append(
            CheckResult(
                "parser model", True, "off (PARSER_MODEL=off): requests are read by the rules only"
            )
        )
    redactor = Redactor(settings.secret_values())
    return [_redacted(result, redactor) for result in results]


def render(results: Iterable[CheckResult]) -> str:
    """One line per result, without a final newline."""
    return "\n".join(_line(result) for result in results)


def exit_status(results: Iterable[CheckResult]) -> int:
    return 0 if all(result.ok for result in results) else 1


def settings_failed(error: ConfigurationError) -> list[CheckResult]:
    """The results to show when the settings could not even be loaded: one per problem."""
    return [
        CheckResult("settings", False, line.strip(), "fix it in .env or in the environment")
        for line in str(error).splitlines()
        if line.strip()
    ]


def _line(result: CheckResult) -> str:
    mark = "✗" if not result.ok else "!" if result.warning else "✓"
    line = f"{mark} {result.name}: {result.detail}"
    if result.fix and (result.warning or not result.ok):
        line += f" — {result.fix}"
    return line


# --- settings -----------------------------------------------------------------------------------


def check_settings(settings: Settings) -> CheckResult:
    allowed = settings.allowed_users
    if allowed.everyone:
        who = "everyone may use the bot"
    else:
        count = len(allowed.ids)
        who = f"{count} allowed user{'' if count == 1 else 's'}"
    mode = f"webhook at {settings.webhook_url}" if settings.webhook_url else "long polling"
    if settings.http_port is not None:
        mode += f", HTTP on port {settings.http_port}"
    problems: list[str] = []
    fixes: list[str] = []
    if settings.telegram_bot_token is None:
        problems.append("TELEGRAM_BOT_TOKEN is not set")
        fixes.append(ASK_BOTFATHER)
    if not allowed.everyone and not allowed.ids:
        problems.append("ALLOWED_USERS is empty, so the bot refuses everyone")
        fixes.append(
            "set ALLOWED_USERS to your Telegram user id (the bot tells it to anyone it "
            "refuses), or to * for everyone"
        )
    if problems:
        return CheckResult(
            "settings",
            True,
            f"valid, but {' and '.join(problems)}",
            "; ".join(fixes),
            warning=True,
        )
    return CheckResult(
        "settings", True, f"valid: {mode}, {who}, default time zone {settings.default_timezone}"
    )


# --- database -----------------------------------------------------------------------------------


async def check_database(settings: Settings) -> CheckResult:
    display = settings.database_url_for_display
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return missing
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            state = await revision_state(settings.database_url)
    except TimeoutError:
        return _database_failed(
            f"the database at {display} did not answer within {DATABASE_TIMEOUT_SECONDS:g} s",
            CHECK_DATABASE,
        )
    except MissingDatabaseError as error:
        return _database_failed(str(error), create_database_hint(error))
    except DatabaseError as error:
        text = str(error)
        # Unreachable needs the URL or the server fixed; the other DatabaseErrors (a newer
        # schema, several heads) already say what to do.
        return _database_failed(text, CHECK_DATABASE if text.startswith("cannot reach") else None)
    except SQLAlchemyError as error:
        reason = _first_line(str(getattr(error, "orig", None) or error))
        return _database_failed(
            f"the schema version at {display} could not be read: {reason}",
            "check that the database user may read and create tables",
        )
    if state.at_head:
        return CheckResult("database", True, f"{display} is at revision {state.head} (newest)")
    if state.current is None:
        return _database_failed(
            f"{display} has no cronpilot tables yet (the newest revision is {state.head})", MIGRATE
        )
    return _database_failed(
        f"{display} is at revision {state.current}, behind the newest {state.head}", MIGRATE
    )


def create_database_hint(error: MissingDatabaseError) -> str:
    """How to create the missing database, as a command the operator can paste."""
    options = [f"-h {error.host}"]
    if error.port is not None:
        options.append(f"-p {error.port}")
    if error.user:
        options.append(f"-U {error.user}")
    command = f"createdb {' '.join(options)} {error.name}"
    return f"create it with `{command}`, then run `cronpilot migrate`"


def _database_failed(detail: str, fix: str | None) -> CheckResult:
    return CheckResult("database", False, detail, fix)


def _missing_sqlite_file(database_url: str) -> CheckResult | None:
    """Say so when a SQLite file does not exist yet, rather than create it by connecting."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.query.get("uri") or url.database.startswith("file:"):
        return None  # SQLite URI filenames are the operator's own business
    path = Path(url.database)
    if path.exists():
        return None
    if not path.parent.exists():
        return _database_failed(
            f"the folder {path.parent} for the SQLite file {path} does not exist",
            "create the folder, or point DATABASE_URL somewhere else",
        )
    return _database_failed(f"there is no SQLite file at {path} yet", MIGRATE)


# --- Telegram -----------------------------------------------------------------------------------


async def check_telegram(settings: Settings) -> CheckResult:
    token = settings.telegram_bot_token
    base = settings.telegram_api_base_url
    if token is None:
        return _telegram_failed("TELEGRAM_BOT_TOKEN is not set", ASK_BOTFATHER)
    # The token is part of the URL: it never goes into a message (and run_checks redacts anyway).
    url = f"{base}{token.get_secret_value()}/getMe"
    try:
        async with httpx.AsyncClient(
            timeout=TELEGRAM_TIMEOUT_SECONDS, verify=tls_context()
        ) as client:
            response = await client.get(url)
    except httpx.TimeoutException:
        return _telegram_failed(
            f"the Bot API at {base} did not answer within {TELEGRAM_TIMEOUT_SECONDS:g} s",
            CHECK_BOT_API,
        )
    except (httpx.TransportError, httpx.InvalidURL) as error:
        return _telegram_failed(
            f"cannot reach the Bot API at {base}: {_transport_reason(error)}", CHECK_BOT_API
        )
    body = _json(response)
    status = response.status_code
    if status == 401:
        return _telegram_failed(
            "the token was rejected (HTTP 401 Unauthorized)",
            "get a new one from @BotFather and put it in TELEGRAM_BOT_TOKEN",
        )
    if status == 404:
        return _telegram_failed(
            f"the Bot API at {base} answered 404 Not Found",
            "check TELEGRAM_API_BASE_URL (it ends in /bot) and TELEGRAM_BOT_TOKEN",
        )
    if body is None:
        return _telegram_failed(
            f"the server at {base} does not answer like a Bot API (HTTP {status}, not JSON)",
            "check TELEGRAM_API_BASE_URL",
        )
    result = body.get("result")
    if status != 200 or body.get("ok") is not True or not isinstance(result, dict):
        description = body.get("description")
        said = f": {_first_line(description)}" if isinstance(description, str) else ""
        return _telegram_failed(f"getMe failed with HTTP {status}{said}", CHECK_BOT_API)
    username = result.get("username")
    who = f"@{username}" if isinstance(username, str) and username else "a bot with no username"
    return CheckResult("telegram", True, f"connected as {who} (bot id {result.get('id')})")


def _telegram_failed(detail: str, fix: str) -> CheckResult:
    return CheckResult("telegram", False, detail, fix)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:  # json.JSONDecodeError and UnicodeDecodeError both are
        return None
    return body if isinstance(body, dict) else None


def _transport_reason(error: Exception) -> str:
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for cause in chain:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "the host name does not resolve"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed ({_first_line(str(cause))})"
    return _first_line(str(error)) or type(error).__name__


# --- the LLM ------------------------------------------------------------------------------------


async def no_model() -> CheckResult:
    """LLM_MODEL empty or `none` is a choice, not a fault: the bot posts reminders only."""
    return CheckResult(
        "llm",
        True,
        "no model: reminders only (LLM_MODEL is empty or none; requests are read by the rules, "
        "and tasks that need a model are refused)",
    )


async def check_llm(settings: Settings, llm: LLMClient, *, parser: bool = False) -> CheckResult:
    """One tiny completion with LLM_MODEL (or PARSER_MODEL, for `parser=True`)."""
    name, model_setting = ("parser model", "PARSER_MODEL") if parser else ("llm", "LLM_MODEL")
    model = settings.effective_parser_model if parser else settings.llm_model
    try:
        completion = await llm.complete(
            [{"role": "user", "content": LLM_PROMPT}], model=model, timeout=LLM_TIMEOUT_SECONDS
        )
    except TransientLLMError as error:
        return CheckResult(
            name,
            False,
            f"the provider did not answer: {error}",
            "check LLM_API_BASE and the network, or try again later",
        )
    except PermanentLLMError as error:
        return CheckResult(name, False, str(error), _llm_fix(error, model_setting))
    except LLMError as error:
        return CheckResult(
            name, False, str(error), f"check {model_setting}, LLM_API_KEY and LLM_API_BASE"
        )
    answer = " ".join((completion.content or "").split())
    if len(answer) > _ANSWER_SHOWN_CHARS:
        answer = answer[: _ANSWER_SHOWN_CHARS - 1] + "…"
    return CheckResult(name, True, f'{model} answered "{answer}"')


async def check_voice(settings: Settings, transcriber: Transcriber) -> CheckResult:
    """With TRANSCRIPTION_MODEL: a second of silence sent to be heard."""
    model = settings.transcription_model
    assert model is not None
    fix = "check TRANSCRIPTION_MODEL, TRANSCRIPTION_API_KEY and TRANSCRIPTION_API_BASE"
    try:
        await transcriber.transcribe(
            _silence(), filename="check.wav", model=model, timeout=LLM_TIMEOUT_SECONDS
        )
    except LLMError as error:
        return CheckResult("voice", False, str(error), fix)
    return CheckResult(
        "voice",
        True,
        f"{model} transcribes voice notes of up to {settings.voice_max_seconds} s",
    )


def _silence() -> bytes:
    """One second of silence as a WAV file, which every transcription API takes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(1)
        clip.setsampwidth(2)
        clip.setframerate(16_000)
        clip.writeframes(b"\x00\x00" * 16_000)
    return buffer.getvalue()


def _llm_fix(error: LLMError, model_setting: str) -> str:
    """Which setting to change, from why the call failed."""
    if isinstance(error.reason, NoKey | KeyRejected):
        return "check LLM_API_KEY (or the provider's own variable, such as OPENAI_API_KEY)"
    if isinstance(error.reason, BadApiBase):
        return "check LLM_API_BASE: the provider's http(s) URL, or empty for the default"
    if isinstance(error.reason, AccessRefused):
        return f"check that LLM_API_KEY may use the model in {model_setting}"
    # LiteLLM's own words when the model names no provider it knows.
    if isinstance(error.reason, ModelNotFound) or "Provider NOT provided" in (error.detail or ""):
        return f"check {model_setting}: provider/model, as in openai/gpt-4o-mini"
    return f"check {model_setting}, LLM_API_KEY and LLM_API_BASE"


# --- secrets ------------------------------------------------------------------------------------


def _redacted(result: CheckResult, redactor: Redactor) -> CheckResult:
    return replace(
        result,
        detail=str(redactor.clean(result.detail)),
        fix=str(redactor.clean(result.fix)) if result.fix is not None else None,
    )


def _first_line(text: str) -> str:
    stripped = text.strip()
    return stripped.splitlines()[0] if stripped else ""

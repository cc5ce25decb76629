"""Telegram failing: 5xx answers (Telegram's front servers send an HTML page), timeouts and lost
connections are each one log line naming the Bot API method and the status, never a traceback,
and the bot carries on: polling recovers, a reply that failed is apologised for, a result is
delivered after its retries."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import structlog
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData

from bot.requests import BotApiRequest
from core import logs
from storage.records import RunStatus
from tests.bot.test_bot_reliability import DAILY, NEXT_NINE
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

HUNG_UP = "Server disconnected without sending a response."


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """Everything logged meanwhile, as the operator's JSON lines. No logger keeps this set-up
    for good (none is cached meanwhile), and afterwards structlog gets its very processor list
    back: loggers bound before keep that list, and capture_logs (other tests) edits the
    configured one in place."""
    saved = structlog.get_config()
    stream = io.StringIO()
    logs.configure(level="INFO", json=True, stream=stream)
    structlog.configure(cache_logger_on_first_use=False)
    try:
        yield stream
    finally:
        logs.configure(level="WARNING")
        structlog.configure(**saved)


def records(stream: io.StringIO) -> list[dict[str, Any]]:
    written = stream.getvalue()
    assert "Traceback" not in written, written
    lines = [json.loads(line) for line in written.splitlines()]  # one object a line
    assert not [line for line in lines if "exception" in line or line["level"] == "error"]
    return lines


def failed_requests(lines: list[dict[str, Any]]) -> list[tuple[str, object]]:
    return [
        (line["method"], line.get("status", line.get("failure")))
        for line in lines
        if line["event"] == "telegram.request_failed"
    ]


@pytest.fixture
async def request_() -> AsyncIterator[BotApiRequest]:
    request = BotApiRequest(connection_pool_size=4, read_timeout=0.3)
    await request.initialize()
    try:
        yield request
    finally:
        await request.shutdown()


async def test_each_failed_request_is_one_line_and_a_short_error(
    fake: FakeTelegram, request_: BotApiRequest, log: io.StringIO
) -> None:
    url = f"{fake.base_url}{fake.token}/getMe"
    fake.fail_next("getMe", 502, "Bad Gateway", html=True)
    fake.fail_next("getMe", 504, "Gateway Time-out", html=True)
    fake.fail_next("getMe", 500, "Internal Server Error")
    fake.hang_up_next("getMe")
    fake.hang_up_next("getMe", after=2.0)  # outlasts the read timeout
    caught = []
    for _ in range(5):
        with pytest.raises(NetworkError) as error:
            await request_.post(url, RequestData())
        caught.append((type(error.value), error.value.message))
    assert caught[:3] == [
        (NetworkError, "Bad Gateway (502)"),
        (NetworkError, "Gateway Timeout (504)"),
        (NetworkError, "Internal Server Error"),  # Telegram's JSON answer: its description
    ]
    assert caught[3][0] is NetworkError
    assert caught[3][1] == f"httpx.RemoteProtocolError: {HUNG_UP}"
    assert caught[4][0] is TimedOut
    # The same request works again.
    assert (await request_.post(url, RequestData()))["username"] == fake.bot.username
    lines = records(log)
    assert failed_requests(lines) == [
        ("getMe", 502),
        ("getMe", 504),
        ("getMe", 500),
        ("getMe", caught[3][1]),
        ("getMe", "Timed out"),
    ]
    assert all(line["level"] == "warning" for line in lines)


async def test_a_run_of_faults_leaves_no_traceback(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, log: io.StringIO
) -> None:
    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await bot.start()
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        task_id = await create_task(fake, dm, alice, DAILY)
        # A long poll that gets Telegram's error page: polling carries on.
        polls = len(fake.calls_to("getUpdates"))
        fake.fail_next("getUpdates", 502, "Bad Gateway", html=True)
        await fake.wait_for_call("getUpdates", count=polls + 2, timeout=20)
        # A reply that fails: the person hears it went wrong once Telegram answers again.
        fake.fail_next("sendMessage", 502, "Bad Gateway", html=True)
        await fake.send_text(dm, alice, "/help")
        await fake.wait_for_message(dm, lambda m: "Something went wrong" in m.text)
        # A button whose answer is lost with its connection: the apology is the answer.
        await fake.send_text(dm, alice, "/tasks")
        listing = await fake.wait_for_message(dm, lambda m: m.has_button("History"))
        fake.hang_up_next("answerCallbackQuery")
        query = await fake.press(dm, alice, listing, "History")
        apology = await fake.wait_for_callback_answer(query)
        assert "Something went wrong" in apology.text
        # A result delivered through 502, 500 and 429.
        fake.fail_next("sendMessage", 502, "Bad Gateway", html=True)
        fake.fail_next("sendMessage", 500, "Internal Server Error")
        fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
        llm.reply_text("Today's news, at last.")
        since = fake.checkpoint()
        await bot.fire_due(NEXT_NINE)
        await fake.wait_for_message(dm, lambda m: "at last" in m.text, since=since)
        [run] = await bot.history(ALICE, task_id)
        assert run.status is RunStatus.SUCCEEDED
        assert not run.delivery_pending
    finally:
        await bot.stop()
    lines = records(log)
    failed = failed_requests(lines)
    assert failed == [
        ("getUpdates", 502),
        ("sendMessage", 502),
        ("answerCallbackQuery", f"httpx.RemoteProtocolError: {HUNG_UP}"),
        ("sendMessage", 502),
        ("sendMessage", 500),
    ]  # fmt: skip
    events = [line["event"] for line in lines]
    assert (
        "Exception happened while polling for updates. (NetworkError: Bad Gateway (502))" in events
    )
    assert events.count("bot.update_unanswered") == 2
    # The 502 and the 500 retried the delivery; the 429 was waited out by the rate limiter.
    assert events.count("delivery.retry") == 2
    assert events.count("telegram.flood_wait") == 1

"""schemathesis against the API's own OpenAPI document, over a real port: every generated
request gets an answer that the document describes (status, content type, body), and never a
server error."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import token_for
from web.api import build_api
from web.ratelimit import SignInLimiter
from web.server import HttpServer

pytestmark = pytest.mark.usefixtures("litellm_imported")

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    )
)


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, http_port=0)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


@pytest.mark.timeout(300)
async def test_the_api_keeps_to_its_openapi_document(
    bot: BotUnderTest, fake: FakeTelegram, tmp_path: Path
) -> None:
    alice = fake.user(ALICE, "Alice")
    await create_task(fake, fake.private_chat(alice), alice, "every day at 9 summarize HN")
    token = await token_for(fake, alice)
    assert bot.runtime is not None
    door = bot.runtime.api_door
    assert door is not None
    # The same API without its rate limit, so that the generated requests reach the handlers.
    api = build_api(dataclasses.replace(door, rate_limiter=SignInLimiter(burst=1_000_000)))
    async with HttpServer(api, 0, host="127.0.0.1") as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "schemathesis.cli",
            "run",
            f"http://127.0.0.1:{server.port}/openapi.json",
            "--checks",
            CHECKS,
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            "12",
            "--seed",
            "14",
            "--phases",
            "examples,coverage,fuzzing",
            "--no-color",
            cwd=tmp_path,
            env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, report[-6000:]
    assert "No issues found" in report or "passed" in report, report[-3000:]

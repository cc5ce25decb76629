"""Running it for real: webhook mode, membership changes, secrets kept out of logs, and
`cronpilot run` as a process that stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import sys
from datetime import datetime
from pathlib import Path

import pytest

from core import logs
from storage.records import TaskState
from tests.bot_harness import ALICE, BERLIN, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every weekday at 9am summarize the top Hacker News stories"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def listening(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection to the port once something listens on it (within a minute)."""
    for _ in range(600):
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            await asyncio.sleep(0.1)
    return await asyncio.open_connection("127.0.0.1", port)


async def test_webhook_mode(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/updates"
    settings = bot_settings(fake, llm, pg_url, webhook_url=url, http_port=port)
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        # setWebhook was called with the URL and a secret derived from the token.
        assert fake.webhook is not None
        assert fake.webhook.url == url
        secret = settings.effective_webhook_secret()
        assert fake.webhook.secret_token == secret
        assert len(secret) >= 32
        assert settings.telegram_bot_token is not None
        assert settings.telegram_bot_token.get_secret_value() not in secret

        # Updates arrive through the webhook, with the secret, and are answered.
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await create_task(fake, dm, alice, HN)

        # An update with a wrong secret, or none, is refused and has no effect.
        forged = {
            "update_id": 1,
            "message": {
                "message_id": 999,
                "date": 1_790_000_000,
                "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
                "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
                "text": "/delete 1",
                "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
            },
        }
        assert await fake.post_update_to_webhook(url, forged, secret_token="wrong") == 403
        assert await fake.post_update_to_webhook(url, forged) == 403
        await asyncio.sleep(0.3)
        assert not any("cannot be undone" in m.text for m in fake.messages(dm))
        assert len(await bot.tasks_of(ALICE)) == 1
        assert fake.calls_to("getUpdates") == []
    finally:
        await bot.stop()
    # Stopping does not remove the webhook: other replicas keep receiving updates.
    assert fake.webhook is not None


async def test_blocking_the_bot_pauses_tasks_at_once(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    bot = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await bot.start()
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await create_task(fake, dm, alice, HN)
        member = {"id": fake.bot.id, "is_bot": True, "first_name": "cronpilot"}
        fake.inject_update(
            {
                "my_chat_member": {
                    "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
                    "from": {"id": ALICE, "is_bot": False, "first_name": "Alice"},
                    "date": 1_790_000_000,
                    "old_chat_member": {"status": "member", "user": member},
                    "new_chat_member": {"status": "kicked", "user": member, "until_date": 0},
                }
            }
        )
        for _ in range(50):
            if (await bot.tasks_of(ALICE))[0].state is TaskState.PAUSED:
                break
            await asyncio.sleep(0.1)
        assert (await bot.tasks_of(ALICE))[0].state is TaskState.PAUSED
        # Nothing is due for a paused task.
        assert await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)) == []
    finally:
        await bot.stop()


async def test_secrets_never_reach_the_logs(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> None:
    settings = bot_settings(fake, llm, pg_url, log_level="DEBUG")
    token = fake.token
    key = "sk-test-e2e-key-0123456789"
    stream = io.StringIO()
    logs.configure(level="DEBUG", json=True, secrets=[token, key], stream=stream)
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await create_task(fake, dm, alice, HN)
        # A provider error that echoes the key, and one that succeeds.
        llm.reply_error(401, f"Incorrect API key provided: {key}")
        await bot.fire_due(datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN))
        llm.reply_text("all good")
        await bot.fire_due(datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN))
    finally:
        await bot.stop()
        logs.configure(level="WARNING")
    written = stream.getvalue()
    assert "run.finished" in written
    assert "task.created" in written
    assert "scheduler.started" in written
    for line in written.splitlines():
        json.loads(line)  # every line is one JSON object
    assert token not in written
    assert token.split(":")[1] not in written
    assert key not in written


@pytest.mark.timeout(180)
async def test_cronpilot_run_stops_cleanly_on_sigterm(
    fake: FakeTelegram, llm: FakeLLM, tmp_path: Path
) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "TELEGRAM_", "LLM_", "WEBHOOK_", "HEALTH_", "HTTP_"))
    }
    health_port = free_port()
    environment.update(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "LLM_API_BASE": llm.base_url,
            "LLM_API_KEY": "sk-process-test-key",
            "ALLOWED_USERS": str(ALICE),
            "PARSER_MODEL": "off",
            "LOG_FORMAT": "json",
            "HTTP_PORT": str(health_port),
            "PYTHONPATH": str(ROOT),
        }
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cronpilot.cli",
        "run",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await fake.send_text(dm, alice, "/start")
        welcome = await fake.wait_for_message(dm, timeout=60)
        assert "I'm cronpilot" in welcome.text
        # The command menu and the HTTP server come once updates flow, not before the answer.
        for _ in range(600):
            if fake.commands:
                break
            await asyncio.sleep(0.1)
        assert fake.commands[0][0] == "tasks"
        reader, writer = await listening(health_port)
        writer.write(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
        answer = (await reader.read()).decode()
        writer.close()
        assert answer.startswith(("HTTP/1.0 200", "HTTP/1.1 200")), answer
        body = json.loads(answer.split("\r\n\r\n", 1)[1])
        assert body == {"status": "ok", "checks": {"database": "ok", "scheduler": "ok"}}
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    events = [
        json.loads(line)["event"] for line in stderr.decode().splitlines() if line.startswith("{")
    ]
    assert "bot.stopping" in events
    assert (tmp_path / "bot.db").exists()
    assert fake.token not in stderr.decode()

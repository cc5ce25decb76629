"""`cronpilot run` answers before it loads what answering does not need: when polling starts,
neither the HTTP door's stack (FastAPI, Starlette, uvicorn) nor Apprise, PyYAML, Alembic (the
database is at the newest revision), LiteLLM or the rules parser is imported; the HTTP server comes
afterwards, and only with HTTP_PORT."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import pytest

from storage.migrate import upgrade_to_head
from tests.cronpilot.process import clean_environment
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

ALICE = 4242
# `cronpilot run`, writing which modules it had imported when polling started and at exit.
WRAPPER = """
import json, sys
from pathlib import Path

from bot.telegram_bot import TelegramBot

out = Path(sys.argv[1])
poll = TelegramBot.poll


async def recording(self, **options):
    await poll(self, **options)
    out.with_suffix(".polling").write_text(json.dumps(sorted(sys.modules)))


TelegramBot.poll = recording
from cronpilot.cli import main

status = main(["run"])
out.with_suffix(".exit").write_text(json.dumps(sorted(sys.modules)))
sys.exit(status)
"""
LATER = (
    "fastapi",
    "starlette",
    "uvicorn",
    "apprise",
    "yaml",
    "alembic",
    "litellm",
    "scheduler.parsing.rules",
)
WEB = ("fastapi", "starlette", "uvicorn")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def healthz(port: int) -> str:
    for _ in range(600):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            await asyncio.sleep(0.1)
            continue
        writer.write(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
        answer = (await reader.read()).decode()
        writer.close()
        return answer
    raise AssertionError(f"nothing listened on port {port}")


@pytest.mark.parametrize("http", [False, True], ids=["no-http", "http-port"])
async def test_run_answers_before_it_loads_what_answering_does_not_need(
    fake: FakeTelegram, llm: FakeLLM, tmp_path: Path, http: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    await upgrade_to_head(url)  # a restart: the database is at the newest revision
    port = free_port()
    environment = clean_environment(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": url,
            "LLM_API_BASE": llm.base_url,
            "LLM_API_KEY": "sk-first-answer-test-key",
            "ALLOWED_USERS": str(ALICE),
            "LOG_FORMAT": "json",
            **({"HTTP_PORT": str(port)} if http else {}),
        }
    )
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    await fake.send_text(dm, alice, "/start")
    modules = tmp_path / "modules"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WRAPPER,
        str(modules),
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        welcome = await fake.wait_for_message(dm, timeout=60)
        assert "I'm cronpilot" in welcome.text
        if http:
            answer = await healthz(port)
            assert answer.startswith(("HTTP/1.0 200", "HTTP/1.1 200")), answer
        # The command menu is set once updates flow.
        for _ in range(600):
            if fake.commands:
                break
            await asyncio.sleep(0.1)
        assert fake.commands[0][0] == "tasks"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()[-2000:]
    polling = set(json.loads(modules.with_suffix(".polling").read_text()))
    assert "telegram" in polling
    assert [name for name in LATER if name in polling] == []
    at_exit = set(json.loads(modules.with_suffix(".exit").read_text()))
    assert all((name in at_exit) is http for name in WEB)
    assert "apprise" not in at_exit  # no destination is configured

"""`cronpilot run` stopped by SIGTERM after a session with several manual runs (Run now and
/run N, typing, deliveries): it exits 0, logs no error and no traceback, and its last
getUpdates, which confirms the updates it took, reaches the Bot API."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import pytest

from tests.cronpilot.process import clean_environment
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

ALICE = 4242


def environment(fake: FakeTelegram, llm: FakeLLM, tmp_path: Path) -> dict[str, str]:
    return clean_environment(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            "LLM_API_BASE": llm.base_url,
            "LLM_API_KEY": "sk-shutdown-test-0123456789",
            "ALLOWED_USERS": str(ALICE),
            "PARSER_MODEL": "off",
            "LOG_FORMAT": "json",
        }
    )


@pytest.mark.timeout(180)
@pytest.mark.parametrize("moment", ["in a long poll", "during manual runs"])
async def test_sigterm_after_a_session_with_manual_runs(
    fake: FakeTelegram, llm: FakeLLM, tmp_path: Path, moment: str
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cronpilot.cli",
        "run",
        cwd=tmp_path,
        env=environment(fake, llm, tmp_path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await fake.send_text(dm, alice, "every day at 9 read the news")
        card = await fake.wait_for_message(
            dm, lambda m: "Schedule this task?" in m.text, timeout=60
        )
        await fake.press(dm, alice, card, "Confirm")
        scheduled = await fake.wait_for_message(dm, lambda m: "Scheduled" in m.text, timeout=20)
        for number in range(4):  # Run now and /run 1, each waited for
            llm.reply_text(f"Answer number {number}.")
            since = fake.checkpoint()
            if number % 2:
                await fake.send_text(dm, alice, "/run 1")
            else:
                await fake.press(dm, alice, scheduled, "Run now")
            await fake.wait_for_message(
                dm, lambda m, n=number: f"Answer number {n}." in m.text, since=since, timeout=30
            )
        if moment == "during manual runs":
            typing = len(fake.calls_to("sendChatAction"))
            llm.reply_delay(3.0)
            await fake.send_text(dm, alice, "/run 1")
            await fake.wait_for_call("sendChatAction", count=typing + 1, timeout=20)
        else:
            polls = len(fake.calls_to("getUpdates"))
            await fake.wait_for_call("getUpdates", count=polls + 1, timeout=20)
            await asyncio.sleep(0.5)  # the poll is waiting for updates
    finally:
        confirmed_before = len(_confirming(fake))
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    log = stderr.decode()
    assert process.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-5000:]
    assert "Pool timeout" not in log
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert [r for r in records if r["level"] in ("warning", "error", "critical")] == []
    assert "bot.stopping" in [r["event"] for r in records]
    # PTB's final getUpdates (timeout 0) confirmed the offset of everything taken.
    assert len(_confirming(fake)) == confirmed_before + 1
    assert fake.pending_updates == 0


def _confirming(fake: FakeTelegram) -> list[dict[str, object]]:
    return [call for call in fake.calls_to("getUpdates") if str(call.get("timeout")) == "0"]

"""`cronpilot run` that cannot work: one line that says what to fix, a non-zero exit, no secret,
and nothing migrated or written before the token is known to work."""

from __future__ import annotations

from pathlib import Path

from tests.cronpilot.process import run_cronpilot
from tests.fakes.telegram import FakeTelegram

TOKEN = "123456789:AAFakeTokenFakeTokenFakeTokenFake123"
REJECTED = "987654321:AAWrongTokenWrongTokenWrongToken12345"


def environment(base_url: str, token: str, database: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "ALLOWED_USERS": "42",
        "PARSER_MODEL": "off",
    }


async def test_an_unreachable_bot_api_is_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    database = tmp_path / "bot.db"
    outcome = await run_cronpilot(
        tmp_path, environment("http://127.0.0.1:9/bot", TOKEN, database), "run"
    )
    assert outcome.status == 1
    [line] = outcome.stderr.splitlines()
    assert line.startswith(
        "cronpilot: cannot start: cannot reach the Bot API at http://127.0.0.1:9"
    )
    assert "check the network and TELEGRAM_API_BASE_URL" in line
    assert outcome.stdout == ""
    assert TOKEN.split(":")[1] not in outcome.output
    assert not database.exists()


async def test_a_rejected_token_is_one_line_without_the_token(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "bot.db"
    outcome = await run_cronpilot(tmp_path, environment(fake.base_url, REJECTED, database), "run")
    assert outcome.status == 1
    [line] = outcome.stderr.splitlines()
    assert line.startswith("cronpilot: cannot start: the token was rejected")
    assert "@BotFather" in line
    assert REJECTED.split(":")[1] not in outcome.output
    assert not database.exists()
    assert fake.calls_to("getUpdates") == []

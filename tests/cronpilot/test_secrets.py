"""Secrets stay out of everything a person reads: `cronpilot check`, the chat and the log.

Provider keys LiteLLM reads from the environment (OPENAI_API_KEY and kin) count as secrets like
LLM_API_KEY; placeholders too short to be secrets ("x", "none") are left alone, and a secret is
only replaced where it stands as a whole token, so ordinary words never come out mangled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.logs import Redactor
from core.settings import Settings
from tests.cronpilot.process import run_cronpilot
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

PROVIDER_KEY = "sk-proj-provider-key-0123456789abcdef"


def base_environment(fake: FakeTelegram, llm: FakeLLM, tmp_path: Path) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "LLM_API_BASE": llm.base_url,
        "ALLOWED_USERS": "42",
        "PARSER_MODEL": "off",
    }


def llm_line(output: str) -> str:
    [line] = [line for line in output.splitlines() if " llm:" in line]
    return line


@pytest.mark.parametrize("placeholder", ["x", "none"])
async def test_a_placeholder_key_does_not_mangle_the_providers_words(
    fake: FakeTelegram, llm: FakeLLM, tmp_path: Path, placeholder: str
) -> None:
    llm.reply_error(400, "the request exploded: none of x was expected")
    environment = base_environment(fake, llm, tmp_path) | {"LLM_API_KEY": placeholder}
    outcome = await run_cronpilot(tmp_path, environment, "check")
    line = llm_line(outcome.stdout)
    assert "the request exploded: none of x was expected" in line
    assert "*" not in line
    assert "[redacted]" not in line


async def test_a_provider_key_from_the_environment_is_redacted_in_check(
    fake: FakeTelegram, llm: FakeLLM, tmp_path: Path
) -> None:
    llm.reply_error(400, f"key {PROVIDER_KEY} may not use this model; exploded")
    environment = base_environment(fake, llm, tmp_path) | {"OPENAI_API_KEY": PROVIDER_KEY}
    outcome = await run_cronpilot(tmp_path, environment, "check")
    line = llm_line(outcome.stdout)
    assert "[redacted] may not use this model; exploded" in line
    assert PROVIDER_KEY not in outcome.output


def test_redaction_takes_whole_tokens_and_skips_placeholders() -> None:
    redactor = Redactor(["x", "none", "ploded", "sk-0123456789"])
    assert redactor.clean("exploded, none, x") == "exploded, none, x"
    assert redactor.clean("key=sk-0123456789; sk-0123456789abc") == (
        "key=[redacted]; sk-0123456789abc"
    )
    assert Redactor(["explode1"]).clean("explode1d or explode1") == "explode1d or [redacted]"


def test_the_derived_webhook_secret_and_provider_variables_are_secrets() -> None:
    settings = Settings(
        _env_file=None,
        telegram_bot_token="123456:" + "A" * 35,
        webhook_url="https://bot.example.com/hook",
        http_port=8080,
    )
    environment = {
        "ANTHROPIC_API_KEY": "anthropic-key-1",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-1",
        "HOME": "/home/operator",
    }
    secrets = settings.secret_values(environment)
    assert settings.effective_webhook_secret() in secrets
    assert {"anthropic-key-1", "aws-secret-1"} <= set(secrets)
    assert "/home/operator" not in secrets

"""Settings: the product's names and defaults, parsing, readable errors, secrets kept secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.settings import AllowedUsers, Settings, load_settings

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name in Settings.model_fields or name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_base_url == "https://api.telegram.org/bot"
    assert settings.database_url == "sqlite+aiosqlite:///./cronpilot.db"
    assert settings.llm_model == "openai/gpt-4o-mini"
    assert settings.llm_api_base is None
    assert settings.llm_api_key is None
    assert settings.parser_model == "openai/gpt-4o-mini"
    assert settings.allowed_users == AllowedUsers()
    assert not settings.allowed_users.allows(1)
    assert settings.group_members_can_manage is False
    assert settings.default_timezone == "UTC"
    assert settings.max_tasks_per_chat == 25
    assert settings.min_interval_seconds == 300
    assert settings.misfire_grace_seconds == 3600
    assert (settings.run_timeout_seconds, settings.max_tool_steps) == (120, 5)
    assert settings.max_concurrent_runs == 100
    assert settings.run_starts_per_second == 28
    assert settings.database_pool_size == 10
    assert (settings.log_level, settings.log_format) == ("INFO", "console")
    assert settings.webhook_url is None
    assert settings.webhook_secret is None
    assert settings.http_port is None
    assert settings.forwarded_allow_ips == ()
    assert settings.webapp_url is None


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ALLOWED_USERS", " 42, 7 ,,-100 ")
    monkeypatch.setenv("DATABASE_URL", "postgres://bot:pw@db:5432/cronpilot")
    monkeypatch.setenv("LLM_MODEL", "anthropic/claude-haiku")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("HTTP_PORT", "8080")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/telegram")
    monkeypatch.setenv("RUN_STARTS_PER_SECOND", "0")
    settings = load_settings()
    assert settings.require_bot_token().get_secret_value() == TOKEN
    assert settings.allowed_users.ids == frozenset({42, 7, -100})
    assert settings.allowed_users.allows(7)
    assert not settings.allowed_users.allows(8)
    assert settings.database_url == "postgresql+asyncpg://bot:pw@db:5432/cronpilot"
    assert settings.database_url_for_display == "postgresql+asyncpg://bot:***@db:5432/cronpilot"
    assert settings.parser_model == "anthropic/claude-haiku"  # follows LLM_MODEL
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    assert settings.http_port == 8080
    assert settings.run_starts_per_second == 0  # no limit


@pytest.mark.parametrize("name", ["HEALTH_PORT", "WEBHOOK_PORT"])
def test_old_port_settings_fail_naming_http_port(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "9100")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{name}: replaced by HTTP_PORT")


@pytest.mark.parametrize(
    ("value", "trusted"),
    [
        ("", ()),
        ("10.0.0.5", ("10.0.0.5",)),
        (" 172.16.0.0/12 , 10.0.0.5,10.0.0.5 ", ("172.16.0.0/12", "10.0.0.5")),
        ("10.1.2.3/8, ::1", ("10.0.0.0/8", "::1")),
        ("*", ("*",)),
    ],
)
def test_forwarded_allow_ips_names_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch, value: str, trusted: tuple[str, ...]
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", value)
    assert load_settings().forwarded_allow_ips == trusted


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("proxy.local", "'proxy.local' is not an IP address or network"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not an IP address or network"),
        ("*, 10.0.0.5", "* already trusts every address; give it alone"),
    ],
)
def test_forwarded_allow_ips_refuses_what_is_not_an_address(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", value)
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"FORWARDED_ALLOW_IPS: {problem}")


def test_webhook_needs_http_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.com/telegram")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value).startswith("HTTP_PORT: not set, but WEBHOOK_URL is")


def test_webapp_url_must_be_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAPP_URL", "http://bot.example.com/app/")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    assert str(caught.value).startswith("WEBAPP_URL: must be the https:// address")
    monkeypatch.setenv("WEBAPP_URL", "https://bot.example.com/app/")
    assert load_settings().webapp_url == "https://bot.example.com/app/"


def test_star_allows_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_USERS", "*")
    assert load_settings().allowed_users.allows(123456789)


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={TOKEN}\nDEFAULT_TIMEZONE=Europe/Berlin\nPARSER_MODEL=openai/gpt-4o\n"
    )
    settings = load_settings()
    assert settings.default_timezone == "Europe/Berlin"
    assert settings.parser_model == "openai/gpt-4o"
    assert settings.telegram_bot_token is not None


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("LLM_API_KEY", "sk-live-abcdef123456")
    monkeypatch.setenv("WEBHOOK_SECRET", "hook_secret-1")
    shown = repr(load_settings()) + str(load_settings())
    for secret in (TOKEN, "sk-live-abcdef123456", "hook_secret-1"):
        assert secret not in shown


def test_missing_token_is_reported_plainly() -> None:
    with pytest.raises(ConfigurationError, match="TELEGRAM_BOT_TOKEN: not set"):
        load_settings().require_bot_token()


def test_every_problem_gets_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "paste-your-token-here")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("MAX_TASKS_PER_CHAT", "lots")
    monkeypatch.setenv("MIN_INTERVAL_SECONDS", "5")
    monkeypatch.setenv("ALLOWED_USERS", "42,bob")
    monkeypatch.setenv("WEBHOOK_URL", "http://bot.example.com")
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces!")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert len(lines) == 8
    names = [line.split(":", 1)[0] for line in lines]
    assert sorted(names) == sorted(
        [
            "TELEGRAM_BOT_TOKEN",
            "DEFAULT_TIMEZONE",
            "MAX_TASKS_PER_CHAT",
            "MIN_INTERVAL_SECONDS",
            "ALLOWED_USERS",
            "WEBHOOK_URL",
            "WEBHOOK_SECRET",
            "LOG_FORMAT",
        ]
    )
    assert "paste-your-token-here" not in str(caught.value)
    assert any("'bob' is not a Telegram user id" in line for line in lines)
    assert any("Mars/Olympus" in line for line in lines)


def test_cli_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        {
            "DEFAULT_TIMEZONE": "Nowhere/Town",
            "MAX_CONCURRENT_RUNS": "0",
            "RUN_STARTS_PER_SECOND": "-1",
        }
    )
    result = subprocess.run(
        [sys.executable, "-m", "cronpilot.cli", "migrate"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "cronpilot: invalid settings:"
    assert sorted(line.split(":")[1].strip() for line in lines[1:]) == [
        "DEFAULT_TIMEZONE",
        "MAX_CONCURRENT_RUNS",
        "RUN_STARTS_PER_SECOND",
    ]
    assert list(tmp_path.iterdir()) == []

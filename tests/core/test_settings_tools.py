"""Settings of the tools and the budget: SEARCH_*, MCP_CONFIG, CHAT_MONTHLY_BUDGET_USD."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.logs import Redactor
from core.settings import SEARCH_PROVIDERS, Settings, load_settings
from scheduler.llm import _import_litellm


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.lower() in Settings.model_fields:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_unset_means_no_search_no_mcp_and_no_budget() -> None:
    settings = load_settings(_env_file=None)
    assert settings.search_provider is None
    assert settings.mcp_servers == ()
    assert settings.chat_monthly_budget_usd is None


def test_the_search_providers_are_litellms() -> None:
    litellm = _import_litellm()
    assert set(SEARCH_PROVIDERS) == {provider.value for provider in litellm.SearchProviders}


def test_search_settings_are_read_and_checked() -> None:
    settings = load_settings(
        _env_file=None,
        search_provider=" SearXNG ",
        search_api_base="http://searxng:8080",
        chat_monthly_budget_usd="2.5",
    )
    assert settings.search_provider == "searxng"
    assert settings.chat_monthly_budget_usd == 2.5
    with pytest.raises(ConfigurationError) as raised:
        load_settings(_env_file=None, search_provider="searxng")
    assert str(raised.value) == (
        "SEARCH_API_BASE: not set, but SEARCH_PROVIDER is searxng; set it to your SearXNG "
        "address, such as http://searxng:8080"
    )
    with pytest.raises(ConfigurationError) as raised:
        load_settings(_env_file=None, search_provider="bingo", chat_monthly_budget_usd="-1")
    first, second = str(raised.value).splitlines()
    assert first.startswith("SEARCH_PROVIDER: 'bingo' is not a search provider LiteLLM knows")
    assert second.startswith("CHAT_MONTHLY_BUDGET_USD: ")


def test_search_key_and_mcp_credentials_are_secrets(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "gh": {"command": "npx", "env": {"GITHUB_TOKEN": "ghp_secret_123"}},
                    "home": {"url": "https://h/mcp", "headers": {"Authorization": "Bearer abc123"}},
                }
            }
        )
    )
    settings = load_settings(
        _env_file=None,
        search_provider="tavily",
        search_api_key="tvly-key-987",
        mcp_config=str(config),
    )
    assert {"tvly-key-987", "ghp_secret_123", "Bearer abc123"} <= set(settings.secret_values())
    assert "tvly-key-987" not in repr(settings)
    line = Redactor(settings.secret_values()).clean("key tvly-key-987 and ghp_secret_123")
    assert "tvly-key-987" not in line
    assert "ghp_secret_123" not in line

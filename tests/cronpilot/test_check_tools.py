"""`cronpilot check` on the search provider and the MCP servers: one line each."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigurationError
from core.settings import load_settings
from cronpilot.check import exit_status, render, run_checks
from tests.fakes.llm import FakeLLM
from tests.fakes.mcp_tracker import http_server, stdio_entry
from tests.fakes.searxng import FakeSearXNG
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

SEARCH_KEY = "sx-check-secret-42424242"


@pytest.fixture
async def searx() -> AsyncIterator[FakeSearXNG]:
    async with FakeSearXNG() as server:
        yield server


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def settings_for(telegram: FakeTelegram, llm: FakeLLM, sqlite_url: str, **values: Any) -> Any:
    return load_settings(
        _env_file=None,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=telegram.base_url,
        database_url=sqlite_url,
        llm_api_base=llm.base_url,
        llm_api_key="sk-test-check-tools-0123456789",
        allowed_users="42",
        **values,
    )


async def test_search_and_every_mcp_server_get_a_line(
    tmp_path: Path, sqlite_url: str, telegram: FakeTelegram, llm: FakeLLM, searx: FakeSearXNG
) -> None:
    searx.results["cronpilot"] = [("cronpilot", "https://example.com/", "A bot.")]
    config = tmp_path / "mcp.json"
    with http_server() as url:
        config.write_text(
            json.dumps(
                {
                    "mcpServers": {
                        "tracker": stdio_entry(),
                        "remote": {"url": url, "headers": {"Authorization": "Bearer t0ken-xyz"}},
                        "broken": {"command": str(tmp_path / "no-such-server")},
                    }
                }
            )
        )
        llm.reply_text("OK")
        settings = settings_for(
            telegram,
            llm,
            sqlite_url,
            search_provider="searxng",
            search_api_base=searx.base_url,
            search_api_key=SEARCH_KEY,
            mcp_config=str(config),
        )
        results = await run_checks(settings)
    lines = render(results).splitlines()
    assert lines[4:] == [
        "✓ search: searxng answered a test query with 1 result",
        "! mcp tracker: 4 tools (lookup_issue, fail, crash, slow); not offered: "
        "a.name.providers.refuse — tool names may only hold letters, digits, _ and - (64 at "
        "most with the server's name), or the model could not call them",
        "! mcp remote: 4 tools (lookup_issue, fail, crash, slow); not offered: "
        "a.name.providers.refuse — tool names may only hold letters, digits, _ and - (64 at "
        "most with the server's name), or the model could not call them",
        f"✗ mcp broken: the command was not found ({tmp_path / 'no-such-server'}) — check "
        "mcpServers.broken in MCP_CONFIG and that the server runs",
    ]
    assert exit_status(results) == 1
    assert searx.headers[0]["Authorization"] == f"Bearer {SEARCH_KEY}"


async def test_a_failing_search_provider_says_what_to_check_and_hides_the_key(
    sqlite_url: str, telegram: FakeTelegram, llm: FakeLLM, searx: FakeSearXNG
) -> None:
    searx.fail_with = 401
    llm.reply_text("OK")
    settings = settings_for(
        telegram,
        llm,
        sqlite_url,
        search_provider="searxng",
        search_api_base=searx.base_url,
        search_api_key=SEARCH_KEY,
    )
    results = await run_checks(settings)
    output = render(results)
    assert output.splitlines()[-1] == (
        "✗ search: the search provider searxng refused the API key (HTTP 401) — check "
        "SEARCH_PROVIDER, SEARCH_API_BASE and SEARCH_API_KEY (or the provider's own variable, "
        "such as TAVILY_API_KEY)"
    )
    assert SEARCH_KEY not in output


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON (line 1, column 2: Expecting property name"),
        ('{"servers": {}}', "unknown key 'servers'; only mcpServers is read"),
        ('{"mcpServers": {"a": {"comand": "x"}}}', "mcpServers.a: unknown key 'comand'"),
        ('{"mcpServers": {"a": {"url": "ftp://x"}}}', "mcpServers.a.url must be an http://"),
        ('{"mcpServers": {"a__b": {"command": "x"}}}', "mcpServers.a__b: a server name is"),
        (
            '{"mcpServers": {"a": {"command": "x", "url": "http://h/mcp"}}}',
            "mcpServers.a needs exactly one of",
        ),
    ],
)
def test_an_invalid_mcp_config_fails_at_start_with_one_line(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "mcp.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError) as raised:
        load_settings(_env_file=None, mcp_config=str(path))
    [line] = str(raised.value).splitlines()
    assert line.startswith(f"MCP_CONFIG: {path}: {problem}")

"""MCP servers as tools, against a real MCP server built with the SDK, over stdio and HTTP."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from core.mcp_config import McpServerConfig
from scheduler.runner.tools.mcp import McpServers
from scheduler.runner.tools.toolbox import Toolbox
from tests.fakes.mcp_tracker import http_server, stdio_config


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with http_server() as url:
        yield url


@pytest.fixture
async def stdio_servers(tmp_path: Path) -> AsyncIterator[McpServers]:
    servers = McpServers([stdio_config(log=tmp_path / "calls.log")], call_timeout=3)
    try:
        yield servers
    finally:
        await servers.stop()


async def toolbox_of(servers: McpServers) -> Toolbox:
    return Toolbox(list(await servers.tools()))


async def test_stdio_tools_are_offered_with_their_names_descriptions_and_schemas(
    stdio_servers: McpServers,
) -> None:
    toolbox = await toolbox_of(stdio_servers)
    assert sorted(toolbox.names) == [
        "tracker__crash",
        "tracker__fail",
        "tracker__lookup_issue",
        "tracker__slow",
    ]
    [spec] = [s for s in toolbox.specs() if s["function"]["name"] == "tracker__lookup_issue"]
    function = spec["function"]
    assert function["description"].startswith("Look up an issue of the tracker by its number.")
    assert function["parameters"]["properties"]["number"]["type"] == "integer"
    assert function["parameters"]["required"] == ["number"]
    text = await toolbox.call("tracker__lookup_issue", '{"number": 7}')
    assert text == "Issue #7: Compiler crashes on nested closures (open, assigned to Dana)"


async def test_http_tools_work_the_same(http_url: str) -> None:
    servers = McpServers([McpServerConfig(name="remote", url=http_url)], call_timeout=3)
    try:
        toolbox = await toolbox_of(servers)
        assert "remote__lookup_issue" in toolbox.names
        text = await toolbox.call("remote__lookup_issue", '{"number": 12}')
        assert text == "Issue #12: Add web search to scheduled tasks (open)"
        error = await toolbox.call("remote__slow", '{"seconds": 10}')
        assert error == "error: the MCP server remote did not answer within 3 s"
        [status] = await servers.statuses()
        assert status.ok
        assert len(status.tools) == 4
        assert status.skipped == ("a.name.providers.refuse",)  # not a callable function name
    finally:
        await servers.stop()


async def test_the_server_is_started_once_and_shared(
    stdio_servers: McpServers, tmp_path: Path
) -> None:
    await stdio_servers.start()
    for number in (7, 12):
        toolbox = await toolbox_of(stdio_servers)
        await toolbox.call("tracker__lookup_issue", f'{{"number": {number}}}')
    lines = (tmp_path / "calls.log").read_text().splitlines()
    assert [line for line in lines if line.startswith("started")] == [lines[0]]
    assert lines[1:] == ["lookup_issue 7", "lookup_issue 12"]


async def test_a_tool_error_comes_back_to_the_model(stdio_servers: McpServers) -> None:
    toolbox = await toolbox_of(stdio_servers)
    text = await toolbox.call("tracker__fail", "{}")
    assert text.startswith("error: tracker__fail reported an error: ")


async def test_a_crashed_server_is_a_tool_error_and_starts_again_for_the_next_run(
    stdio_servers: McpServers, tmp_path: Path
) -> None:
    toolbox = await toolbox_of(stdio_servers)
    text = await toolbox.call("tracker__crash", "{}")
    assert text == (
        "error: the MCP server tracker stopped answering (it may have crashed); it will be "
        "started again for a later run"
    )
    # The same run's toolbox keeps failing cleanly…
    again = await toolbox.call("tracker__lookup_issue", '{"number": 7}')
    assert again.startswith("error: the MCP server tracker ")
    # …and the next run gets a fresh server.
    toolbox = await toolbox_of(stdio_servers)
    assert await toolbox.call("tracker__lookup_issue", '{"number": 7}') == (
        "Issue #7: Compiler crashes on nested closures (open, assigned to Dana)"
    )
    started = (tmp_path / "calls.log").read_text().splitlines()
    assert len([line for line in started if line.startswith("started")]) == 2


async def test_a_server_that_cannot_start_offers_no_tools_and_says_why(tmp_path: Path) -> None:
    servers = McpServers(
        [
            McpServerConfig(name="gone", command=str(tmp_path / "no-such-server")),
            McpServerConfig(name="down", url="http://127.0.0.1:9/mcp"),
        ],
        connect_timeout=10,
    )
    try:
        assert await servers.tools() == []
        gone, down = await servers.statuses()
        assert not gone.ok
        assert gone.error is not None
        assert "not found" in gone.error
        assert not down.ok
        assert down.error
    finally:
        await servers.stop()


async def test_stop_ends_the_server_process(stdio_servers: McpServers, tmp_path: Path) -> None:
    await stdio_servers.start()
    [first] = (tmp_path / "calls.log").read_text().splitlines()
    pid = int(first.split()[1])
    os.kill(pid, 0)  # running
    await stdio_servers.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)

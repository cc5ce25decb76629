"""The tool registry: a tool is one module, found by listing the tools package, and the runner,
the composition root and `cronpilot check` offer what it declares without naming it."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import structlog

from core.settings import Settings, load_settings
from cronpilot.runtime import assemble
from scheduler.runner.tools.registry import (
    PACKAGE,
    Toolset,
    Toolsets,
    build_toolsets,
    check_tools,
    tool_kits,
)
from scheduler.runner.tools.toolbox import Tool
from storage.records import RunStatus, Task
from tests.fakes.clock import FakeClock
from tests.fakes.delivery import FakeDelivery
from tests.fakes.llm import FakeLLM
from tests.fakes.mcp_tracker import stdio_entry
from tests.fakes.records import a_task
from tests.scheduler.runner.test_runner import START, Sessions, make_world

NEW_TOOL = "word_count"
# The whole of a new tool: one module, written into the tools package by the fixture below.
NEW_MODULE = '''
    """`word_count`: how many words a text has. Added by a test, as a module and nothing else."""

    from collections.abc import Mapping, Sequence
    from typing import Any

    from core.checks import CheckResult
    from core.settings import Settings
    from scheduler.clock import Clock
    from scheduler.runner.tools.registry import SingleToolset, ToolKit, Toolset
    from scheduler.runner.tools.toolbox import Tool, string_argument


    async def count(arguments: Mapping[str, Any]) -> str:
        text = string_argument(arguments, "text", required=True) or ""
        return f"{len(text.split())} words"


    WORD_COUNT = Tool(
        name="word_count",
        description="Count the words of a text.",
        parameters={
            "type": "object",
            "properties": {"text": {"type": "string", "description": "the text"}},
            "required": ["text"],
            "additionalProperties": False,
        },
        handler=count,
    )


    class WordCountToolset(SingleToolset):
        key = "word_count"
        label = "word count"
        advice = "Use word_count to count the words of a text. "


    def build(settings: Settings, clock: Clock) -> Sequence[Toolset]:
        return [WordCountToolset(WORD_COUNT)]


    async def check(settings: Settings) -> Sequence[CheckResult]:
        return [CheckResult("word count", True, "counts words")]


    KIT = ToolKit(key="word_count", order=50, build=build, check=check)
'''


@pytest.fixture
def new_tool_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Drop `word_count.py` into the tools package (a folder of the package's `__path__`, so the
    source tree stays as it is), and take it out again afterwards."""
    (tmp_path / f"{NEW_TOOL}.py").write_text(textwrap.dedent(NEW_MODULE))
    package = importlib.import_module(PACKAGE)
    monkeypatch.setattr(package, "__path__", [*package.__path__, str(tmp_path)])
    importlib.invalidate_caches()
    try:
        yield
    finally:
        sys.modules.pop(f"{PACKAGE}.{NEW_TOOL}", None)
        if hasattr(package, NEW_TOOL):
            delattr(package, NEW_TOOL)


def default_settings(**values: Any) -> Settings:
    return load_settings(_env_file=None, **values)


@pytest.mark.usefixtures("litellm_imported", "new_tool_module")
async def test_a_new_module_is_a_new_tool_the_model_is_offered_and_can_call(
    sessions: Sessions, llm: FakeLLM
) -> None:
    world = make_world(sessions, llm)  # the registry's tools, as the composition root builds them
    task = await world.task("How many words has 'one two three'?")
    llm.reply_tool_calls([(NEW_TOOL, {"text": "one two three"})])
    llm.reply_text("Three words.")

    run = await world.run(task)

    assert run.status is RunStatus.SUCCEEDED
    first = llm.requests[0]
    offered = {tool["function"]["name"]: tool["function"] for tool in first["tools"]}
    assert list(offered) == ["current_time", "web_fetch", NEW_TOOL]
    assert offered[NEW_TOOL] == {
        "name": NEW_TOOL,
        "description": "Count the words of a text.",
        "parameters": {
            "type": "object",
            "properties": {"text": {"type": "string", "description": "the text"}},
            "required": ["text"],
            "additionalProperties": False,
        },
    }
    system = first["messages"][0]["content"]
    assert "Use word_count to count the words of a text. If a tool fails" in system
    assert llm.requests[1]["messages"][-1]["content"] == "3 words"
    assert run.tool_calls == ((NEW_TOOL, 1),)
    assert world.delivery.results == [(task.id, "Three words.")]


@pytest.mark.usefixtures("new_tool_module")
async def test_the_composition_root_and_cronpilot_check_take_a_new_module_too() -> None:
    settings = default_settings(database_url="sqlite+aiosqlite:///:memory:")
    runtime = assemble(settings, FakeDelivery(), clock=FakeClock(START), llm=FakeLLMClient())
    try:
        assert [toolset.key for toolset in runtime.tools] == ["current_time", "web_fetch", NEW_TOOL]
        assert [(toolset.key, toolset.label) for toolset in runtime.tools.choices] == [
            ("web_fetch", "web fetch"),
            (NEW_TOOL, "word count"),
        ]
    finally:
        await runtime.database.dispose()
    [line] = await check_tools(settings)
    assert (line.name, line.ok, line.detail) == ("word count", True, "counts words")


def test_without_the_module_there_is_no_such_tool() -> None:
    assert NEW_TOOL not in {kit.key for kit in tool_kits()}
    assert [kit.key for kit in tool_kits()] == ["current_time", "web_fetch", "web_search", "mcp"]


def test_every_setting_a_tool_module_names_is_one_of_the_settings() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for kit in tool_kits():
        assert set(kit.settings) <= fields, kit.key


async def test_a_task_can_have_a_subset_of_the_toolsets_by_their_keys(tmp_path: Path) -> None:
    """What per-task tool choice will ask: the choices, and a toolbox of some of them."""
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"tracker": stdio_entry()}}))
    settings = default_settings(
        search_provider="searxng", search_api_base="http://127.0.0.1:9", mcp_config=str(config)
    )
    toolsets = build_toolsets(settings, clock=FakeClock(START))
    assert [(toolset.key, toolset.label) for toolset in toolsets.choices] == [
        ("web_fetch", "web fetch"),
        ("web_search", "web search"),
        ("mcp:tracker", "tracker"),
    ]
    task = a_task()
    # current_time is every task's; a key nobody has (a server since removed) is no tool.
    searching = await toolsets.toolbox(task, {"web_search", "mcp:gone"})
    assert searching.names == ["current_time", "web_search"]
    assert searching.advice == (
        "Use current_time for the time elsewhere. ",
        "Use web_search to find current pages and news. ",
    )
    assert (await toolsets.toolbox(task, set())).names == ["current_time"]


class Fixed(Toolset):
    def __init__(self, key: str, names: Sequence[str], advice: str = "") -> None:
        self.key = key
        self.label = key
        self.advice = advice or f"Use {key}. "
        self._tools = [
            Tool(name, name, {"type": "object", "properties": {}}, handler=_nothing)
            for name in names
        ]
        self.stopped = False

    async def tools(self, task: Task) -> Sequence[Tool]:
        return self._tools

    async def stop(self) -> None:
        self.stopped = True


class Broken(Fixed):
    async def tools(self, task: Task) -> Sequence[Tool]:
        raise RuntimeError("a bug in a tool module")

    async def stop(self) -> None:
        raise RuntimeError("a bug in a tool module")


async def _nothing(arguments: Any) -> str:
    return ""


async def test_toolsets_of_one_kind_advise_once_and_one_without_tools_not_at_all() -> None:
    shared = "Tools named server__tool come from MCP servers. "
    toolbox = await Toolsets(
        [
            Fixed("mcp:a", ["a__x"], shared),
            Fixed("mcp:b", ["b__y"], shared),
            Fixed("mcp:down", [], "Never said. "),
        ]
    ).toolbox(a_task())
    assert toolbox.names == ["a__x", "b__y"]
    assert toolbox.advice == (shared,)


async def test_a_toolset_that_breaks_costs_its_own_tools_only() -> None:
    fine, broken = Fixed("fine", ["fine_tool"]), Broken("broken", ["broken_tool"])
    toolsets = Toolsets([broken, fine])
    with structlog.testing.capture_logs() as logs:
        toolbox = await toolsets.toolbox(a_task())
        await toolsets.stop()
    assert toolbox.names == ["fine_tool"]
    assert fine.stopped
    assert [(entry["event"], entry["toolset"]) for entry in logs] == [
        ("toolset.failed", "broken"),
        ("toolset.stop_failed", "broken"),
    ]


def test_two_toolsets_may_not_share_a_key() -> None:
    with pytest.raises(ValueError, match="given twice: same"):
        Toolsets([Fixed("same", ["a"]), Fixed("same", ["b"])])


class FakeLLMClient:
    """An LLM client the composition root is built with and never asked."""

    async def complete(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("not called")

    async def warm_up(self) -> None:
        return None

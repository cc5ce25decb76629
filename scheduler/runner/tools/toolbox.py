"""The toolbox of a task run: `current_time` and `web_fetch` (here), `web_search` and the MCP
servers' tools (their own modules), each a `Tool`.

A tool never raises into the run: whatever goes wrong becomes its result text, so the model can
read the error and carry on. That holds for failures nobody foresaw too (a library raising
something undocumented on a strange URL): those are logged with their traceback and the model
hears that the tool failed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from core.errors import CronpilotError
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.runner.tools.web_fetch import FetchPolicy, WebFetchError, fetch_page
from scheduler.schedules.schedule import zone_for

log = get_logger(__name__)

ToolHandler = Callable[[Mapping[str, Any]], Awaitable[str]]

# What one tool result may add to the conversation.
MAX_RESULT_CHARS = 20_000


class ToolError(CronpilotError):
    """A tool could not do what it was asked; the message is for the model."""


class ToolArgumentError(ToolError):
    """The model called a tool with arguments it does not take."""


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: ToolHandler

    def spec(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


class ToolSource(Protocol):
    """Tools beyond the built-in ones, asked for at the start of every run (MCP servers may
    come and go between runs)."""

    async def tools(self) -> Sequence[Tool]: ...


@dataclass(frozen=True, slots=True)
class FixedTools:
    """A `ToolSource` whose tools never change (web_search)."""

    fixed: tuple[Tool, ...]

    async def tools(self) -> Sequence[Tool]:
        return self.fixed


class Toolbox:
    def __init__(self, tools: list[Tool]) -> None:
        self._tools = {tool.name: tool for tool in tools}

    def specs(self) -> list[dict[str, Any]]:
        return [tool.spec() for tool in self._tools.values()]

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    async def call(self, name: str, arguments: str) -> str:
        """Run one tool call and return its result text (an error text when it failed)."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(self._tools) or "none"
            return f"error: there is no tool named {name!r}; the tools are: {known}"
        try:
            parsed = json.loads(arguments or "{}")
        except json.JSONDecodeError as error:
            return f"error: the arguments are not valid JSON ({error.msg}); send a JSON object"
        if not isinstance(parsed, dict):
            return "error: the arguments must be a JSON object"
        try:
            result = await tool.handler(parsed)
        except (ToolError, WebFetchError) as error:
            return f"error: {error}"
        except Exception as error:  # the boundary: a tool's surprise must not end the run
            log.exception("tool.crashed", tool=name)
            return f"error: the {name} tool failed unexpectedly ({type(error).__name__})"
        if len(result) > MAX_RESULT_CHARS:
            result = result[:MAX_RESULT_CHARS] + "\n[…cut: the result was too long]"
        return result


def string_argument(arguments: Mapping[str, Any], name: str, *, required: bool) -> str | None:
    value = arguments.get(name)
    if value is None:
        if required:
            raise ToolArgumentError(f"the argument {name!r} is required")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ToolArgumentError(f"the argument {name!r} must be a non-empty string")
    return value.strip()


def current_time_tool(clock: Clock, default_zone: str) -> Tool:
    async def handler(arguments: Mapping[str, Any]) -> str:
        zone_name = string_argument(arguments, "timezone", required=False) or default_zone
        try:
            zone = zone_for(zone_name)
        except CronpilotError as error:
            raise ToolArgumentError(str(error)) from None
        local: datetime = clock.now().astimezone(zone)
        return f"{local:%A %Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{local:%z}, {zone.key})"

    return Tool(
        name="current_time",
        description="The current date and time, in the task's time zone or a given IANA zone.",
        parameters={
            "type": "object",
            "properties": {
                "timezone": {
                    "type": "string",
                    "description": "IANA time zone such as Europe/Berlin; default: the task's",
                }
            },
            "additionalProperties": False,
        },
        handler=handler,
    )


def web_fetch_tool(policy: FetchPolicy) -> Tool:
    async def handler(arguments: Mapping[str, Any]) -> str:
        url = string_argument(arguments, "url", required=True)
        assert url is not None
        page = await fetch_page(url, policy)
        header = [f"URL: {page.url}", f"Status: {page.status}"]
        if page.title:
            header.append(f"Title: {page.title}")
        if page.truncated:
            header.append("Note: the page was longer; this is its beginning")
        return "\n".join(header) + "\n\n" + page.text

    return Tool(
        name="web_fetch",
        description=(
            "Fetch a public web page (http or https) and return its readable text, not HTML. "
            "Use it to read news sites, feeds, documentation and the like."
        ),
        parameters={
            "type": "object",
            "properties": {"url": {"type": "string", "description": "the full URL to fetch"}},
            "required": ["url"],
            "additionalProperties": False,
        },
        handler=handler,
    )

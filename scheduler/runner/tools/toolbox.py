"""The toolbox of one run: the `Tool`s its toolsets offer (see `registry`), called by name.

A tool never raises into the run: whatever goes wrong becomes its result text, so the model can
read the error and carry on. That holds for failures nobody foresaw too (a library raising
something undocumented on a strange URL): those are logged with their traceback and the model
hears that the tool failed.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.errors import CronpilotError
from core.logs import get_logger

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


class Toolbox:
    """The tools of one run by name, and what the system prompt says about them (`advice`)."""

    def __init__(self, tools: Iterable[Tool], *, advice: tuple[str, ...] = ()) -> None:
        self._tools = {tool.name: tool for tool in tools}
        self.advice = advice

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
        except ToolError as error:
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

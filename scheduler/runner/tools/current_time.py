"""The `current_time` tool: the date and time now, in the task's time zone or a given IANA zone.

Every task has it (it reaches nothing outside the bot), so it is not among a task's choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from core.errors import N_, CronpilotError
from core.settings import Settings
from scheduler.clock import Clock
from scheduler.runner.tools.registry import ToolKit, Toolset
from scheduler.runner.tools.toolbox import Tool, ToolArgumentError, string_argument
from scheduler.schedules.schedule import zone_for
from storage.records import Task

KEY = "current_time"


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


class CurrentTimeToolset(Toolset):
    key = KEY
    label = N_("current time")
    advice = "Use current_time for the time elsewhere. "
    always = True

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def tools(self, task: Task) -> Sequence[Tool]:
        return [current_time_tool(self._clock, task.timezone)]


def _build(settings: Settings, clock: Clock) -> Sequence[Toolset]:
    return [CurrentTimeToolset(clock)]


KIT = ToolKit(key=KEY, order=10, build=_build)

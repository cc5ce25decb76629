"""What a task runs with: its model (one of MODELS, or the default), the tools it may use
(every configured one for a new task), what it may spend a month, and what it will cost. Each
change is checked against the actor like any change to a task (EDIT_TASK)."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.errors import CapOutOfRangeError, UnknownModelError, UnknownToolError
from application.estimates import CostEstimates
from application.permissions import Action, Actor
from application.records import Estimate
from application.tasks import task_in_chat
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.runner.tools.registry import Toolsets
from scheduler.schedules.schedule import Schedule
from storage import task_choices
from storage.records import Task, TaskState

log = get_logger(__name__)

# The most a task's monthly cap may be: a typo such as 5000 for 0.50 is refused, not kept.
MOST_CAP_USD = 1000.0
_MCP_PREFIX = "mcp:"


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """One toolset a task may have or not: its stable key, its label, and whether it has it."""

    key: str
    label: str
    on: bool


@dataclass(frozen=True, slots=True)
class TaskTools:
    task: Task
    tools: tuple[ToolChoice, ...]


@dataclass(frozen=True, slots=True)
class ModelOffer:
    """The models a task may run on: the default (LLM_MODEL) and the names of MODELS."""

    default: str
    names: tuple[str, ...]

    def of(self, task: Task) -> str:
        """The model the task runs on, as people see it."""
        return self.shown(task.model)

    def shown(self, model: str | None) -> str:
        """A stored choice (None: the default) as people see it."""
        return model if model in self.names else self.default

    @property
    def choices(self) -> tuple[str | None, ...]:
        """What may be chosen, in the order a card offers them: the default (None), then
        MODELS."""
        return (None, *self.names)

    def choice(self, index: int) -> str | None:
        """The choice at `index` of `choices` (a card's button carries it);
        UnknownModelError when there is none there (MODELS changed since)."""
        if not 0 <= index < len(self.choices):
            raise UnknownModelError(f"#{index}", self.names)
        return self.choices[index]

    def resolve(self, name: str | None) -> str | None:
        """The stored choice for `name`: None for the default; UnknownModelError if MODELS
        does not name it."""
        if name is None:
            return None
        wanted = name.strip().lower()
        if wanted in ("default", self.default.lower()):
            return None
        if wanted not in self.names:
            raise UnknownModelError(wanted, self.names)
        return wanted


class TaskSetup:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        access: Access,
        *,
        models: ModelOffer,
        toolsets: Toolsets,
        estimates: CostEstimates | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._access = access
        self.models = models
        self._toolsets = toolsets
        self._estimates = estimates

    @property
    def tool_choices(self) -> tuple[tuple[str, str], ...]:
        """Every toolset a task may have or not: its key and its label (a catalog message id,
        or an MCP server's own name)."""
        return tuple((toolset.key, toolset.label) for toolset in self._toolsets.choices)

    async def estimate(self, actor: Actor, task_id: int) -> Estimate | None:
        """What task `task_id` will cost over the next 30 days, as its card says before
        Confirm: its own runs' average once it has run, else its model's price; free for a
        reminder. None when no estimate can be made (no price list, or it will not run
        again)."""
        task = await self._access.task(actor, Action.SHOW_TASK, task_id)
        if self._estimates is None or task.state is TaskState.FINISHED:
            return None
        return await self._estimates.estimate(
            task.chat_id,
            Schedule.of(task),
            self.models.of(task),
            task_id=task.id,
            mode=task.mode,
        )

    async def set_model(self, actor: Actor, task_id: int, name: str | None) -> Task:
        """Task `task_id` runs on the model `name` of MODELS (None, or the default's own name:
        on the default)."""
        found = await self._access.task(actor, Action.EDIT_TASK, task_id)
        chosen = self.resolve_model(name)
        async with self._sessions() as session, session.begin():
            await task_in_chat(session, found.chat_id, task_id, lock=True)
            task = await task_choices.set_model(session, task_id, chosen, now=self._clock.now())
        assert task is not None
        log.info("task.model_set", task_id=task_id, model=chosen, door=actor.door.value)
        return task

    async def check_model(self, actor: Actor, task_id: int, name: str | None) -> str | None:
        """What `set_model` would store for task `task_id`, checked as it checks (the actor
        may change the task, MODELS names the model), nothing stored: for a change confirmed
        in words, which stores it with the rest of the change."""
        await self._access.task(actor, Action.EDIT_TASK, task_id)
        return self.resolve_model(name)

    def resolve_model(self, name: str | None) -> str | None:
        """The stored choice for `name`: None for the default; UnknownModelError if MODELS
        does not name it."""
        return self.models.resolve(name)

    async def tools(self, actor: Actor, task_id: int) -> TaskTools:
        """The toolsets task `task_id` may have, each on or off."""
        task = await self._access.task(actor, Action.SHOW_TASK, task_id)
        return self._listed(task)

    async def set_tools(
        self,
        actor: Actor,
        task_id: int,
        *,
        on: Collection[str] = (),
        off: Collection[str] = (),
        only: Collection[str] | None = None,
    ) -> TaskTools:
        """Turn the toolsets named in `on` on and those in `off` off (a key, or an MCP server's
        name); with `only`, the task has exactly those. Unknown names change nothing."""
        found = await self._access.task(actor, Action.EDIT_TASK, task_id)
        keys = [toolset.key for toolset in self._toolsets.choices]
        turn_on = self._keys(on, keys)
        turn_off = self._keys(off, keys)
        exact = self._keys(only, keys) if only is not None else None
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            if exact is not None:
                chosen = set(exact)
            else:
                chosen = set(keys if task.tools is None else task.tools) & set(keys)
                chosen = (chosen | turn_on) - turn_off
            # Every tool there is is stored as "all", so a tool configured later is one too.
            stored = None if chosen >= set(keys) else chosen
            changed = await task_choices.set_tools(session, task_id, stored, now=self._clock.now())
        assert changed is not None
        log.info("task.tools_set", task_id=task_id, tools=stored, door=actor.door.value)
        return self._listed(changed)

    async def set_cap(self, actor: Actor, task_id: int, cap_usd: float | None) -> Task:
        """Task `task_id` may spend `cap_usd` a calendar month (None: no cap of its own)."""
        found = await self._access.task(actor, Action.EDIT_TASK, task_id)
        self.check_cap(cap_usd)
        async with self._sessions() as session, session.begin():
            await task_in_chat(session, found.chat_id, task_id, lock=True)
            task = await task_choices.set_cap(session, task_id, cap_usd, now=self._clock.now())
        assert task is not None
        log.info("task.cap_set", task_id=task_id, cap_usd=cap_usd, door=actor.door.value)
        return task

    def check_cap(self, cap_usd: float | None) -> None:
        """CapOutOfRangeError unless `cap_usd` is a cap a task may have (None: no cap)."""
        if cap_usd is not None and not (math.isfinite(cap_usd) and 0 <= cap_usd <= MOST_CAP_USD):
            raise CapOutOfRangeError(cap_usd, MOST_CAP_USD)

    def check_tools(self, names: Collection[str]) -> None:
        """UnknownToolError unless every one of `names` is a configured toolset (a key, or an
        MCP server's name): checked before a task is made with them."""
        self._keys(names, [toolset.key for toolset in self._toolsets.choices])

    def _listed(self, task: Task) -> TaskTools:
        return TaskTools(
            task,
            tuple(
                ToolChoice(
                    toolset.key, toolset.label, task.tools is None or toolset.key in task.tools
                )
                for toolset in self._toolsets.choices
            ),
        )

    def _keys(self, names: Collection[str], keys: list[str]) -> set[str]:
        found: set[str] = set()
        unknown: list[str] = []
        for name in names:
            wanted = name.strip().lower()
            key = next(
                (
                    key
                    for key in keys
                    if wanted in (key.lower(), key.lower().removeprefix(_MCP_PREFIX))
                ),
                None,
            )
            if key is None:
                unknown.append(wanted)
            else:
                found.add(key)
        if unknown:
            raise UnknownToolError(tuple(unknown), tuple(keys))
        return found

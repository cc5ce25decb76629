"""The registry of tools: what a tool module declares about itself, and the list of them.

A tool is one module of this package that defines `KIT`, a `ToolKit`: its key and place among
the tools, the settings it reads and whether they configure it, how its toolsets are built from
the settings, and its `cronpilot check` lines. A toolset (`Toolset`) is one group of tools a
task has or has not, with a stable key, a label for people, the advice the system prompt gives
the model about it, the tools themselves (name, JSON schema, handler) and a start/stop
lifecycle. A module offers one toolset (`web_fetch`), none while its settings are unset
(`web_search` without SEARCH_PROVIDER) or several (`mcp`: one per configured server).

The modules are found by listing this package (`tool_kits`): dropping a module in is all it
takes to add a tool; the runner, the prompt, the composition root and `cronpilot check` know no
tool by name. (As APScheduler's data stores and triggers: an abstract base that says what one
must do, one module per kind, each declaring everything about itself.)

`build_toolsets` builds every configured module's toolsets once, for the process; the runner
asks the result for one run's `Toolbox`, optionally for a task's own choice of keys.
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass

from core.checks import CheckResult
from core.logs import get_logger
from core.settings import Settings
from scheduler.clock import Clock
from scheduler.runner.tools.toolbox import Tool, Toolbox
from storage.records import Task

log = get_logger(__name__)

PACKAGE = "scheduler.runner.tools"


class Toolset(ABC):
    """One group of tools a task has or has not: a tool module's tool, or one MCP server's.

    `key` is stable across restarts (a task's choice of tools stores it); `label` is what a
    person sees: a message id of the catalogs (marked `N_`) that the front door translates, or
    a name the operator gave (an MCP server's), which gettext hands back unchanged. `advice` is
    what the system prompt tells the model while the toolset offers it any tool (toolsets of
    one module share theirs, said once). An `always` toolset is offered to every task, not a
    choice.
    """

    key: str
    label: str
    advice: str
    always: bool = False

    @abstractmethod
    async def tools(self, task: Task) -> Sequence[Tool]:
        """The tools for one run of `task`; none while they cannot be used (a server down)."""

    async def start(self) -> None:  # noqa: B027 - most toolsets hold nothing to start
        """Get ready before the first run (start a server); a failure is logged, runs retry."""

    async def stop(self) -> None:  # noqa: B027 - most toolsets hold nothing to stop
        """Let go of what it holds (processes, connections): at shutdown, once."""


class SingleToolset(Toolset):
    """A toolset of one tool, the same for every run (`web_fetch`, `web_search`)."""

    def __init__(self, tool: Tool) -> None:
        self.tool = tool

    async def tools(self, task: Task) -> Sequence[Tool]:
        return [self.tool]


def always_configured(settings: Settings) -> bool:
    """For tools that need no setting of their own."""
    return True


@dataclass(frozen=True, slots=True)
class ToolKit:
    """What a tool module declares about itself, as its `KIT`.

    `order` places its toolsets among the others: the order the model sees the tools and the
    advice, and `cronpilot check` prints the lines. `settings` names the environment variables
    it reads (they are fields of `core.settings.Settings`, the one settings class); only when
    `configured` says they configure it are its toolsets built (`build`) and checked (`check`:
    lines for `cronpilot check`, ✓ or ✗ with how to fix; None for a tool with nothing that can
    fail before a run).
    """

    key: str
    order: int
    build: Callable[[Settings, Clock], Sequence[Toolset]]
    settings: tuple[str, ...] = ()
    configured: Callable[[Settings], bool] = always_configured
    check: Callable[[Settings], Awaitable[Sequence[CheckResult]]] | None = None


def tool_kits() -> list[ToolKit]:
    """Every tool module's `KIT`: each module of this package that defines one, in `order`."""
    package = importlib.import_module(PACKAGE)
    kits: dict[str, ToolKit] = {}
    for found in pkgutil.iter_modules(package.__path__, f"{PACKAGE}."):
        kit = getattr(importlib.import_module(found.name), "KIT", None)
        if not isinstance(kit, ToolKit):
            continue  # a module that serves a tool (page_text, extraction) or the registry
        if kit.key in kits:
            raise ValueError(f"two tool modules declare the key {kit.key!r}")
        kits[kit.key] = kit
    return sorted(kits.values(), key=lambda kit: (kit.order, kit.key))


def build_toolsets(settings: Settings, *, clock: Clock) -> Toolsets:
    """The toolsets of every tool module its settings configure; nothing starts yet."""
    return Toolsets(
        toolset
        for kit in tool_kits()
        if kit.configured(settings)
        for toolset in kit.build(settings, clock)
    )


async def check_tools(settings: Settings) -> list[CheckResult]:
    """The `cronpilot check` lines of every configured tool module, in order; checked at once."""
    checks = [
        kit.check(settings)
        for kit in tool_kits()
        if kit.check is not None and kit.configured(settings)
    ]
    return [line for lines in await asyncio.gather(*checks) for line in lines]


class Toolsets:
    """The toolsets a process offers its runs, started and stopped with it."""

    def __init__(self, toolsets: Iterable[Toolset] = ()) -> None:
        self._toolsets = tuple(toolsets)
        keys = [toolset.key for toolset in self._toolsets]
        twice = sorted({key for key in keys if keys.count(key) > 1})
        if twice:
            raise ValueError(f"toolset keys must differ; given twice: {', '.join(twice)}")

    def __iter__(self) -> Iterator[Toolset]:
        return iter(self._toolsets)

    @property
    def choices(self) -> tuple[Toolset, ...]:
        """The toolsets a task may have or not (every one but the `always` ones)."""
        return tuple(toolset for toolset in self._toolsets if not toolset.always)

    def chosen(self, keys: Collection[str] | None = None) -> tuple[Toolset, ...]:
        """The `always` toolsets and those of `keys` (every one for None); a key no toolset has
        (a server since removed from MCP_CONFIG) is no tool."""
        if keys is None:
            return self._toolsets
        return tuple(toolset for toolset in self._toolsets if toolset.always or toolset.key in keys)

    async def toolbox(self, task: Task, keys: Collection[str] | None = None) -> Toolbox:
        """One run's tools and the advice about them, from the toolsets `keys` choose."""
        chosen = self.chosen(keys)
        found = await asyncio.gather(
            *(toolset.tools(task) for toolset in chosen), return_exceptions=True
        )
        tools: list[Tool] = []
        advice: list[str] = []
        for toolset, offered in zip(chosen, found, strict=True):
            if isinstance(offered, BaseException):
                if not isinstance(offered, Exception):
                    raise offered
                # A tool never ends a run: this run goes without the toolset's tools.
                log.error("toolset.failed", toolset=toolset.key, exc_info=offered)
                continue
            if offered:
                tools.extend(offered)
                if toolset.advice not in advice:
                    advice.append(toolset.advice)
        return Toolbox(tools, advice=tuple(advice))

    async def start(self) -> None:
        """Start every toolset (a failure is logged; a later run tries again)."""
        await self._each("start", lambda toolset: toolset.start())

    async def stop(self) -> None:
        """Stop every toolset, each even when another fails."""
        await self._each("stop", lambda toolset: toolset.stop())

    async def _each(self, step: str, call: Callable[[Toolset], Awaitable[None]]) -> None:
        outcomes = await asyncio.gather(
            *(call(toolset) for toolset in self._toolsets), return_exceptions=True
        )
        for toolset, outcome in zip(self._toolsets, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                log.error(f"toolset.{step}_failed", toolset=toolset.key, exc_info=outcome)

"""Usage and the monthly budget: what a chat spent on the LLM this month, and whether it may
spend more.

Everything the LLM costs a chat is in the spending ledger: runs (written by the runner),
schedule parses and follow-up answers (written through `Ledger.record`). The budget rule
(CHAT_MONTHLY_BUDGET_USD against this calendar month's spend, UTC) lives here once, in the
`Ledger`: the runner asks it through the `BudgetGate` port before a run, and any other front
door that is about to call the model for a chat (follow-up answers) asks `reached` too. What
a door shows of it (/usage) is `UsageReports`, for those who may read the chat.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.permissions import Action, Actor
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.llm import Completion, LLMClient
from scheduler.runner.budget import BudgetReached
from storage import spending
from storage.records import Spending

log = get_logger(__name__)

# The kinds of expense, as `record` takes them.
RUN, PARSE, FOLLOW_UP = spending.RUN, spending.PARSE, spending.FOLLOW_UP
# Hearing a voice note: counted with the schedule requests it is mostly for.
TRANSCRIPTION = spending.TRANSCRIPTION

# The chat that pays for the schedule parser's model calls made in this context.
_PAYER: ContextVar[int | None] = ContextVar("cronpilot_parse_payer", default=None)


@dataclass(frozen=True, slots=True)
class UsageLine:
    """One line of /usage: a task (`task_id` set), or "schedule requests" (kind PARSE), or
    "deleted tasks" (neither)."""

    task_id: int | None
    name: str | None
    kind: str
    runs: int
    prompt_tokens: int
    completion_tokens: int
    cost: float  # the known part, USD
    unpriced: int  # calls whose model has no known price

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """The month's runs one model answered (fallbacks included), and what they cost."""

    model: str
    runs: int
    tokens: int
    cost: float  # the known part, USD
    unpriced: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    month_start: datetime  # UTC
    lines: tuple[UsageLine, ...]
    budget_usd: float | None
    # The runs of the chat's tasks per model that answered them.
    models: tuple[ModelUsage, ...] = ()

    @property
    def runs(self) -> int:
        return sum(line.runs for line in self.lines)

    @property
    def tokens(self) -> int:
        return sum(line.tokens for line in self.lines)

    @property
    def cost(self) -> float:
        return sum(line.cost for line in self.lines)

    @property
    def unpriced(self) -> int:
        return sum(line.unpriced for line in self.lines)

    @property
    def left_usd(self) -> float | None:
        return None if self.budget_usd is None else max(self.budget_usd - self.cost, 0.0)


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) holding `now`: [first instant, first instant of the next)."""
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        return start, start.replace(year=start.year + 1, month=1)
    return start, start.replace(month=start.month + 1)


class Ledger:
    """A chat's LLM spending: what it owes this month against its budget, and new expenses."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, budget_usd: float | None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._budget = budget_usd

    async def reached(self, chat_id: int) -> BudgetReached | None:
        """None while the chat may spend (no budget, or below it); else what it spent."""
        if self._budget is None:
            return None
        since, until = month_bounds(self._clock.now())
        async with self._sessions() as session:
            spent = await spending.spent(session, chat_id, since=since, until=until)
        if spent < self._budget:
            return None
        return BudgetReached(spent_usd=spent, budget_usd=self._budget)

    async def record(
        self,
        chat_id: int,
        *,
        kind: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float | None,
        task_id: int | None = None,
    ) -> None:
        """Put an LLM call made for the chat (a parse, a follow-up answer) on its bill."""
        async with self._sessions() as session, session.begin():
            await spending.add(
                session,
                Spending(
                    chat_id=chat_id,
                    task_id=task_id,
                    kind=kind,
                    at=self._clock.now(),
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    cost=cost,
                ),
            )


class UsageReports:
    """/usage for a door: a chat's month, for those who may read the chat."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        budget_usd: float | None,
        access: Access,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._budget = budget_usd
        self._access = access

    async def month(self, actor: Actor, chat_id: int) -> UsageReport:
        """This calendar month's runs, tokens and cost per task, and the budget."""
        await self._access.require(actor, Action.READ_USAGE, chat_id)
        since, until = month_bounds(self._clock.now())
        async with self._sessions() as session:
            groups = await spending.grouped(session, chat_id, since=since, until=until)
            per_model = await spending.by_model(session, chat_id, since=since, until=until)
        lines: dict[tuple[int | None, str], UsageLine] = {}
        for group in groups:
            understanding = group.kind in (PARSE, TRANSCRIPTION)
            kind = PARSE if group.task_id is None and understanding else "task"
            key = (group.task_id, kind)
            earlier = lines.get(key)
            line = UsageLine(
                task_id=group.task_id,
                name=group.task_name,
                kind=kind,
                runs=group.count if group.kind == RUN else 0,
                prompt_tokens=group.prompt_tokens,
                completion_tokens=group.completion_tokens,
                cost=group.cost,
                unpriced=group.count - group.priced,
            )
            if earlier is not None:
                line = UsageLine(
                    task_id=line.task_id,
                    name=line.name,
                    kind=kind,
                    runs=earlier.runs + line.runs,
                    prompt_tokens=earlier.prompt_tokens + line.prompt_tokens,
                    completion_tokens=earlier.completion_tokens + line.completion_tokens,
                    cost=earlier.cost + line.cost,
                    unpriced=earlier.unpriced + line.unpriced,
                )
            lines[key] = line
        ordered = sorted(
            lines.values(),
            key=lambda line: (line.task_id is None, line.kind == PARSE, line.task_id or 0),
        )
        models = tuple(
            ModelUsage(
                model=each.model,
                runs=each.runs,
                tokens=each.prompt_tokens + each.completion_tokens,
                cost=each.cost,
                unpriced=each.runs - each.priced,
            )
            for each in per_model
        )
        return UsageReport(
            month_start=since, lines=tuple(ordered), budget_usd=self._budget, models=models
        )


@contextmanager
def charged_to(chat_id: int) -> Iterator[None]:
    """Model calls made through a `MeteredLLM` inside the block go on this chat's bill."""
    token = _PAYER.set(chat_id)
    try:
        yield
    finally:
        _PAYER.reset(token)


class MeteredLLM:
    """The schedule parser's `LLMClient`: each completion made inside `charged_to(chat)` is
    recorded as a PARSE expense of that chat (the parser itself knows no chats)."""

    def __init__(self, llm: LLMClient, ledger: Ledger) -> None:
        self._llm = llm
        self._ledger = ledger

    async def warm_up(self) -> None:
        await self._llm.warm_up()

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        model: str,
        tools: Sequence[Mapping[str, Any]] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        timeout: float,  # noqa: ASYNC109 - handed on, as LLMClient.complete's
    ) -> Completion:
        completion = await self._llm.complete(
            messages, model=model, tools=tools, tool_choice=tool_choice, timeout=timeout
        )
        payer = _PAYER.get()
        if payer is not None:
            try:
                await self._ledger.record(
                    payer,
                    kind=PARSE,
                    prompt_tokens=completion.prompt_tokens,
                    completion_tokens=completion.completion_tokens,
                    cost=completion.cost,
                )
            except SQLAlchemyError:  # the bill is not worth losing the user's request over
                log.exception("usage.parse_not_recorded", chat_id=payer)
        return completion

"""What a task will cost, shown before Confirm: once it has run, the average cost of its runs ×
its runs in the next 30 days; before, its model's price (LiteLLM's cost map, through the
`Prices` port) × a typical run of this chat, or of any chat (`DEFAULT_RUN_TOKENS`) when this
one has none yet. A reminder asks no model: it is free."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.records import Estimate
from scheduler.clock import Clock
from scheduler.schedules.schedule import Schedule
from storage import spending
from storage.records import TaskMode

# A run as a daily digest with a search costs it: the prompt, memory and tool results, and the
# answer (tokens). Used until the chat has runs of its own.
DEFAULT_RUN_TOKENS = (3000, 500)
HORIZON = timedelta(days=30)
# Counting stops here: a task every five minutes runs 8,640 times in 30 days.
MOST_RUNS = 10_000


def rounded(amount: float) -> tuple[float, int]:
    """An estimate's amount as it is shown: rounded to two significant digits, and how many
    decimal places that takes ($0.0023, $0.06, $14)."""
    if amount <= 0:
        return 0.0, 0
    shown = float(f"{amount:.2g}")
    return shown, max(0, 1 - math.floor(math.log10(shown)))


class Prices(Protocol):
    async def run_cost(
        self, model: str, prompt_tokens: int, completion_tokens: int
    ) -> float | None:
        """A call's price in USD; None when unknown."""
        ...

    def prices_ready(self) -> bool:
        """Whether prices can be had without waiting (the price list has loaded)."""
        ...


def runs_within(schedule: Schedule, now: datetime, horizon: timedelta = HORIZON) -> int:
    """How many times the schedule runs in the next `horizon`."""
    until = now + horizon
    count, instant = 0, now
    while count < MOST_RUNS:
        following = schedule.next_after(instant)
        if following is None or following > until:
            break
        count, instant = count + 1, following
    return count


class CostEstimates:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, prices: Prices
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._prices = prices

    async def estimate(
        self,
        chat_id: int,
        schedule: Schedule,
        model: str,
        *,
        task_id: int | None = None,
        mode: TaskMode = TaskMode.AI,
    ) -> Estimate:
        """The estimate for a task of the chat on `schedule` and `model` (an existing one's
        own runs first, for `task_id`); a reminder is free."""
        now = self._clock.now()
        runs = runs_within(schedule, now)
        if mode is TaskMode.REMINDER:
            return Estimate(0.0, runs, from_runs=False, model="", free=True)
        async with self._sessions() as session:
            average = (
                await spending.average_run_cost(session, task_id) if task_id is not None else None
            )
            typical = await spending.typical_run(session, chat_id) if average is None else None
        if average is not None:
            return Estimate(average, runs, from_runs=True, model=model)
        prompt_tokens, completion_tokens = typical or DEFAULT_RUN_TOKENS
        if not self._prices.prices_ready():
            # Seconds after a start: a card read by the rules does not wait for the library.
            return Estimate(None, runs, from_runs=False, model=model, loading=True)
        price = await self._prices.run_cost(model, prompt_tokens, completion_tokens)
        return Estimate(price, runs, from_runs=False, model=model)

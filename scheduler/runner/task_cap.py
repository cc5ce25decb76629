"""A task's own monthly cap (/budget N): before a run calls the model, has the task spent it
this calendar month (UTC, as the chat's budget counts)? If so the run is recorded `skipped`
with the reason `task_cap_reached`, and the chat is told once a month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.reasons import TaskCapSpent
from scheduler.clock import Clock
from scheduler.delivery import Delivery
from scheduler.runner.sending import ResultSender
from scheduler.runner.skips import skip_and_tell_once
from storage import spending
from storage.records import Run, Task


def month_start(now: datetime) -> datetime:
    """The first instant of the calendar month (UTC) holding `now`: the chat's budget counts
    by the same months (application/usage.py `month_bounds`)."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def cap_text(cap_usd: float) -> str:
    """A cap as people wrote it: "0.50", "12.00", "0.000001"."""
    if round(cap_usd, 2) == cap_usd:
        return f"{cap_usd:.2f}"
    return format(Decimal(repr(cap_usd)).normalize(), "f")


class TaskCap:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        delivery: Delivery,
        clock: Clock,
        sender: ResultSender,
    ) -> None:
        self._sessions = sessions
        self._delivery = delivery
        self._clock = clock
        self._sender = sender

    async def spent(self, task: Task) -> bool:
        """Whether the task has a cap and spent it this month."""
        if task.monthly_cap_usd is None:
            return False
        now = self._clock.now()
        async with self._sessions() as session:
            # Up to a moment past now: this instant's own expenses count too.
            spent = await spending.spent_by_task(
                session, task.id, since=month_start(now), until=now + timedelta(seconds=1)
            )
        return spent >= task.monthly_cap_usd

    async def skip(self, task: Task, run: Run) -> None:
        """Record the run as skipped without calling the model; tell the chat once a month."""
        now = self._clock.now()
        reason = TaskCapSpent(cap=cap_text(task.monthly_cap_usd or 0.0))
        await skip_and_tell_once(
            self._sessions,
            self._sender,
            task,
            run,
            reason,
            now=now,
            since=month_start(now),
            tell=lambda: self._delivery.send_skipped(task, reason),
        )

"""The scheduler's delivery port, implemented for a terminal: results are printed."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import AsyncIterator, Sequence
from typing import TextIO

from core.reasons import Reason
from storage.records import Run, Task, TaskMode


class TerminalDelivery:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._message_ids = itertools.count(1)

    def _print(self, text: str) -> int:
        print(text, file=self._out, flush=True)
        return next(self._message_ids)

    @contextlib.asynccontextmanager
    async def working(self, chat_id: int) -> AsyncIterator[None]:
        self._print("… working")
        yield

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        if task.mode is TaskMode.REMINDER:
            return [self._print(f"⏰ Reminder: {text}  (task #{task.id})")]
        return [self._print(f"📋 {task.name} · task #{task.id}\n\n{text}\n")]

    async def send_failure(self, task: Task, run: Run, reason: Reason) -> int:
        return self._print(f"⚠️ Task #{task.id} failed: {reason.message()}")

    async def send_paused(self, task: Task, reason: Reason) -> None:
        self._print(f"⏸ Task #{task.id} {task.name} is paused: {reason.message()}")

    async def send_nothing_to_report(self, task: Task, run: Run) -> int:
        return self._print(f"🤫 Task #{task.id} {task.name} ran: nothing to report this time.")

    async def send_skipped(self, task: Task, reason: Reason) -> None:
        self._print(f"⏭ Task #{task.id} {task.name} was skipped: {reason.message()}")

    async def send_budget_reached(self, task: Task, spent_usd: float, budget_usd: float) -> None:
        self._print(
            f"💸 Task #{task.id} {task.name} was skipped: this month's spending "
            f"(${spent_usd:.2f}) reached the budget of ${budget_usd:.2f}."
        )

    async def settle_failure(self, task: Task, failed: Run, later: Run) -> None:
        """A printed line cannot be edited: a line of its own says the later try worked."""
        self._print(f"✅ Task #{task.id}: try {later.attempt} worked after the failure above.")

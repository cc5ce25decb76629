"""A delivery port that keeps what it was given: results, failures, pause and budget notices."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from core.reasons import Reason
from scheduler.delivery import ChatUnreachableError
from storage.records import Run, Task


@dataclass
class FakeDelivery:
    results: list[tuple[int, str]] = field(default_factory=list)
    failures: list[tuple[int, Reason]] = field(default_factory=list)
    paused: list[tuple[int, Reason]] = field(default_factory=list)
    nothing_to_report: list[int] = field(default_factory=list)
    over_budget: list[tuple[int, float, float]] = field(default_factory=list)
    skipped: list[tuple[int, Reason]] = field(default_factory=list)
    # Failure notices edited after a later try worked: (notice's message id, that try's run).
    settled: list[tuple[int, int]] = field(default_factory=list)
    working_in: list[int] = field(default_factory=list)
    unreachable: bool = False
    next_message_id: int = 100

    @contextlib.asynccontextmanager
    async def working(self, chat_id: int) -> AsyncIterator[None]:
        self.working_in.append(chat_id)
        yield

    def _sent(self) -> int:
        if self.unreachable:
            raise ChatUnreachableError("Forbidden: bot was blocked by the user")
        self.next_message_id += 1
        return self.next_message_id

    async def send_result(self, task: Task, run: Run, text: str) -> Sequence[int]:
        message_id = self._sent()
        self.results.append((task.id, text))
        return [message_id]

    async def send_failure(self, task: Task, run: Run, reason: Reason) -> int:
        message_id = self._sent()
        self.failures.append((task.id, reason))
        return message_id

    async def send_paused(self, task: Task, reason: Reason) -> None:
        self._sent()
        self.paused.append((task.id, reason))

    async def send_nothing_to_report(self, task: Task, run: Run) -> int:
        message_id = self._sent()
        self.nothing_to_report.append(task.id)
        return message_id

    async def send_budget_reached(self, task: Task, spent_usd: float, budget_usd: float) -> None:
        self._sent()
        self.over_budget.append((task.id, spent_usd, budget_usd))

    async def send_skipped(self, task: Task, reason: Reason) -> None:
        self._sent()
        self.skipped.append((task.id, reason))

    async def settle_failure(self, task: Task, failed: Run, later: Run) -> None:
        assert failed.delivered_message_id is not None
        self.settled.append((failed.delivered_message_id, later.id))

"""The budget port: before a run calls the model, may this chat still spend?

The rule itself (CHAT_MONTHLY_BUDGET_USD against the chat's spend this calendar month, UTC)
lives in application/usage.py; the runner only asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BudgetReached:
    """The chat has spent its monthly budget."""

    spent_usd: float
    budget_usd: float


class BudgetGate(Protocol):
    async def reached(self, chat_id: int) -> BudgetReached | None:
        """None while the chat may still spend; else how much it spent of what."""
        ...

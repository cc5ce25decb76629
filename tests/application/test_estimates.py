"""What a task will cost: runs counted over 30 days, and the words for a known and an unknown
price."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.estimates import CostEstimates, rounded, runs_within
from application.records import Estimate
from bot.costs import approximate_dollars, cost_estimate
from bot.i18n import translator
from scheduler.llm import LiteLLMClient
from scheduler.schedules.schedule import Schedule
from storage.records import TaskKind, TaskMode
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_runs_within_thirty_days() -> None:
    assert runs_within(Schedule(TaskKind.CRON, "UTC", cron="0 9 * * *"), NOW) == 30
    assert runs_within(Schedule(TaskKind.CRON, "UTC", cron="0 9 * * 1-5"), NOW) == 21
    assert runs_within(Schedule(TaskKind.CRON, "UTC", cron="*/5 * * * *"), NOW) == 8640


def test_the_estimate_in_words() -> None:
    _ = translator("en")
    known = Estimate(0.0023, 30, from_runs=False, model="openai/gpt-4o-mini")
    assert "≈ $0.0023 a run, ≈ $0.069 a month" in cost_estimate(_, known)
    unknown = Estimate(None, 30, from_runs=False, model="local/llama")
    assert cost_estimate(_, unknown) == "💵 Cost unknown: no price for local/llama."
    reminder = Estimate(0.0, 30, from_runs=False, model="", free=True)
    assert cost_estimate(_, reminder) == "💵 <b>Cost:</b> free: a reminder asks no AI model."
    assert approximate_dollars(_, 1234.5) == "$1,200"
    assert approximate_dollars(translator("de"), 0.0023) == "$0,0023"


@pytest.mark.parametrize(
    ("amount", "shown"),
    [(0.00075, (0.00075, 5)), (0.0225, (0.022, 3)), (14.2, (14.0, 0)), (0.0, (0.0, 0))],
)
def test_an_estimate_is_shown_to_two_significant_digits(
    amount: float, shown: tuple[float, int]
) -> None:
    assert rounded(amount) == shown


class _LoadingPrices:
    """A price list that has not loaded yet: asking it would wait for the library."""

    def __init__(self) -> None:
        self.asked = 0

    def prices_ready(self) -> bool:
        return False

    async def run_cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        self.asked += 1
        raise AssertionError("a card made while the price list loads must not wait for it")


async def test_a_card_made_while_the_price_list_loads_does_not_wait_for_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    prices = _LoadingPrices()
    estimates = CostEstimates(sessions, FakeClock(NOW), prices)
    daily = Schedule(TaskKind.CRON, "UTC", cron="0 9 * * *")
    estimate = await estimates.estimate(1, daily, "openai/gpt-4o-mini")
    assert estimate.loading
    assert estimate.per_run_usd is None
    assert prices.asked == 0
    assert "still loading" in cost_estimate(translator("en"), estimate)
    # A reminder is free whether or not prices have loaded.
    reminder = await estimates.estimate(1, daily, "", mode=TaskMode.REMINDER)
    assert reminder.free
    assert not reminder.loading


async def test_the_client_says_whether_its_prices_are_ready(litellm_imported: None) -> None:
    # LiteLLM loaded (the fixture imports it): prices come without waiting.
    assert LiteLLMClient(api_base=None, api_key=None).prices_ready()

"""What a task will cost: runs counted over 30 days, and the words for a known and an unknown
price."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from application.estimates import rounded, runs_within
from application.records import Estimate
from bot.costs import approximate_dollars, cost_estimate
from bot.i18n import translator
from scheduler.schedules.schedule import Schedule
from storage.records import TaskKind

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

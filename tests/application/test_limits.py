"""How often one person may ask: strangers are told once a period, unless the telling was
dropped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from application.limits import LimitSettings, RequestLimits
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_a_stranger_is_told_once_a_period_unless_it_was_not_sent() -> None:
    clock = FakeClock(NOW)
    limits = RequestLimits(clock, LimitSettings(stranger_period=timedelta(hours=1)))
    assert limits.stranger(666)
    assert not limits.stranger(666)
    limits.not_told(666)  # the bot was too busy to send it
    assert limits.stranger(666)
    assert not limits.stranger(666)
    clock.current = NOW + timedelta(hours=1, seconds=1)
    assert limits.stranger(666)
    limits.not_told(777)  # never told: nothing to forget
    assert limits.stranger(777)

"""RUN_STARTS_PER_SECOND: runs start evenly spaced, never in a burst that makes up for quiet
time, and not at all held back at 0. The pace keeps time on a clock the test moves, and its
sleeps only say when each start would wake: nothing here waits for real time."""

from __future__ import annotations

import asyncio

import pytest

from scheduler.runner.pace import Pace


class Time:
    """A monotonic clock the test moves, and a sleep that records when its sleeper would wake."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    def pace(self, per_second: float) -> Pace:
        return Pace(per_second, monotonic=self.monotonic, sleep=self.sleep)


async def starts(time: Time, pace: Pace, count: int) -> list[float]:
    """The moment at which each of `count` callers, arriving together now, may start."""
    moments: list[float] = []

    async def start() -> None:
        slept = len(time.slept)
        await pace.wait()
        moments.append(time.now + sum(time.slept[slept:]))

    await asyncio.gather(*(start() for _ in range(count)))
    return moments


async def test_starts_arriving_together_are_spaced_evenly() -> None:
    time = Time()
    moments = await starts(time, time.pace(20), 5)
    assert moments == pytest.approx([1000.0, 1000.05, 1000.10, 1000.15, 1000.20])


async def test_the_first_start_and_one_after_a_quiet_spell_go_at_once() -> None:
    time = Time()
    pace = time.pace(2)
    await pace.wait()
    assert time.slept == []  # the first does not wait for half a second
    time.now += 0.6  # longer than the 0.5 s between starts
    await pace.wait()
    assert time.slept == []
    time.now += 0.1  # one soon after waits out the rest of its half second
    await pace.wait()
    assert time.slept == pytest.approx([0.4])


async def test_quiet_time_is_not_made_up_with_a_burst() -> None:
    time = Time()
    pace = time.pace(10)
    await pace.wait()
    time.now += 0.35  # three and a half starts' worth of quiet
    moments = await starts(time, pace, 3)
    assert moments == pytest.approx([1000.35, 1000.45, 1000.55])


async def test_zero_is_no_limit() -> None:
    time = Time()
    moments = await starts(time, time.pace(0), 100)
    assert moments == [1000.0] * 100
    assert time.slept == []


async def test_by_default_it_keeps_the_event_loops_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # The loop's clock, which times its sleeps: here the test's, put in the loop's place.
    time = Time()
    monkeypatch.setattr(asyncio.get_running_loop(), "time", time.monotonic)
    pace = Pace(2, sleep=time.sleep)
    await pace.wait()
    time.now += 0.2
    await pace.wait()
    assert time.slept == pytest.approx([0.3])


def test_a_negative_pace_is_refused() -> None:
    with pytest.raises(ValueError, match="not negative"):
        Pace(-1)

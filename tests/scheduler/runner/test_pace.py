"""RUN_STARTS_PER_SECOND: runs start evenly spaced, never in a burst that makes up for quiet
time, and not at all held back at 0."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from scheduler.runner.pace import Pace


async def starts(pace: Pace, count: int) -> list[float]:
    """The loop's time at which each of `count` callers, arriving together, may start."""
    loop = asyncio.get_running_loop()
    moments: list[float] = []

    async def start() -> None:
        await pace.wait()
        moments.append(loop.time())

    await asyncio.gather(*(start() for _ in range(count)))
    return moments


def gaps(moments: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(moments)]


async def test_starts_arriving_together_are_spaced_evenly() -> None:
    moments = await starts(Pace(20), 5)
    # A sleep may end late, never early (beyond the clock's resolution).
    assert all(gap >= 0.05 - 0.002 for gap in gaps(moments))


async def test_the_first_start_and_one_after_a_quiet_spell_go_at_once() -> None:
    pace = Pace(2)
    loop = asyncio.get_running_loop()
    before = loop.time()
    await pace.wait()
    assert loop.time() - before < 0.4  # the first does not wait for half a second
    await asyncio.sleep(0.6)  # longer than the 0.5 s between starts
    before = loop.time()
    await pace.wait()
    assert loop.time() - before < 0.4


async def test_quiet_time_is_not_made_up_with_a_burst() -> None:
    pace = Pace(10)
    await pace.wait()
    await asyncio.sleep(0.35)  # three and a half starts' worth of quiet
    moments = await starts(pace, 3)
    assert all(gap >= 0.1 - 0.002 for gap in gaps(moments))


async def test_zero_is_no_limit() -> None:
    # A hundred starts at once; at even one a second they would take 99 s.
    async with asyncio.timeout(5):
        await starts(Pace(0), 100)


def test_a_negative_pace_is_refused() -> None:
    with pytest.raises(ValueError, match="not negative"):
        Pace(-1)

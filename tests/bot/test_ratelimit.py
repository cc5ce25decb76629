"""The sliding windows behind the message rate limiter, on a hand-moved clock."""

from __future__ import annotations

import asyncio

import pytest

from bot.ratelimit import SlidingWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_window_allows_a_burst_then_waits_for_the_oldest_to_expire(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr("bot.ratelimit.asyncio.sleep", fake_sleep)
    window = SlidingWindow(3, 3.0, clock)
    for _ in range(3):
        await window.acquire()
    assert slept == []
    clock.now += 1.0
    await window.acquire()  # the fourth waits until the first leaves the window
    assert slept == [pytest.approx(2.0)]
    assert clock.now == pytest.approx(1003.0)


async def test_no_window_ever_holds_more_than_the_limit() -> None:
    window = SlidingWindow(5, 0.2)
    stamps: list[float] = []
    loop = asyncio.get_running_loop()

    async def send() -> None:
        await window.acquire()
        stamps.append(loop.time())

    await asyncio.gather(*(send() for _ in range(17)))
    stamps.sort()
    for index, start in enumerate(stamps):
        inside = [s for s in stamps[index:] if s < start + 0.2 - 0.005]
        assert len(inside) <= 5
    assert stamps[-1] - stamps[0] >= 0.6  # 17 events at 5 per 0.2 s need at least 3 periods

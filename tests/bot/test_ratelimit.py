"""The sliding windows behind the message rate limiter (on a hand-moved clock), its low-priority
lane, and the refusals to strangers that use it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from telegram.error import BadRequest

from bot.ratelimit import MessageRateLimiter, Priority, SlidingWindow
from bot.refusals import Refusals


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_window_allows_a_burst_then_waits_for_the_oldest_to_expire() -> None:
    clock = Clock()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    window = SlidingWindow(3, 3.0, clock, fake_sleep)
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


async def test_low_priority_requests_yield_to_all_others() -> None:
    limiter = MessageRateLimiter(overall=(1, 0.02), per_group=None, per_chat=None)
    sent: list[str] = []

    async def request(name: str, priority: Priority | None) -> object:
        async def send() -> bool:
            sent.append(name)
            return True

        return await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 42}, priority)

    lows = [asyncio.create_task(request(f"low {n}", Priority.LOW)) for n in range(4)]
    # The first low one is sent, the second waits for room in the window, before anyone else
    # asks; the others then go before any more low ones, but after that one.
    await asyncio.sleep(0)
    others = [asyncio.create_task(request(f"other {n}", None)) for n in range(5)]
    await asyncio.gather(*lows, *others)
    assert sent == ["low 0", "low 1", *(f"other {n}" for n in range(5)), "low 2", "low 3"]


async def test_refusals_go_in_turn_and_the_surplus_is_dropped() -> None:
    refusals = Refusals(per_second=1000, waiting=2)
    release = asyncio.Event()
    sent: list[int] = []

    def refusal(number: int) -> Callable[[], Awaitable[None]]:
        async def send() -> None:
            await release.wait()
            if number == 1:
                raise BadRequest("Chat not found")  # one that fails stops nothing
            sent.append(number)

        return send

    try:
        assert [refusals.offer(refusal(n)) for n in range(3)] == [True, True, False]
        await asyncio.sleep(0)  # the sender takes the first; it waits on Telegram
        assert [refusals.offer(refusal(n)) for n in range(3, 5)] == [True, False]
        assert refusals.dropped == 2
        release.set()
        for _ in range(50):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.01)
        assert sent == [0, 3]
    finally:
        await refusals.close()


async def test_a_replica_sends_at_its_share_of_the_overall_rate() -> None:
    clock = Clock()
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    limiter = MessageRateLimiter(
        overall=(1, 0.1), per_group=None, per_chat=None, clock=clock, sleep=fake_sleep
    )

    async def send() -> bool:
        return True

    async def paced() -> None:
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 42}, None)

    limiter.share(1 / 3)  # three replicas with as much to send each
    for _ in range(3):
        await paced()
    assert slept == [pytest.approx(0.3), pytest.approx(0.3)]
    limiter.share(1.0)  # the other two died: their share comes back
    await paced()
    assert slept[-1] == pytest.approx(0.1)

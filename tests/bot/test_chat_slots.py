"""Two replicas' rate limiters on one PostgreSQL keep each chat's and each group's pace together
(bot.chat_slots, storage.chat_pace), checked by the fake Bot API's own flood control, on a
virtual clock: no test here waits for time or asserts on it."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator, Awaitable, Coroutine
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from bot.chat_slots import ChatSlots
from bot.ratelimit import MessageRateLimiter
from storage import chat_pace
from storage.chat_pace import PaceRequest
from storage.database import create_engine, create_sessionmaker
from tests.busy_pool import refusing_server
from tests.fakes.telegram.limits import FloodControl, RateLimits

PRIVATE_CHAT = 4242
GROUP = -100_777


class VirtualTime:
    """A clock that moves only when every task waits on it: to the earliest wake-up asked for.
    Database round trips are real, so time stands still while one is under way."""

    def __init__(self, *, stall_after: float | None = None) -> None:
        """`stall_after`: that many seconds in, the loop stalls for three seconds, as a starved
        CPU makes it: every timer due meanwhile fires together after it."""
        self.now = 1_000_000.0
        self.database_calls = 0
        self._stall_at = None if stall_after is None else self.now + stall_after
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + seconds, next(self._order), woken))
        await woken

    def counted(self, sessions: async_sessionmaker[AsyncSession]) -> Any:
        """`sessions`, counting the ones open (time stands still meanwhile)."""

        @contextlib.asynccontextmanager
        async def session() -> AsyncIterator[AsyncSession]:
            self.database_calls += 1
            try:
                async with sessions() as opened:
                    yield opened
            finally:
                self.database_calls -= 1

        return session

    async def run(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        while not task.done():
            for _ in range(50):  # let every ready task reach its next wait
                await asyncio.sleep(0)
            if self.database_calls or not self._sleepers:
                await asyncio.sleep(0.001)  # a real round trip is under way
                continue
            moment, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, moment)
            if self._stall_at is not None and self.now >= self._stall_at:
                self._stall_at = None
                self.now += 3.0
            if not woken.cancelled():
                woken.set_result(None)
            while self._sleepers and self._sleepers[0][0] <= self.now:
                _, _, late = heapq.heappop(self._sleepers)
                if not late.cancelled():
                    late.set_result(None)
        await task


class Replica:
    """One replica's rate limiter (its own connection pool), sending into the fake's flood
    control: every message Telegram would refuse is recorded."""

    def __init__(
        self, url: str, time: VirtualTime, flood: FloodControl, refused: list[float], shared: bool
    ) -> None:
        self.database = create_engine(url, pool_size=1)
        self.limiter = MessageRateLimiter(clock=time, sleep=time.sleep)
        self.slots = ChatSlots(
            time.counted(create_sessionmaker(self.database)),
            monotonic=time,
            wall=time,
            sleep=time.sleep,
        )
        if shared:
            self.limiter.share_chats(self.slots)
        self._time = time
        self._flood = flood
        self._refused = refused

    async def send(self, chat_id: int) -> None:
        async def post() -> bool:
            if self._flood.acquire(chat_id, is_group=chat_id < 0) is not None:
                self._refused.append(self._time())
            return True

        await self.limiter.process_request(post, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    async def close(self) -> None:
        await self.slots.close()
        await self.database.dispose()


async def two_replicas_send(
    url: str, chat_id: int, per_replica: int, *, shared: bool
) -> tuple[list[float], list[float], list[Replica]]:
    """Both replicas send `per_replica` messages to one chat at once; return when each went
    out, the ones Telegram refused, and the replicas."""
    time = VirtualTime()
    flood = FloodControl(RateLimits(), time)
    refused: list[float] = []
    replicas = [Replica(url, time, flood, refused, shared) for _ in range(2)]
    sent: list[float] = []

    async def one(replica: Replica) -> None:
        await replica.send(chat_id)
        sent.append(time())

    async def everything() -> None:
        await asyncio.gather(*(one(replica) for replica in replicas for _ in range(per_replica)))

    try:
        await time.run(everything())
    finally:
        for replica in replicas:
            await replica.close()
    return sorted(sent), refused, replicas


@pytest.mark.parametrize("chat_id", [PRIVATE_CHAT, GROUP], ids=["private chat", "group"])
async def test_each_replica_alone_would_go_over_the_chats_limit(pg_url: str, chat_id: int) -> None:
    """The check below can fail: each replica keeping the pace on its own is not enough."""
    sent, refused, _ = await two_replicas_send(pg_url, chat_id, 20, shared=False)
    assert len(sent) == 40
    assert refused


@pytest.mark.parametrize("chat_id", [PRIVATE_CHAT, GROUP], ids=["private chat", "group"])
async def test_two_replicas_together_keep_one_chats_limit(pg_url: str, chat_id: int) -> None:
    sent, refused, replicas = await two_replicas_send(pg_url, chat_id, 20, shared=True)
    assert len(sent) == 40
    assert refused == []
    # Both sent, interleaved through the shared pace rather than one after the other.
    assert all(replica.slots.batches > 0 for replica in replicas)


async def test_many_chats_cost_one_round_trip_per_batch_not_per_message(pg_url: str) -> None:
    time = VirtualTime()
    flood = FloodControl(RateLimits(), time)
    refused: list[float] = []
    replica = Replica(pg_url, time, flood, refused, shared=True)
    try:
        await time.run(_gather(*(replica.send(PRIVATE_CHAT + number) for number in range(270))))
    finally:
        await replica.close()
    assert refused == []
    # 270 chats at 27 a second: ten seconds of messages, each batch a second's worth or so.
    assert replica.slots.batches <= 30


async def test_messages_a_stalled_loop_held_up_still_leave_evenly_spaced(pg_url: str) -> None:
    time = VirtualTime(stall_after=2.0)
    flood = FloodControl(RateLimits(), time)
    refused: list[float] = []
    replica = Replica(pg_url, time, flood, refused, shared=True)
    sent: list[float] = []

    async def one(number: int) -> None:
        await replica.send(PRIVATE_CHAT + number)
        sent.append(time())

    try:
        await time.run(_gather(*(one(number) for number in range(150))))
    finally:
        await replica.close()
    assert refused == []
    sent.sort()
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent)]
    assert min(gaps) >= 1 / 27 - 1e-9  # none of those held up went together


async def test_a_chats_pace_moves_on_by_its_spacing_from_the_latest_of_its_slot_and_the_ask(
    pg_url: str,
) -> None:
    database = create_engine(pg_url, pool_size=1)
    sessions = create_sessionmaker(database)
    try:
        async with sessions() as session, session.begin():
            first = await chat_pace.reserve(
                session, [PaceRequest("1", 100.0, 1.0), PaceRequest("-5", 100.0, 3.0)]
            )
            again = await chat_pace.reserve(session, [PaceRequest("1", 100.0, 1.0)])
            later = await chat_pace.reserve(session, [PaceRequest("1", 500.0, 1.0)])
            assert await chat_pace.forget_idle(session, before=200.0) == 1
        assert first == {"1": 101.0, "-5": 103.0}
        assert again == {"1": 102.0}  # the second message queues behind the first
        assert later == {"1": 501.0}  # quiet time is not saved up for a burst
        with pytest.raises(ValueError, match="one request per chat"):
            async with sessions() as session, session.begin():
                await chat_pace.reserve(
                    session, [PaceRequest("1", 1.0, 1.0), PaceRequest("1", 1.0, 1.0)]
                )
    finally:
        await database.dispose()


async def _gather(*work: Awaitable[None]) -> None:
    await asyncio.gather(*work)


@pytest.mark.parametrize("shared", [True, False], ids=["chats shared", "alone"])
async def test_a_replica_whose_share_grew_sends_what_it_had_queued_at_the_new_pace(
    pg_url: str, shared: bool
) -> None:
    """Issue 27: a replica at the least share (one message every 3.7 s: it had just joined, or
    the others held the whole rate) whose share then grows sends the messages it had queued at
    the new pace at once, not at the moments the old pace had foretold them (30 queued
    messages would have been spread over 107 s: the crawl seen after a share cap)."""
    time = VirtualTime()
    flood = FloodControl(RateLimits(), time)
    refused: list[float] = []
    replica = Replica(pg_url, time, flood, refused, shared=shared)
    replica.limiter.share(0.01)
    start = time()
    sent: list[float] = []

    async def one(number: int) -> None:
        await replica.send(PRIVATE_CHAT + number)
        sent.append(time() - start)

    async def everything() -> None:
        queued = asyncio.ensure_future(_gather(*(one(number) for number in range(30))))
        await time.sleep(2.0)  # its next heartbeat: the others gave half of the rate up
        replica.limiter.share(0.5)
        await queued

    try:
        await time.run(everything())
    finally:
        await replica.close()
    assert refused == []
    sent.sort()
    assert sent[0] == 0.0
    assert sent[1] == pytest.approx(2.0)  # at the raise, not 3.7 s after the first
    assert sent[-1] <= 2.0 + 29 / 13.5 + 1e-6  # the rest at half of 27 a second


async def test_three_replicas_at_shares_that_add_up_to_the_whole_keep_telegrams_30_a_second() -> (
    None
):
    """Each replica spaces its messages evenly at its share of 27 a second, so any second holds
    at most 27 and one more per replica at its edges: three replicas stay under Telegram's 30
    (the fake's sliding window over every second), also while their shares change (lowered
    before the others' are raised, as the engine does)."""
    time = VirtualTime()
    flood = FloodControl(RateLimits(per_chat_burst=1000), time)
    refused: list[float] = []
    limiters = [MessageRateLimiter(per_chat=None, clock=time, sleep=time.sleep) for _ in range(3)]
    for limiter, share in zip(limiters, (0.5, 0.3, 0.2), strict=True):
        limiter.share(share)
    sent: list[float] = []

    async def send(limiter: MessageRateLimiter, chat_id: int) -> None:
        async def post() -> bool:
            if flood.acquire(chat_id, is_group=False) is not None:
                refused.append(time())
            sent.append(time())
            return True

        await limiter.process_request(post, (), {}, "sendMessage", {"chat_id": chat_id}, None)

    async def everything() -> None:
        queued = asyncio.ensure_future(
            _gather(
                *(
                    send(limiter, PRIVATE_CHAT + 1000 * number + message)
                    for number, limiter in enumerate(limiters)
                    for message in range(200)
                )
            )
        )
        await time.sleep(3.0)
        limiters[0].share(0.2)  # lowered first…
        await time.sleep(0.5)
        limiters[2].share(0.5)  # …then the other's raised
        await queued

    await time.run(everything())
    assert len(sent) == 600
    assert refused == []
    sent.sort()
    most = max(
        sum(1 for moment in sent[index:] if moment < start + 1.0)
        for index, start in enumerate(sent)
    )
    assert 27 <= most <= 30


async def test_a_server_out_of_connection_slots_is_a_warning_and_the_message_still_goes(
    pg_url: str,
) -> None:
    """PostgreSQL refusing connections ("too many clients") is transient: the message leaves
    on the replica's own pace at once, and the log says so at warning level, not as an error."""
    time = VirtualTime()
    async with refusing_server(pg_url) as refused_url:
        database = create_engine(refused_url)
        slots = ChatSlots(
            create_sessionmaker(database), monotonic=time, wall=time, sleep=time.sleep
        )
        try:
            with capture_logs() as logs:
                slot = await slots.slot(PRIVATE_CHAT, due=time())
        finally:
            await slots.close()
            await database.dispose()
    assert slot == time()
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [
        ("telegram.chat_pace_unshared", "warning")
    ]
    assert "too many connections" in logs[0]["error"]
    assert logs[0]["then"] == "sent on this replica's own pace; the next batch asks again"

"""Each chat's pace shared by all replicas of the bot, through PostgreSQL, in batches.

Telegram allows about one message a second in one chat (short bursts allowed) and twenty a
minute in one group, for the bot as a whole: two replicas that each keep the pace for their own
messages can still send two at once to one chat. So before a message leaves, its replica
reserves a slot in the chat's shared pace (storage/chat_pace.py, one row per chat, GCRA).

A round trip per message would add CPU and waiting to every send, so reservations go in
batches: the rate limiter knows when each message is due to leave (its place in the overall
pace), asks for the chat's slot `AHEAD` seconds before that, and one statement reserves a slot
for every message that asked meanwhile, `LEAD` seconds before the earliest of them is due. In
a burst (nine messages a second per replica of three) a batch holds about seven; a message
that finds nothing waiting (an answer to a person) goes at once, after one round trip.

A message leaves at its slot or later, never earlier. Later is safe enough: the paces below
have no burst of their own, so a private chat's one message per 1.05 s leaves room in
Telegram's bucket (one a second, bursts of three) for a message that left up to 2 s late to
land among the others, and two late ones more still fit the burst; a group's one per 3.5 s is
at most 18 in any minute, two under Telegram's twenty. A message is not asked about again when
it leaves late: under a starved CPU every message leaves late, and asking again made each cost
several round trips and a place at the back of the queue (measured: sending fell to a third).

The `limits` library keeps its counters in Redis, Memcached or MongoDB, not in the PostgreSQL the
replicas already share, hence this.

SQLite has one process: nothing is shared there, and the rate limiter's own windows suffice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.logs import get_logger
from storage import chat_pace
from storage.chat_pace import PaceRequest
from storage.retry import describe, unavailable

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Gcra:
    """A chat's pace: one message every `spacing` seconds, `burst` seconds of them at once."""

    spacing: float
    burst: float


PRIVATE = Gcra(spacing=1.05, burst=0.0)
GROUP = Gcra(spacing=3.5, burst=0.0)
# A message asks for its slot this long before it is due to leave…
AHEAD = 1.0
# …and the batch goes this long before the earliest message in it is due.
LEAD = 0.25
# Slots closer than this (seconds) are the same.
_EXACT = 0.001
# Rows of chats quiet for this long are dropped (a missing row is a free chat).
FORGET_AFTER_SECONDS = 300.0


def is_group(chat_id: int | str) -> bool:
    """Groups, supergroups and channels have negative ids (or @names)."""
    return isinstance(chat_id, str) or chat_id < 0


@dataclass(slots=True)
class _Asking:
    chat: str
    pace: Gcra
    due: float  # on the monotonic clock
    slot: asyncio.Future[float] = field(default_factory=asyncio.Future)


class ChatSlots:
    """Reserves each message's slot in its chat's shared pace, in batches (see the module)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`monotonic` is the rate limiter's clock, `wall` the clock the replicas share (both in
        seconds); tests pass clocks of their own and a `sleep` that goes with them."""
        self._sessions = sessions
        self._monotonic = monotonic
        self._wall = wall
        self._sleep = sleep
        self._asking: list[_Asking] = []
        self._news = asyncio.Event()
        self._batcher: asyncio.Task[None] | None = None
        self._forgotten_at = -FORGET_AFTER_SECONDS
        self.batches = 0  # round trips made (the benchmarks and tests read it)

    async def slot(self, chat_id: int | str, *, due: float) -> float:
        """When (on the monotonic clock, no earlier than `due`) a message to `chat_id` may
        leave so that, with every replica's messages, the chat keeps its pace."""
        asking = _Asking(str(chat_id), GROUP if is_group(chat_id) else PRIVATE, due)
        self._asking.append(asking)
        self._news.set()
        if self._batcher is None or self._batcher.done():
            self._batcher = asyncio.create_task(self._batches(), name="chat-slots")
        return await asking.slot

    async def close(self) -> None:
        if self._batcher is not None:
            self._batcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._batcher

    async def _batches(self) -> None:
        while self._asking:
            wait = min(asking.due for asking in self._asking) - LEAD - self._monotonic()
            if wait > 0:
                await self._nap(wait)  # or until someone more urgent asks
                continue
            batch: dict[str, _Asking] = {}
            for asking in self._asking:
                batch.setdefault(asking.chat, asking)  # one per chat: the rest ask next time
            self._asking = [asking for asking in self._asking if batch[asking.chat] is not asking]
            await self._reserve(list(batch.values()))

    async def _nap(self, seconds: float) -> None:
        self._news.clear()
        napping = asyncio.ensure_future(self._sleep(seconds))
        news = asyncio.ensure_future(self._news.wait())
        try:
            await asyncio.wait({napping, news}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (napping, news):
                waiting.cancel()

    async def _reserve(self, batch: list[_Asking]) -> None:
        # The monotonic and the wall clock are read together: a slot is the same offset from
        # `due` on both.
        offset = self._wall() - self._monotonic()
        requests = [
            PaceRequest(asking.chat, asking.due + offset, asking.pace.spacing) for asking in batch
        ]
        next_at: dict[str, float]
        try:
            async with self._sessions() as session, session.begin():
                next_at = await chat_pace.reserve(session, requests)
                if self._wall() - self._forgotten_at > FORGET_AFTER_SECONDS:
                    self._forgotten_at = self._wall()
                    await chat_pace.forget_idle(
                        session, before=self._forgotten_at - FORGET_AFTER_SECONDS
                    )
        except Exception as error:
            if not unavailable(error):
                log.exception("telegram.chat_pace_failed")
            else:
                log.warning(
                    "telegram.chat_pace_unshared",
                    error=describe(error),
                    messages=len(batch),
                    then="sent on this replica's own pace; the next batch asks again",
                )
            # The process's own windows still hold; with the database away runs cannot be
            # recorded either, so little is sent meanwhile.
            next_at = {}
        self.batches += 1
        for asking in batch:
            if asking.slot.done():
                continue  # its request was cancelled meanwhile
            gcra = asking.pace
            shared = next_at.get(asking.chat)
            earliest = asking.due if shared is None else shared - gcra.spacing - gcra.burst - offset
            # Within a millisecond of the ask is the ask (the sums above are not exact).
            asking.slot.set_result(earliest if earliest > asking.due + _EXACT else asking.due)

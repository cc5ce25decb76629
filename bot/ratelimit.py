"""Throttling outgoing messages the way Telegram counts them.

Telegram allows about 30 messages a second over all chats, 20 a minute in one group, and about
one a second in one chat with short bursts; going over costs a 429 and a pause for everyone.
PTB's AIORateLimiter throttles every request that names a chat (so "typing…" actions and
getChatMember lookups eat the message budget), uses aiolimiter's leaky buckets, whose initial
burst can break a per-minute window (a full bucket of 19 and its drip let up to 38 into one
minute), and has no per-chat pace. This limiter counts only the methods that post or
change messages, and keeps each limit as a sliding window with a small safety margin, so that
no window Telegram looks at ever holds too many. A 429 that still happens pauses all sending for
the time Telegram asks, then the request is retried.

Several replicas of one bot share all three limits through PostgreSQL. The overall rate: each
sends at its `share`, which the engine works out at every heartbeat from what every live replica
has to send and the shares the others send at (the `workers` table; scheduler.engine's
`sending_share`), so together they stay under Telegram's 30 a second and a dead replica's share
goes to the others once its heartbeat lapses (seconds). A new share holds from the next
message on, for those already waiting too: the window below spaces each message by the period
in force when it leaves, and a message takes its moment in the pace only `AHEAD` of it. Each
chat's and group's pace: before a message leaves, its slot in the chat's shared pace is
reserved, in batches (bot.chat_slots, `share_chats`). The windows below still hold within the
process.

Requests sent with `rate_limit_args=Priority.LOW` (refusals to people not on ALLOWED_USERS,
bot.refusals) yield to all others: one at a time, and only while no other request waits for
room, so an answer to an allowed user waits behind at most one of them.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from enum import Enum
from typing import Any

from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import BaseRateLimiter

from bot.chat_slots import AHEAD, ChatSlots, is_group
from core import metrics
from core.logs import get_logger

log = get_logger(__name__)

MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendLocation",
        "copyMessage",
        "forwardMessage",
    }
)
# Telegram's limits, each a little under the real one to leave room for network jitter.
# Over all chats the messages are evenly spaced (27 a second) rather than allowed in bursts:
# Telegram counts arrivals, and requests that leave in a burst can arrive closer still. Three
# under the 30 leave room for a request that leaves up to 0.1 s late behind the next one
# (measured at 28 a second with runs paced to match: two 429s in 1,000 messages; at 27, none).
OVERALL = (1, 1 / 27)
PER_GROUP = (19, 60.0)  # messages per minute in one group
PER_CHAT = (3, 3.2)  # about one a second in one chat, bursts of three
_MAX_WINDOWS = 4096

JSONish = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, JSONish]]


async def _nap(
    sleep: Callable[[float], Awaitable[None]], seconds: float, wake: asyncio.Event
) -> None:
    """Sleep `seconds`, or less if `wake` is set meanwhile."""
    napping = asyncio.ensure_future(sleep(seconds))
    woken = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({napping, woken}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in (napping, woken):
            waiting.cancel()


class SlidingWindow:
    """At most `limit` events in any `period` seconds; `acquire` waits for room. A new
    `period` (`repace`) counts at once, for the caller waiting too."""

    def __init__(
        self,
        limit: int,
        period: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._events: collections.deque[float] = collections.deque()
        self._lock = asyncio.Lock()
        self._repaced = asyncio.Event()

    def repace(self, period: float) -> None:
        self.period = period
        self._repaced.set()

    def idle(self) -> bool:
        now = self._clock()
        return not self._events or self._events[-1] <= now - self.period

    async def acquire(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = self._clock()
                while self._events and self._events[0] <= now - self.period:
                    self._events.popleft()
                if len(self._events) < self.limit:
                    self._events.append(now)
                    return
                self._repaced.clear()
                await _nap(self._sleep, self._events[0] + self.period - now, self._repaced)


class Spacing:
    """Moments at least `period` apart, each reserved by one caller in turn (first come, first
    served): a message knows when it should leave before it waits, so it can ask for its
    chat's shared slot ahead (bot.chat_slots). A moment found long past goes at once."""

    def __init__(self, period: float, clock: Callable[[], float] = time.monotonic):
        self.period = period  # a new period applies from the last moment on
        self._clock = clock
        self._last = -math.inf

    def next_free(self) -> float:
        """The moment `reserve` would give now."""
        return max(self._clock(), self._last + self.period)

    def reserve(self, not_before: float | None = None) -> float:
        now = self._clock()
        moment = max(now, self._last + self.period, now if not_before is None else not_before)
        self._last = moment
        return moment


class Priority(Enum):
    """A request's `rate_limit_args`: LOW yields to every other request (see the module's doc)."""

    LOW = "low"


class MessageRateLimiter(BaseRateLimiter[Priority]):
    def __init__(
        self,
        *,
        max_retries: int = 3,
        overall: tuple[int, float] | None = OVERALL,
        per_group: tuple[int, float] | None = PER_GROUP,
        per_chat: tuple[int, float] | None = PER_CHAT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`clock` (seconds) and `sleep` go together; tests pass their own."""
        self._max_retries = max_retries
        # Over all chats one message at a time, evenly spaced (OVERALL is one per period): the
        # window spaces the messages as they actually leave (a loop that woke late does not let
        # the ones held up go together), and the spacing foretells when each will, for its
        # chat's shared slot.
        self._overall = SlidingWindow(*overall, clock, sleep) if overall else None
        self._foretold = Spacing(overall[1] / overall[0], clock) if overall else None
        # Messages take their moments in turn, each once it is `AHEAD` away (see
        # `_wait_for_chat_slot`); the one waiting for its turn wakes when the share changes.
        self._foretelling = asyncio.Lock()
        self._reshared = asyncio.Event()
        self._overall_period = overall[1] if overall else 0.0
        self._clock = clock
        self._sleep = sleep
        self._chat_slots: ChatSlots | None = None
        self._per_group = per_group
        self._per_chat = per_chat
        self._windows: dict[tuple[str, int | str], SlidingWindow] = {}
        self._unpaused = asyncio.Event()
        self._unpaused.set()
        # Low-priority requests go one at a time, and only while no other waits for room.
        self._low_lane = asyncio.Lock()
        self._others_waiting = 0
        self._nobody_waiting = asyncio.Event()
        self._nobody_waiting.set()

    def share(self, fraction: float) -> None:
        """Send at `fraction` of the overall rate: the replicas of one bot share Telegram's
        limit (the engine says each one's share at every heartbeat, from the database)."""
        if self._overall is None or self._foretold is None:
            return
        fraction = min(1.0, max(fraction, 0.01))
        self._overall.repace(self._overall_period / fraction)
        self._foretold.period = self._overall.period / self._overall.limit
        self._reshared.set()

    def share_chats(self, slots: ChatSlots) -> None:
        """Keep each chat's and group's pace together with the other replicas (PostgreSQL)."""
        self._chat_slots = slots

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _window(self, kind: str, chat_id: int | str, limits: tuple[int, float]) -> SlidingWindow:
        key = (kind, chat_id)
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= _MAX_WINDOWS:
                for stale in [k for k, w in self._windows.items() if w.idle()]:
                    del self._windows[stale]
            window = self._windows[key] = SlidingWindow(*limits, self._clock, self._sleep)
        return window

    async def _wait_for_room(self, chat_id: object) -> None:
        chat = chat_id if isinstance(chat_id, int | str) else None
        if chat is not None:
            if self._per_chat is not None:
                await self._window("chat", chat, self._per_chat).acquire()
            if is_group(chat) and self._per_group is not None:
                await self._window("group", chat, self._per_group).acquire()
        # A limiter that keeps no per-chat pace (the tests' fast one) shares none either.
        if chat is not None and self._chat_slots is not None and self._per_chat is not None:
            await self._wait_for_chat_slot(self._chat_slots, chat)
        elif self._overall is not None:
            await self._overall.acquire()

    async def _wait_for_chat_slot(self, slots: ChatSlots, chat: int | str) -> None:
        """Leave at the moment the overall pace foretells, or later if the chat's shared slot
        says so (the other replicas' messages to it went first): asked once, `AHEAD` of the
        moment, batched with the other messages asking meanwhile."""
        foretold = self._foretold
        if foretold is None:
            moment = self._clock()
        else:
            # A moment is taken only `AHEAD` of it, not on arrival: a queue of messages that
            # took theirs at once at a small share would keep that share's far-apart moments
            # after the share grew (a replica that had just joined crawled along for minutes).
            async with self._foretelling:
                while (wait := foretold.next_free() - AHEAD - self._clock()) > 0:
                    self._reshared.clear()
                    await _nap(self._sleep, wait, self._reshared)
                moment = foretold.reserve()
        await self._sleep_until(moment - AHEAD)
        slot = await slots.slot(chat, due=moment)
        if slot > moment and foretold is not None:
            moment = foretold.reserve(not_before=slot)  # ours went by meanwhile
        await self._sleep_until(max(moment, slot))
        if self._overall is not None:
            await self._overall.acquire()

    async def _sleep_until(self, moment: float) -> None:
        wait = moment - self._clock()
        if wait > 0:
            await self._sleep(wait)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Priority | None,
    ) -> JSONish:
        counted = _counting_errors(callback, endpoint)

        async def send() -> JSONish:
            return await counted(*args, **kwargs)

        chat_id = data.get("chat_id")
        if rate_limit_args is not Priority.LOW:
            return await self._paced(send, endpoint, chat_id, low=False)
        async with self._low_lane:
            await self._nobody_waiting.wait()
            return await self._paced(send, endpoint, chat_id, low=True)

    async def _paced(
        self, send: Callable[[], Awaitable[JSONish]], endpoint: str, chat_id: object, *, low: bool
    ) -> JSONish:
        if endpoint not in MESSAGE_METHODS:
            return await send()
        for attempt in range(self._max_retries + 1):
            await self._unpaused.wait()
            if low:
                await self._wait_for_room(chat_id)
            else:
                await self._wait_for_room_first(chat_id)
            try:
                return await send()
            except RetryAfter as error:
                if attempt == self._max_retries:
                    raise
                pause = error.retry_after
                seconds = pause.total_seconds() if not isinstance(pause, int) else float(pause)
                log.warning("telegram.flood_wait", method=endpoint, seconds=seconds)
                self._unpaused.clear()
                try:
                    await asyncio.sleep(seconds + 0.1)
                finally:
                    self._unpaused.set()
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _wait_for_room_first(self, chat_id: object) -> None:
        """Wait for room as a request of normal priority: low ones wait while it does."""
        self._others_waiting += 1
        self._nobody_waiting.clear()
        try:
            await self._wait_for_room(chat_id)
        finally:
            self._others_waiting -= 1
            if self._others_waiting == 0:
                self._nobody_waiting.set()


def _error_kind(error: TelegramError) -> str:
    # Subclasses first: BadRequest and TimedOut are NetworkErrors too.
    for kind, error_type in (
        ("retry_after", RetryAfter),
        ("forbidden", Forbidden),
        ("bad_request", BadRequest),
        ("timeout", TimedOut),
        ("network", NetworkError),
    ):
        if isinstance(error, error_type):
            return kind
    return "other"


def _counting_errors(callback: Callback, endpoint: str) -> Callback:
    """Count every failed Bot API request (each retry too) in cronpilot_telegram_errors_total."""

    async def counted(*args: Any, **kwargs: Any) -> JSONish:
        try:
            return await callback(*args, **kwargs)
        except TelegramError as error:
            metrics.observe_telegram_error(endpoint, _error_kind(error))
            raise

    return counted

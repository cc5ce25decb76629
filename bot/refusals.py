"""Refusals to people not on ALLOWED_USERS, sent where they cannot hold up anyone else.

A flood of strangers must not delay the people who are allowed: 500 updates from 200 strangers
once kept an allowed user's /start waiting 6.6 s behind 200 refusals. So the gate does not send a
refusal itself; it hands it here and moves on. One sender sends them in turn, at most
PER_SECOND, each at the rate limiter's low priority (bot.ratelimit: it waits while any other
message waits). At most WAITING wait; a refusal offered beyond that is dropped (the bot is busy
with strangers), and the gate forgets it ever told that person, so the next time they write,
they are told then: a stranger loses nothing by waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from telegram.error import TelegramError

from bot.ratelimit import SlidingWindow
from core.logs import get_logger

log = get_logger(__name__)

# A few a second: Telegram allows about 30 messages a second for everything the bot sends.
PER_SECOND = 5
# Ten seconds of refusals at that pace; anything older would hardly be worth sending.
WAITING = 50

Refusal = Callable[[], Awaitable[object]]


class Refusals:
    def __init__(self, *, per_second: int = PER_SECOND, waiting: int = WAITING) -> None:
        self._pace = SlidingWindow(per_second, 1.0)
        self._queue: asyncio.Queue[Refusal] = asyncio.Queue(maxsize=waiting)
        self._sender: asyncio.Task[None] | None = None
        self.dropped = 0

    def offer(self, refusal: Refusal) -> bool:
        """Queue `refusal` (a call that sends it) without waiting; False when it was dropped
        because too many wait already."""
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_all(), name="refusals")
        try:
            self._queue.put_nowait(refusal)
        except asyncio.QueueFull:
            self.dropped += 1
            return False
        return True

    async def close(self) -> None:
        """Stop sending; refusals still waiting are dropped."""
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None

    async def _send_all(self) -> None:
        while True:
            refusal = await self._queue.get()
            await self._pace.acquire()
            try:
                await refusal()
            except TelegramError as error:
                # Telegram failing was logged by the request; a stranger's blocked chat or an
                # expired button is no news.
                log.info("refusal.not_sent", error=str(error))

"""getUpdates' connection pool after PTB cancels a long poll (how polling stops), at every
moment of the poll's start: the getUpdates that confirms the offset still goes through."""

from __future__ import annotations

import asyncio
import datetime as dtm

from telegram import Bot
from telegram.error import TimedOut
from telegram.request import BaseRequest, HTTPXRequest

from bot.polling import POLL_CONNECTIONS, LongPollRequest
from tests.fakes.telegram import FakeTelegram

# Enough steps to cover a poll's start (PTB, httpx, httpcore) up to its first byte on the wire.
STEPS = 40


async def confirm_after_cancelled_polls(
    fake: FakeTelegram, make: type[BaseRequest] | None
) -> list[int]:
    """Steps after which the confirming getUpdates failed with a pool timeout."""
    failed: list[int] = []
    timeouts: list[str] = []
    for steps in range(STEPS):
        request = (
            make() if make is not None else HTTPXRequest(connection_pool_size=POLL_CONNECTIONS)
        )
        bot = Bot(fake.token, base_url=fake.base_url, get_updates_request=request)
        await bot.initialize()
        poll = asyncio.create_task(bot.get_updates(timeout=10))
        for _ in range(steps):
            await asyncio.sleep(0)
        poll.cancel()
        try:
            await bot.get_updates(timeout=dtm.timedelta(0))
        except TimedOut as error:
            failed.append(steps)
            timeouts.append(error.message)
        await bot.shutdown()
    assert all(message.startswith("Pool timeout") for message in timeouts)
    return failed


async def test_a_cancelled_long_poll_leaves_room_for_the_confirming_get_updates(
    fake: FakeTelegram,
) -> None:
    assert await confirm_after_cancelled_polls(fake, LongPollRequest) == []
    confirming = [call for call in fake.calls_to("getUpdates") if call.get("timeout") == "0"]
    assert len(confirming) == STEPS


async def test_ptbs_default_request_strands_the_connection_at_one_moment(
    fake: FakeTelegram,
) -> None:
    """The cause, as installed: httpcore keeps a connection opened for a request cancelled
    before it used it (encode/httpcore#1093). If this starts passing, httpcore fixed it."""
    assert await confirm_after_cancelled_polls(fake, None) != []

"""The connection getUpdates uses, which must survive PTB cancelling the long poll.

PTB stops polling by cancelling the getUpdates in flight and then calling getUpdates once
more (timeout 0) to confirm the offset of the updates it took, on the same one-connection pool.
httpcore 1.0.x (encode/httpcore#1093) strands a connection in its pool when the request it was
opened for is cancelled before it starts using it: the connection stays "connecting" forever
and holds the slot. A long poll that begins on a new connection (the first, or after the
server closed the last one) and is cancelled in that moment leaves the pool full, and the
confirming getUpdates fails with "Pool timeout: All connections in the connection pool are
occupied" and a traceback; the next start then sees those updates again.

So a cancelled long poll takes its pool with it: the next request gets a fresh one. Nothing of
value is lost, since a connection whose request was cancelled mid-flight is closed anyway.
"""

from __future__ import annotations

import asyncio

from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.requests import BotApiRequest

# PTB's own choice for getUpdates: one connection, as there is only ever one long poll.
POLL_CONNECTIONS = 1


class LongPollRequest(BaseRequest):
    """getUpdates' requests: PTB's HTTPXRequest, replaced by a fresh one as soon as a request
    on it is being cancelled (see the module's doc). The confirming getUpdates may start before
    the cancelled poll has unwound, so it checks for such a poll itself."""

    # Not JSON (a proxy's error page) is an error, not a logged traceback (bot.requests).
    parse_json_payload = staticmethod(BotApiRequest.parse_json_payload)

    def __init__(self) -> None:
        self._inner = self._fresh()
        self._in_flight: dict[asyncio.Task[object], HTTPXRequest] = {}
        self.replaced = 0  # how many pools cancelled polls took with them

    @staticmethod
    def _fresh() -> HTTPXRequest:
        return BotApiRequest(connection_pool_size=POLL_CONNECTIONS)

    def _replace(self) -> None:
        self._inner = self._fresh()
        self.replaced += 1

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if any(
            task.cancelling() and inner is self._inner for task, inner in self._in_flight.items()
        ):
            self._replace()
        inner = self._inner
        task = asyncio.current_task()
        assert task is not None
        self._in_flight[task] = inner
        try:
            return await inner.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        except asyncio.CancelledError:
            if self._inner is inner:
                self._replace()
            raise
        finally:
            del self._in_flight[task]
            if inner is not self._inner and inner not in self._in_flight.values():
                await inner.shutdown()  # the last request on a replaced pool closes it

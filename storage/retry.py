"""Riding out a database outage: which errors mean "the database is not there right now", and
retrying a unit of work with backoff until it is back.

The background work (claims, heartbeats, a run's record) uses `patiently`; it waits through an
outage of minutes and ends only when the work is done or the caller is cancelled (shutdown).
What answers a person (a bot handler) does not wait: it tells them to try again in a moment.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from core.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts: `first`, doubling up to `longest`."""

    first: float = 0.5
    longest: float = 15.0

    def wait(self, attempt: int) -> float:
        return min(self.longest, self.first * float(2 ** min(attempt, 30)))


DEFAULT_BACKOFF = Backoff()


def unavailable(error: BaseException) -> bool:
    """True when `error` means the database could not be reached or dropped the connection
    (refused, reset, timed out, shutting down, starting up, SQLite busy), or that every pooled
    connection stayed busy past the pool's timeout; not that the work
    itself was wrong."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (OSError, TimeoutError, PoolTimeoutError, *_ASYNCPG_GONE)):
            return True
        if isinstance(current, sqlite3.OperationalError) and _SQLITE_BUSY.search(str(current)):
            return True
        orig = current.orig if isinstance(current, DBAPIError) else None
        pending.extend((orig, current.__cause__, current.__context__))
    return False


_ASYNCPG_GONE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.ConnectionDoesNotExistError,
)
_SQLITE_BUSY = re.compile(r"database is locked|database is busy", re.IGNORECASE)


async def patiently(
    work: Callable[[], Awaitable[T]], *, what: str, backoff: Backoff = DEFAULT_BACKOFF
) -> T:
    """Run `work` (one whole unit of work: it opens and commits its own transaction) until it
    succeeds, waiting with backoff while the database is unavailable; other errors propagate."""
    attempt = 0
    while True:
        try:
            return await work()
        except Exception as error:
            if not unavailable(error):
                raise
            wait = backoff.wait(attempt)
            log.warning(
                "database.unavailable",
                work=what,
                attempt=attempt + 1,
                retry_in=round(wait, 2),
                error=describe(error),
            )
        attempt += 1
        await asyncio.sleep(wait)


def describe(error: BaseException) -> str:
    """The first line of an error, for a log field."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

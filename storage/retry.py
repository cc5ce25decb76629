"""Riding out a database outage: which errors mean "the database is not there right now", and
retrying a unit of work with backoff until it is back.

The background work (claims, heartbeats, a run's record) uses `patiently`; it waits through an
outage of minutes and ends only when the work is done or the caller is cancelled (shutdown).
What answers a person (a bot handler) does not wait: it tells them to try again in a moment.
The retrying is tenacity's (APScheduler's `_retry.py` is the model): a wait strategy, a
predicate for the errors worth another attempt, a log line before each wait.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

from core.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")


class Backoff(wait_exponential):
    """tenacity's exponential wait in this project's words: `first` seconds, doubling up to
    `longest`."""

    def __init__(self, *, first: float = 0.5, longest: float = 15.0) -> None:
        super().__init__(multiplier=first, max=longest)

    def __repr__(self) -> str:
        return f"Backoff(first={self.multiplier!r}, longest={self.max!r})"

    def seconds(self, attempt: int) -> float:
        """The wait after the `attempt`-th failure in a row (1: `first`), for work that comes
        round by itself (a periodic job) rather than through `patiently`."""
        doublings = min(max(0, attempt - 1), 64)  # past that the longest wait holds anyway
        return float(min(self.max, self.multiplier * self.exp_base**doublings))


DEFAULT_BACKOFF = Backoff()


def unavailable(error: BaseException) -> bool:
    """True when `error` means the database could not be reached or dropped the connection
    (refused, reset, timed out, shutting down, starting up, out of connections, SQLite busy), or
    that every pooled
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
    # "sorry, too many clients already" (max_connections, or the role's connection limit): the
    # server is there but has no connection to spare for now.
    asyncpg.TooManyConnectionsError,
)
_SQLITE_BUSY = re.compile(r"database is locked|database is busy", re.IGNORECASE)


async def patiently(
    work: Callable[[], Awaitable[T]], *, what: str, backoff: Backoff = DEFAULT_BACKOFF
) -> T:
    """Run `work` (one whole unit of work: it opens and commits its own transaction) until it
    succeeds, waiting with backoff while the database is unavailable; other errors propagate,
    and so does a cancellation (a shutdown), waiting or not."""

    def log_outage(state: RetryCallState) -> None:
        log.warning(
            "database.unavailable",
            work=what,
            attempt=state.attempt_number,
            retry_in=round(state.upcoming_sleep, 2),
            error=describe(failure(state)),
        )

    async def attempt() -> T:  # `work` may be a lambda, which tenacity would not await
        return await work()

    retrying = AsyncRetrying(
        retry=retry_if_exception(_outage), wait=backoff, before_sleep=log_outage
    )
    return await retrying(attempt)


def _outage(error: BaseException) -> bool:
    # An error of the work, not a cancellation that happens to carry one as its context.
    return isinstance(error, Exception) and unavailable(error)


def failure(state: RetryCallState) -> BaseException:
    """The error that ended the attempt tenacity is about to retry."""
    error = state.outcome.exception() if state.outcome is not None else None
    assert error is not None, "tenacity retries only after an attempt failed"
    return error


def describe(error: BaseException) -> str:
    """The first line of an error, for a log field."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

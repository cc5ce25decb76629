"""Riding out a database outage: `patiently` retries a unit of work while the database is away
(tenacity underneath), with the waits `Backoff` gives, and nothing else."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import DBAPIError
from structlog.testing import capture_logs
from tenacity import AsyncRetrying, RetryCallState

from scheduler.runner.sending import DELIVERY_BACKOFF
from storage.database import create_engine
from storage.retry import DEFAULT_BACKOFF, Backoff, patiently, unavailable


def waits(backoff: Backoff, attempts: int) -> list[float]:
    """The waits after each of the first `attempts` failed attempts."""
    state = RetryCallState(AsyncRetrying(), fn=None, args=(), kwargs={})
    found = []
    for number in range(1, attempts + 1):
        state.attempt_number = number
        found.append(backoff(state))
    return found


def test_the_waits_double_from_the_first_up_to_the_longest() -> None:
    assert waits(DEFAULT_BACKOFF, 8) == [0.5, 1, 2, 4, 8, 15, 15, 15]
    # Telegram down or flooded: 1 s, 2 s, 4 s … and then every 5 minutes.
    assert waits(DELIVERY_BACKOFF, 11) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    # An outage of days does not overflow.
    assert waits(DEFAULT_BACKOFF, 2000)[-1] == 15
    # The same waits for work that comes round by itself (the engine's sweep).
    assert [DEFAULT_BACKOFF.seconds(n) for n in range(1, 9)] == waits(DEFAULT_BACKOFF, 8)
    assert DEFAULT_BACKOFF.seconds(2000) == 15


class Outage:
    """Work that finds the database away `times` times, then answers."""

    def __init__(self, times: int, error: BaseException | None = None) -> None:
        self.times = times
        self.calls = 0
        self.error = error or ConnectionRefusedError(111, "Connect call failed")
        self.called = asyncio.Event()

    async def __call__(self) -> str:
        self.calls += 1
        self.called.set()
        if self.calls <= self.times:
            raise self.error
        return "done"


async def test_the_work_is_retried_while_the_database_is_away_and_each_wait_is_logged() -> None:
    work = Outage(times=3)
    with capture_logs() as logs:
        # As the runner and the engine call it: a lambda that returns the coroutine.
        outcome = await patiently(
            lambda: work(), what="run.start", backoff=Backoff(first=0.01, longest=0.02)
        )
    assert outcome == "done"
    assert work.calls == 4
    assert [
        (entry["event"], entry["work"], entry["attempt"], entry["retry_in"]) for entry in logs
    ] == [
        ("database.unavailable", "run.start", 1, 0.01),
        ("database.unavailable", "run.start", 2, 0.02),
        ("database.unavailable", "run.start", 3, 0.02),
    ]
    assert logs[0]["error"] == "[Errno 111] Connect call failed"
    assert logs[0]["log_level"] == "warning"


async def test_an_error_of_the_work_itself_is_not_retried() -> None:
    work = Outage(times=5, error=ValueError("no such task"))
    with capture_logs() as logs, pytest.raises(ValueError, match="no such task"):
        await patiently(work, what="run.finish", backoff=Backoff(first=0.01, longest=0.01))
    assert (work.calls, logs) == (1, [])


async def test_a_shutdown_ends_the_wait() -> None:
    work = Outage(times=1_000)
    waiting = asyncio.create_task(
        patiently(work, what="worker.register", backoff=Backoff(first=60, longest=60))
    )
    await work.called.wait()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert work.calls == 1


async def test_a_cancellation_that_arrives_during_an_outage_is_not_retried() -> None:
    # A shutdown that lands while the driver handles a refused connection carries that error
    # as its context; it is still a shutdown, not an outage to wait out.
    class CancelledWhileReconnecting(Outage):
        async def __call__(self) -> str:
            self.calls += 1
            try:
                raise ConnectionResetError(104, "Connection reset by peer")
            except ConnectionResetError:
                raise asyncio.CancelledError from None

    work = CancelledWhileReconnecting(times=0)
    with pytest.raises(asyncio.CancelledError):
        await patiently(work, what="run.delivery", backoff=Backoff(first=0.01, longest=0.01))
    assert work.calls == 1


async def test_a_server_out_of_connections_is_unavailable(pg_url: str) -> None:
    """PostgreSQL's "too many clients" (here a role allowed no connection) is the database being
    away for now, so runs and deliveries wait and try again rather than fail as a bug."""
    admin = create_engine(pg_url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text("DROP ROLE IF EXISTS cronpilot_no_room"))
            await connection.execute(text("CREATE ROLE cronpilot_no_room LOGIN CONNECTION LIMIT 0"))
        crowded = create_engine(make_url(pg_url).set(username="cronpilot_no_room", password=None))
        try:
            with pytest.raises(DBAPIError, match="too many connections") as refused:
                async with crowded.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        finally:
            await crowded.dispose()
        assert unavailable(refused.value)
    finally:
        async with admin.begin() as connection:
            await connection.execute(text("DROP ROLE IF EXISTS cronpilot_no_room"))
        await admin.dispose()

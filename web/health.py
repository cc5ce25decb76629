"""`/healthz` and `/metrics` on HTTP_PORT, for Docker's HEALTHCHECK and for Prometheus.

`/healthz` runs every probe at once, each bounded by a timeout, so a hung database makes the
answer 503 rather than a hang: 200 `{"status": "ok", "checks": {"database": "ok", …}}`, or 503
`{"status": "failing", "checks": {"database": "<what is wrong>", …}}`. `/metrics` is the
Prometheus exposition of `core.metrics.REGISTRY`, in the format the scraper asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core import metrics
from core.logs import get_logger
from storage.database import describe_connection_error

log = get_logger(__name__)

OK = "ok"
PROBE_TIMEOUT_SECONDS = 3.0
# How long close() lets overrun probes finish their cancellation before it returns anyway.
STRAGGLER_WAIT_SECONDS = 1.0

# A probe answers None when healthy, or a short description of what is wrong.
ProbeCheck = Callable[[], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Probe:
    """One named health check."""

    name: str
    check: ProbeCheck


class Health:
    """The `/healthz` and `/metrics` endpoints of the HTTP server (see web.app)."""

    def __init__(
        self, probes: Sequence[Probe], *, probe_timeout: float = PROBE_TIMEOUT_SECONDS
    ) -> None:
        names = [probe.name for probe in probes]
        if len(set(names)) != len(names):
            raise ValueError(f"probe names must be unique: {', '.join(names)}")
        self._probes = tuple(probes)
        self._probe_timeout = probe_timeout
        self._last: dict[str, str] = {}
        # Probes that overran the timeout, cancelled but perhaps still cleaning up.
        self._stragglers: set[asyncio.Future[str | None]] = set()

    def routes(self) -> list[Route]:
        return [
            Route("/healthz", self._healthz, methods=["GET"]),
            Route("/metrics", self._metrics, methods=["GET"]),
        ]

    async def close(self) -> None:
        """Give overrun probes a moment to finish their cancellation, then let them be."""
        if self._stragglers:
            await asyncio.wait(set(self._stragglers), timeout=STRAGGLER_WAIT_SECONDS)

    async def check(self) -> tuple[bool, dict[str, str]]:
        """Run every probe at once; healthy when all say "ok"."""
        answers = await asyncio.gather(*(self._run(probe) for probe in self._probes))
        checks = {probe.name: answer for probe, answer in zip(self._probes, answers, strict=True)}
        self._log_changes(checks)
        return all(answer == OK for answer in answers), checks

    async def _run(self, probe: Probe) -> str:
        # A task and asyncio.wait rather than asyncio.timeout: a probe whose cancellation is
        # slow (a driver call stuck in a thread) must not hold the answer past the timeout.
        task = asyncio.ensure_future(probe.check())
        done, _ = await asyncio.wait({task}, timeout=self._probe_timeout)
        if not done:
            task.cancel()
            self._stragglers.add(task)
            task.add_done_callback(self._forget)
            return f"no answer within {self._probe_timeout:g} s"
        try:
            problem = task.result()
        except Exception as error:  # a probe's own bug must read as unhealthy, not as a 500
            log.exception("health.probe_crashed", probe=probe.name)
            return f"the check itself failed ({type(error).__name__})"
        return OK if problem is None else problem

    def _forget(self, task: asyncio.Future[str | None]) -> None:
        self._stragglers.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not report it as never retrieved

    def _log_changes(self, checks: dict[str, str]) -> None:
        # Only changes: a scraper asks every few seconds, and a steady state says nothing new.
        for name, answer in checks.items():
            before = self._last.get(name)
            if before == answer or (before is None and answer == OK):
                continue
            if answer == OK:
                log.info("health.recovered", probe=name)
            else:
                log.warning("health.failing", probe=name, problem=answer)
        self._last = dict(checks)

    async def _healthz(self, _request: Request) -> Response:
        healthy, checks = await self.check()
        return JSONResponse(
            {"status": OK if healthy else "failing", "checks": checks},
            status_code=200 if healthy else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def _metrics(self, request: Request) -> Response:
        body, content_type = metrics.exposition(request.headers.get("Accept", ""))
        return Response(body, headers={"Content-Type": content_type})


def database_probe(engine: AsyncEngine, *, name: str = "database") -> Probe:
    """Healthy when a pooled connection answers the dialect's `SELECT 1`."""
    display = engine.url.render_as_string(hide_password=True)

    async def check() -> str | None:
        try:
            async with engine.connect() as connection:
                await connection.run_sync(_ping)
        except (SQLAlchemyError, OSError) as error:
            return str(describe_connection_error(error, display))
        return None

    return Probe(name, check)


def _ping(connection: Connection) -> None:
    # The dialect's own liveness query on the driver connection. A statement through the
    # Connection would begin a transaction, which on SQLite is BEGIN IMMEDIATE (see
    # storage.database) and would queue the probe behind every writer.
    dbapi_connection = connection.connection.dbapi_connection
    assert dbapi_connection is not None  # a checked-out connection always has one
    connection.dialect.do_ping(dbapi_connection)


def callable_probe(name: str, fn: Callable[[], bool], *, problem: str = "not running") -> Probe:
    """Healthy while `fn()` is true, e.g. `callable_probe("scheduler", lambda: engine.running)`."""

    async def check() -> str | None:
        return None if fn() else problem

    return Probe(name, check)

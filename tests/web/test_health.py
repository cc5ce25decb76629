"""`/healthz` and `/metrics` over real HTTP, with a real database probe on SQLite.

The metrics registry lives as long as the test process, and other tests may count runs too, so
the exact exposition lines are built from the value each series had before the test acted.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core import metrics
from core.errors import ConfigurationError
from cronpilot import __version__
from storage.database import create_engine
from web.app import build_app
from web.health import PROBE_TIMEOUT_SECONDS, Health, Probe, callable_probe, database_probe
from web.server import HttpServer

LOCALHOST = "127.0.0.1"
# ProcessCollector reads /proc, so the process_* series exist on Linux only.
HAS_PROC = Path("/proc/self/stat").exists()
OWN_METRICS = {
    "cronpilot_runs_total",
    "cronpilot_run_duration_seconds",
    "cronpilot_fire_lateness_seconds",
    "cronpilot_llm_tokens_total",
    "cronpilot_llm_cost_usd_total",
    "cronpilot_telegram_errors_total",
    "cronpilot_trigger_requests_total",
    "cronpilot_chain_runs_total",
    "cronpilot_scheduler_alarm_jobs",
    "cronpilot_runs_in_flight",
    "cronpilot_model_runs_total",
    "cronpilot_llm_requests_total",
    "cronpilot_llm_request_duration_seconds",
    "cronpilot_deliveries_total",
    "cronpilot_results_owed",
    "cronpilot_build_info",
}


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    database = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'health.db'}")
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def scheduler() -> dict[str, bool]:
    return {"running": True}


@pytest.fixture
def probes(engine: AsyncEngine, scheduler: dict[str, bool]) -> list[Probe]:
    return [
        database_probe(engine),
        callable_probe(
            "scheduler", lambda: scheduler["running"], problem="the scheduler is not running"
        ),
    ]


@pytest.fixture
def scheduler_gauges() -> Iterator[None]:
    yield
    metrics.follow_scheduler(lambda: 0, lambda: 0)


@contextlib.asynccontextmanager
async def serving(
    probes: list[Probe], *, probe_timeout: float = PROBE_TIMEOUT_SECONDS
) -> AsyncIterator[HttpServer]:
    """The real HTTP server with health routes only, on a free port of the loopback."""
    health = Health(probes, probe_timeout=probe_timeout)
    try:
        async with HttpServer(build_app(health), 0, host=LOCALHOST) as server:
            yield server
    finally:
        await health.close()


async def get(server: HttpServer, path: str, **headers: str) -> httpx.Response:
    # A hung probe must not hang the request: the client gives up long after the probe timeout.
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(f"http://{LOCALHOST}:{server.port}{path}", headers=headers)


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def line(name: str, value: float, **labels: str) -> str:
    # The exposition sorts labels by name.
    rendered = ",".join(f'{key}="{item}"' for key, item in sorted(labels.items()))
    return f"{name}{{{rendered}}} {value!r}" if labels else f"{name} {value!r}"


# --- /healthz ----------------------------------------------------------------------------------


async def test_healthz_is_ok_when_every_probe_is(probes: list[Probe]) -> None:
    async with serving(probes) as server:
        assert server.port > 0
        response = await get(server, "/healthz")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "scheduler": "ok"}}


async def test_a_failing_probe_gives_503_with_its_message(
    probes: list[Probe], scheduler: dict[str, bool]
) -> None:
    async with serving(probes) as server:
        scheduler["running"] = False
        failing = await get(server, "/healthz")
        scheduler["running"] = True
        recovered = await get(server, "/healthz")
    assert failing.status_code == 503
    assert failing.json() == {
        "status": "failing",
        "checks": {"database": "ok", "scheduler": "the scheduler is not running"},
    }
    assert recovered.status_code == 200


async def test_an_unreachable_sqlite_database_fails(tmp_path: Path) -> None:
    path = tmp_path / "no such folder" / "cronpilot.db"
    database = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with serving([database_probe(database)]) as server:
            response = await get(server, "/healthz")
    finally:
        await database.dispose()
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": f"cannot reach the database at sqlite+aiosqlite:///{path}: unable to open "
        "database file (does the folder exist and is it writable?)"
    }


async def test_an_unreachable_postgresql_database_fails_without_its_password() -> None:
    database = create_engine("postgresql+asyncpg://cronpilot:pa55word-x@127.0.0.1:9/cronpilot")
    try:
        async with serving([database_probe(database)]) as server:
            response = await get(server, "/healthz")
    finally:
        await database.dispose()
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": "cannot reach the database at postgresql+asyncpg://cronpilot:***@127.0.0.1:9"
        "/cronpilot: connection refused (is PostgreSQL running on that host and port?)"
    }
    assert "pa55word-x" not in response.text


async def test_a_hung_probe_gives_503_within_the_timeout(probes: list[Probe]) -> None:
    never = asyncio.Event()

    async def hang() -> str | None:
        await never.wait()
        return None

    async with serving([*probes, Probe("hung", hang)], probe_timeout=0.2) as server:
        response = await get(server, "/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "scheduler": "ok", "hung": "no answer within 0.2 s"},
    }


async def test_a_probe_slow_to_cancel_does_not_hold_the_answer(probes: list[Probe]) -> None:
    # Like a driver call stuck in a worker thread: cancelling it takes as long as it takes.
    released = asyncio.Event()
    cancelled = asyncio.Event()

    async def stubborn() -> str | None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            await released.wait()
            raise
        return None

    async with serving([*probes, Probe("stubborn", stubborn)], probe_timeout=0.2) as server:
        response = await get(server, "/healthz")
        assert cancelled.is_set()
        released.set()
    assert response.status_code == 503
    assert response.json()["checks"]["stubborn"] == "no answer within 0.2 s"


async def test_a_probe_that_raises_reads_as_failing(probes: list[Probe]) -> None:
    async def broken() -> str | None:
        raise RuntimeError("a bug in the probe")

    async with serving([*probes, Probe("broken", broken)]) as server:
        response = await get(server, "/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broken"] == "the check itself failed (RuntimeError)"


async def test_the_database_probe_does_not_wait_for_a_sqlite_writer(
    engine: AsyncEngine, probes: list[Probe]
) -> None:
    # The probe must not take SQLite's write lock (BEGIN IMMEDIATE): a long write transaction
    # would otherwise make the bot look dead.
    async with engine.connect() as writer:
        await writer.begin()
        await writer.exec_driver_sql("CREATE TABLE held (id INTEGER)")
        async with serving(probes, probe_timeout=1.0) as server:
            response = await get(server, "/healthz")
        await writer.rollback()
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "scheduler": "ok"}}


def test_probe_names_are_unique(probes: list[Probe]) -> None:
    with pytest.raises(ValueError, match="probe names must be unique: database, database"):
        Health([probes[0], probes[0]])


def test_the_port_is_known_only_while_running(probes: list[Probe]) -> None:
    with pytest.raises(RuntimeError, match="the HTTP server is not running"):
        _ = HttpServer(build_app(Health(probes)), 0).port


# --- /metrics ----------------------------------------------------------------------------------


async def test_metrics_expose_what_was_observed(probes: list[Probe]) -> None:
    runs_before = sample("cronpilot_runs_total", status="succeeded", trigger="schedule")
    skipped_before = sample("cronpilot_runs_total", status="skipped", trigger="schedule")
    duration = {
        bound: sample("cronpilot_run_duration_seconds_bucket", le=bound)
        for bound in ("2.0", "5.0", "+Inf")
    }
    duration_count = sample("cronpilot_run_duration_seconds_count")
    prompt = sample("cronpilot_llm_tokens_total", kind="prompt")
    completion = sample("cronpilot_llm_tokens_total", kind="completion")
    cost = sample("cronpilot_llm_cost_usd_total")

    metrics.observe_run("succeeded", "schedule", 3.0, 120, 30, 0.25)
    metrics.observe_run("skipped", "schedule", None)

    async with serving(probes) as server:
        response = await get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    lines = response.text.splitlines()
    assert (
        line("cronpilot_runs_total", runs_before + 1, status="succeeded", trigger="schedule")
        in lines
    )
    assert (
        line("cronpilot_runs_total", skipped_before + 1, status="skipped", trigger="schedule")
        in lines
    )
    # 3 s falls in the 5 s bucket, not the 2 s one; the skipped run adds no duration.
    assert line("cronpilot_run_duration_seconds_bucket", duration["2.0"], le="2.0") in lines
    assert line("cronpilot_run_duration_seconds_bucket", duration["5.0"] + 1, le="5.0") in lines
    assert line("cronpilot_run_duration_seconds_bucket", duration["+Inf"] + 1, le="+Inf") in lines
    assert line("cronpilot_run_duration_seconds_count", duration_count + 1) in lines
    assert line("cronpilot_llm_tokens_total", prompt + 120, kind="prompt") in lines
    assert line("cronpilot_llm_tokens_total", completion + 30, kind="completion") in lines
    assert line("cronpilot_llm_cost_usd_total", cost + 0.25) in lines
    assert line("cronpilot_build_info", 1.0, version=__version__) in lines


async def test_run_durations_land_in_their_buckets(probes: list[Probe]) -> None:
    bounds = ("0.5", "2.0", "5.0", "300.0", "+Inf")
    name = "cronpilot_run_duration_seconds_bucket"
    before = {bound: sample(name, le=bound) for bound in bounds}
    # 2 s counts in le=2 (bounds are inclusive), 2.5 s first in le=5, 400 s only in +Inf; a
    # negative duration (the clock stepped back) counts as 0 s; a run recorded without running
    # (duration None) adds nothing.
    for duration in (2.0, 2.5, 400.0, -1.0, None):
        metrics.observe_run("succeeded", "schedule", duration)
    async with serving(probes) as server:
        lines = (await get(server, "/metrics")).text.splitlines()
    added = {"0.5": 1, "2.0": 2, "5.0": 3, "300.0": 3, "+Inf": 4}
    for bound in bounds:
        assert line(name, before[bound] + added[bound], le=bound) in lines


async def test_claim_lateness_lands_in_its_buckets(probes: list[Probe]) -> None:
    bounds = ("0.005", "0.25", "60.0", "+Inf")
    before = {bound: sample("cronpilot_fire_lateness_seconds_bucket", le=bound) for bound in bounds}
    # -0.001 is a claim a hair early (clock granularity): on time, not negative.
    metrics.observe_claims([0.003, 0.2, 75.0, -0.001])
    async with serving(probes) as server:
        lines = (await get(server, "/metrics")).text.splitlines()
    added = {"0.005": 2, "0.25": 3, "60.0": 3, "+Inf": 4}
    for bound in bounds:
        expected = line(
            "cronpilot_fire_lateness_seconds_bucket", before[bound] + added[bound], le=bound
        )
        assert expected in lines


async def test_telegram_errors_keep_their_kinds_bounded(probes: list[Probe]) -> None:
    forbidden = sample("cronpilot_telegram_errors_total", method="sendMessage", kind="forbidden")
    other = sample("cronpilot_telegram_errors_total", method="sendMessage", kind="other")
    metrics.observe_telegram_error("sendMessage", "forbidden")
    metrics.observe_telegram_error("sendMessage", "something new")
    async with serving(probes) as server:
        text = (await get(server, "/metrics")).text
    lines = text.splitlines()
    assert (
        line(
            "cronpilot_telegram_errors_total",
            forbidden + 1,
            method="sendMessage",
            kind="forbidden",
        )
        in lines
    )
    assert (
        line("cronpilot_telegram_errors_total", other + 1, method="sendMessage", kind="other")
        in lines
    )
    assert "something new" not in text


@pytest.mark.usefixtures("scheduler_gauges")
async def test_scheduler_gauges_follow_the_engine(probes: list[Probe]) -> None:
    state = {"jobs": 11, "in_flight": 3}
    async with serving(probes) as server:
        metrics.follow_scheduler(lambda: state["jobs"], lambda: state["in_flight"])
        followed = (await get(server, "/metrics")).text.splitlines()
        state["jobs"] = 12
        changed = (await get(server, "/metrics")).text.splitlines()
    assert "cronpilot_scheduler_alarm_jobs 11.0" in followed
    assert "cronpilot_runs_in_flight 3.0" in followed
    assert "cronpilot_scheduler_alarm_jobs 12.0" in changed


async def test_only_cronpilot_and_process_metrics_are_exposed(probes: list[Probe]) -> None:
    async with serving(probes) as server:
        text = (await get(server, "/metrics")).text
    names = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    ours = {name for name in names if name.startswith("cronpilot_")}
    assert ours == OWN_METRICS
    # The standard process metrics (Linux only) are the one deliberate exception.
    assert all(name.startswith("process_") for name in names - ours), names - ours
    if HAS_PROC:
        assert "process_resident_memory_bytes" in names


async def test_openmetrics_is_served_when_asked_for(probes: list[Probe]) -> None:
    async with serving(probes) as server:
        response = await get(server, "/metrics", Accept="application/openmetrics-text")
    assert response.headers["Content-Type"].startswith("application/openmetrics-text;")
    assert response.text.endswith("# EOF\n")


async def test_a_port_in_use_is_one_clear_error(probes: list[Probe]) -> None:
    async with serving(probes) as first:
        taken = first.port
        second = HttpServer(build_app(Health(probes)), taken, host=LOCALHOST)
        with pytest.raises(ConfigurationError) as caught:
            await second.start()
    assert str(caught.value).startswith(f"HTTP_PORT: cannot listen on {LOCALHOST}:{taken} (")
    assert str(caught.value).endswith("is another program using that port?")

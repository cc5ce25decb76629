"""What the benchmarks share: a throwaway PostgreSQL database, fast task seeding, and
`cronpilot run` as a process of its own against the fakes."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from storage.models import ChatRow, TaskRow  # noqa: E402
from storage.records import TaskKind, TaskState  # noqa: E402
from tests.cronpilot.process import clean_environment  # noqa: E402
from tests.fakes.llm import FakeLLM  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.postgres import postgres_server  # noqa: E402


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new PostgreSQL database migrated by the caller, dropped afterwards."""
    with postgres_server() as server:
        url = server.create_database(prefix)
        try:
            yield url
        finally:
            server.drop_database(url)


async def seed(
    sessions: async_sessionmaker[AsyncSession],
    *,
    chats: int,
    tasks: int,
    next_run_at: Sequence[datetime],
    now: datetime,
    cron: str = "0 9 * * *",
) -> None:
    """`tasks` daily cron tasks spread over `chats` chats; task i runs next at next_run_at[i]."""
    async with sessions() as session, session.begin():
        for start in range(0, chats, 10_000):
            await session.execute(
                insert(ChatRow),
                [
                    {
                        "id": 10_000_000 + i,
                        "type": "private",
                        "title": None,
                        "timezone": None,
                        "active": True,
                        "created_at": now,
                    }
                    for i in range(start, min(chats, start + 10_000))
                ],
            )
        for start in range(0, tasks, 10_000):
            await session.execute(
                insert(TaskRow),
                [
                    {
                        "chat_id": 10_000_000 + i % chats,
                        "created_by": 1,
                        "name": f"task {i}",
                        "prompt": "Summarize the news",
                        "kind": TaskKind.CRON,
                        "cron": cron,
                        "timezone": "UTC",
                        "state": TaskState.ACTIVE,
                        "next_run_at": next_run_at[i],
                        "consecutive_failures": 0,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(start, min(tasks, start + 10_000))
                ],
            )


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def describe(values: Sequence[float], unit: str = "ms", scale: float = 1000.0) -> str:
    if not values:
        return "no samples"
    return (
        f"p50 {percentile(values, 0.5) * scale:.1f} {unit}, "
        f"p99 {percentile(values, 0.99) * scale:.1f} {unit}, "
        f"max {max(values) * scale:.1f} {unit}, mean {statistics.fmean(values) * scale:.1f} {unit}"
    )


@dataclass(frozen=True)
class RunningBot:
    pid: int
    port: int
    log: Path


@contextlib.asynccontextmanager
async def cronpilot_run(
    fake: FakeTelegram, llm: FakeLLM, allowed: int, settings: Mapping[str, str]
) -> AsyncIterator[RunningBot]:
    """`cronpilot run` as a process of its own (its own CPU, as in production) against the fakes,
    on SQLite, HTTP_PORT on a free port, JSON logs to a file; entered once it answers /healthz
    and has loaded LiteLLM ("llm.ready"), terminated on leaving."""
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="cronpilot-benchmark-"))
    environment = clean_environment(
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
            "LLM_API_BASE": llm.base_url,
            "LLM_API_KEY": "sk-benchmark-0123456789",
            "ALLOWED_USERS": str(allowed),
            "PARSER_MODEL": "off",
            "LOG_FORMAT": "json",
            "HTTP_PORT": str(port),
            **{name: value.format(port=port) for name, value in settings.items()},
        }
    )
    log = workdir / "bot.log"
    with log.open("wb") as written:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cronpilot.cli",
            "run",
            cwd=workdir,
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=written,
        )
    try:
        await _wait_until_ready(port, log)
        yield RunningBot(process.pid, port, log)
    finally:
        with contextlib.suppress(ProcessLookupError):  # killed already (benchmarks/replicas.py)
            process.terminate()
        await process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_until_ready(port: int, log: Path) -> None:
    async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
        for _ in range(600):
            try:
                healthy = (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code
            except httpx.TransportError:
                healthy = 0
            if healthy == 200 and _logged(log, b"llm.ready"):
                return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the bot did not come up; see {log}")


def _logged(log: Path, event: bytes) -> bool:
    return event in log.read_bytes()

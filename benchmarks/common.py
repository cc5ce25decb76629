"""What the benchmarks share: a throwaway PostgreSQL database, fast task seeding, `cronpilot
run` as a process of its own against the fakes, the fakes in a process of their own (the far
side: Telegram and the provider are not on the bot's CPU), and a watch on an event loop's
stalls."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker  # noqa: E402

from storage.models import ChatRow, TaskRow  # noqa: E402
from storage.records import TaskKind, TaskState  # noqa: E402
from tests.cronpilot.process import clean_environment  # noqa: E402
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


class BotApiAddress(Protocol):
    """Where a fake Bot API answers: a FakeTelegram, or `FarTelegram` for one served by a
    process of its own."""

    @property
    def token(self) -> str: ...

    @property
    def base_url(self) -> str: ...


class LLMAddress(Protocol):
    @property
    def base_url(self) -> str: ...


@dataclass(frozen=True)
class FarTelegram:
    """The address of a fake Bot API served by another process."""

    token: str
    base_url: str


@contextlib.asynccontextmanager
async def cronpilot_run(
    fake: BotApiAddress, llm: LLMAddress, allowed: int, settings: Mapping[str, str]
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


class FarSide:
    """A process of its own (spawned: nothing of this one's state or loop goes along) and the
    pipe to it: `target(connection, *args)` runs there; `ask` sends one message and waits for
    the answer without blocking this process's loop."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        ours, theirs = multiprocessing.Pipe()
        self._connection = ours
        self._process = multiprocessing.get_context("spawn").Process(
            target=target, args=(theirs, *args), daemon=True
        )

    async def receive(self) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, self._connection.recv)

    def send(self, message: Any) -> None:
        self._connection.send(message)

    async def ask(self, message: Any) -> Any:
        self.send(message)
        return await self.receive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @contextlib.asynccontextmanager
    async def running(self, farewell: Any = "done") -> AsyncIterator[FarSide]:
        """Started on entering; told `farewell` on leaving and given ten seconds to end."""
        self._process.start()
        try:
            yield self
        finally:
            with contextlib.suppress(OSError):
                self._connection.send(farewell)
            await asyncio.get_running_loop().run_in_executor(None, self._process.join, 10)
            if self._process.is_alive():
                self._process.kill()


async def answer_requests(
    connection: Connection, answer: Callable[[Any], Any], *, farewell: Any = "done"
) -> None:
    """The far side's half of `FarSide.ask`: each message received is answered with
    `answer(message)` (run on this loop, between its other work) until `farewell` comes."""
    loop = asyncio.get_running_loop()
    while True:
        message = await loop.run_in_executor(None, connection.recv)
        if message == farewell:
            return
        connection.send(answer(message))


@dataclass
class LoopStalls:
    """When an event loop woke late, and by how much: a sampler sleeping `tick` seconds at a
    time on it. Anything that arrives during a stall is handled together when it ends (a fake
    Bot API counts such requests against its limits as if they had arrived in a burst)."""

    tick: float = 0.01
    # Late wake-ups over `threshold` seconds: (when it woke, time.time(); how late, seconds).
    threshold: float = 0.05
    stalls: list[tuple[float, float]] = field(default_factory=list)
    longest: float = 0.0

    async def watch(self) -> None:
        while True:
            before = time.time()
            await asyncio.sleep(self.tick)
            woke = time.time()
            late = woke - before - self.tick
            self.longest = max(self.longest, late)
            if late > self.threshold:
                self.stalls.append((woke, late))

    def before(self, at: float, window: float = 1.5) -> float:
        """The longest stall in the `window` seconds up to `at` (0 if none over the
        threshold)."""
        return max(
            (late for woke, late in self.stalls if at - window <= woke <= at + 0.01), default=0.0
        )

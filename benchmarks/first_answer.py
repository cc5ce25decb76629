"""How soon a freshly started bot answers: `/start` answered after the process is spawned.

`cronpilot run` starts as its own process against the fake Bot API (served from this script,
with a fake model) and a database holding --tasks tasks, SQLite and then PostgreSQL, already
migrated (a restart, a deploy, a replica roll). Alice's `/start` is queued before the process
is spawned; the clock runs from the spawn until the fake receives the answer. Median of
--rounds starts per database; target ≤ 2 s. The figure is for a warm start, as every restart
after the first is: one unmeasured start comes first and writes the bytecode of what the
process imports (PYTHONDONTWRITEBYTECODE is dropped for it; the image's virtual environment
is compiled when it is built, `UV_COMPILE_BYTECODE=1` in the Dockerfile).

The process runs under a thin wrapper that adds a watchdog coroutine to its event loop: the
longest time the loop could not run, over the whole start and until the LLM library has loaded
in the background ("llm.ready" in the log) plus a second, is printed against the 250 ms the
one-time load may stall it.

`--python` runs `cronpilot run` with another interpreter, e.g. that of an environment made
as the image makes it, without the development tools (whose packages, rich and pygments among
them, structlog and httpx import when they are installed):

    UV_PROJECT_ENVIRONMENT=/tmp/cronpilot-prod uv sync --locked --no-dev --no-install-project \
        --compile-bytecode

    uv run python benchmarks/first_answer.py [--tasks 10000] [--rounds 3] [--python PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve()
TARGET_SECONDS = 2.0
STALL_TARGET_MS = 250.0
ALICE = 4242


def child(stall_file: str) -> None:
    """`cronpilot run` with a watchdog in its event loop writing the longest stall so far."""

    def record(longest: float) -> None:  # a few bytes, only when the longest stall grows
        Path(stall_file).write_text(json.dumps({"longest": longest, "at": time.time()}))

    async def watch() -> None:
        longest = 0.0
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            stall = time.perf_counter() - before - 0.005
            if stall > longest:
                longest = stall
                record(longest)

    class Watched(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            loop = super().new_event_loop()
            asyncio.set_event_loop_policy(None)  # the first loop only: `run`'s
            loop.call_soon(lambda: loop.create_task(watch()))
            return loop

    asyncio.set_event_loop_policy(Watched())
    from cronpilot.cli import main

    sys.exit(main(["run"]))


async def prepare(url: str, total: int) -> None:
    from common import seed

    from core.logs import configure
    from scheduler.clock import SystemClock
    from storage.database import create_engine, create_sessionmaker
    from storage.migrate import upgrade_to_head

    configure(level="WARNING")
    await upgrade_to_head(url)
    database = create_engine(url)
    now = SystemClock().now()
    # Spread over the next day from five minutes on, as daily tasks are: dozens fall within
    # the engine's horizon, none is due while the benchmark runs.
    instants = [now + timedelta(seconds=300 + (i * 86_400) // total) for i in range(total)]
    await seed(
        create_sessionmaker(database), chats=total, tasks=total, next_run_at=instants, now=now
    )
    await database.dispose()


@dataclass(frozen=True)
class Start:
    answered: float  # seconds from spawn to /start answered
    cpu: float  # CPU seconds the process had used by then (what the machine's load cannot hide)
    loaded: float  # seconds from spawn to the LLM library loaded
    stall: float  # the longest event-loop stall, seconds


async def one_start(url: str, workdir: Path, python: str = sys.executable) -> Start:
    """One start, timed; it also writes the bytecode of what it imports where it is missing."""
    from tests.cronpilot.process import clean_environment
    from tests.fakes.llm import FakeLLM
    from tests.fakes.telegram import FakeTelegram

    stall_file = workdir / "stall.json"
    stall_file.unlink(missing_ok=True)
    log = workdir / "bot.log"
    async with FakeTelegram() as fake, FakeLLM() as llm:
        alice = fake.user(ALICE, "Alice")
        dm = fake.private_chat(alice)
        await fake.send_text(dm, alice, "/start")
        environment = clean_environment(
            {
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "DATABASE_URL": url,
                "LLM_API_BASE": llm.base_url,
                "LLM_API_KEY": "sk-benchmark-0123456789",
                "ALLOWED_USERS": str(ALICE),
                "LOG_FORMAT": "json",
            }
        )
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        with log.open("wb") as written:
            spawned = time.perf_counter()
            process = await asyncio.create_subprocess_exec(
                python,
                str(HERE),
                "--child",
                str(stall_file),
                cwd=workdir,
                env=environment,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=written,
            )
        try:
            await fake.wait_for_message(dm, timeout=60)
            answered = time.perf_counter() - spawned
            cpu = cpu_seconds(process.pid)
            for _ in range(1200):
                if b"llm.ready" in log.read_bytes():
                    break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"the LLM library did not load; see {log}")
            loaded = time.perf_counter() - spawned
            await asyncio.sleep(1.0)
        finally:
            process.terminate()
            await process.wait()
    stall = json.loads(stall_file.read_text())["longest"] if stall_file.exists() else 0.0
    return Start(answered, cpu, loaded, stall)


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time the process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    label: str, url: str, total: int, rounds: int, *, warm_up: bool, python: str
) -> bool:
    started = time.perf_counter()
    await prepare(url, total)
    print(f"{label}: seeded {total} tasks in {time.perf_counter() - started:.1f} s")
    workdir = Path(tempfile.mkdtemp(prefix="cronpilot-first-answer-"))
    if warm_up:  # not measured: the bytecode is written, as after any start
        await one_start(url, workdir, python)
    results = [await one_start(url, workdir, python) for _ in range(rounds)]
    answered = statistics.median(result.answered for result in results)
    cpu = statistics.median(result.cpu for result in results)
    loaded = statistics.median(result.loaded for result in results)
    stall = max(result.stall for result in results) * 1000
    good = answered <= TARGET_SECONDS and stall <= STALL_TARGET_MS
    print(
        f"{label}: /start answered {answered:.2f} s after spawn, median of {rounds} "
        f"({', '.join(f'{result.answered:.2f}' for result in results)}; "
        f"target ≤ {TARGET_SECONDS:g} s) {'✓' if answered <= TARGET_SECONDS else '✗'}"
    )
    print(f"{label}: CPU the process used until then: {cpu:.2f} s (median)")
    print(f"{label}: LLM library loaded {loaded:.2f} s after spawn (median), in the background")
    print(
        f"{label}: longest event-loop stall from spawn to 1 s after the library loaded: "
        f"{stall:.0f} ms (target ≤ {STALL_TARGET_MS:g} ms) "
        f"{'✓' if stall <= STALL_TARGET_MS else '✗'}"
    )
    print(f"{label}: load average (other processes share the CPUs): {os.getloadavg()[0]:.1f}")
    return good


def main(total: int, rounds: int, python: str) -> int:
    from common import scratch_database

    good = True
    with tempfile.TemporaryDirectory(prefix="cronpilot-first-answer-") as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'bot.db'}"
        good &= asyncio.run(measure("SQLite", url, total, rounds, warm_up=True, python=python))
    with scratch_database("cronpilot_bench_first_answer") as url:
        good &= asyncio.run(measure("PostgreSQL", url, total, rounds, warm_up=False, python=python))
    return 0 if good else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--python", default=sys.executable, help="the child's interpreter")
    parser.add_argument("--child", metavar="STALL_FILE")
    arguments = parser.parse_args()
    if arguments.child:
        sys.path.insert(0, str(HERE.parent.parent))
        child(arguments.child)
    else:
        os.environ.setdefault("PYTHONPATH", str(HERE.parent.parent))
        sys.exit(main(arguments.tasks, arguments.rounds, arguments.python))

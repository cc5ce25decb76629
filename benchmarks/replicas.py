"""Three replicas, one PostgreSQL, one fake Bot API with Telegram's limits: 1,500 tasks due at
one minute, and the busiest replica killed with -9 thirty seconds in. Does anything get lost?

Three `cronpilot run` processes (benchmarks/common.py) share a scratch PostgreSQL database, the
fake Bot API server (enforcing Telegram's flood limits: 429 with retry_after) and a fake LLM that
answers at once. The fake Bot API runs in a process of its own with nothing else on its loop (as
Telegram is not on our machine): it counts each request against the limits when its loop reads
it, so a stall of that loop would bunch the requests that arrived meanwhile (its stalls are
watched and printed with each 429). The fake LLM and this benchmark's polling of the database
and of the fake run in another process. 1,500 daily tasks in 1,500 chats are due at the same
instant. Thirty seconds after it, the replica that owns the most unfinished work (runs going,
results owed) gets SIGKILL. Prints how many chats got no result (target 0), how many got it
twice (target: at most the messages in flight at the kill, a handful; 0 without a kill), how
long after the instant the last result arrived (target ≤ 1,500 / 27 + 15 s), and the Bot API's
429 answers.

    uv run python benchmarks/replicas.py [--tasks 1500] [--replicas 3] [--kill-after 30]
        [--no-kill]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from common import (
    FarSide,
    FarTelegram,
    LoopStalls,
    RunningBot,
    answer_requests,
    cronpilot_run,
    scratch_database,
    seed,
)
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from storage.database import create_engine, create_sessionmaker
from storage.migrate import upgrade_to_head
from storage.models import RunRow, TaskRow, WorkerRow
from storage.records import RunStatus
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram, RateLimits

FIRST_CHAT = 10_000_000
# The tasks are seeded due within the replicas' first alarm horizon (ten minutes); once all
# replicas are up (LiteLLM loads in each: minutes on a loaded machine), the instant is moved to
# this far ahead, which the replicas' next refill (every minute) arms.
SEEDED_AHEAD = timedelta(seconds=590)
DUE_AFTER_READY = timedelta(seconds=65)


def serve_telegram(connection: Connection, tasks: int) -> None:
    """The fake Bot API with Telegram's limits, in a process of its own (`FarSide`): sends its
    address, then answers "counts" (each chat's messages, the 429s so far, the loop's longest
    stall so far) and "report" (every refusal with the longest stall before it, 429s by method,
    the stalls) until told "done"."""
    asyncio.run(_serve_telegram(connection, tasks))


async def _serve_telegram(connection: Connection, tasks: int) -> None:
    stalls = LoopStalls()
    watcher = asyncio.create_task(stalls.watch())
    async with FakeTelegram(rate_limits=RateLimits()) as fake:
        chats = [fake.private_chat(fake.user(FIRST_CHAT + i, f"User {i}")) for i in range(tasks)]
        connection.send((fake.token, fake.base_url))
        # Asked five times a second: each chat's bot messages are counted again only once its
        # history has grown, so that the asking takes the fake's loop for well under 1 ms.
        seen = [0] * tasks
        counts = [0] * tasks

        def answer(question: str) -> Any:
            if question == "counts":
                for i, chat in enumerate(chats):
                    if len(chat.history) != seen[i]:
                        seen[i] = len(chat.history)
                        counts[i] = len(fake.messages(chat))
                return counts, fake.rate_limited_count, stalls.longest
            assert question == "report"
            return {
                "refusals": [
                    (refusal.at, refusal.limit, refusal.chat_id, stalls.before(refusal.at))
                    for refusal in fake.refusals
                ],
                "by_method": dict(Counter(e.method for e in fake.errors if e.error_code == 429)),
                "stalls": len(stalls.stalls),
                "longest": stalls.longest,
                "cpu": time.process_time(),
            }

        await answer_requests(connection, answer)
    watcher.cancel()


class Delivered:
    """What the far side's fake Bot API shows, as of the last `update`."""

    def __init__(self, far: FarSide) -> None:
        self._far = far
        self.per_chat: list[int] = []
        self.rate_limited = 0
        self.longest_stall = 0.0

    async def update(self) -> int:
        """Ask again; return how many chats have their result."""
        self.per_chat, self.rate_limited, self.longest_stall = await self._far.ask("counts")
        return self.count

    @property
    def count(self) -> int:
        return sum(1 for count in self.per_chat if count)

    def chats(self) -> set[int]:
        return {FIRST_CHAT + i for i, count in enumerate(self.per_chat) if count}


def worker_of(bot: RunningBot) -> str:
    for line in bot.log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            event = json.loads(line)
            if event.get("event") == "scheduler.started":
                return str(event["worker"])
    raise RuntimeError(f"no scheduler.started in {bot.log}")


async def busiest(url: str, bots: list[RunningBot]) -> RunningBot:
    """The replica owning the most unfinished work now: runs going and results owed."""
    database = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session:
            rows = await session.execute(
                select(RunRow.owner, func.count())
                .where((RunRow.status == RunStatus.RUNNING) | RunRow.delivery_pending)
                .group_by(RunRow.owner)
            )
            load = dict(rows.all())
    finally:
        await database.dispose()
    by_worker = {worker_of(bot): bot for bot in bots}
    print("unfinished work per replica at the kill:", {w[:8]: load.get(w, 0) for w in by_worker})
    return max(bots, key=lambda bot: load.get(worker_of(bot), 0))


async def sent_not_recorded(url: str, delivered: Delivered) -> int:
    """Chats that have their result while the database says it is not delivered yet: what a
    replica killed now had posted without recording it (Telegram has no idempotency key)."""
    database = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session:
            rows = await session.execute(
                select(TaskRow.chat_id)
                .join(RunRow, RunRow.task_id == TaskRow.id)
                .where(RunRow.delivered_message_id.is_(None))
            )
            unrecorded = set(rows.scalars())
    finally:
        await database.dispose()
    await delivered.update()
    return len(unrecorded & delivered.chats())


async def progress(url: str, delivered: Delivered, since_due: float) -> str:
    """One line of the timeline: where the time goes (claims, results owed, sends, 429s, and
    the live replicas' shares of the rate as they wrote them at their last beats)."""
    database = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session:
            claimed = await session.scalar(select(func.count()).select_from(RunRow))
            rows = await session.execute(
                select(RunRow.owner, func.count())
                .where((RunRow.status == RunStatus.RUNNING) | RunRow.delivery_pending)
                .group_by(RunRow.owner)
            )
            unfinished = sorted(count for _, count in rows.all())
            alive_since = datetime.now(UTC) - timedelta(seconds=10)  # the default lease
            shares = sorted(
                (
                    await session.execute(
                        select(WorkerRow.share).where(WorkerRow.heartbeat_at >= alive_since)
                    )
                ).scalars()
            )
    finally:
        await database.dispose()
    await delivered.update()
    return (
        f"  {since_due:5.1f} s: claimed {claimed}, delivered {delivered.count}, "
        f"unfinished per replica {unfinished}, 429s {delivered.rate_limited}, "
        f"shares {'+'.join(f'{share:.2f}' for share in shares)}={sum(shares):.2f}, "
        f"the fake's longest stall {delivered.longest_stall:.2f} s, "
        f"load {os.getloadavg()[0]:.1f}"
    )


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def due_at(url: str, instant: datetime) -> None:
    database = create_engine(url, pool_size=1)
    try:
        async with create_sessionmaker(database)() as session, session.begin():
            await session.execute(update(TaskRow).values(next_run_at=instant))
    finally:
        await database.dispose()


async def measure(url: str, tasks: int, replicas: int, kill_after: float | None) -> None:
    await upgrade_to_head(url)
    due = datetime.now(UTC).replace(microsecond=0) + SEEDED_AHEAD
    database = create_engine(url)
    await seed(
        create_sessionmaker(database),
        chats=tasks,
        tasks=tasks,
        next_run_at=[due] * tasks,
        now=due - timedelta(days=1),
        cron=f"{due.minute} {due.hour} * * *",
    )
    await database.dispose()

    async with FarSide(serve_telegram, tasks).running() as far, FakeLLM() as llm:
        fake = FarTelegram(*await far.receive())
        delivered = Delivered(far)
        async with contextlib.AsyncExitStack() as stack:
            bots = list(
                await asyncio.gather(
                    *(
                        stack.enter_async_context(
                            cronpilot_run(fake, llm, FIRST_CHAT, {"DATABASE_URL": url})
                        )
                        for _ in range(replicas)
                    )
                )
            )
            due = datetime.now(UTC).replace(microsecond=0) + DUE_AFTER_READY
            await due_at(url, due)
            ready = (datetime.now(UTC) - due).total_seconds()
            # The CPU each replica uses from the instant on (start-up set aside).
            cpu_at_start: dict[int, float] = {}
            cpu_used: dict[int, float] = {}
            print(f"{replicas} replicas ready {ready:+.1f} s from the instant", flush=True)
            killed: RunningBot | None = None
            last_count, last_at = 0, 0.0
            next_report = 0.0
            deadline = time.monotonic() + max(0.0, -ready) + 600
            while time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                since_due = (datetime.now(UTC) - due).total_seconds()
                if since_due >= 0 and not cpu_at_start:
                    cpu_at_start = {bot.pid: cpu_seconds(bot.pid) for bot in bots}
                if kill_after is not None and killed is None and since_due >= kill_after:
                    killed = await busiest(url, bots)
                    cpu_used[killed.pid] = cpu_seconds(killed.pid) - cpu_at_start[killed.pid]
                    os.kill(killed.pid, signal.SIGKILL)
                    print(f"killed pid {killed.pid} with -9 at {since_due:.1f} s")
                    await asyncio.sleep(0.5)  # the kernel closes its connections
                    in_flight = await sent_not_recorded(url, delivered)
                    print(f"results in flight at the kill (posted, not yet recorded): {in_flight}")
                if since_due >= next_report:
                    next_report = max(next_report, since_due) + 5.0
                    try:
                        print(await progress(url, delivered, since_due), flush=True)
                    except DBAPIError as error:  # a shared server out of connections: skip one
                        print(f"  {since_due:5.1f} s: no progress line ({error.orig})", flush=True)
                count = await delivered.update()
                if count != last_count:
                    last_count, last_at = count, since_due
                if count == tasks and (killed is not None or kill_after is None):
                    break
            for bot in bots:
                if bot.pid not in cpu_used:
                    cpu_used[bot.pid] = cpu_seconds(bot.pid) - cpu_at_start.get(bot.pid, 0.0)
            # Anything still on its way (a duplicate, or the last results) arrives now.
            settle = time.monotonic() + 15
            while time.monotonic() < settle:
                await asyncio.sleep(0.2)
                count = await delivered.update()
                if count != last_count:
                    last_count, last_at = count, (datetime.now(UTC) - due).total_seconds()
            per_chat = Counter(delivered.per_chat)
            report = await far.ask("report")
            database = create_engine(url, pool_size=1)
            async with create_sessionmaker(database)() as session:
                outcomes = (
                    await session.execute(
                        select(
                            RunRow.status, RunRow.reason_code, RunRow.restarts, func.count()
                        ).group_by(RunRow.status, RunRow.reason_code, RunRow.restarts)
                    )
                ).all()
            await database.dispose()
        print("runs by status, reason and restarts:", [tuple(row) for row in outcomes])
        lost = per_chat.get(0, 0)
        duplicates = sum((times - 1) * count for times, count in per_chat.items() if times > 1)
        target = tasks / 27 + 15
        print(f"chats with no result: {lost} (target 0)")
        print(f"extra copies of results (duplicates): {duplicates}")
        print(
            f"last result {last_at:.1f} s after the instant (target ≤ {target:.1f} s; "
            f"{tasks} / 27 + 15)"
        )
        print(f"429 answers from the Bot API: {delivered.rate_limited} (target 0)")
        refusals = report["refusals"]
        if refusals:
            instant = due.timestamp()
            print(
                "  by limit broken:",
                dict(Counter(limit for _, limit, _, _ in refusals)),
                "by method:",
                report["by_method"],
            )
            print(
                "  each (s after the instant, limit, chat, the longest stall of the fake's loop "
                "in the 1.5 s before):",
                [
                    (round(at - instant, 2), limit, chat_id, round(stall, 2))
                    for at, limit, chat_id, stall in refusals
                ],
            )
        print(
            f"the fake Bot API's loop (a process of its own) woke > 50 ms late "
            f"{report['stalls']} times, the longest by {report['longest'] * 1000:.0f} ms "
            f"(its process's CPU: {report['cpu']:.1f} s)"
        )
        # Each replica is one process (one core at most): the CPU it used is a floor on the wall
        # time an idle machine would take; the rest of the wall time is waiting for a core.
        used = sorted(cpu_used.values(), reverse=True)
        print(
            "CPU used by the replicas from the instant to the last result: "
            + ", ".join(f"{seconds:.1f} s" for seconds in used)
            + f" ({sum(used) / max(1, tasks) * 1000:.0f} ms per result; "
            f"the busiest used a core {used[0] / max(last_at, 1e-9):.0%} of the time)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_500)
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--kill-after", type=float, default=30.0)
    parser.add_argument("--no-kill", action="store_true")
    arguments = parser.parse_args()
    with scratch_database("cronpilot_bench_replicas") as database_url:
        asyncio.run(
            measure(
                database_url,
                arguments.tasks,
                arguments.replicas,
                None if arguments.no_kill else arguments.kill_after,
            )
        )

"""The scheduler engine: the database is the only truth, APScheduler is only the alarm clock.

How it works:
- every active task has `next_run_at` in the database; nothing about tasks lives in memory;
- APScheduler (in-memory, AsyncIOScheduler) holds one date job per distinct instant due within
  the next `horizon_seconds`, refilled every `refill_seconds` from an indexed query, so 100,000
  stored tasks cost a handful of jobs, and nothing synchronous ever touches the database;
- when a job goes off, the engine *claims* every task due by now in batches: one transaction
  locks the due rows (PostgreSQL: FOR UPDATE SKIP LOCKED, so several processes share the work),
  records each occurrence in `runs` (a unique index makes a second record of the same occurrence
  impossible) and advances `next_run_at`; only then does the run start. An occurrence is claimed
  by exactly one process, once;
- an occurrence missed by less than MISFIRE_GRACE_SECONDS runs once (the latest one, trigger
  `catch_up` when it is more than a minute late); older ones are recorded as `missed`; the next
  run is always the first one after now, so there is never a burst;
- a task whose previous run is still going has its occurrence recorded as `skipped`;
- every process is a worker with an id and a heartbeat in the database (every couple of
  seconds), and owns the runs it claims. At start and at every beat, each process takes over
  what a worker whose heartbeat lapsed (a lease of seconds: a crash, a kill) left: its runs
  still `running` are run again (an occurrence within the grace period, at most
  `max_restarts` times; older ones become `interrupted`) and the results it owed are sent. A
  clean stop leaves the runs it could not finish in time to the others the same way. A live
  worker's runs are never touched by the others, so starting a second replica takes nothing
  away, and a run taken over is no longer its old owner's to record (`runs.finish`);
- a live worker takes back its own orphans the same way at every beat (`take_back`): runs it
  owns that are still `running`, or owe their result, while no task of its own carries them
  (the task crashed on a database error it could not wait out, a claim failed before its
  runs started), with backoff while that keeps happening;
- database work is retried with backoff through an outage; a result is sent by a delivery job of
  its own, which a shutdown cancels at once (the run stays marked as owing the message).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import metrics
from core.errors import CronpilotError
from core.logs import get_logger
from core.reasons import (
    AnswerInterrupted,
    BotStopped,
    BotWasDown,
    BotWasDownLonger,
    DatabaseUnavailable,
    FoldedIntoCatchUp,
    InternalError,
    PreviousRunGoing,
    Reason,
)
from scheduler.clock import Clock
from scheduler.schedules.schedule import Schedule
from storage import followups, retries, runs, tasks, workers
from storage.records import Run, RunStatus, RunTrigger, Task
from storage.retry import DEFAULT_BACKOFF, Backoff, describe, patiently, unavailable

log = get_logger(__name__)


class TaskBusyError(CronpilotError):
    """The task already has a run going."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"task {task_id} has a run going")
        self.task_id = task_id


class TaskNotFoundError(CronpilotError):
    """No such task (in the chat asking: tasks of other chats are not found either)."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"task {task_id} not found")
        self.task_id = task_id


class RunExecutor(Protocol):
    async def execute(self, run: Run, task: Task) -> Run | None:
        """Carry out a claimed run and record it; return the finished run if its chat is owed
        a message, for `deliver`. Should not raise."""
        ...

    async def deliver(self, run: Run, task: Task) -> None:
        """Send the message a finished run owes its chat and record that it went."""
        ...


@dataclass(frozen=True, slots=True)
class EngineSettings:
    misfire_grace_seconds: int = 3600
    horizon_seconds: int = 600
    refill_seconds: int = 60
    claim_batch: int = 1000
    # An occurrence claimed later than this after its instant counts as a catch-up.
    catch_up_after_seconds: int = 60
    max_missed_records: int = 50
    stop_timeout_seconds: float = 30.0
    # A worker beats every heartbeat_seconds; one silent for lease_seconds is taken for dead,
    # and the others run again what it was running and send what it owed (a few seconds, so a
    # dead replica's chats wait little; several missed beats, so a busy loop is not death).
    heartbeat_seconds: float = 2.0
    lease_seconds: float = 10.0
    # A run whose process died is started again at most this often (then interrupted).
    max_restarts: int = 2
    # At most this many runs claimed and not finished (going or waiting for a slot): a replica
    # takes only what it has room for and leaves the rest due for the others (None: no bound).
    max_claimed: int | None = None
    # The bot's Telegram rate (messages a second, all replicas together; 0: no bound). With
    # other replicas alive, one claims only what its share of it sends within about
    # `sending_ahead_seconds` beyond a run's usual length, counting what it still has to send
    # (results owed, runs going): the others take the rest, and a replica that dies holds
    # little that waits for its lease to lapse.
    messages_per_second: float = 0.0
    sending_ahead_seconds: float = 8.0
    database_backoff: Backoff = DEFAULT_BACKOFF


# Runs started in one go before the event loop serves anything else (see `claim_due`).
_STARTS_BETWEEN_YIELDS = 250
# How much each finished run moves the usual run length (`Engine.sending_capacity`).
_RUN_SECONDS_WEIGHT = 0.05


@dataclass(frozen=True, slots=True)
class Claim:
    """A run this process won, and how late the claim was behind its instant."""

    run: Run
    task: Task
    lateness_seconds: float


class Engine:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        executor: RunExecutor,
        clock: Clock,
        settings: EngineSettings,
        *,
        heartbeats: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        """`heartbeats` are sessions for the heartbeat alone (a connection of its own): a
        heartbeat that waited behind a hundred runs for a pooled connection would lapse, and the
        other replicas would take this live one's work for a dead one's."""
        self._sessions = sessions
        self._heartbeats = heartbeats or sessions
        self._executor = executor
        self._clock = clock
        self._settings = settings
        self._scheduler: AsyncIOScheduler | None = None
        self._armed: set[datetime] = set()
        self._in_flight: dict[asyncio.Task[None], int] = {}
        self._deliveries: dict[asyncio.Task[None], int] = {}
        self._claiming = asyncio.Lock()
        self._sweeping = asyncio.Lock()
        # Units of work that may have recorded runs of this process's that no task carries
        # yet (between their commit and `_start`): `take_back` waits until there are none.
        self._recording = 0
        # Sweeps in a row that took back orphans of this process's own or found the database
        # away, and when the next may try (`take_back`).
        self._take_backs = 0
        self._take_back_after: datetime | None = None
        self._on_share: Callable[[float], None] | None = None
        # Occurrences were left due because this process had no room for them.
        self._backlog = False
        # Live replicas as of the last heartbeat (this one included).
        self._replicas = 1
        # The share of the bot's rate this process sends at (`sending_share`), as last written.
        self._share = 1.0
        # What it had to send as of its last beat (what the others count it at now).
        self._demand_written = 0
        # How long a run usually takes from its claim to its result (seconds, a moving mean).
        self._run_seconds = 0.0
        # This process's id in `workers` and in the runs it owns; new at every start.
        self.worker_id = uuid.uuid4().hex

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> int:
        """Register, recover from crashed workers, catch up, arm the alarms, send results left
        undelivered; return the armed job count."""
        await patiently(self.heartbeat, what="worker.register", backoff=self._backoff)
        await self.recover()
        await self.claim_due()
        self._scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self._scheduler.add_job(
            self._job(self.refill),
            IntervalTrigger(seconds=self._settings.refill_seconds),
            id="refill",
        )
        self._scheduler.add_job(
            self._job(self._beat),
            IntervalTrigger(seconds=self._settings.heartbeat_seconds),
            id="heartbeat",
        )
        self._scheduler.add_job(
            self._job(self._sweep),
            IntervalTrigger(seconds=self._settings.heartbeat_seconds),
            id="recover",
            max_instances=2,  # a long sweep skips the next quietly (see _sweep)
        )
        self._scheduler.add_job(
            self._job(self._claim_backlog),
            IntervalTrigger(seconds=1),
            id="backlog",
            max_instances=2,
        )
        self._scheduler.start()
        await self.refill()
        return self.job_count

    async def stop(self) -> None:
        """Stop claiming, let running runs finish within the bound, leave the rest to the other
        replicas (or the next start) to run again; stop delivering at once (what is owed stays
        recorded and is sent by them)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        self._armed.clear()
        pending = set(self._in_flight)
        if pending:
            _, pending = await asyncio.wait(pending, timeout=self._settings.stop_timeout_seconds)
        leftover = [self._in_flight[task] for task in pending]
        cancelled = pending | set(self._deliveries)
        for task in cancelled:
            task.cancel()
        if cancelled:
            await asyncio.gather(*cancelled, return_exceptions=True)
        try:
            async with self._sessions() as session, session.begin():
                # Retired, this worker owns nothing: the others take its runs over at once.
                await workers.retire(session, self.worker_id)
        except Exception as error:
            if not unavailable(error):
                raise
            # Nobody waits for the database at shutdown: once this worker's lease lapses,
            # another process (or the next start) interrupts and delivers what it left.
            log.warning("worker.retire_failed", error=describe(error))
            return
        if leftover:
            log.warning("scheduler.runs_left", count=len(leftover), reason="shutdown")

    def _job(self, func: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """`func` as an APScheduler job: a shutdown cancels the jobs in progress (a sweep in the
        middle of a query, say), which is how they end then, not an error for APScheduler to
        log; a cancellation while its scheduler runs stays one."""
        scheduler = self._scheduler

        @functools.wraps(func)
        async def job(*args: Any) -> None:
            try:
                await func(*args)
            except asyncio.CancelledError:
                if scheduler is None or scheduler.running:
                    raise

        return job

    @property
    def settings(self) -> EngineSettings:
        return self._settings

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    @property
    def job_count(self) -> int:
        return len(self._scheduler.get_jobs()) if self._scheduler is not None else 0

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def wait_idle(self) -> None:
        """Wait until every run and delivery this process started has ended (tests)."""
        while self._in_flight or self._deliveries:
            await asyncio.gather(*self._in_flight, *self._deliveries, return_exceptions=True)

    # --- recovery and alarms --------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Tell the other processes this one is alive (registering it the first time) and how
        much it has to send; take its share of the bot's sending rate (`sending_share`)."""
        demand = len(self._in_flight) + len(self._deliveries)
        now = self._clock.now()
        alive_since = now - timedelta(seconds=self._settings.lease_seconds)
        async with self._heartbeats() as session, session.begin():
            locked = await workers.lock_shares(session)
            others = await workers.replicas(session, alive_since=alive_since)
            others.pop(self.worker_id, None)
            # Counted at no less than the others count it (as of its last beat): while all
            # drain, each replica's own demand is fresher, so lower, than the others' as read,
            # and each counting itself at the fresh one left a twentieth of the rate unused.
            share = sending_share(max(demand, self._demand_written), others)
            if not locked:
                share = min(share, self._share)  # a smaller share is safe without the lock
            # A smaller share holds before the others can read it and take what it frees; a
            # larger one only once written (below, after the commit).
            if share < self._share:
                self._apply_share(share)
            await workers.beat(session, self.worker_id, now=now, demand=demand, share=share)
        self._demand_written = demand
        self._replicas = len(others) + 1
        self._apply_share(share)

    def _apply_share(self, share: float) -> None:
        self._share = share
        if self._on_share is not None:
            self._on_share(share)

    def share_sending(self, on_share: Callable[[float], None]) -> None:
        """Call `on_share` at every beat with this replica's share (0 to 1) of the bot's
        Telegram rate (the bot's rate limiter applies it)."""
        self._on_share = on_share

    async def _beat(self) -> None:
        try:
            await self.heartbeat()
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("worker.heartbeat_failed", error=describe(error))

    async def _sweep(self) -> None:
        if self._sweeping.locked():
            return  # the last sweep is still taking over a dead replica's work
        async with self._sweeping:
            await self._sweep_once()

    async def _sweep_once(self) -> None:
        try:
            await self.recover()
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("scheduler.recover_postponed", error=describe(error))
        try:
            await self.take_back()
        except Exception as error:
            if not unavailable(error):
                raise
            retry_in = self._postpone_take_back()
            log.warning("scheduler.take_back_postponed", error=describe(error), retry_in=retry_in)

    @contextlib.contextmanager
    def _recording_runs(self) -> Iterator[None]:
        """Around work that records runs of this process's and then starts their tasks."""
        self._recording += 1
        try:
            yield
        finally:
            self._recording -= 1

    async def take_back(self) -> list[Run]:
        """Take back this process's own orphans: its runs still `running` that no task of its
        own runs any longer are run again or interrupted by the rules for a dead worker's
        (`recover`), and the results it owes that no task of its own sends are sent. Return
        the interrupted ones. While that keeps happening (or the database is away) it waits
        between tries with the database backoff, so a database still down does not make it
        spin.

        Nothing is run or sent twice. A task writes its run's row before it leaves the maps
        (a run's closing record, then its delivery is in `_deliveries` before the run leaves
        `_in_flight`; a delivery's record), and the rows are read before the maps are: a run
        read as open whose task has left meanwhile was closed meanwhile, and the conditional
        updates of `runs.adopt_running` / `adopt_undelivered` leave it. Runs recorded but not
        yet started (a claim between its commit and `_start`) are waited for
        (`_recording`); a chain's follower, recorded by its leader's task and started by it
        after the commit, is left while that task is in flight."""
        now = self._clock.now()
        if self._take_back_after is not None and now < self._take_back_after:
            return []
        async with self._sessions() as session:
            owned = await runs.owned_open(session, me=self.worker_id)
        if self._recording:
            return []  # runs are being started: the next sweep looks again
        running = set(self._in_flight.values())
        carried = running | set(self._deliveries.values())
        mine = [
            run_id for run_id, parent in owned if run_id not in carried and parent not in running
        ]
        if not mine:
            self._take_backs = 0
            self._take_back_after = None
            return []
        async with self._sessions() as session, session.begin():
            # The traceback of what left them is in the log (run.crashed, delivery.crashed).
            restarted, interrupted, owed = await self._take_over(
                session, now, reason=InternalError(), mine=mine
            )
            owners = await tasks.by_ids(session, [run.task_id for run in (*restarted, *owed)])
        retry_in = self._postpone_take_back()
        if restarted or interrupted or owed:
            log.warning(
                "scheduler.orphans_taken_back",
                restarted=len(restarted),
                interrupted=len(interrupted),
                delivering=len(owed),
                next_look_in=retry_in,
            )
        for run in restarted:
            task = owners.get(run.task_id)
            if task is not None:
                self._start(run, task)
        for run in owed:
            task = owners.get(run.task_id)
            if task is not None and run.id not in self._deliveries.values():
                self._deliver(run, task)
        return interrupted

    def _postpone_take_back(self) -> float:
        """Have the next `take_back` wait the database backoff's next step; its seconds."""
        self._take_backs += 1
        seconds = self._backoff.seconds(self._take_backs)
        self._take_back_after = self._clock.now() + timedelta(seconds=seconds)
        return seconds

    async def recover(self) -> list[Run]:
        """Take over what workers that are gone left: their runs still `running` are run again
        (return the ones too old or restarted too often, which become interrupted instead), and
        the results they still owed are sent."""
        with self._recording_runs():
            return await self._recover()

    async def _recover(self) -> list[Run]:
        now = self._clock.now()
        alive_since = now - timedelta(seconds=self._settings.lease_seconds)
        async with self._sessions() as session, session.begin():
            restarted, interrupted, adopted = await self._take_over(
                session, now, reason=BotStopped()
            )
            # Follow-ups are answered in the bot's process, bounded like runs; one that process
            # left unanswered stays so unless it is closed here.
            dropped = await followups.interrupt_orphans(
                session,
                me=self.worker_id,
                alive_since=alive_since,
                now=now,
                reason=AnswerInterrupted(),
            )
            owners = await tasks.by_ids(session, [run.task_id for run in (*restarted, *adopted)])
            await workers.forget_dead(session, before=alive_since - timedelta(days=1))
        if interrupted:
            log.warning("scheduler.runs_interrupted", count=len(interrupted), reason="crash")
        if dropped:
            log.warning("scheduler.followups_interrupted", count=len(dropped), reason="crash")
        if restarted:
            log.warning("scheduler.runs_restarted", count=len(restarted))
        for run in restarted:
            task = owners.get(run.task_id)
            if task is not None:
                self._start(run, task)
        if adopted:
            log.info("delivery.adopted", count=len(adopted))
        for run in adopted:
            task = owners.get(run.task_id)
            if task is not None:
                self._deliver(run, task)
        return interrupted

    async def _take_over(
        self,
        session: AsyncSession,
        now: datetime,
        *,
        reason: Reason,
        mine: Sequence[int] | None = None,
    ) -> tuple[list[Run], list[Run], list[Run]]:
        """The one rule for orphaned runs (a dead worker's, or with `mine` this process's own
        that no task carries any longer): those still `running` are taken to run again when
        their occurrence is fresh and they were not started again too often, else interrupted
        with `reason`; the results they owe are taken to be sent. Returns (to run again,
        interrupted, to send)."""
        settings = self._settings
        alive_since = now - timedelta(seconds=settings.lease_seconds)
        fresh_since = now - timedelta(seconds=settings.misfire_grace_seconds)
        restarted = await runs.adopt_running(
            session,
            me=self.worker_id,
            alive_since=alive_since,
            scheduled_since=fresh_since,
            max_restarts=settings.max_restarts,
            mine=mine,
        )
        interrupted = await runs.interrupt_orphans(
            session,
            me=self.worker_id,
            alive_since=alive_since,
            now=now,
            reason=reason,
            unless_scheduled_since=fresh_since,
            max_restarts=settings.max_restarts,
            mine=mine,
        )
        owed = await runs.adopt_undelivered(
            session, me=self.worker_id, alive_since=alive_since, mine=mine
        )
        return restarted, interrupted, owed

    async def refill(self) -> None:
        """Claim anything overdue, recover what dead workers left, and arm an alarm for every
        instant within the horizon."""
        await self.claim_due()
        try:
            await self.recover()
            until = self._clock.now() + timedelta(seconds=self._settings.horizon_seconds)
            async with self._sessions() as session:
                instants = await tasks.due_instants(session, until=until)
                instants += await retries.due_instants(session, until=until)
        except Exception as error:
            if not unavailable(error):
                raise
            # The claims above waited for the database; the next refill does the rest.
            log.warning("scheduler.refill_postponed", error=describe(error))
            return
        for count, instant in enumerate(instants, 1):
            self.arm(instant)
            if count % 200 == 0:
                await asyncio.sleep(0)  # thousands of alarms must not hold up the loop

    def arm(self, instant: datetime | None) -> None:
        """Make sure the engine wakes at `instant` if it is within the horizon.

        The use cases call this after every change that sets a next run. Nothing is needed for
        pause or delete: a claim reads the database, so a paused task is simply not due.
        """
        scheduler = self._scheduler
        if instant is None or scheduler is None or instant in self._armed:
            return
        now = self._clock.now()
        if instant > now + timedelta(seconds=self._settings.horizon_seconds):
            return
        self._armed.add(instant)
        scheduler.add_job(
            self._job(self._alarm),
            DateTrigger(run_date=max(instant, now)),
            args=[instant],
            id=f"due:{instant.isoformat()}",
            replace_existing=True,
        )

    async def _alarm(self, instant: datetime) -> None:
        self._armed.discard(instant)
        try:
            await self.claim_due()
        except Exception:  # an alarm must never take the scheduler down
            log.exception("scheduler.claim_failed", due=instant.isoformat())

    # --- claiming ---------------------------------------------------------------------------

    async def claim_due(self) -> list[Claim]:
        """Claim and start every occurrence due by now; return what this process won."""
        with self._recording_runs():
            return await self._claim_due()

    async def _claim_due(self) -> list[Claim]:
        won: list[Claim] = []
        async with self._claiming:
            more = True
            while more:
                room = self._room(won)
                if room <= 0:
                    # Full: the rest stays due for the other replicas, or for this one once
                    # its runs make room (the backlog job).
                    self._backlog = True
                    break
                # Through an outage the claim waits; the occurrences stay due meanwhile and
                # are claimed (late, as catch-ups) when the database is back.
                batch, more = await patiently(
                    functools.partial(self._claim_batch, min(room, self._settings.claim_batch)),
                    what="scheduler.claim",
                    backoff=self._backoff,
                )
                won.extend(batch)
                if batch:
                    self._notify(batch)
            more = True
            while more:
                tries, more = await patiently(
                    self._claim_tries, what="scheduler.claim_tries", backoff=self._backoff
                )
                won.extend(tries)
                if tries:
                    self._notify(tries)
        # Runs start only once everything due is claimed: a thousand runs starting between two
        # batches would make the later claims late. They start a few hundred at a time, the
        # loop served in between: ten thousand at once held it for a fifth of a second.
        starting = [claim for claim in won if claim.run.status is RunStatus.RUNNING]
        for index, claim in enumerate(starting, start=1):
            self._start(claim.run, claim.task)
            if index % _STARTS_BETWEEN_YIELDS == 0:
                await asyncio.sleep(0)
        return won

    def _room(self, won: Sequence[Claim]) -> int:
        """How many more runs this process may claim now: with other replicas alive, as many
        as it has slots for (`max_claimed` in all, going or waiting for a slot) and as many as
        its share of the bot's rate sends soon (`sending_capacity`)."""
        settings = self._settings
        if self._replicas <= 1:
            return settings.claim_batch  # alone, it takes everything due at once
        starting = sum(1 for claim in won if claim.run.status is RunStatus.RUNNING)
        room = settings.claim_batch
        if settings.max_claimed is not None:
            room = settings.max_claimed - len(self._in_flight) - starting
        if settings.messages_per_second > 0:
            owed = len(self._in_flight) + len(self._deliveries) + starting
            room = min(room, self.sending_capacity - owed)
        return room

    @property
    def sending_capacity(self) -> int:
        """How many results this replica can have on hand (owed or being worked out): what an
        even part of the bot's rate (among the live replicas) sends over a usual run's length
        (at most `sending_ahead_seconds`) and `sending_ahead_seconds` more."""
        settings = self._settings
        # At most twice the seconds ahead: runs slowed down by a starved CPU would otherwise
        # have it claim more, and slow them down further.
        ahead = settings.sending_ahead_seconds + min(
            self._run_seconds, settings.sending_ahead_seconds
        )
        # An even part of the rate, not the sending share: that share grows with what a replica
        # holds, and claiming by it would let the first to claim take ever more.
        even = settings.messages_per_second / self._replicas
        return max(1, math.ceil(even * ahead))

    async def _claim_backlog(self) -> None:
        if not self._backlog:
            return
        self._backlog = False
        try:
            await self.claim_due()
        except Exception:  # the next round tries again
            log.exception("scheduler.claim_failed", due="backlog")

    async def _claim_batch(self, limit: int) -> tuple[list[Claim], bool]:
        settings = self._settings
        async with self._sessions() as session, session.begin():
            now = self._clock.now()
            due = await tasks.lock_due(session, due_before=now, limit=limit)
            if not due:
                return [], False
            busy = {item.task.id for item in due if item.busy}
            new_runs: list[runs.NewRun] = []
            advances: list[tasks.Advance] = []
            plans: dict[tuple[object, ...], _Plan] = {}
            for task in (item.task for item in due):
                # Tasks due together mostly share a schedule: plan each schedule once.
                key = (task.kind, task.cron, task.timezone, task.run_at, task.every_seconds)
                plan = plans.get((*key, task.next_run_at))
                if plan is None:
                    plan = plans[(*key, task.next_run_at)] = _plan(task, now, settings)
                new_runs.extend(plan.records(task, busy, now, settings, self.worker_id))
                advances.append(tasks.Advance(task.id, plan.following))
            recorded = await runs.add_occurrences(session, new_runs)
            await tasks.advance(session, advances, now=now)
        committed = self._clock.now()
        by_id = {item.task.id: item.task for item in due}
        claims = [
            Claim(
                run=run,
                task=by_id[run.task_id],
                lateness_seconds=(committed - run.scheduled_for).total_seconds(),
            )
            for run in recorded
        ]
        return claims, len(due) == limit

    async def _claim_tries(self) -> tuple[list[Claim], bool]:
        """Claim the tries of failed runs due by now (storage/retries.py), exactly once."""
        async with self._sessions() as session, session.begin():
            claimed, more = await retries.claim_due(
                session,
                now=self._clock.now(),
                owner=self.worker_id,
                limit=self._settings.claim_batch,
            )
        committed = self._clock.now()
        return [
            Claim(
                run=item.run,
                task=item.task,
                lateness_seconds=(committed - item.run.scheduled_for).total_seconds(),
            )
            for item in claimed
        ], more

    def _notify(self, claims: Sequence[Claim]) -> None:
        metrics.observe_claims(
            claim.lateness_seconds for claim in claims if claim.run.status is RunStatus.RUNNING
        )
        for claim in claims:
            if claim.run.status is not RunStatus.RUNNING:
                metrics.observe_run(claim.run.status.value, claim.run.trigger.value, None)

    # --- running ----------------------------------------------------------------------------

    async def run_now(
        self, task_id: int, *, trigger: RunTrigger, payload: str | None = None
    ) -> Run:
        """Start a run of the task immediately (Run now, Retry, a trigger URL), unless one is
        going; `payload` is the event that started it, handed to the model as data.

        Who may run it is the caller's question (the use cases check the task's chat)."""
        with self._recording_runs():
            return await self._run_now(task_id, trigger=trigger, payload=payload)

    async def _run_now(self, task_id: int, *, trigger: RunTrigger, payload: str | None) -> Run:
        async with self._sessions() as session, session.begin():
            task = await tasks.get(session, task_id, for_update=True)
            if task is None:
                raise TaskNotFoundError(task_id)
            if await runs.running_task_ids(session, [task_id]):
                raise TaskBusyError(task_id)
            run = await runs.add(
                session,
                task_id=task_id,
                scheduled_for=self._clock.now(),
                trigger=trigger,
                status=RunStatus.RUNNING,
                owner=self.worker_id,
                payload=payload,
            )
        self._start(run, task)
        return run

    def start_runs(self, claimed: Sequence[tuple[Run, Task]]) -> None:
        """Start runs recorded as `running` for this process elsewhere (a chain's followers,
        recorded with the run that started them)."""
        for run, task in claimed:
            self._start(run, task)

    def _start(self, run: Run, task: Task) -> None:
        job = asyncio.create_task(self._execute(run, task), name=f"run-{run.id}")
        self._in_flight[job] = run.id
        job.add_done_callback(self._in_flight.pop)

    async def _execute(self, run: Run, task: Task) -> None:
        started = self._clock.now()
        try:
            owed = await self._executor.execute(run, task)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the executor should not raise; if it does, the run is kept
            log.exception("run.crashed", run_id=run.id, task_id=task.id)
            # /history says a database that was away (a pool wait past its timeout) as such.
            why = DatabaseUnavailable() if unavailable(error) else InternalError()
            owed = await patiently(
                lambda: self._fail(run, why), what="run.finish", backoff=self._backoff
            )
        took = max(0.0, (self._clock.now() - started).total_seconds())
        self._run_seconds += _RUN_SECONDS_WEIGHT * (took - self._run_seconds)
        if owed is not None:
            self.arm(owed.retry_at)  # a failure that tries again
            self._deliver(owed, task)

    async def _fail(self, run: Run, reason: Reason) -> Run | None:
        async with self._sessions() as session, session.begin():
            failed = await runs.finish(
                session,
                run.id,
                status=RunStatus.FAILED,
                finished_at=self._clock.now(),
                reason=reason,
                owner=run.owner,
                delivery_pending=True,
            )
            if failed is not None:
                await tasks.record_outcome(
                    session, run.task_id, failed=True, finished_at=self._clock.now()
                )
        return failed

    def _deliver(self, run: Run, task: Task) -> None:
        job = asyncio.create_task(self._send(run, task), name=f"deliver-{run.id}")
        self._deliveries[job] = run.id
        job.add_done_callback(self._deliveries.pop)

    async def _send(self, run: Run, task: Task) -> None:
        try:
            await self._executor.deliver(run, task)
        except asyncio.CancelledError:
            raise
        except Exception:  # it stays owed; the next start (or another worker) tries again
            log.exception("delivery.crashed", run_id=run.id, task_id=task.id)

    @property
    def _backoff(self) -> Backoff:
        return self._settings.database_backoff


# The least share of the bot's rate a replica sends at: with nothing free it still answers
# a person, one message every few seconds.
MIN_SHARE = 0.01


def sending_share(demand: int, others: Mapping[str, workers.Replica]) -> float:
    """A replica's share of the bot's rate, given what it has to send (`Engine.heartbeat`
    passes the larger of now's and its last beat's) and the other live replicas as of their
    last beats (what each had to send, and the share it sends at).

    Its fair share is in proportion to what each has to send, each counted as at least one (a
    replica with nothing queued can still answer at once; the fair shares add up to the whole).
    It takes that, or what the others leave free if that is less: a replica whose fair share
    grew waits for the others to give theirs up at their next beats. Worked out under the
    shares' lock (storage.workers.lock_shares), from the shares the others send at, so the
    shares in force never add up to more than the whole, however fast demands change between
    beats (computing each share from the others' demands alone did: after a takeover one
    replica's demand jumped and it took its larger share before the others gave theirs up).

    It never starves: once demands hold still, each replica is at or under its fair share
    after one beat of each, and at it after the next (the others leave at least that free).
    The one exception to the sum is `MIN_SHARE`: a replica that has just joined sends at it
    even if the others, not knowing it yet, share the whole, until they next beat.
    """
    weights = [max(1, replica.demand) for replica in others.values()]
    mine = max(1, demand)
    fair = mine / (mine + sum(weights))
    free = 1.0 - sum(max(MIN_SHARE, replica.share) for replica in others.values())
    return max(MIN_SHARE, min(fair, free))


@dataclass(frozen=True, slots=True)
class _Plan:
    missed: list[datetime]
    truncated: bool
    to_run: datetime | None
    coalesced: list[datetime]
    following: datetime | None

    def records(
        self, task: Task, busy: set[int], now: datetime, settings: EngineSettings, owner: str
    ) -> list[runs.NewRun]:
        """The rows this plan writes: missed ones, folded ones, and the one that runs."""

        def missed(instant: datetime, why: Reason) -> runs.NewRun:
            return runs.NewRun(
                task.id,
                instant,
                RunTrigger.CATCH_UP,
                RunStatus.MISSED,
                finished_at=now,
                reason=why,
                owner=owner,
            )

        records = [missed(instant, BotWasDown()) for instant in self.missed]
        if self.truncated and records:
            last = records.pop()
            records.append(missed(last.scheduled_for, BotWasDownLonger()))
        records.extend(missed(instant, FoldedIntoCatchUp()) for instant in self.coalesced)
        if self.to_run is not None:
            late = (now - self.to_run).total_seconds() > settings.catch_up_after_seconds
            trigger = RunTrigger.CATCH_UP if late else RunTrigger.SCHEDULE
            if task.id in busy:
                records.append(
                    runs.NewRun(
                        task.id,
                        self.to_run,
                        trigger,
                        RunStatus.SKIPPED,
                        finished_at=now,
                        reason=PreviousRunGoing(),
                        owner=owner,
                    )
                )
            else:
                records.append(
                    runs.NewRun(task.id, self.to_run, trigger, RunStatus.RUNNING, owner=owner)
                )
        return records


def _plan(task: Task, now: datetime, settings: EngineSettings) -> _Plan:
    """Sort a due task's occurrences up to now into missed / run once / next."""
    schedule = Schedule.of(task)
    due = task.next_run_at
    assert due is not None  # lock_due only returns tasks with a next run
    cutoff = now - timedelta(seconds=settings.misfire_grace_seconds)

    missed: list[datetime] = []
    truncated = False
    occurrence: datetime | None = due
    while occurrence is not None and occurrence < cutoff:
        if len(missed) == settings.max_missed_records:
            truncated = True
            occurrence = schedule.next_after(cutoff - timedelta(microseconds=1))
            break
        missed.append(occurrence)
        occurrence = schedule.next_after(occurrence)

    within_grace: list[datetime] = []
    while occurrence is not None and occurrence <= now:
        within_grace.append(occurrence)
        occurrence = schedule.next_after(occurrence)

    return _Plan(
        missed=missed,
        truncated=truncated,
        to_run=within_grace[-1] if within_grace else None,
        coalesced=within_grace[:-1],
        following=occurrence,
    )

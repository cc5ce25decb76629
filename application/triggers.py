"""What starts a task besides its schedule: a trigger URL (/trigger N: POST {PUBLIC_URL}/hooks/
<secret> runs it with the request's body as its event), another task (/after N M: N runs each
time M delivers a result, with M's answer as its input), and whether an unchanged answer is
posted (/quiet N changed).

A trigger URL's secret is 256 random bits, shown once and kept only as its SHA-256 digest (as
API tokens are, application.tokens): a POST finds its task by the digest of what it sent, and
the digests are compared again with `hmac.compare_digest`, so no answer depends on how much of
a guess was right. How often a trigger URL may start its task (TRIGGER_PER_MINUTE) is counted
from the runs it started, which every replica sees, not by a limiter in one process's memory
(aiolimiter and `limits` count per process unless given a shared store).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.errors import (
    ChainLoopError,
    ChainTooLongError,
    TaskNotStartableError,
    TriggerExistsError,
    TriggerNotFoundError,
    TriggersTooFastError,
)
from application.permissions import Action, Actor
from application.tasks import task_in_chat
from core import metrics
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.engine import Engine, TaskBusyError, TaskNotFoundError
from scheduler.runner.chains import MAX_CHAIN
from storage import tasks, triggers
from storage.records import Run, RunTrigger, Task, TaskState

log = get_logger(__name__)

HOOKS_PATH = "/hooks/"
# Longer than any secret we issue (43 characters); a longer path is refused before hashing.
MAX_SECRET_CHARS = 100
WINDOW = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class TriggerSettings:
    # PUBLIC_URL, the public base of the HTTP server; None when it is not set.
    public_url: str | None
    # TRIGGER_PER_MINUTE: runs a trigger URL may start within a minute.
    per_minute: int = 6


@dataclass(frozen=True, slots=True)
class TriggerUrl:
    """A task's new trigger URL: shown once, then only its digest is kept."""

    task_id: int
    path: str
    # The whole address, when PUBLIC_URL says where the server is.
    url: str | None


class Triggers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        clock: Clock,
        access: Access,
        settings: TriggerSettings,
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._clock = clock
        self._access = access
        self._settings = settings

    # --- trigger URLs --------------------------------------------------------------------

    async def issue(self, actor: Actor, task_id: int, *, rotate: bool = False) -> TriggerUrl:
        """A trigger URL for the task; with `rotate` it replaces the one it has (whose secret
        stops working at once), else a task that has one keeps it (TriggerExistsError)."""
        found = await self._access.task(actor, Action.MANAGE_TRIGGER, task_id)
        secret = secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            if task.has_trigger and not rotate:
                raise TriggerExistsError(task_id)
            await triggers.set_trigger_hash(session, task_id, digest(secret), now=self._clock.now())
        log.info("trigger.issued", task_id=task_id, rotated=task.has_trigger, door=actor.door.value)
        path = HOOKS_PATH + secret
        base = self._settings.public_url
        return TriggerUrl(task_id, path, base.rstrip("/") + path if base else None)

    async def remove(self, actor: Actor, task_id: int) -> bool:
        """Whether the task had a trigger URL (it no longer works)."""
        found = await self._access.task(actor, Action.MANAGE_TRIGGER, task_id)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            await triggers.set_trigger_hash(session, task_id, None, now=self._clock.now())
        log.info("trigger.removed", task_id=task_id, had=task.has_trigger, door=actor.door.value)
        return task.has_trigger

    async def target(self, secret: str) -> Task:
        """The task a POST to /hooks/<secret> starts, checked before its body is read: unknown
        secrets (TriggerNotFoundError), a task that is not active, a trigger too busy."""
        task = await self._find(secret)
        if task is None:
            metrics.observe_trigger("unknown")
            raise TriggerNotFoundError()
        if task.state is not TaskState.ACTIVE:
            metrics.observe_trigger("paused")
            raise TaskNotStartableError(task.id, task.state)
        await self._check_rate(task)
        return task

    async def fire(self, task: Task, payload: str | None) -> Run:
        """Run the task now with `payload` as its event (the body of the POST, which the door
        read within TRIGGER_MAX_BYTES)."""
        try:
            run = await self._engine.run_now(task.id, trigger=RunTrigger.EVENT, payload=payload)
        except TaskNotFoundError:
            metrics.observe_trigger("unknown")
            raise TriggerNotFoundError() from None
        except TaskBusyError:
            metrics.observe_trigger("busy")
            raise
        metrics.observe_trigger("started")
        log.info("trigger.fired", task_id=task.id, run_id=run.id, payload_chars=len(payload or ""))
        return run

    async def _find(self, secret: str) -> Task | None:
        if not secret or len(secret) > MAX_SECRET_CHARS:
            # Hashed all the same, so a refusal takes as long whatever was sent.
            digest("-" * MAX_SECRET_CHARS)
            return None
        asked = digest(secret)
        async with self._sessions() as session:
            found = await triggers.find_by_trigger_hash(session, asked)
        if found is None:
            hmac.compare_digest(asked, asked)  # the same work as a hit
            return None
        task, stored = found
        return task if hmac.compare_digest(asked, stored) else None

    async def _check_rate(self, task: Task) -> None:
        now = self._clock.now()
        async with self._sessions() as session:
            started = await triggers.events_since(session, task.id, now - WINDOW)
        limit = self._settings.per_minute
        if len(started) < limit:
            return
        # The minute frees a place when the oldest of the last `limit` starts leaves it.
        frees_at = started[-limit] + WINDOW
        wait = max(1, math.ceil((frees_at - now).total_seconds()))
        metrics.observe_trigger("rate_limited")
        raise TriggersTooFastError(task.id, limit, wait)

    # --- one task after another ----------------------------------------------------------

    async def run_after(
        self, actor: Actor, task_id: int, upstream_id: int, *, always: bool = False
    ) -> Task:
        """Task `task_id` runs each time `upstream_id` delivers a result (with `always`, after
        its silent and failed runs too). Both must be tasks the actor may manage; a loop or a
        chain of more than MAX_CHAIN tasks is refused."""
        found = await self._access.task(actor, Action.CHAIN_TASK, task_id)
        upstream = await self._access.task(actor, Action.CHAIN_TASK, upstream_id)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            await task_in_chat(session, upstream.chat_id, upstream_id, lock=True)
            changed = await link(session, task, upstream_id, always=always, now=self._clock.now())
        log.info("task.chained", task_id=task_id, after=upstream_id, always=always)
        return changed

    async def stop_after(self, actor: Actor, task_id: int) -> Task:
        """The task no longer runs after another."""
        found = await self._access.task(actor, Action.CHAIN_TASK, task_id)
        async with self._sessions() as session, session.begin():
            await task_in_chat(session, found.chat_id, task_id, lock=True)
            await triggers.set_after(session, task_id, None, always=False, now=self._clock.now())
            changed = await tasks.get(session, task_id)
        assert changed is not None
        log.info("task.unchained", task_id=task_id)
        return changed

    # --- quiet when nothing changed ------------------------------------------------------

    async def quiet(self, actor: Actor, task_id: int, *, changed: bool) -> Task:
        """With `changed`, an answer equal to the last one posted is recorded silent."""
        found = await self._access.task(actor, Action.QUIET_TASK, task_id)
        async with self._sessions() as session, session.begin():
            await task_in_chat(session, found.chat_id, task_id, lock=True)
            await triggers.set_quiet(session, task_id, changed, now=self._clock.now())
            result = await tasks.get(session, task_id)
        assert result is not None
        log.info("task.quiet", task_id=task_id, changed=changed)
        return result


async def link(
    session: AsyncSession, task: Task, upstream_id: int, *, always: bool, now: datetime
) -> Task:
    """Make `task` (locked by the caller) run after `upstream_id`, in the caller's transaction:
    ChainLoopError for a chain that would come back to it, ChainTooLongError for one of more
    than MAX_CHAIN tasks. The callers check that the actor may change both tasks."""
    if task.id == upstream_id:
        raise ChainLoopError(task.id, upstream_id)
    above = await _chain_above(session, task.id, upstream_id)
    below = await _chain_below(session, task.id)
    if above + below > MAX_CHAIN:
        raise ChainTooLongError(task.id, upstream_id, MAX_CHAIN)
    await triggers.set_after(session, task.id, upstream_id, always=always, now=now)
    changed = await tasks.get(session, task.id)
    assert changed is not None
    return changed


async def _chain_above(session: AsyncSession, task_id: int, upstream_id: int) -> int:
    """How many tasks lead to `task_id` once it runs after `upstream_id` (that one and the
    tasks it runs after); ChainLoopError when they come back to `task_id`."""
    count, seen = 0, set[int]()
    current: int | None = upstream_id
    while current is not None:
        if current == task_id or current in seen:
            raise ChainLoopError(task_id, upstream_id)
        seen.add(current)
        count += 1
        if count > MAX_CHAIN:
            break  # long enough to refuse; no need to walk further
        current = await triggers.upstream_of(session, current)
    return count


async def _chain_below(session: AsyncSession, task_id: int) -> int:
    """How many tasks the longest chain from `task_id` down holds, itself included."""
    depth, level = 0, [task_id]
    seen: set[int] = set()
    while level and depth <= MAX_CHAIN:
        depth += 1
        seen.update(level)
        level = [
            follower
            for follower, _ in await triggers.followers_of(session, level)
            if follower not in seen
        ]
    return depth

"""What a task's runs do and which of them happen: reminder or AI task (the card's switch),
Snooze and Done on a one-time reminder, and skipping the next run (/skip N, Skip next), each
checked against the actor (application.permissions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.errors import (
    AlreadySkippedError,
    NoModelError,
    NoSkipToUndoError,
    NotAReminderError,
    NothingToSkipError,
)
from application.permissions import Action, Actor
from application.tasks import task_in_chat
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.engine import Engine, TaskNotFoundError
from scheduler.schedules.schedule import fixed_time_instant, zone_for
from storage import skips, tasks
from storage.records import Task, TaskKind, TaskMode, TaskState

log = get_logger(__name__)


class SnoozeFor(StrEnum):
    """How long Snooze puts a one-time reminder off (the value travels in its button)."""

    QUARTER_HOUR = "15m"
    HOUR = "1h"
    # Tomorrow at the reminder's own time of day.
    TOMORROW = "1d"


@dataclass(frozen=True, slots=True)
class SkipState:
    """A task and the coming run of it that is skipped (None: none is)."""

    task: Task
    skipped_for: datetime | None


class Shapes:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        clock: Clock,
        access: Access,
        *,
        has_model: bool = True,
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._clock = clock
        self._access = access
        self._has_model = has_model

    # --- reminder or AI task ---------------------------------------------------------------

    async def set_mode(self, actor: Actor, task_id: int, mode: TaskMode) -> Task:
        """The task's runs ask the model (`ai`) or post its words (`reminder`) from now on."""
        found = await self._access.task(actor, Action.SET_TASK_MODE, task_id)
        if mode is TaskMode.AI and not self._has_model:
            raise NoModelError
        async with self._sessions() as session, session.begin():
            await task_in_chat(session, found.chat_id, task_id, lock=True)
            changed = await tasks.set_mode(session, task_id, mode, now=self._clock.now())
        if changed is None:
            raise TaskNotFoundError(task_id)
        log.info("task.mode_set", task_id=task_id, mode=mode.value, door=actor.door.value)
        return changed

    async def switch_mode(self, actor: Actor, task_id: int) -> Task:
        """The card's one button: a reminder becomes an AI task, an AI task a reminder."""
        found = await self._access.task(actor, Action.SET_TASK_MODE, task_id)
        wanted = TaskMode.AI if found.mode is TaskMode.REMINDER else TaskMode.REMINDER
        return await self.set_mode(actor, task_id, wanted)

    # --- Snooze and Done -------------------------------------------------------------------

    async def snooze(self, actor: Actor, task_id: int, delay: SnoozeFor) -> Task:
        """A one-time reminder comes again: in 15 minutes, in an hour, or tomorrow at its
        time."""
        found = await self._access.task(actor, Action.SNOOZE_REMINDER, task_id)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            _require_one_time_reminder(task)
            again = snoozed_until(task, delay, now)
            snoozed = await tasks.reschedule_once(session, task_id, run_at=again, now=now)
        assert snoozed is not None
        self._engine.arm(snoozed.next_run_at)
        log.info(
            "reminder.snoozed", task_id=task_id, until=again.isoformat(), door=actor.door.value
        )
        return snoozed

    async def done(self, actor: Actor, task_id: int) -> Task:
        """Done on a one-time reminder: it is over; a snooze still to come is called off."""
        found = await self._access.task(actor, Action.FINISH_REMINDER, task_id)
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            _require_one_time_reminder(task)
            if task.state is not TaskState.FINISHED:
                finished = await tasks.set_state(
                    session, task_id, TaskState.FINISHED, next_run_at=None, now=self._clock.now()
                )
                assert finished is not None
                task = finished
        log.info("reminder.done", task_id=task_id, door=actor.door.value)
        return task

    # --- skipping the next run -------------------------------------------------------------

    async def skip_next(self, actor: Actor, task_id: int) -> SkipState:
        """Skip exactly the task's next run: it is recorded now as `skipped` by the actor, and
        when its time comes the engine finds it taken and moves on to the one after."""
        found = await self._access.task(actor, Action.SKIP_RUN, task_id)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # Locked: the engine claims due runs under the same lock, so the next run cannot be
            # claimed halfway through.
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            if task.state is not TaskState.ACTIVE or task.next_run_at is None:
                raise NothingToSkipError(task_id)
            coming = await skips.coming(session, task_id, after=now)
            if coming is not None and coming.scheduled_for == task.next_run_at:
                raise AlreadySkippedError(task_id)
            skipped = await skips.add(
                session, task_id, task.next_run_at, user_id=actor.user_id, now=now
            )
            if skipped is None:
                raise AlreadySkippedError(task_id)
        log.info(
            "task.run_skipped",
            task_id=task_id,
            scheduled_for=task.next_run_at.isoformat(),
            door=actor.door.value,
        )
        return SkipState(task, task.next_run_at)

    async def undo_skip(self, actor: Actor, task_id: int) -> SkipState:
        """/skip N undo: the skipped run happens after all, if it has not come yet."""
        found = await self._access.task(actor, Action.UNSKIP_RUN, task_id)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            task = await task_in_chat(session, found.chat_id, task_id, lock=True)
            coming = await skips.coming(session, task_id, after=now)
            if coming is None:
                raise NoSkipToUndoError(task_id)
            await skips.remove(session, coming.id)
        log.info("task.skip_undone", task_id=task_id, door=actor.door.value)
        return SkipState(task, None)

    async def skip_state(self, actor: Actor, task_id: int) -> SkipState:
        """The task (as /task N shows it) and its next run, when that one is skipped."""
        task = await self._access.task(actor, Action.SHOW_TASK, task_id)
        return SkipState(task, await self.skipped_next(task))

    async def skipped_next(self, task: Task) -> datetime | None:
        """The task's next run when it is skipped (for a card the caller may already show)."""
        return (await self.skipped_next_of([task])).get(task.id)

    async def skipped_next_of(self, page: Sequence[Task]) -> dict[int, datetime]:
        """`skipped_next` for a page of tasks in one query: the next run of each task whose
        next run is skipped, by task id."""
        coming_ones = [task for task in page if task.next_run_at is not None]
        if not coming_ones:
            return {}
        async with self._sessions() as session:
            coming = await skips.coming_for(
                session, [task.id for task in coming_ones], after=self._clock.now()
            )
        return {
            task.id: task.next_run_at
            for task in coming_ones
            if task.next_run_at is not None and coming.get(task.id) == task.next_run_at
        }


def _require_one_time_reminder(task: Task) -> None:
    if task.mode is not TaskMode.REMINDER or task.kind is not TaskKind.ONCE:
        raise NotAReminderError(task.id)


def snoozed_until(task: Task, delay: SnoozeFor, now: datetime) -> datetime:
    """When a snoozed reminder comes again: tomorrow means the same wall-clock time as the
    reminder's own, on the next day that is still ahead (daylight saving kept)."""
    if delay is SnoozeFor.QUARTER_HOUR:
        return now + timedelta(minutes=15)
    if delay is SnoozeFor.HOUR:
        return now + timedelta(hours=1)
    zone = zone_for(task.timezone)
    wall = (task.run_at or now).astimezone(zone).replace(tzinfo=None, fold=0)
    again = fixed_time_instant(wall + timedelta(days=1), zone)
    while again <= now:
        wall += timedelta(days=1)
        again = fixed_time_instant(wall + timedelta(days=1), zone)
    return again

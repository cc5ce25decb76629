"""The use cases the bot calls: plain async functions over storage, schedules and the engine.

Each one is a single unit of work (one transaction), checks that the task or draft belongs to
the chat asking, and returns frozen records or small views. Nothing here knows about Telegram;
access rules that need Telegram (who is an admin) are the bot's, ownership rules are here.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import CronpilotError, ScheduleError
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.engine import Engine, TaskNotFoundError
from scheduler.parsing.request import RequestParser
from scheduler.schedules.schedule import ParsedRequest, Schedule, canonical_zone, validate
from scheduler.text import clean_text
from storage import chats, drafts, runs, tasks
from storage.records import Chat, Draft, NewTask, Run, RunTrigger, Task, TaskKind, TaskState

log = get_logger(__name__)

DRAFT_LIFETIME = timedelta(hours=24)
PAGE_SIZE = 10
NAME_CHARS = 60
PREVIEW_RUNS = 3


class DraftNotFoundError(CronpilotError):
    """The draft expired, was already confirmed or cancelled, or belongs to another chat."""


class QuotaExceededError(CronpilotError):
    """The chat has as many tasks as it may have."""


class TaskStateError(CronpilotError):
    """The task cannot do that in its current state (resume a finished one-shot, say)."""


@dataclass(frozen=True, slots=True)
class Card:
    """Everything a confirmation card shows, read back from a stored draft."""

    draft_id: str
    task_id: int | None
    # The card's own message, once it was sent.
    message_id: int | None
    prompt: str
    name: str
    schedule: Schedule
    description: str
    next_runs: tuple[datetime, ...]
    source: str


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: tuple[Task, ...]
    descriptions: tuple[str, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class UseCaseSettings:
    default_timezone: str
    max_tasks_per_chat: int
    min_interval_seconds: int


def task_name(prompt: str) -> str:
    """A short name from the prompt: its first line, cut at a word under NAME_CHARS."""
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else "Task"
    if len(first_line) <= NAME_CHARS:
        return first_line
    cut = first_line[: NAME_CHARS - 1].rsplit(" ", 1)[0]
    return (cut or first_line[: NAME_CHARS - 1]) + "…"


def _payload(request: ParsedRequest, text: str) -> dict[str, Any]:
    schedule = request.schedule
    return {
        "text": text,
        "prompt": request.prompt,
        "source": request.source,
        "kind": schedule.kind.value,
        "timezone": schedule.timezone,
        "cron": schedule.cron,
        "run_at": schedule.run_at.isoformat() if schedule.run_at else None,
        "every_seconds": schedule.every_seconds,
    }


def _schedule_from_payload(payload: dict[str, Any]) -> Schedule:
    run_at = payload.get("run_at")
    return Schedule(
        kind=TaskKind(payload["kind"]),
        timezone=str(payload["timezone"]),
        cron=payload.get("cron"),
        run_at=datetime.fromisoformat(run_at) if run_at else None,
        every_seconds=payload.get("every_seconds"),
    )


class UseCases:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        parser: RequestParser,
        clock: Clock,
        settings: UseCaseSettings,
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._parser = parser
        self._clock = clock
        self._settings = settings

    # --- chats ------------------------------------------------------------------------------

    async def see_chat(
        self, chat_id: int, *, type: str, title: str | None, user_language: str | None = None
    ) -> Chat:
        """Record that the chat exists and talks to us (again); in a private chat, with the
        language of the person's Telegram app."""
        async with self._sessions() as session, session.begin():
            return await chats.upsert(
                session,
                chat_id,
                type=type,
                title=title,
                now=self._clock.now(),
                user_language=user_language,
            )

    def zone_of(self, chat: Chat) -> str:
        return chat.timezone or self._settings.default_timezone

    async def set_timezone(self, chat_id: int, zone: str) -> str:
        """Set the chat's zone (for tasks created from now on); return its IANA spelling."""
        name = canonical_zone(zone)
        async with self._sessions() as session, session.begin():
            await chats.set_timezone(session, chat_id, name)
        return name

    async def chat_unreachable(self, chat_id: int) -> list[int]:
        """The chat blocked or removed the bot: mark it inactive, pause its tasks."""
        async with self._sessions() as session, session.begin():
            await chats.set_active(session, chat_id, False)
            paused = await tasks.pause_all_in_chat(session, chat_id, now=self._clock.now())
        log.warning("chat.unreachable", chat_id=chat_id, paused=paused)
        return paused

    # --- drafts -----------------------------------------------------------------------------

    async def draft(
        self, chat: Chat, user_id: int, text: str, *, task_id: int | None = None
    ) -> Card:
        """Understand `text` and keep it as a draft awaiting Confirm.

        Raises NotUnderstoodError / ScheduleError (the user is told why), QuotaExceededError,
        or TaskNotFoundError when editing a task of another chat.
        """
        now = self._clock.now()
        text = clean_text(text)
        if task_id is not None:
            await self.get_task(chat.id, task_id)
        else:
            await self._check_quota(chat.id)
        request = await self._parser.parse(text, now=now, timezone=self.zone_of(chat))
        async with self._sessions() as session, session.begin():
            draft = await drafts.add(
                session,
                draft_id=secrets.token_urlsafe(6),
                chat_id=chat.id,
                user_id=user_id,
                payload=_payload(request, text),
                now=now,
                expires_at=now + DRAFT_LIFETIME,
                task_id=task_id,
            )
        return self._card(draft, now)

    async def attach_card(self, draft_id: str, message_id: int) -> None:
        async with self._sessions() as session, session.begin():
            await drafts.set_message_id(session, draft_id, message_id)

    async def get_draft(self, chat_id: int, draft_id: str) -> Card:
        async with self._sessions() as session:
            draft = await self._live_draft(session, chat_id, draft_id)
        return self._card(draft, self._clock.now())

    async def confirm(self, chat_id: int, draft_id: str, user_id: int) -> Task:
        """Turn the draft into a task (or apply it to the task it edits)."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # Locked: two quick presses of Confirm make one task, not two.
            draft = await self._live_draft(session, chat_id, draft_id, lock=True)
            schedule = validate(
                _schedule_from_payload(draft.payload),
                now=now,
                min_interval_seconds=self._settings.min_interval_seconds,
            )
            prompt = str(draft.payload["prompt"])
            next_run = _first_run(schedule, now)
            if draft.task_id is None:
                # The count and the insert under the chat's lock: concurrent Confirms of
                # different drafts cannot all see room under the quota.
                await chats.lock(session, chat_id)
                if await self._count_open(session, chat_id) >= self._settings.max_tasks_per_chat:
                    raise self._quota_error()
                task = await tasks.add(
                    session,
                    NewTask(
                        chat_id=chat_id,
                        created_by=user_id,
                        name=task_name(prompt),
                        prompt=prompt,
                        kind=schedule.kind,
                        timezone=schedule.timezone,
                        next_run_at=next_run,
                        cron=schedule.cron,
                        run_at=schedule.run_at,
                        every_seconds=schedule.every_seconds,
                    ),
                    now=now,
                )
            else:
                edited = await tasks.update_definition(
                    session,
                    draft.task_id,
                    name=task_name(prompt),
                    prompt=prompt,
                    kind=schedule.kind,
                    cron=schedule.cron,
                    run_at=schedule.run_at,
                    every_seconds=schedule.every_seconds,
                    timezone=schedule.timezone,
                    next_run_at=next_run,
                    now=now,
                )
                if edited is None:
                    raise TaskNotFoundError(f"task #{draft.task_id} no longer exists")
                task = edited
            if not await drafts.delete(session, draft.id):
                raise self._draft_gone()
        self._engine.arm(task.next_run_at)
        log.info(
            "task.created" if draft.task_id is None else "task.edited",
            task_id=task.id,
            chat_id=chat_id,
            kind=task.kind.value,
            next_run_at=task.next_run_at.isoformat() if task.next_run_at else None,
        )
        return task

    async def cancel(self, chat_id: int, draft_id: str) -> Card:
        async with self._sessions() as session, session.begin():
            draft = await self._live_draft(session, chat_id, draft_id)
            await drafts.delete(session, draft.id)
        return self._card(draft, self._clock.now())

    async def cancel_open_drafts(self, chat_id: int, user_id: int) -> list[Card]:
        """/cancel: drop every request this user still has open in this chat."""
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            found = await drafts.list_open(session, chat_id=chat_id, user_id=user_id, now=now)
            for draft in found:
                await drafts.delete(session, draft.id)
        return [self._card(draft, now) for draft in found]

    async def purge_expired_drafts(self) -> int:
        async with self._sessions() as session, session.begin():
            return await drafts.delete_expired(session, now=self._clock.now())

    # --- tasks ------------------------------------------------------------------------------

    async def list_tasks(self, chat_id: int, *, page: int = 0) -> TaskPage:
        async with self._sessions() as session:
            total = await tasks.count_for_chat(session, chat_id)
            pages = max(1, math.ceil(total / PAGE_SIZE))
            page = min(max(page, 0), pages - 1)
            found = await tasks.list_for_chat(
                session, chat_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
            )
        return TaskPage(
            tasks=tuple(found),
            descriptions=tuple(Schedule.of(task).describe() for task in found),
            page=page,
            pages=pages,
            total=total,
        )

    async def get_task(self, chat_id: int, task_id: int) -> Task:
        async with self._sessions() as session:
            return await self._task_in_chat(session, chat_id, task_id)

    async def pause(self, chat_id: int, task_id: int) -> Task:
        async with self._sessions() as session, session.begin():
            task = await self._task_in_chat(session, chat_id, task_id, lock=True)
            if task.state is not TaskState.ACTIVE:
                raise TaskStateError(f"task #{task_id} is {task.state.value}, not active")
            paused = await tasks.set_state(
                session, task_id, TaskState.PAUSED, next_run_at=None, now=self._clock.now()
            )
        assert paused is not None
        log.info("task.paused", task_id=task_id, chat_id=chat_id)
        return paused

    async def resume(self, chat_id: int, task_id: int) -> Task:
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            task = await self._task_in_chat(session, chat_id, task_id, lock=True)
            if task.state is TaskState.ACTIVE:
                raise TaskStateError(f"task #{task_id} is already active")
            next_run = Schedule.of(task).next_after(now)
            if next_run is None:
                raise TaskStateError(
                    f"task #{task_id} was a one-time task and its time has passed; "
                    f"use /edit {task_id} with a new time"
                )
            resumed = await tasks.set_state(
                session,
                task_id,
                TaskState.ACTIVE,
                next_run_at=next_run,
                now=now,
                reset_failures=True,
            )
            await chats.set_active(session, chat_id, True)
        assert resumed is not None
        self._engine.arm(resumed.next_run_at)
        log.info("task.resumed", task_id=task_id, chat_id=chat_id)
        return resumed

    async def delete(self, chat_id: int, task_id: int) -> Task:
        async with self._sessions() as session, session.begin():
            task = await self._task_in_chat(session, chat_id, task_id, lock=True)
            await tasks.delete(session, task_id)
        log.info("task.deleted", task_id=task_id, chat_id=chat_id)
        return task

    async def run_now(
        self, chat_id: int, task_id: int, *, trigger: RunTrigger = RunTrigger.MANUAL
    ) -> Run:
        return await self._engine.run_now(task_id, chat_id=chat_id, trigger=trigger)

    async def history(self, chat_id: int, task_id: int, *, limit: int = 10) -> list[Run]:
        async with self._sessions() as session:
            await self._task_in_chat(session, chat_id, task_id)
            return await runs.list_for_task(session, task_id, limit=limit)

    async def run_for_message(self, chat_id: int, message_id: int) -> Run | None:
        """The run whose result is the given message in this chat, if any."""
        async with self._sessions() as session:
            return await runs.find_delivered(session, chat_id, message_id)

    # --- helpers ----------------------------------------------------------------------------

    def _card(self, draft: Draft, now: datetime) -> Card:
        schedule = _schedule_from_payload(draft.payload)
        prompt = str(draft.payload["prompt"])
        return Card(
            draft_id=draft.id,
            task_id=draft.task_id,
            message_id=draft.message_id,
            prompt=prompt,
            name=task_name(prompt),
            schedule=schedule,
            description=schedule.describe(),
            next_runs=tuple(schedule.next_runs(now, PREVIEW_RUNS)),
            source=str(draft.payload.get("source", "rules")),
        )

    async def _live_draft(
        self, session: AsyncSession, chat_id: int, draft_id: str, *, lock: bool = False
    ) -> Draft:
        draft = await drafts.get(session, draft_id, for_update=lock)
        if draft is None or draft.chat_id != chat_id:
            raise self._draft_gone()
        if draft.expires_at <= self._clock.now():
            raise DraftNotFoundError(
                "this request expired (requests stay open for 24 hours); send it again"
            )
        return draft

    async def _task_in_chat(
        self, session: AsyncSession, chat_id: int, task_id: int, *, lock: bool = False
    ) -> Task:
        task = await tasks.get(session, task_id, for_update=lock)
        if task is None or task.chat_id != chat_id:
            raise TaskNotFoundError(f"there is no task #{task_id} in this chat")
        return task

    async def _count_open(self, session: AsyncSession, chat_id: int) -> int:
        return await tasks.count_for_chat(
            session, chat_id, states=[TaskState.ACTIVE, TaskState.PAUSED]
        )

    async def _check_quota(self, chat_id: int) -> None:
        async with self._sessions() as session:
            if await self._count_open(session, chat_id) >= self._settings.max_tasks_per_chat:
                raise self._quota_error()

    @staticmethod
    def _draft_gone() -> DraftNotFoundError:
        return DraftNotFoundError(
            "this request is no longer open (already confirmed or cancelled); "
            "send it again if you still want it"
        )

    def _quota_error(self) -> QuotaExceededError:
        limit = self._settings.max_tasks_per_chat
        return QuotaExceededError(
            f"this chat already has {limit} tasks, the most it may have; "
            "delete one with /delete N first"
        )


def _first_run(schedule: Schedule, now: datetime) -> datetime:
    first = schedule.next_after(now)
    if first is None:
        raise ScheduleError("that time has passed; send the request again with a new time")
    return first

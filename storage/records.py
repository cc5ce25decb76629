"""What the storage layer hands out: enums and frozen records, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.reasons import Reason


class TaskKind(StrEnum):
    CRON = "cron"
    ONCE = "once"
    INTERVAL = "interval"


class TaskMode(StrEnum):
    """What happens at a task's run: the model does the work, or the words are posted as a
    reminder, without any model."""

    AI = "ai"
    REMINDER = "reminder"


class TaskState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    FINISHED = "finished"


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    CATCH_UP = "catch_up"
    RETRY = "retry"
    # A POST to the task's trigger URL (its payload is kept on the run).
    EVENT = "event"
    # Another task's run delivered a result (the run that did is `parent_run_id`).
    AFTER = "after"


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SILENT = "silent"
    SKIPPED = "skipped"
    MISSED = "missed"
    INTERRUPTED = "interrupted"


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    type: str
    title: str | None
    timezone: str | None
    active: bool
    created_at: datetime
    language: str | None = None
    user_language: str | None = None


class TargetKind(StrEnum):
    # The chat (and topic) the task belongs to.
    CHAT = "chat"
    # Another Telegram chat or channel (and maybe one of its topics).
    TELEGRAM = "telegram"
    # An operator's destination outside Telegram, by name (DESTINATIONS_CONFIG).
    DESTINATION = "destination"


@dataclass(frozen=True, slots=True)
class Target:
    """One place a task's results go. `label` is how people name it (`@news`, a channel's
    title, a destination's name); `key` is how its deliveries are recorded."""

    kind: TargetKind
    chat_id: int | None = None
    thread_id: int | None = None
    name: str | None = None
    # Who chose a Telegram target (checked again when it refuses a result); not part of what
    # the target is, so two lists naming the same places are equal whoever chose them.
    set_by: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        if self.kind is TargetKind.CHAT:
            return "chat"
        if self.kind is TargetKind.DESTINATION:
            return f"destination:{self.name}"
        thread = f":{self.thread_id}" if self.thread_id is not None else ""
        return f"telegram:{self.chat_id}{thread}"

    @property
    def label(self) -> str:
        if self.kind is TargetKind.TELEGRAM:
            return self.name or str(self.chat_id)
        return self.name or self.kind.value


# Where results go when nobody chose: the task's own chat (and topic).
HERE = Target(TargetKind.CHAT)


class DeliveryState(StrEnum):
    """Where one target's copy of a result stands."""

    PENDING = "pending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TargetDelivery:
    """One target's copy of a run's result: sent with its message id, failed with why, or
    still owed (pending, retrying after a failure)."""

    run_id: int
    target: str
    kind: TargetKind
    label: str
    state: DeliveryState
    message_id: str | None
    error: str | None
    attempts: int
    updated_at: datetime
    # Why it failed or is retrying (its English is `error`); None when sent or still pending.
    reason: Reason | None = None


@dataclass(frozen=True, slots=True)
class Task:
    id: int
    chat_id: int
    created_by: int
    name: str
    prompt: str
    kind: TaskKind
    cron: str | None
    run_at: datetime | None
    every_seconds: int | None
    timezone: str
    state: TaskState
    next_run_at: datetime | None
    last_run_at: datetime | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    # The name of the model it runs on (MODELS); None: the default, LLM_MODEL.
    model: str | None = None
    # The keys of the toolsets it may use; None: every configured one.
    tools: tuple[str, ...] | None = None
    # What it may spend in a calendar month (USD); None: no cap of its own.
    monthly_cap_usd: float | None = None
    mode: TaskMode = TaskMode.AI
    # The forum topic (message_thread_id) the task was made in; None for the main thread.
    thread_id: int | None = None
    # Where its results go; empty means its own chat and topic, as before targets existed.
    targets: tuple[Target, ...] = ()

    @property
    def destinations(self) -> tuple[Target, ...]:
        """Where its results go, its own chat when nobody chose."""
        return self.targets or (HERE,)

    @property
    def posts_here(self) -> bool:
        """Whether results go to the task's own chat (notices and cards always do)."""
        return any(target.kind is TargetKind.CHAT for target in self.destinations)

    @property
    def elsewhere(self) -> tuple[Target, ...]:
        """The targets other than its own chat."""
        return tuple(t for t in self.destinations if t.kind is not TargetKind.CHAT)

    # Whether the task has a trigger URL (only the secret's digest is stored).
    has_trigger: bool = False
    # The task whose results start this one (/after N M), and whether its silent and failed
    # runs do too.
    after_task_id: int | None = None
    after_always: bool = False
    # /quiet N changed: an answer equal to the last one posted is recorded silent.
    quiet_changed: bool = False


@dataclass(frozen=True, slots=True)
class NewTask:
    """The fields a caller supplies to create a task; the rest are the database's."""

    chat_id: int
    created_by: int
    name: str
    prompt: str
    kind: TaskKind
    timezone: str
    next_run_at: datetime | None
    cron: str | None = None
    run_at: datetime | None = None
    every_seconds: int | None = None
    model: str | None = None
    tools: tuple[str, ...] | None = None
    monthly_cap_usd: float | None = None
    mode: TaskMode = TaskMode.AI
    thread_id: int | None = None
    targets: tuple[Target, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    task_id: int
    scheduled_for: datetime
    trigger: RunTrigger
    status: RunStatus
    started_at: datetime | None
    finished_at: datetime | None
    output: str | None
    # Why it ended as it did, when it did not simply succeed.
    reason: Reason | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    delivered_message_id: int | None
    delivery_error: str | None
    # The process that claimed the run (workers.id); None for rows from before owners existed.
    owner: str | None = None
    # A message for the chat is owed and not sent yet.
    delivery_pending: bool = False
    # The tools the model called and how often, in the order of first use.
    tool_calls: tuple[tuple[str, int], ...] = ()
    # The model the run asked: the one that answered, after any fallback, else the task's;
    # None when it never got that far (or before this was recorded).
    model: str | None = None
    # How many times it was started again after its process died while it was going.
    restarts: int = 0
    # Which try of its occurrence it is (1: the first), the run it tries again, and when its
    # own next try is due (a failure that heals, tries left).
    attempt: int = 1
    retry_of: int | None = None
    retry_at: datetime | None = None
    # What started a run from outside: the trigger URL's body, or the API's payload (capped).
    payload: str | None = None
    # For a run started after another task's (trigger `after`): that task's run.
    parent_run_id: int | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Spending:
    """One LLM expense of a chat (a run, a schedule parse, a follow-up answer)."""

    chat_id: int
    task_id: int | None
    kind: str
    at: datetime
    prompt_tokens: int
    completion_tokens: int
    cost: float | None


@dataclass(frozen=True, slots=True)
class Draft:
    id: str
    chat_id: int
    user_id: int
    message_id: int | None
    task_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    expires_at: datetime
    # The message asking for the corrected request, once Edit was pressed.
    edit_prompt_id: int | None = None


@dataclass(frozen=True, slots=True)
class Followup:
    """A question about a task's result and its answer."""

    id: int
    task_id: int
    run_id: int | None
    parent_id: int | None
    chat_id: int
    user_id: int
    question: str
    status: RunStatus
    answer: str | None
    reason: Reason | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None
    message_id: int | None
    created_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class Change:
    """A proposed change to a task, awaiting Confirm or Cancel."""

    id: str
    chat_id: int
    task_id: int
    user_id: int
    message_id: int | None
    payload: dict[str, Any]
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Attachment:
    """A document kept with a task (or with its draft until Confirm): its name, media type and
    extracted text (`size` bytes of UTF-8)."""

    id: int
    chat_id: int
    task_id: int | None
    draft_id: str | None
    name: str
    media_type: str
    text: str
    size: int
    created_at: datetime

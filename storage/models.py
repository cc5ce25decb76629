"""The tables cronpilot owns: chats, tasks, runs, deliveries (a result's copies elsewhere),
drafts, api_tokens, follow-ups, change proposals, workers (the live bot processes), the pace of
each chat that the replicas share, the LLM spending ledger, and the operator's incidents."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.records import (
    DeliveryState,
    RunStatus,
    RunTrigger,
    TargetKind,
    TaskKind,
    TaskMode,
    TaskState,
)
from storage.types import UTCDateTime

# The longest model name a run records (longer ones are cut).
MODEL_CHARS = 100

# Stable constraint names, so migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONDocument = JSON().with_variant(JSONB(), "postgresql")
# The same, where None means SQL NULL (no document) rather than the JSON document `null`.
OptionalDocument = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _enum(enum_class: type[StrEnum], name: str) -> Enum:
    """A string column holding one of the enum's values, checked by the database."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ChatRow(Base):
    __tablename__ = "chats"

    # Telegram chat ids go past 32 bits (supergroups are -100…).
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(255))
    # None means "not chosen": the chat follows DEFAULT_TIMEZONE.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # False once the bot was blocked or removed; the chat's tasks are paused then.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The language chosen with /language; None means "not chosen".
    language: Mapped[str | None] = mapped_column(String(8))
    # In a private chat, the language of the person's Telegram app as last seen, so that
    # scheduled messages speak it too.
    user_language: Mapped[str | None] = mapped_column(String(8))


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'cron' AND cron IS NOT NULL)"
            " OR (kind = 'once' AND run_at IS NOT NULL)"
            " OR (kind = 'interval' AND every_seconds IS NOT NULL AND run_at IS NOT NULL)",
            name="schedule_fields",
        ),
        CheckConstraint("every_seconds IS NULL OR every_seconds > 0", name="positive_interval"),
        # A task is scheduled exactly when it is active: paused and finished tasks have no next run.
        CheckConstraint(
            "state = 'active' OR next_run_at IS NULL", name="next_run_only_when_active"
        ),
        # A POST to /hooks/<secret> finds its task by the secret's digest.
        Index("uq_tasks_trigger_hash", "trigger_hash", unique=True),
        # Every finished run looks for the tasks that run after its task: the few that do.
        Index(
            "ix_tasks_after_task_id",
            "after_task_id",
            postgresql_where=text("after_task_id IS NOT NULL"),
            sqlite_where=text("after_task_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    prompt: Mapped[str] = mapped_column(Text)
    kind: Mapped[TaskKind] = mapped_column(_enum(TaskKind, "task_kind"))
    cron: Mapped[str | None] = mapped_column(String(255))
    # For `once` the instant to run; for `interval` the instant the period counts from.
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    every_seconds: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    state: Mapped[TaskState] = mapped_column(_enum(TaskState, "task_state"))
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The name (in MODELS) of the model the task runs on; None: LLM_MODEL.
    model: Mapped[str | None] = mapped_column(String(64))
    # The keys of the toolsets the task may use; None: every configured one.
    tools: Mapped[list[str] | None] = mapped_column(OptionalDocument)
    # What the task may spend in a calendar month, USD; None: no cap of its own.
    monthly_cap_usd: Mapped[float | None] = mapped_column(Float)
    # What a run does: ask the model ("ai"), or post the words as a reminder ("reminder").
    mode: Mapped[TaskMode] = mapped_column(
        _enum(TaskMode, "task_mode"), default=TaskMode.AI, server_default=TaskMode.AI.value
    )
    # The forum topic it was made in (message_thread_id): its card, results and notices go there.
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    # Where its results go, as [{"kind": …, "chat_id": …, "thread_id": …, "name": …}, …];
    # NULL means its own chat and topic.
    targets: Mapped[list[Any] | None] = mapped_column(OptionalDocument)
    # SHA-256 (hex) of the trigger URL's secret; the secret itself is shown once, never kept.
    trigger_hash: Mapped[str | None] = mapped_column(String(64))
    # /after N M: this task runs each time task M delivers a result (M deleted: no longer).
    after_task_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="SET NULL")
    )
    # ...and after M's silent and failed runs too (/after N M always).
    after_always: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # /quiet N changed: an answer equal to the last one posted is recorded silent, not posted.
    quiet_changed: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


# Rows of the schedule's own triggers: the ones whose (task, instant) must be unique.
SCHEDULED_OCCURRENCE = "trigger IN ('schedule', 'catch_up')"
# Runs started after another task's run: one per (task, that run).
AFTER_RUN = "trigger = 'after'"


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        # The exactly-once guard: one row per occurrence of a task's own schedule.
        Index(
            "uq_runs_scheduled_occurrence",
            "task_id",
            "scheduled_for",
            unique=True,
            postgresql_where=text(SCHEDULED_OCCURRENCE),
            sqlite_where=text(SCHEDULED_OCCURRENCE),
        ),
        # Crash recovery and overlap checks look for the few rows still running.
        Index(
            "ix_runs_running",
            "task_id",
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
        # Start-up and the periodic sweep look for the few results still owed to a chat.
        Index(
            "ix_runs_undelivered",
            "owner",
            postgresql_where=text("delivery_pending"),
            sqlite_where=text("delivery_pending"),
        ),
        # The engine looks for the few failed runs whose next try is due.
        Index(
            "ix_runs_retry_due",
            "retry_at",
            postgresql_where=text("retry_at IS NOT NULL"),
            sqlite_where=text("retry_at IS NOT NULL"),
        ),
        # The exactly-once guard of chains: a run of M starts each follower once.
        Index(
            "uq_runs_after_parent",
            "task_id",
            "parent_run_id",
            unique=True,
            postgresql_where=text(AFTER_RUN),
            sqlite_where=text(AFTER_RUN),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    trigger: Mapped[RunTrigger] = mapped_column(_enum(RunTrigger, "run_trigger"))
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "run_status"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    output: Mapped[str | None] = mapped_column(Text)
    # Why it ended as it did (failed, skipped, missed, interrupted): a code of core.reasons and
    # its facts, never a sentence; the doors word it.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_facts: Mapped[dict[str, Any] | None] = mapped_column(OptionalDocument)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)
    delivered_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Telegram refusing the result is not the LLM failing; it is kept apart.
    delivery_error: Mapped[str | None] = mapped_column(Text)
    # The process (workers.id) that claimed the run and owns its record and delivery. Another
    # process only takes a run over once that owner's heartbeat has lapsed.
    owner: Mapped[str | None] = mapped_column(String(32))
    # The run has a message for the chat that has not been sent yet: set when it finishes,
    # cleared when the message is delivered or can never be (the chat is gone).
    delivery_pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    # The tools the model called, in the order of first use: [["web_search", 2], …].
    tool_calls: Mapped[list[Any] | None] = mapped_column(JSONDocument)
    # The model the run asked (None when it never got that far): the one that answered, after
    # any fallback (a name of MODELS, or LLM_MODEL's own), else the task's. The operator's
    # alerts count model errors per model.
    model: Mapped[str | None] = mapped_column(String(MODEL_CHARS))
    # How many times the run was started again after its process died while it was going.
    restarts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Which try of its occurrence this run is (1 first), the try it repeats, and when the
    # next try is due if this one failed for a reason that heals (cleared once claimed).
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # A plain id: runs go only with their task, the tries of one occurrence together.
    retry_of: Mapped[int | None] = mapped_column(BigInteger)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The event that started the run (a trigger URL's body, an API payload), capped.
    payload: Mapped[str | None] = mapped_column(Text)
    # The run of another task whose result started this one (trigger `after`).
    parent_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("runs.id", ondelete="SET NULL")
    )


class DeliveryRow(Base):
    """One target's copy of a run's result, beside the run's own chat (runs.delivered_message_id):
    owed (pending, retrying) until it is sent or fails for good. The run keeps
    `delivery_pending` while any copy is owed, so its owner's lease covers every target."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(
            "ix_deliveries_owed",
            "run_id",
            postgresql_where=text("state IN ('pending', 'retrying')"),
            sqlite_where=text("state IN ('pending', 'retrying')"),
        ),
    )

    run_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
    )
    # Target.key: "telegram:-100…[:thread]", "destination:<name>".
    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[TargetKind] = mapped_column(_enum(TargetKind, "target_kind"))
    label: Mapped[str] = mapped_column(String(200))
    state: Mapped[DeliveryState] = mapped_column(_enum(DeliveryState, "delivery_state"))
    # The message's id where it arrived (Telegram's, or none for a destination).
    message_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    # Why it failed or is retrying, as a code and its facts (core/reasons.py); `error` is its
    # English, kept for copies recorded before codes.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_facts: Mapped[dict[str, Any] | None] = mapped_column(OptionalDocument)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TargetNoticeRow(Base):
    """A target's refusal the task's own chat was told about: told once, and again only after
    a copy to the target got through meanwhile (which deletes the row)."""

    __tablename__ = "target_notices"

    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(200), primary_key=True)
    reason_code: Mapped[str] = mapped_column(String(32))
    told_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DraftRow(Base):
    __tablename__ = "drafts"

    # Short and URL-safe: it travels in callback data, which Telegram caps at 64 bytes.
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger)
    # The confirmation card, once it has been sent.
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The "send the corrected request" prompt after Edit: a reply to it replaces this draft.
    edit_prompt_id: Mapped[int | None] = mapped_column(BigInteger)
    # Set when the draft re-schedules an existing task (/edit) instead of creating one.
    task_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE")
    )
    # The parsed request: prompt, name, schedule fields, zone, where it came from.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class FollowupRow(Base):
    """One question about a task's result and the model's answer: a thread of follow-ups hangs
    off the run it started from, each reply pointing at the follow-up it answered."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    # The run whose result (or failure notice) the thread started from; None when the thread
    # started from a task card.
    run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("followups.id", ondelete="CASCADE")
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[RunStatus] = mapped_column(_enum(RunStatus, "followup_status"))
    answer: Mapped[str | None] = mapped_column(Text)
    # Why it failed or was interrupted, as on runs.
    reason_code: Mapped[str | None] = mapped_column(String(32))
    reason_facts: Mapped[dict[str, Any] | None] = mapped_column(OptionalDocument)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[float | None] = mapped_column(Float)
    # The answer's message in the chat, so a reply to it continues the thread.
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker (process) answering it, like runs.owner: one left `running` by a worker that
    # is gone is marked interrupted.
    owner: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_followups_chat_message", "chat_id", "message_id"),)


class MessagePartRow(Base):
    """A later message of a result or a follow-up answer that was too long for one Telegram
    message (the first is runs.delivered_message_id or followups.message_id): a reply to any
    part is a reply to the whole."""

    __tablename__ = "message_parts"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("runs.id", ondelete="CASCADE"), index=True
    )
    followup_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("followups.id", ondelete="CASCADE"), index=True
    )


class ChangeRow(Base):
    """A change to a task asked for in words, waiting for Confirm or Cancel (like a draft)."""

    __tablename__ = "changes"

    # Short and URL-safe: it travels in callback data.
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    # The task's definition when proposed and what is to change (see application/changes.py).
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiTokenRow(Base):
    """A user's API token for /api/v1 (one per user; /token replaces it). Only its SHA-256 is
    kept: the token itself is shown once, in the chat that asked for it."""

    __tablename__ = "api_tokens"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkerRow(Base):
    """A running bot process. It claims runs under its id and beats its heartbeat while alive;
    a row whose heartbeat lapsed (or that is gone) means its runs have no owner any more."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What it has to send (runs going, results owed) as of its last beat: the replicas share
    # the bot's Telegram rate in proportion to it.
    demand: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # The share of that rate (0 to 1) it sends at until its next beat; the live replicas'
    # shares add up to at most the whole (scheduler.engine.sending_share).
    share: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))


class ChatPaceRow(Base):
    """When the bot's next message to a chat may go, shared by all replicas (storage/chat_pace.py):
    the chat's theoretical arrival time, in seconds since the epoch, and the spacing its kind of
    chat keeps (a private chat's or a group's)."""

    __tablename__ = "chat_pace"

    # The chat id as Telegram takes it (a number, or a channel's @name), as text.
    chat: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float, index=True)
    spacing: Mapped[float] = mapped_column(Float)


class IncidentRow(Base):
    """Something wrong the operator is told about (OPERATOR_CHAT_ID): opened when a check first
    finds it, resolved when the check passes again. At most one open incident per `key`, so
    replicas that find the same problem share one incident and one alert."""

    __tablename__ = "incidents"
    __table_args__ = (
        Index(
            "uq_incidents_open_key",
            "key",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # What is wrong and with what: "model:openai/gpt-4o-mini", "replica:<worker id>", …
    key: Mapped[str] = mapped_column(String(160), index=True)
    # The check that found it (application/watch.py), and what it found, as facts.
    kind: Mapped[str] = mapped_column(String(32))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the operator was last told it started, and that it resolved (at most once an hour).
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The alert's message in the operator's chat; the resolution replies to it.
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class SpendingRow(Base):
    """One LLM expense of a chat: a run, a schedule parse, a follow-up answer.

    Apart from `runs` so that deleting a task does not give its chat the money back: the
    monthly budget counts everything spent, and a deleted task's rows keep `task_id` NULL.
    """

    __tablename__ = "spending"
    __table_args__ = (Index("ix_spending_chat_at", "chat_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="SET NULL")
    )
    # "run", "parse", "follow_up".
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    # USD; None when LiteLLM does not know the model's prices.
    cost: Mapped[float | None] = mapped_column(Float)


class AttachmentRow(Base):
    """A document a person sent with a request: its text, given to the task's model at every
    run. Kept with the draft until Confirm (`draft_id`), then with the task (`task_id`)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    draft_id: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("drafts.id", ondelete="CASCADE"), index=True
    )
    # The file's name as sent, and its media type.
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    # The extracted text and its size in bytes (UTF-8), at most ATTACHMENT_MAX_BYTES.
    text: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


TABLE_NAMES = frozenset(Base.metadata.tables)

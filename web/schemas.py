"""The HTTP API's JSON shapes: what each route takes and answers (names and fields are the
OpenAPI document's), and how a use case's frozen record becomes one."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from application.records import Estimate
from application.usage import UsageReport
from core.reasons import Reason
from scheduler.schedules.schedule import Schedule
from storage.records import (
    Attachment,
    DeliveryState,
    Followup,
    Run,
    Target,
    TargetDelivery,
    TargetKind,
    Task,
    TaskKind,
    TaskMode,
    TaskState,
)

PREVIEW_RUNS = 3
MAX_TEXT_CHARS = 4_000
# Ids are 64-bit in the database; anything outside is refused as invalid, not looked up.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ChatId = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatOut(BaseModel):
    id: int
    type: str
    title: str | None
    timezone: str
    can_manage: bool
    language: str | None = Field(
        None, description="the chat's own language (/language); null: none chosen"
    )


class ChatsOut(BaseModel):
    chats: list[ChatOut]


class TargetOut(BaseModel):
    """A place a task's results go: its own chat (and topic), another Telegram chat or channel,
    or an operator's destination by name (never its address)."""

    kind: TargetKind
    name: str
    chat_id: int | None = None
    thread_id: int | None = None

    @classmethod
    def of(cls, task: Task, target: Target) -> TargetOut:
        if target.kind is TargetKind.CHAT:
            return cls(
                kind=target.kind, name="here", chat_id=task.chat_id, thread_id=task.thread_id
            )
        return cls(
            kind=target.kind, name=target.label, chat_id=target.chat_id, thread_id=target.thread_id
        )


class DeliveryOut(BaseModel):
    """What became of a run's result at one target."""

    target: str
    kind: TargetKind
    state: DeliveryState
    message_id: str | None = None
    error: str | None = Field(
        default=None,
        description="why it failed or is being tried again: the reason's message",
    )
    reason: ReasonOut | None = Field(
        default=None,
        description="why it failed or is being tried again: `delivery_gave_up` when a target "
        "kept failing and was given up, `target_cannot_post`, `target_not_admin`, … ",
    )


class EstimateOut(BaseModel):
    """What a task will cost (as its card says before Confirm): once it has run, the average of
    its runs × its runs in the next 30 days; before, its model's price × a typical run."""

    per_run_usd: float | None = Field(description="null: the model's price is not known")
    per_month_usd: float | None = Field(description="the next 30 days; null: price not known")
    runs_in_30_days: int
    from_runs: bool = Field(description="whether the task's own runs gave the price")
    model: str = Field(description="the model priced; empty for a reminder")
    free: bool = Field(description="a reminder asks no model: it costs nothing")
    loading: bool = Field(
        description="the price list was still loading (seconds after a start): ask again"
    )

    @classmethod
    def of(cls, estimate: Estimate) -> EstimateOut:
        return cls(
            per_run_usd=estimate.per_run_usd,
            per_month_usd=estimate.per_month_usd,
            runs_in_30_days=estimate.runs_in_30_days,
            from_runs=estimate.from_runs,
            model=estimate.model,
            free=estimate.free,
            loading=estimate.loading,
        )


class TaskOut(BaseModel):
    id: int
    chat_id: int
    name: str
    prompt: str
    kind: TaskKind
    mode: TaskMode = Field(
        description="what a run does: `ai` asks the model, `reminder` posts the prompt's "
        "words as they are, without any model"
    )
    cron: str | None
    run_at: datetime | None
    every_seconds: int | None
    timezone: str
    state: TaskState
    description: str = Field(
        description="the schedule in words: in the language Accept-Language asks for, when it "
        "names one of the bot's, else English"
    )
    next_runs: list[datetime]
    last_run_at: datetime | None
    created_at: datetime
    model: str | None = Field(None, description="its model's name in MODELS; null: LLM_MODEL")
    tools: list[str] | None = Field(None, description="its tools' keys; null: every one")
    monthly_cap_usd: float | None = Field(None, description="its monthly cap; null: none")
    targets: list[TargetOut] = Field(default_factory=list)
    runs_after: int | None = Field(
        None, description="the task whose results start this one (/after), if any"
    )
    runs_after_every_run: bool = Field(
        False, description="whether its silent and failed runs start this one too"
    )
    has_trigger_url: bool = Field(False, description="whether the task has a trigger URL")
    quiet_when_unchanged: bool = Field(
        False, description="whether an answer equal to the last one posted stays unposted"
    )
    skipped_for: datetime | None = Field(
        None, description="its next run, when that one is skipped (/skip; POST …/skip)"
    )
    estimate: EstimateOut | None = Field(
        None,
        description="what it will cost; given by the routes that answer one task (not in "
        "lists), null when no prices are known",
    )

    @classmethod
    def of(
        cls,
        task: Task,
        now: datetime,
        *,
        skipped_for: datetime | None = None,
        estimate: Estimate | None = None,
        describe: Callable[[Schedule], str] = Schedule.describe,
    ) -> TaskOut:
        """The task as the API shows it: its next runs (from `now`) while it is active, its
        schedule in words as `describe` says it."""
        schedule = Schedule.of(task)
        next_runs = (
            [run.astimezone(schedule.zone) for run in schedule.next_runs(now, PREVIEW_RUNS)]
            if task.state is TaskState.ACTIVE
            else []
        )
        return cls(
            id=task.id,
            chat_id=task.chat_id,
            name=task.name,
            prompt=task.prompt,
            kind=task.kind,
            mode=task.mode,
            cron=task.cron,
            run_at=task.run_at,
            every_seconds=task.every_seconds,
            timezone=task.timezone,
            state=task.state,
            description=describe(schedule),
            next_runs=next_runs,
            last_run_at=task.last_run_at,
            created_at=task.created_at,
            model=task.model,
            tools=list(task.tools) if task.tools is not None else None,
            monthly_cap_usd=task.monthly_cap_usd,
            targets=[TargetOut.of(task, target) for target in task.destinations],
            runs_after=task.after_task_id,
            runs_after_every_run=task.after_always,
            has_trigger_url=task.has_trigger,
            quiet_when_unchanged=task.quiet_changed,
            skipped_for=skipped_for,
            estimate=EstimateOut.of(estimate) if estimate is not None else None,
        )


class AttachmentOut(BaseModel):
    """A document kept with a task: its model gets the text at every run."""

    id: int
    name: str = Field(description="the file's name as sent")
    media_type: str
    size: int = Field(description="bytes of extracted text (UTF-8)")
    created_at: datetime

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentOut:
        return cls(
            id=attachment.id,
            name=attachment.name,
            media_type=attachment.media_type,
            size=attachment.size,
            created_at=attachment.created_at,
        )


class AttachmentsOut(BaseModel):
    attachments: list[AttachmentOut]


class TaskSkipOut(BaseModel):
    task: TaskOut
    skipped_for: datetime | None = Field(description="the run that is skipped, if one is")


class TaskPageOut(BaseModel):
    tasks: list[TaskOut]
    page: int
    pages: int
    total: int


# A reason in words, in the caller's language (web.deps.Words.reason).
Say = Callable[[Reason], str]


class ReasonOut(BaseModel):
    """Why a run or a follow-up ended: clients decide by the code (core/reasons.py) and may word
    it themselves from the facts; `message` is the English."""

    code: str = Field(description="what happened, one of a fixed set of codes")
    facts: dict[str, Any] = Field(description="the values the code's sentence is made of")
    message: str = Field(
        description="the sentence: in the language Accept-Language asks for, when it names one "
        "of the bot's, else English"
    )

    @classmethod
    def of(cls, reason: Reason | None, say: Say = Reason.message) -> ReasonOut | None:
        if reason is None:
            return None
        return cls(**{**reason.shown(), "message": say(reason)})


class Ending(BaseModel):
    """How a run or a follow-up ended: why (unless it simply succeeded) and what it cost."""

    reason: ReasonOut | None = Field(description="why it failed, was skipped, missed or stopped")
    error: str | None = Field(description="the reason's message, as before reasons had codes")
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None

    @staticmethod
    def of_record(record: Run | Followup, say: Say = Reason.message) -> dict[str, Any]:
        reason = record.reason
        return {
            "reason": ReasonOut.of(reason, say),
            "error": say(reason) if reason is not None else None,
            "prompt_tokens": record.prompt_tokens,
            "completion_tokens": record.completion_tokens,
            "cost": record.cost,
        }


class ToolUseOut(BaseModel):
    name: str
    calls: int


class RunOut(Ending):
    id: int
    task_id: int
    status: str
    trigger: str
    scheduled_for: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float | None
    tools: list[ToolUseOut]
    deliveries: list[DeliveryOut] = Field(default_factory=list)
    payload: str | None = Field(
        None, description="the event that started the run (a trigger URL's body, a payload)"
    )
    after_run_id: int | None = Field(
        None, description="the other task's run whose result started this one (trigger after)"
    )

    @classmethod
    def of(
        cls, run: Run, copies: Sequence[TargetDelivery] = (), say: Say = Reason.message
    ) -> RunOut:
        """The run; with `copies`, what became of its result at each target."""
        return cls(
            deliveries=_deliveries(run, copies, say),
            **Ending.of_record(run, say),
            id=run.id,
            task_id=run.task_id,
            status=run.status.value,
            trigger=run.trigger.value,
            scheduled_for=run.scheduled_for,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_seconds=run.duration_seconds,
            tools=[ToolUseOut(name=name, calls=calls) for name, calls in run.tool_calls],
            payload=run.payload,
            after_run_id=run.parent_run_id,
        )


def _deliveries(
    run: Run, copies: Sequence[TargetDelivery], say: Say = Reason.message
) -> list[DeliveryOut]:
    found = []
    if run.delivered_message_id is not None or run.delivery_error is not None:
        found.append(
            DeliveryOut(
                target="here",
                kind=TargetKind.CHAT,
                state=DeliveryState.SENT if run.delivery_error is None else DeliveryState.FAILED,
                message_id=str(run.delivered_message_id) if run.delivered_message_id else None,
                error=run.delivery_error,
            )
        )
    found += [
        DeliveryOut(
            target=copy.label,
            kind=copy.kind,
            state=copy.state,
            message_id=copy.message_id,
            error=say(copy.reason) if copy.reason is not None else None,
            reason=ReasonOut.of(copy.reason, say),
        )
        for copy in copies
    ]
    return found


class RunsOut(BaseModel):
    runs: list[RunOut]


class FollowupOut(Ending):
    """A question asked in reply to one of the task's messages, and how it was answered."""

    id: int
    task_id: int
    run_id: int | None = Field(description="the run whose message was replied to, if any")
    parent_id: int | None = Field(description="the follow-up this one continues, if any")
    user_id: int
    question: str
    status: str
    answer: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, followup: Followup, say: Say = Reason.message) -> FollowupOut:
        return cls(
            **Ending.of_record(followup, say),
            id=followup.id,
            task_id=followup.task_id,
            run_id=followup.run_id,
            parent_id=followup.parent_id,
            user_id=followup.user_id,
            question=followup.question,
            status=followup.status.value,
            answer=followup.answer,
            created_at=followup.created_at,
            finished_at=followup.finished_at,
        )


class FollowupsOut(BaseModel):
    followups: list[FollowupOut]


class RunIn(Strict):
    payload: str | dict[str, Any] | list[Any] | None = Field(
        None,
        description=(
            "the event that starts the run, given to the task's model as data (not as "
            "instructions): text, or JSON kept as written; at most TRIGGER_MAX_BYTES"
        ),
    )

    def payload_text(self) -> str | None:
        if self.payload is None or isinstance(self.payload, str):
            return self.payload
        return json.dumps(self.payload, ensure_ascii=False)


class RunStartedOut(BaseModel):
    run_id: int
    task_id: int
    status: str


class ParseOut(BaseModel):
    """The shape of `cronpilot parse --json`."""

    kind: TaskKind
    cron: str | None
    run_at: datetime | None
    every_seconds: int | None
    timezone: str
    prompt: str
    description: str
    next_runs: list[datetime]
    source: str


TargetWord = Annotated[str, Field(min_length=1, max_length=64)]
TARGETS_HELP = (
    'where results go: "here" (the task\'s chat), "@channel" or a chat id, or a destination '
    "name from GET /destinations"
)


ModelName = Annotated[str, Field(max_length=64)]
MODEL_HELP = "a name of MODELS (GET /models), or default for LLM_MODEL"
ToolKey = Annotated[str, Field(max_length=100)]
TOOLS_HELP = "exactly these tools (keys of GET /tools); null: every one"
CAP_HELP = "USD a calendar month; null: no cap of its own"


class ModelsOut(BaseModel):
    """The models a task may choose: `default` (LLM_MODEL, which `model: null` means) and the
    names of MODELS."""

    default: str
    models: list[str]


class ToolOut(BaseModel):
    key: str = Field(description="what a task's `tools` lists")
    label: str = Field(description="its name for people, in English")


class ToolsOut(BaseModel):
    """The tools a task may have or not (a new task has every one)."""

    tools: list[ToolOut]


class TextsOut(BaseModel):
    """The Mini App's words in one language: each English text and its translation."""

    language: str
    texts: dict[str, str]


class DestinationsOut(BaseModel):
    """The operator's destinations outside Telegram, by name."""

    destinations: list[str]


class NewTaskIn(Strict):
    chat_id: ChatId
    text: str | None = Field(
        None, max_length=MAX_TEXT_CHARS, description="a request, parsed as the bot parses it"
    )
    prompt: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    cron: str | None = Field(None, max_length=255)
    run_at: AwareDatetime | None = None
    every_seconds: int | None = Field(None, ge=1, le=10 * 366 * 86400)
    timezone: str | None = Field(None, max_length=64)
    mode: TaskMode | None = Field(
        None,
        description="`reminder` or `ai`; unset: as the request reads (“remind me to …” is a "
        "reminder)",
    )
    targets: list[TargetWord] | None = Field(None, max_length=10, description=TARGETS_HELP)
    model: ModelName | None = Field(None, description=MODEL_HELP)
    tools: list[ToolKey] | None = Field(None, max_length=100, description=TOOLS_HELP)
    monthly_cap_usd: float | None = Field(None, description=CAP_HELP)


class TaskPatchIn(Strict):
    state: Literal["paused", "active"] | None = None
    mode: TaskMode | None = Field(None, description="`reminder` or `ai`")
    prompt: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    schedule: str | None = Field(
        None, max_length=MAX_TEXT_CHARS, description="new schedule in words or cron"
    )
    model: ModelName | None = Field(None, description=MODEL_HELP)
    tools: list[ToolKey] | None = Field(None, max_length=100, description=TOOLS_HELP)
    monthly_cap_usd: float | None = Field(None, description=CAP_HELP)
    targets: list[TargetWord] | None = Field(None, max_length=10, description=TARGETS_HELP)


class ParseIn(Strict):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    chat_id: ChatId | None = None
    timezone: str | None = Field(None, max_length=64)


class UsageLineOut(BaseModel):
    """One line of the month: a task (`task_id`), the schedule requests a model read (kind
    `parse`), or the tasks deleted since (neither)."""

    model_config = ConfigDict(from_attributes=True)

    task_id: int | None
    name: str | None
    kind: str
    runs: int
    prompt_tokens: int
    completion_tokens: int
    cost: float = Field(description="the known part, USD")
    unpriced: int = Field(description="model calls whose price is not known")


class UsageOut(BaseModel):
    """What /usage shows in the bot: this calendar month's spending (UTC) and the budget."""

    chat_id: int
    month_start: datetime
    lines: list[UsageLineOut]
    runs: int
    tokens: int
    cost: float
    unpriced: int
    budget_usd: float | None
    left_usd: float | None

    @classmethod
    def of(cls, chat_id: int, report: UsageReport) -> UsageOut:
        return cls(
            chat_id=chat_id,
            month_start=report.month_start,
            lines=[UsageLineOut.model_validate(line) for line in report.lines],
            runs=report.runs,
            tokens=report.tokens,
            cost=report.cost,
            unpriced=report.unpriced,
            budget_usd=report.budget_usd,
            left_usd=report.left_usd,
        )

"""The JSON shapes of a task's history: its runs and its follow-ups, each with why it ended.

A reason goes out as its code, its facts and its English (`"reason": {"code": "key_rejected",
"facts": {"status": 401}, "message": "…"}`): clients decide by the code and word it themselves
if they like; `error` is the English alone, as it was before reasons had codes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from storage.records import Followup, Run


class ReasonOut(BaseModel):
    code: str = Field(description="what happened, one of a fixed set of codes")
    facts: dict[str, Any] = Field(description="the values the code's sentence is made of")
    message: str = Field(description="the sentence in English")


class Ending(BaseModel):
    """How a run or a follow-up ended: why (unless it simply succeeded) and what it cost."""

    reason: ReasonOut | None = Field(description="why it failed, was skipped, missed or stopped")
    error: str | None = Field(description="the reason's message")
    prompt_tokens: int | None
    completion_tokens: int | None
    cost: float | None


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


class FollowupsOut(BaseModel):
    followups: list[FollowupOut]


def ending(record: Run | Followup) -> dict[str, Any]:
    reason = record.reason
    return {
        "reason": ReasonOut(**reason.shown()) if reason is not None else None,
        "error": reason.message() if reason is not None else None,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "cost": record.cost,
    }


def run_out(run: Run) -> RunOut:
    return RunOut(
        **ending(run),
        id=run.id,
        task_id=run.task_id,
        status=run.status.value,
        trigger=run.trigger.value,
        scheduled_for=run.scheduled_for,
        started_at=run.started_at,
        finished_at=run.finished_at,
        duration_seconds=run.duration_seconds,
        tools=[ToolUseOut(name=name, calls=calls) for name, calls in run.tool_calls],
    )


def followup_out(followup: Followup) -> FollowupOut:
    return FollowupOut(
        **ending(followup),
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

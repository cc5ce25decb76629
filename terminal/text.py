"""How things look in a terminal: plain text, one fact a line, and JSON for scripts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from application.errors import (
    DraftExpiredError,
    DraftNotFoundError,
    QuotaExceededError,
    TaskAlreadyActiveError,
    TaskStateError,
    TaskTimePassedError,
)
from application.estimates import rounded
from application.records import Card, Estimate
from core.errors import CronpilotError
from scheduler.engine import TaskBusyError, TaskNotFoundError
from scheduler.schedules.descriptions import format_local
from scheduler.schedules.schedule import Schedule, zone_for
from storage.records import Run, Task, TaskKind, TaskMode


def problem(error: CronpilotError, *, chat_id: int | None = None) -> str:
    """An expected error in plain words (errors carry facts; front doors word them)."""
    if isinstance(error, TaskNotFoundError):
        where = f" in chat {chat_id}" if chat_id is not None else ""
        return f"there is no task #{error.task_id}{where}"
    if isinstance(error, TaskBusyError):
        return f"task #{error.task_id} is running right now; wait for its result"
    if isinstance(error, TaskAlreadyActiveError):
        return f"task #{error.task_id} is already active"
    if isinstance(error, TaskTimePassedError):
        return f"task #{error.task_id} was a one-time task and its time has passed"
    if isinstance(error, TaskStateError):
        return f"task #{error.task_id} is {error.state.value}, not active"
    if isinstance(error, QuotaExceededError):
        return f"this chat already has {error.limit} tasks, the most it may have"
    if isinstance(error, DraftExpiredError):
        return "this request expired; send it again"
    if isinstance(error, DraftNotFoundError):
        return "this request is no longer open"
    return str(error)


def when(instant: datetime | None, zone: str) -> str:
    return format_local(instant, zone_for(zone)) if instant is not None else "—"


def _schedule_lines(schedule: Schedule) -> list[str]:
    lines = [f"  When:      {schedule.describe()}"]
    if schedule.kind is TaskKind.CRON and schedule.cron:
        lines.append(f"  Cron:      {schedule.cron}")
    elif schedule.kind is TaskKind.INTERVAL and schedule.every_seconds:
        lines.append(f"  Every:     {schedule.every_seconds} seconds")
    else:
        lines.append("  Once:      one time only")
    lines.append(f"  Time zone: {schedule.timezone}")
    return lines


def card(card: Card, zone: str) -> str:
    title = f"Change task #{card.task_id}?" if card.task_id else "Schedule this task?"
    lines = [title, f"  Task:      {card.prompt}", *_schedule_lines(card.schedule)]
    lines.append(f"  Next runs ({zone}):")
    lines += [f"    {when(run, zone)}" for run in card.next_runs] or ["    none"]
    lines.append(f"  Kind:      {MODES[card.mode]}")
    if card.mode is TaskMode.AI and card.model:
        lines.append(f"  Model:     {card.model}")
    if card.estimate is not None:
        lines.append(f"  Cost:      {cost_estimate(card.estimate)}")
    if card.source == "llm":
        lines.append("  (understood with the help of the AI model: please check it)")
    lines.append("Type yes to confirm, no to cancel, or write a corrected request.")
    return "\n".join(lines)


def cost_estimate(estimate: Estimate) -> str:
    """What a task will cost, worded as the bot's card words it."""
    if estimate.free:
        return "free: a reminder asks no AI model."
    if estimate.loading:
        return "the price list is still loading; /task shows the estimate."
    per_month = estimate.per_month_usd
    if estimate.per_run_usd is None or per_month is None:
        return f"unknown: no price for {estimate.model}."
    return f"≈ {dollars(estimate.per_run_usd)} a run, ≈ {dollars(per_month)} a month (estimate)"


def dollars(amount: float) -> str:
    """An estimate's amount: "$0.0023", "$0.06", "$1,400"."""
    shown, places = rounded(amount)
    written = f"{shown:,.{places}f}"
    return "$" + (written.rstrip("0").rstrip(".") if places else written)


MODES = {
    TaskMode.REMINDER: "reminder: posted as written at each run, without any model (/ai switches)",
    TaskMode.AI: "AI task: the model does it at each run (/remind switches)",
}


def task_line(task: Task, zone: str) -> str:
    description = Schedule.of(task).describe()
    return (
        f"#{task.id} {task.name} · {description} · next {when(task.next_run_at, zone)} · "
        f"{task.state.value}"
    )


def task_detail(
    task: Task, zone: str, *, model: str | None = None, estimate: Estimate | None = None
) -> str:
    """A task's card; with `model` (as people see it) and `estimate`, what it runs on and will
    cost."""
    lines = [
        f"Task #{task.id} · {task.name} · {task.state.value} · chat {task.chat_id}",
        f"  Prompt:    {task.prompt}",
        *_schedule_lines(Schedule.of(task)),
        f"  Next run:  {when(task.next_run_at, zone)}",
        f"  Last run:  {when(task.last_run_at, zone)}",
        f"  Kind:      {task.mode.value}",
    ]
    if model is not None and task.mode is TaskMode.AI:
        lines.append(f"  Model:     {model}")
    if estimate is not None:
        lines.append(f"  Cost:      {cost_estimate(estimate)}")
    return "\n".join(lines)


def tokens(run: Run) -> str | None:
    if run.prompt_tokens is None and run.completion_tokens is None:
        return None
    prompt, completion = run.prompt_tokens or 0, run.completion_tokens or 0
    return f"{prompt + completion} tokens ({prompt} in, {completion} out)"


def run_line(run: Run, zone: str) -> str:
    seconds = run.duration_seconds
    parts = [
        f"run {run.id}",
        when(run.scheduled_for, zone),
        run.trigger.value.replace("_", "-"),
        run.status.value,
        f"{seconds:.1f} s" if seconds is not None else "—",
    ]
    if (counted := tokens(run)) is not None:
        parts.append(counted)
    if run.cost is not None:
        parts.append(f"${run.cost:.4f}")
    line = " · ".join(parts)
    if run.reason is not None:
        line += f"\n    error: {run.reason.message()}"
    if run.delivery_error:
        line += f"\n    not delivered: {run.delivery_error}"
    return line


def _iso(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant is not None else None


def task_json(task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "chat_id": task.chat_id,
        "name": task.name,
        "prompt": task.prompt,
        "kind": task.kind.value,
        "cron": task.cron,
        "run_at": _iso(task.run_at),
        "every_seconds": task.every_seconds,
        "timezone": task.timezone,
        "description": Schedule.of(task).describe(),
        "state": task.state.value,
        "next_run_at": _iso(task.next_run_at),
        "last_run_at": _iso(task.last_run_at),
        "consecutive_failures": task.consecutive_failures,
    }


def run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "task_id": run.task_id,
        "scheduled_for": _iso(run.scheduled_for),
        "trigger": run.trigger.value,
        "status": run.status.value,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_seconds": run.duration_seconds,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "cost": run.cost,
        # The reason's English, as before reasons had codes.
        "error": run.reason.message() if run.reason is not None else None,
        "reason": run.reason.shown() if run.reason is not None else None,
        "delivery_error": run.delivery_error,
        "output": run.output,
    }

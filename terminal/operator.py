"""`cronpilot tasks …` and `cronpilot runs N`: the operator's view of every chat, through the
same use cases as the bot. The operator is an actor of their own (`Actor.operator()`), whose
rights the same table decides: they may do anything, in every chat."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TextIO

from application import UseCases
from application.errors import TaskStateError
from application.permissions import Actor
from scheduler.engine import Engine, TaskBusyError, TaskNotFoundError
from storage.records import Task
from terminal import text

ACTIONS = ("list", "show", "pause", "resume", "run", "delete")
OPERATOR = Actor.operator()


@dataclass(frozen=True, slots=True)
class Console:
    """Where the operator reads: answers on `out`, problems on `err`, JSON if asked."""

    out: TextIO
    err: TextIO
    as_json: bool
    zone: str

    def show(self, lines: str, value: Any) -> None:
        if self.as_json:
            print(json.dumps(value, ensure_ascii=False), file=self.out)
        else:
            print(lines, file=self.out)

    def problem(self, message: str) -> int:
        if self.as_json:
            print(json.dumps({"error": message}, ensure_ascii=False), file=self.out)
        print(f"cronpilot: {message}", file=self.err)
        return 1


async def tasks_command(
    use_cases: UseCases,
    engine: Engine,
    console: Console,
    *,
    action: str,
    number: int | None,
    chat_id: int | None,
    posted: bool = False,
) -> int:
    """`posted`: a run's result goes to the task's chat (a bot token is set)."""
    if action == "list":
        found = await use_cases.tasks.every_chat(OPERATOR, chat_id=chat_id)
        lines = "\n".join(text.task_line(task, task.timezone) for task in found)
        console.show(lines or "no tasks", [text.task_json(task) for task in found])
        return 0
    if number is None:
        return console.problem(f"`cronpilot tasks {action}` needs a task number, as in {action} 3")
    try:
        task = await _task(use_cases, number, chat_id)
        if action == "pause":
            task = await use_cases.tasks.pause(OPERATOR, number)
        elif action == "resume":
            task = await use_cases.tasks.resume(OPERATOR, number)
        elif action == "delete":
            task = await use_cases.tasks.delete(OPERATOR, number)
            console.show(f"deleted task #{number} {task.name}", text.task_json(task))
            return 0
        elif action == "run":
            return await _run(use_cases, engine, console, task, posted=posted)
    except (TaskNotFoundError, TaskStateError, TaskBusyError) as error:
        return console.problem(text.problem(error, chat_id=chat_id))
    console.show(text.task_detail(task, task.timezone), text.task_json(task))
    return 0


async def runs_command(
    use_cases: UseCases,
    console: Console,
    *,
    number: int,
    chat_id: int | None,
    limit: int,
) -> int:
    try:
        task = await _task(use_cases, number, chat_id)
        found = await use_cases.runs.history(OPERATOR, number, limit=limit)
    except TaskNotFoundError as error:
        return console.problem(text.problem(error, chat_id=chat_id))
    lines = "\n".join(text.run_line(run, task.timezone) for run in found)
    console.show(lines or f"task #{number} has not run yet", [text.run_json(run) for run in found])
    return 0


async def _task(use_cases: UseCases, number: int, chat_id: int | None) -> Task:
    """The task with this number, whichever chat it is in (or only in `--chat`)."""
    task = await use_cases.tasks.get(OPERATOR, number)
    if chat_id is not None and task.chat_id != chat_id:
        raise TaskNotFoundError(number)
    return task


async def _run(
    use_cases: UseCases, engine: Engine, console: Console, task: Task, *, posted: bool
) -> int:
    """Run the task now, wait for it, and show the run here; with a bot token its result is
    also posted to the task's chat, as Run now in the bot does."""
    started = await use_cases.runs.run_now(OPERATOR, task.id)
    await engine.wait_idle()
    history = await use_cases.runs.history(OPERATOR, task.id, limit=20)
    run = next((run for run in history if run.id == started.id), started)
    lines = text.run_line(run, task.timezone)
    if not posted:
        lines += "\n    not posted to the chat: TELEGRAM_BOT_TOKEN is not set"
    elif run.delivered_message_id is not None:
        lines += f"\n    posted to chat {task.chat_id}"
    if run.output:
        lines += f"\n\n{run.output}"
    console.show(lines, text.run_json(run))
    return 0 if run.status.value in ("succeeded", "silent") else 1

"""What the task model is told: the system prompt, earlier answers as memory, this run's request.

The runner sends these messages; the silent marker is the model's way to say that a run has
nothing worth posting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.languages import ENGLISH, english_name
from scheduler.schedules.schedule import Schedule
from storage.records import Run, Task

SILENT_MARKER = "NOTHING_TO_REPORT"
MEMORY_RUNS = 3
MEMORY_CHARS = 3_000


def is_silent(answer: str) -> bool:
    """True when the model used the silent marker instead of an answer."""
    stripped = answer.strip().strip("`*_.!\"' \n").upper()
    return stripped == SILENT_MARKER


def build_messages(
    task: Task,
    memory: Sequence[Run],
    *,
    now: datetime,
    language: str = ENGLISH,
    advice: Sequence[str] = (),
    inputs: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """System prompt, then earlier runs as earlier turns, then this run's request.

    `language` is the chat's: the answer is written in it unless the task asks otherwise.
    `advice` is what the run's toolsets say about their tools (`Toolbox.advice`). `inputs` are
    what started the run, fenced as data (`scheduler.runner.inputs`), after the request.
    """
    schedule = Schedule.of(task)
    zone = schedule.zone
    local = now.astimezone(zone)
    system = (
        "You are cronpilot, a Telegram bot that runs tasks for its users on a schedule and "
        "posts each answer into their chat. Nobody is there to answer questions: do the task "
        "now and write the message to post. Be concise and concrete; Markdown is fine.\n"
        f"Now it is {local:%A %Y-%m-%d %H:%M} ({zone.key}, UTC{local:%z}).\n"
        f"Write in {english_name(language)}, the language of the chat, unless the task asks "
        "for another language.\n"
        f'You are running task #{task.id} "{task.name}", scheduled {schedule.describe()}.\n'
        "Your answers to earlier runs of this task come before this request, so you can say "
        "what changed and avoid repeating yourself. If the task asks only for something new "
        "or only under some condition, and there is nothing worth posting this time, answer "
        f"with exactly {SILENT_MARKER} and nothing else; nothing will be posted.\n"
        + "".join(advice)
        + "If a tool fails, say what you could not do rather than inventing results."
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for earlier in memory:
        when = (earlier.finished_at or earlier.scheduled_for).astimezone(zone)
        messages.append({"role": "user", "content": f"[{when:%Y-%m-%d %H:%M}] {task.prompt}"})
        output = earlier.output or ""
        if len(output) > MEMORY_CHARS:
            output = output[:MEMORY_CHARS] + " […]"
        messages.append({"role": "assistant", "content": output})
    request = f"[{local:%Y-%m-%d %H:%M}] {task.prompt}"
    messages.append({"role": "user", "content": "\n\n".join([request, *inputs])})
    return messages

"""When a task runs: the schedule value, standard cron maths, time zones and DST."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.records import TaskKind


@dataclass(frozen=True, slots=True)
class Schedule:
    """A task's schedule.

    - cron: `cron` is a five-field standard (Vixie) cron expression read in `timezone`;
    - once: `run_at` is the instant (aware);
    - interval: every `every_seconds` seconds counted from the instant `run_at`.
    """

    kind: TaskKind
    timezone: str
    cron: str | None = None
    run_at: datetime | None = None
    every_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """What a message asked for: when, and what to do then."""

    schedule: Schedule
    prompt: str
    source: Literal["rules", "cron", "llm"]

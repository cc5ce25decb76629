"""What the use cases hand back and what they are configured with: frozen records only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler.schedules.schedule import ParsedRequest, Schedule
from storage.records import Task


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
    # Misspellings the parser read as schedule words: (typed, read as).
    corrections: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Preview:
    """What a request would be understood as; nothing is kept."""

    request: ParsedRequest
    description: str
    next_runs: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class TaskPage:
    tasks: tuple[Task, ...]
    descriptions: tuple[str, ...]
    page: int
    pages: int
    total: int


@dataclass(frozen=True, slots=True)
class ApplicationSettings:
    default_timezone: str
    max_tasks_per_chat: int
    min_interval_seconds: int
    # CHAT_MONTHLY_BUDGET_USD; None = no limit.
    monthly_budget_usd: float | None = None
    # PUBLIC_URL (trigger URLs shown to people), TRIGGER_PER_MINUTE and TRIGGER_MAX_BYTES.
    public_url: str | None = None
    trigger_per_minute: int = 6
    trigger_max_bytes: int = 16_384

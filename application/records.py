"""What the use cases hand back and what they are configured with: frozen records only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scheduler.schedules.schedule import ParsedRequest, Schedule
from storage.records import Target, Task, TaskMode


@dataclass(frozen=True, slots=True)
class Estimate:
    """What a task will cost: per run (None: the model's price is unknown) and over the next
    30 days, by its own runs' average (`from_runs`) or by its model's price; nothing for a
    reminder (`free`)."""

    per_run_usd: float | None
    runs_in_30_days: int
    from_runs: bool
    # The model priced; "" for a reminder.
    model: str
    # A reminder asks no model: it costs nothing.
    free: bool = False
    # The price list (LiteLLM's cost map) was still loading, seconds after a start: the card
    # did not wait for it; the estimate is shown once it has loaded (/task N).
    loading: bool = False

    @property
    def per_month_usd(self) -> float | None:
        return None if self.per_run_usd is None else self.per_run_usd * self.runs_in_30_days


@dataclass(frozen=True, slots=True)
class TaskChoices:
    """What a new task is made with besides its draft, each checked before (the API's create):
    stored in the transaction that makes the task, so that a failure between them makes no
    task rather than one on its defaults. None: as a new task has it."""

    # A name of MODELS, or "default" (resolved again when stored); None: the draft's choice.
    model: str | None = None
    # The toolsets' keys it may use, as `TaskSetup.check_tools` gives them; None: every one.
    tools: tuple[str, ...] | None = None
    # What it may spend a calendar month; None: no cap of its own.
    monthly_cap_usd: float | None = None
    # Where its results go, as `Targets.check` resolved them; None: its own chat.
    targets: tuple[Target, ...] | None = None
    # The topic of its own chat it posts in, as its targets chose it; None: the draft's.
    thread_id: int | None = None


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
    # What it will cost, when an estimate could be made.
    estimate: Estimate | None = None
    # Documents kept with the draft (and so with the task on Confirm): (name, bytes of text).
    attachments: tuple[tuple[str, int], ...] = ()
    # What the task's runs will do: ask the model, or post the words as a reminder.
    mode: TaskMode = TaskMode.AI
    # Whether the bot has a model at all (a reminder cannot be switched to one without).
    model_available: bool = True
    # The models its runs may ask, as people see them (the default first, then MODELS), and
    # which of them it will ask.
    models: tuple[str, ...] = ()
    model_index: int = 0

    @property
    def model(self) -> str:
        """The model its runs will ask, as people see it ("" when none is known)."""
        return self.models[self.model_index] if self.models else ""

    # A model the request named that MODELS does not have (its words stay in the prompt), and
    # the names MODELS has.
    unknown_model: str | None = None
    model_names: tuple[str, ...] = ()


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
    # LLM_MODEL, and the names of MODELS a task may choose instead.
    default_model: str = ""
    models: tuple[str, ...] = ()
    # TRANSCRIPTION_MODEL (None: voice is not set up) and VOICE_MAX_SECONDS.
    transcription_model: str | None = None
    voice_max_seconds: int = 120
    # ATTACHMENT_MAX_BYTES: the most text a document kept with a task may have.
    attachment_max_bytes: int = 1_000_000
    # False when LLM_MODEL is empty or `none`: a reminder bot.
    has_model: bool = True
    # PUBLIC_URL (trigger URLs shown to people), TRIGGER_PER_MINUTE and TRIGGER_MAX_BYTES.
    public_url: str | None = None
    trigger_per_minute: int = 6
    trigger_max_bytes: int = 16_384

"""The use cases' own errors (the engine's TaskNotFoundError and TaskBusyError pass through)."""

from __future__ import annotations

from core.errors import CronpilotError


class DraftNotFoundError(CronpilotError):
    """The draft expired, was already confirmed or cancelled, or belongs to another chat."""


class QuotaExceededError(CronpilotError):
    """The chat has as many tasks as it may have."""


class TaskStateError(CronpilotError):
    """The task cannot do that in its current state (resume a finished one-shot, say)."""

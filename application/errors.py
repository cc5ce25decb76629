"""The use cases' own errors. They carry facts (ids, limits, states); front doors word them.

The engine's TaskNotFoundError and TaskBusyError, and the schedules' ScheduleError family,
pass through the use cases unchanged.
"""

from __future__ import annotations

from datetime import timedelta

from core.errors import N_, CronpilotError, NotUnderstoodError
from storage.records import TaskState


class DraftNotFoundError(CronpilotError):
    """The draft was already confirmed or cancelled, or belongs to another chat."""

    def __init__(self, draft_id: str) -> None:
        super().__init__(f"draft {draft_id!r} is not open in this chat")
        self.draft_id = draft_id


class DraftExpiredError(DraftNotFoundError):
    """The draft outlived its lifetime without being confirmed."""

    def __init__(self, draft_id: str, lifetime: timedelta) -> None:
        super().__init__(draft_id)
        self.args = (f"draft {draft_id!r} expired (drafts live {lifetime})",)
        self.lifetime = lifetime


class QuotaExceededError(CronpilotError):
    """The chat has as many tasks (active or paused) as it may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the chat has {limit} tasks, the most it may have")
        self.limit = limit


class TaskStateError(CronpilotError):
    """The task cannot do that in its current state."""

    def __init__(self, task_id: int, state: TaskState, fact: str) -> None:
        super().__init__(f"task {task_id} is {state.value}: {fact}")
        self.task_id = task_id
        self.state = state


class TaskNotActiveError(TaskStateError):
    """Pausing a task that is paused already or finished."""

    def __init__(self, task_id: int, state: TaskState) -> None:
        super().__init__(task_id, state, "only an active task can be paused")


class TaskAlreadyActiveError(TaskStateError):
    """Resuming a task that is active."""

    def __init__(self, task_id: int) -> None:
        super().__init__(task_id, TaskState.ACTIVE, "it is active already")


class TaskTimePassedError(TaskStateError):
    """Resuming a one-time task whose time has passed: it has no run left to make."""

    def __init__(self, task_id: int, state: TaskState) -> None:
        super().__init__(task_id, state, "its one-time run lies in the past")


class ParseBudgetSpentError(NotUnderstoodError):
    """The rules declined a request (the error's cause) and the chat's monthly budget is
    spent, so the model that would read it was not asked."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This chat's monthly budget is spent, so the language model was not asked to "
                "read this request. Requests the rules understand still work, e.g. “every "
                "weekday at 9 summarize the news” or “0 9 * * 1-5 summarize the news”; /usage "
                "shows where the budget went"
            )
        )


class TriggerNotFoundError(CronpilotError):
    """No task has a trigger URL with this secret (never had, rotated or removed)."""

    def __init__(self) -> None:
        super().__init__("no task has this trigger URL")


class TriggerExistsError(CronpilotError):
    """The task has a trigger URL already; its secret was shown once and is not kept."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"task {task_id} has a trigger URL already")
        self.task_id = task_id


class TriggersTooFastError(CronpilotError):
    """The task's trigger URL started its `limit` runs of the last minute already."""

    def __init__(self, task_id: int, limit: int, retry_after: int) -> None:
        super().__init__(
            f"task {task_id} was started {limit} times in the last minute, the most it may be; "
            f"try again in {retry_after} s"
        )
        self.task_id = task_id
        self.limit = limit
        self.retry_after = retry_after


class TaskNotStartableError(TaskStateError):
    """A paused or finished task is not started by its trigger URL or another task."""

    def __init__(self, task_id: int, state: TaskState) -> None:
        super().__init__(task_id, state, "only an active task is started by an event")


class ChainLoopError(CronpilotError):
    """Running the task after the other would make a chain that comes back to it."""

    def __init__(self, task_id: int, upstream_id: int) -> None:
        super().__init__(f"task {task_id} after task {upstream_id} would make a loop")
        self.task_id = task_id
        self.upstream_id = upstream_id


class ChainTooLongError(CronpilotError):
    """The chain would hold more tasks than it may."""

    def __init__(self, task_id: int, upstream_id: int, limit: int) -> None:
        super().__init__(
            f"task {task_id} after task {upstream_id} would make a chain of more than {limit} tasks"
        )
        self.task_id = task_id
        self.upstream_id = upstream_id
        self.limit = limit


class PayloadTooLargeError(CronpilotError):
    """The event given to a run is larger than TRIGGER_MAX_BYTES."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the payload has {size} bytes, more than the {limit} a run takes")
        self.size = size
        self.limit = limit

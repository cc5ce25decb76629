"""The root of cronpilot's own errors.

Handlers turn the expected ones into replies and the command line into one-line messages;
anything else is a bug and is logged with its traceback.
"""


class CronpilotError(Exception):
    """Base class of every error cronpilot raises on purpose."""


class ConfigurationError(CronpilotError):
    """The settings are missing or invalid."""


class DatabaseError(CronpilotError):
    """The database cannot be used: bad URL, unreachable, or at a revision we do not know."""


class ScheduleError(CronpilotError):
    """A schedule is invalid: bad cron, unknown zone, too frequent, in the past, never fires."""


class NotUnderstoodError(CronpilotError):
    """A message holds no schedule we can be sure of; the text says why, for the user."""


class TooFrequentError(ScheduleError):
    """A schedule runs more often than the operator allows (MIN_INTERVAL_SECONDS).

    `period_seconds` is the shortest time between two runs, `min_seconds` the allowed minimum;
    front doors may word it from these facts.
    """

    def __init__(self, message: str, *, period_seconds: int, min_seconds: int) -> None:
        super().__init__(message)
        self.period_seconds = period_seconds
        self.min_seconds = min_seconds

"""The root of cronpilot's own errors.

Handlers turn the expected ones into replies and the command line into one-line messages;
anything else is a bug and is logged with its traceback.

Errors whose reason a person reads (a schedule that can't be used, a request not understood)
carry it as facts: `reason`, an English sentence with named placeholders marked with `N_` (it is
also the message's id in the bot's catalogs), and `facts`, the values for them. `str(error)` is
the English sentence filled in, for the terminal, the command line and the HTTP API; the bot
translates `reason` and fills in the same facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias


def N_(message: str) -> str:
    """Marks a reason for the catalogs (pybabel extracts it); a front door translates it later."""
    return message


class CronpilotError(Exception):
    """Base class of every error cronpilot raises on purpose."""


class WordedError(CronpilotError):
    """An error whose reason is a sentence with named placeholders and the facts for them.

    A fact is a number, a text (as the user or the model wrote it, or a name marked with `N_`),
    or another worded error (its reason inside this one's)."""

    def __init__(self, reason: str, /, **facts: Fact) -> None:
        super().__init__(reason.format(**facts) if facts else reason)
        self.reason = reason
        self.facts: Mapping[str, Fact] = facts


Fact: TypeAlias = "str | int | WordedError"


class ConfigurationError(CronpilotError):
    """The settings are missing or invalid."""


class DatabaseError(CronpilotError):
    """The database cannot be used: bad URL, unreachable, or at a revision we do not know."""


class ScheduleError(WordedError):
    """A schedule is invalid: bad cron, unknown zone, too frequent, in the past, never fires."""


class NotUnderstoodError(WordedError):
    """A message holds no schedule we can be sure of; the text says why, for the user."""


class TooFrequentError(ScheduleError):
    """A schedule runs more often than the operator allows (MIN_INTERVAL_SECONDS).

    `period_seconds` is the shortest time between two runs, `min_seconds` the allowed minimum;
    front doors may word it from these facts.
    """

    def __init__(self, reason: str, *, period_seconds: int, min_seconds: int, **facts: str) -> None:
        super().__init__(reason, **facts)
        self.period_seconds = period_seconds
        self.min_seconds = min_seconds

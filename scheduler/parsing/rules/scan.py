"""The message being read, what the matchers found in it, and where the schedule is built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

from core.errors import N_, NotUnderstoodError
from scheduler.schedules.schedule import Schedule, fixed_time_instant, interval_starting
from storage.records import TaskKind

# Same-length replacements, so positions in the scan are positions in the original text.
_NORMALISE: Final = str.maketrans(
    {
        **{chr(code): " " for code in (*range(32), 127)},
        "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u3000": " ",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u2018": "'", "\u2019": "'", "\u02bc": "'",
    }
)  # fmt: skip
CLAIMED: Final = "\x00"  # written over claimed characters; no pattern matches across it
_WORD_BEFORE_RE: Final = re.compile(r"([a-z']+)\s*$")
WORD_AFTER_RE: Final = re.compile(r"\s*([a-z']+)")
_MASK_RE: Final = re.compile(r"(?:https?://|www\.)\S+|(?<!\S)[^\s@]{1,64}@[^\s@]+\.\S+")


class Clock(NamedTuple):
    hour: int
    minute: int
    bare: bool  # an hour with neither minutes nor am/pm: "at 9", "9 o'clock"
    meridiem: bool  # written with am/pm
    padded: bool = False  # "09:30": a 24-hour clock, never moved to the afternoon


class Date(NamedTuple):
    year: int | None
    month: int
    day: int
    every: bool  # "every December 24"


class Offset(NamedTuple):
    """ "in 2 hours": elapsed time; "in 3 days": calendar days too; "in 2 months": months."""

    delta: timedelta
    days: int | None  # the whole calendar days it is, or None when it has hours or minutes
    months: int = 0


class Start(NamedTuple):
    """ "starting next monday", "starting 1 Nov", "starting at 7pm": one day and/or a time."""

    relative_day: int | None = None  # today = 0, tomorrow = 1
    weekday: tuple[int, str] | None = None  # (weekday, "on" | "next" | "this")
    date: Date | None = None
    clock: Clock | None = None


@dataclass
class Found:
    """The schedule parts found so far; each value part may be given only once."""

    zone: str | None = None
    clocks: tuple[Clock, ...] | None = None
    part_of_day: str | None = None
    daily: bool = False
    every_part_of_day: bool = False  # "every morning"
    weekdays: frozenset[int] | None = None
    weekday_once: tuple[int, str] | None = None  # (weekday, "on" | "next" | "this")
    relative_day: int | None = None  # today = 0, tomorrow = 1
    period: tuple[int, str] | None = None  # (count, unit) with unit s | min | h | d | w | mo | y
    window: tuple[Clock, Clock] | None = None
    offset: Offset | None = None
    weekly: bool = False
    monthly: bool = False
    month_days: str | None = None  # a cron day-of-month field: "1,15" or "L"
    next_month: bool = False  # "on the 12th of next month"
    nth_weekdays: frozenset[tuple[int, int]] | None = None  # (weekday, k), k = -1 for the last
    months: frozenset[int] | None = None  # "in december", "from april through june", "of may"
    months_span: tuple[int, int] | None = None  # where the months were named
    start: Start | None = None  # "starting next monday"
    yearly: bool = False
    quarterly: bool = False  # the 1st of January, April, July and October
    loose_day: tuple[int, int] | None = None  # a plural day name alone inside the text
    times_a_day: int | None = None  # "twice a day": the times listed must be that many
    times_a_week: int | None = None  # "twice a week": the days listed must be that many
    dates: tuple[Date, ...] | None = None  # "december 24", "every 3/15 and 10/15"
    schedule_words: bool = False  # anything at all besides a zone

    @property
    def date(self) -> Date | None:
        """The first date named (a one-shot has one)."""
        return self.dates[0] if self.dates else None

    def put(self, name: str, value: object, what: str) -> None:
        if getattr(self, name) is not None:
            raise NotUnderstoodError(N_("I found {what} twice; please say it once."), what=what)
        setattr(self, name, value)
        self.schedule_words = True


class Text:
    """The message, a same-length lowercase scan of it, and the spans the matchers claimed."""

    def __init__(self, original: str) -> None:
        self.original = original
        normalised = original.translate(_NORMALISE)
        lowered = normalised.lower()
        if len(lowered) != len(normalised):  # a few characters lowercase to two ("İ")
            lowered = "".join(
                char.lower() if len(char.lower()) == 1 else char for char in normalised
            )
        self.scan = _MASK_RE.sub(lambda match: "_" * len(match.group()), lowered)
        self.spans: list[tuple[int, int]] = []

    def claim(self, start: int, end: int) -> None:
        self.spans.append((start, end))
        self.scan = self.scan[:start] + CLAIMED * (end - start) + self.scan[end:]

    def taken(self, start: int, end: int) -> bool:
        """Whether a matcher claimed any character from `start` to `end` (a pattern run over
        the text as it was may find a time inside a zone just claimed: "9 UTC-05:30")."""
        return CLAIMED in self.scan[start:end]

    def covers(self, start: int, end: int) -> bool:
        """Whether the matchers claimed every character from `start` to `end`."""
        return all(char == CLAIMED for char in self.scan[start:end])

    def shown(self, start: int, end: int) -> str:
        """The user's own words at a span, for a reason shown to them."""
        words = " ".join(self.original[start:end].split())
        return words if len(words) <= 40 else words[:40] + "…"

    def word_before(self, position: int) -> str | None:
        """The word right before `position` (only spaces between), if any."""
        match = self.word_before_match(position)
        return match.group(1) if match else None

    def word_before_match(self, position: int) -> re.Match[str] | None:
        return _WORD_BEFORE_RE.search(self.scan, max(0, position - 40), position)

    def word_after_match(self, position: int) -> re.Match[str] | None:
        """The word right after `position` (only spaces between), if any."""
        return WORD_AFTER_RE.match(self.scan, position, position + 40)


REPEAT_OR_ONCE: Final = N_("I can't tell whether that repeats or happens once.")
TWO_DAYS: Final = N_("I found two different days in that; please name one.")
NO_SCHEDULE: Final = N_(
    "I couldn't find a schedule in that. Try e.g. “every weekday at 9am summarize the news” "
    "or “tomorrow at 18:00 remind me to call Anna”."
)


@dataclass(frozen=True, slots=True)
class When:
    """Where the schedule is built: its zone, and now in that zone."""

    zone_name: str
    zone: ZoneInfo
    now: datetime

    def cron(self, expression: str) -> Schedule:
        return Schedule(kind=TaskKind.CRON, timezone=self.zone_name, cron=expression)

    def cron_from(self, expression: str, start: datetime) -> Schedule:
        # No run before `start`; validation drops a start that holds nothing back.
        return Schedule(kind=TaskKind.CRON, timezone=self.zone_name, cron=expression, run_at=start)

    def interval(self, seconds: int) -> Schedule:
        # The period counts from creation: now.
        return Schedule(
            kind=TaskKind.INTERVAL, timezone=self.zone_name, every_seconds=seconds, run_at=self.now
        )

    def interval_from(self, first_run: datetime, seconds: int) -> Schedule:
        # The period counts from the first run (whole days in local days: see the schedule).
        return interval_starting(first_run, seconds, self.zone_name)

    def once(self, run_at: datetime) -> Schedule:
        return Schedule(kind=TaskKind.ONCE, timezone=self.zone_name, run_at=run_at)

    def at(self, day: date, clock: tuple[int, int]) -> datetime:
        wall = datetime.combine(day, time(clock[0], clock[1]))
        return fixed_time_instant(wall, self.zone).astimezone(self.zone)


def has_any(found: Found, *names: str) -> bool:
    """Whether any of these parts was found (0, "today", counts as found)."""
    values = (getattr(found, name) for name in names)
    return any(value is not None and value is not False for value in values)


def is_recurring(found: Found) -> bool:
    return has_any(
        found, "daily", "every_part_of_day", "weekdays", "period", "weekly", "monthly", "yearly",
        "month_days", "nth_weekdays", "quarterly", "times_a_week",
    )  # fmt: skip


def months_period(found: Found) -> bool:
    """Whether the schedule repeats every N months ("every other month")."""
    return found.period is not None and found.period[1] == "mo"


def cron_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7


def render_numbers(values: set[int], full: range) -> str:
    """A canonical cron list: `*`, ranges for runs of three or more, numbers otherwise."""
    if values == set(full):
        return "*"
    ordered = sorted(values)
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        if end - index >= 2:
            parts.append(f"{ordered[index]}-{ordered[end]}")
        else:
            parts.extend(str(value) for value in ordered[index : end + 1])
        index = end + 1
    return ",".join(parts)

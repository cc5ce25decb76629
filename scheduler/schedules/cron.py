"""Standard (Vixie) cron expressions: parsing with precise messages, and which days match.

Semantics, as in Vixie cron and the cron(5) manual page:
- five fields: minute hour day-of-month month day-of-week;
- `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n` (and `a/n`, meaning `a-max/n`), lists;
- month names JAN…DEC and weekday names SUN…SAT, case-insensitive, also in ranges;
- day-of-week 0 and 7 are both Sunday, so `5-7` is Friday, Saturday and Sunday;
- when both day fields are restricted (neither starts with `*`) a day matches if EITHER matches;
  if either starts with `*`, both must match (which makes the `*` one irrelevant);
- extensions: `L` in day-of-month is the month's last day; `d#k` in day-of-week is the k-th
  weekday d of the month (`1#1` = first Monday); `dL` in day-of-week is the last weekday d of
  the month (`5L` = last Friday);
- the macros @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly.

This module knows nothing about time zones; scheduler.schedules.schedule turns matching
wall-clock times into instants.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from core.errors import N_, ScheduleError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

# What the tasks table stores; every useful expression is far shorter.
MAX_LENGTH = 255

MONTH_NAMES = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
# cron counts weekdays from Sunday = 0; Python's date.weekday() from Monday = 0.
WEEKDAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
WEEKDAY_WORDS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int]


# The names are facts of errors (`field`), translated by front doors.
MINUTE = _Field(N_("minute"), 0, 59, {})
HOUR = _Field(N_("hour"), 0, 23, {})
DAY_OF_MONTH = _Field(N_("day-of-month"), 1, 31, {})
MONTH = _Field(N_("month"), 1, 12, MONTH_NAMES)
DAY_OF_WEEK = _Field(N_("day-of-week"), 0, 7, WEEKDAY_NAMES)

_STEP = re.compile(r"^(?P<base>[^/]+)(?:/(?P<step>[^/]*))?$")
_NTH = re.compile(r"^(?P<day>[A-Za-z]+|[0-9]+)#(?P<nth>[0-9]{1,3})$")
_LAST_WEEKDAY = re.compile(r"^(?P<day>[A-Za-z]{3}|[0-9]+)L$", re.IGNORECASE)
# ASCII only: str.isdigit() also accepts "²", which int() then rejects.
_NUMBER = re.compile(r"^[0-9]+$")


@dataclass(frozen=True, slots=True)
class CronExpression:
    """A parsed expression. `text` is the canonical five-field form (macros expanded)."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days_of_month: frozenset[int]
    last_day_of_month: bool
    months: frozenset[int]
    # Sunday = 0 … Saturday = 6 (7 folded into 0).
    days_of_week: frozenset[int]
    # (weekday, k) for `weekday#k`.
    nth_weekdays: frozenset[tuple[int, int]]
    # weekday for `weekdayL`: the last one of the month.
    last_weekdays: frozenset[int]
    day_of_month_star: bool
    day_of_week_star: bool

    @property
    def every_hour(self) -> bool:
        """True when the hour field covers all 24 hours (hourly and */N-minute schedules)."""
        return len(self.hours) == 24

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_month = day.day in self.days_of_month or (
            self.last_day_of_month and day.day == calendar.monthrange(day.year, day.month)[1]
        )
        weekday = (day.weekday() + 1) % 7
        in_week = (
            weekday in self.days_of_week
            or (weekday, (day.day - 1) // 7 + 1) in self.nth_weekdays
            or (
                weekday in self.last_weekdays
                and day.day + 7 > calendar.monthrange(day.year, day.month)[1]
            )
        )
        if self.day_of_month_star or self.day_of_week_star:
            return in_month and in_week
        return in_month or in_week


def parse_cron(expression: str) -> CronExpression:
    """Parse a standard cron expression or raise ScheduleError saying exactly what is wrong."""
    text = " ".join(expression.split())
    if not text:
        raise ScheduleError(N_("the cron expression is empty"))
    if len(text) > MAX_LENGTH:
        raise ScheduleError(
            N_("the cron expression is longer than {limit} characters"), limit=MAX_LENGTH
        )
    if text.startswith("@"):
        expanded = MACROS.get(text.lower())
        if expanded is None:
            known = ", ".join(MACROS)
            raise ScheduleError(
                N_("unknown cron macro '{macro}'; known ones are {known}"), macro=text, known=known
            )
        text = expanded
    parts = text.split(" ")
    if len(parts) != 5:
        raise ScheduleError(
            N_(
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), "
                "this one has {count}"
            ),
            count=len(parts),
        )
    minute, hour, day_of_month, month, day_of_week = parts

    days_of_month, last_day = _parse_day_of_month(day_of_month)
    days_of_week, nth, last_weekdays = _parse_day_of_week(day_of_week)
    return CronExpression(
        text=text,
        minutes=tuple(sorted(_parse_field(minute, MINUTE))),
        hours=tuple(sorted(_parse_field(hour, HOUR))),
        days_of_month=frozenset(days_of_month),
        last_day_of_month=last_day,
        months=frozenset(_parse_field(month, MONTH)),
        days_of_week=frozenset(days_of_week),
        nth_weekdays=frozenset(nth),
        last_weekdays=frozenset(last_weekdays),
        day_of_month_star=day_of_month.startswith("*"),
        day_of_week_star=day_of_week.startswith("*"),
    )


def _parse_day_of_month(text: str) -> tuple[set[int], bool]:
    values: set[int] = set()
    last = False
    for item in _items(text, DAY_OF_MONTH):
        if item.upper() == "L":
            last = True
        else:
            values |= _parse_item(item, DAY_OF_MONTH)
    return values, last


def _parse_day_of_week(text: str) -> tuple[set[int], set[tuple[int, int]], set[int]]:
    values: set[int] = set()
    nth: set[tuple[int, int]] = set()
    last: set[int] = set()
    for item in _items(text, DAY_OF_WEEK):
        last_match = _LAST_WEEKDAY.match(item)
        if last_match is not None:
            last.add(_value(last_match["day"], DAY_OF_WEEK) % 7)
            continue
        match = _NTH.match(item)
        if match is None:
            values |= {day % 7 for day in _parse_item(item, DAY_OF_WEEK)}
            continue
        day = _value(match["day"], DAY_OF_WEEK) % 7
        k = int(match["nth"])
        if not 1 <= k <= 5:
            raise ScheduleError(
                N_("in '{item}', #{nth} must be 1 to 5 (a month has at most 5)"), item=item, nth=k
            )
        nth.add((day, k))
    return values, nth, last


def _parse_field(text: str, field: _Field) -> set[int]:
    values: set[int] = set()
    for item in _items(text, field):
        values |= _parse_item(item, field)
    return values


def _items(text: str, field: _Field) -> list[str]:
    items = text.split(",")
    if any(not item for item in items):
        raise ScheduleError(
            N_("the {field} field '{text}' has an empty list item"), field=field.name, text=text
        )
    return items


def _parse_item(item: str, field: _Field) -> set[int]:
    match = _STEP.match(item)
    if match is None:
        raise ScheduleError(
            N_("the {field} field has a malformed part '{item}'"), field=field.name, item=item
        )
    base, step_text = match["base"], match["step"]
    step = 1
    if step_text is not None:
        if not _NUMBER.match(step_text):
            raise ScheduleError(N_("the step in '{item}' must be a whole number"), item=item)
        step = int(step_text) if len(step_text) <= 9 else field.high + 1
        if step == 0:
            raise ScheduleError(N_("the step in '{item}' must be at least 1"), item=item)
    if base == "*":
        low, high = field.low, field.high
        if field is DAY_OF_WEEK:
            high = 6  # `*` means every day once; 7 is only an alias
    elif "-" in base:
        first, _, last = base.partition("-")
        low, high = _value(first, field), _value(last, field)
        if low > high:
            raise ScheduleError(
                N_("the {field} range '{range}' runs backwards; write it from low to high"),
                field=field.name,
                range=base,
            )
    else:
        low = _value(base, field)
        # Vixie cron reads `a/n` as `a-max/n`; a plain number is just itself.
        high = field.high if step_text is not None else low
    return set(range(low, high + 1, step))


def _value(text: str, field: _Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names[lowered]
    if not _NUMBER.match(text):
        if field.names:
            raise ScheduleError(
                N_("'{text}' is not a valid {field} (a number or a name)"),
                text=text,
                field=field.name,
            )
        raise ScheduleError(
            N_("'{text}' is not a valid {field}; expected a number"), text=text, field=field.name
        )
    shown = text if len(text) <= 12 else text[:12] + "…"
    # Longer digit strings are out of range anyway (and int() refuses thousands of digits).
    value = int(text) if len(text) <= 9 else field.high + 1
    if not field.low <= value <= field.high:
        raise ScheduleError(
            N_("{field} {value} is out of range {low}–{high}"),
            field=field.name,
            value=shown,
            low=field.low,
            high=field.high,
        )
    return value

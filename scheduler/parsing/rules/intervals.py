"""Periods ("every 15 minutes") and offsets ("in 2 hours"), and the schedules they make."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Final

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.days import closes_phrase
from scheduler.parsing.rules.scan import (
    REPEAT_OR_ONCE,
    TWO_DAYS,
    Clock,
    Found,
    Offset,
    Text,
    When,
    cron_weekday,
    has_any,
    is_recurring,
    render_numbers,
)
from scheduler.parsing.rules.starts import start_day
from scheduler.parsing.rules.times import one_clock
from scheduler.parsing.rules.vocabulary import (
    CALENDAR_UNIT_WORD,
    DAY_ORDINALS,
    DAY_WORD,
    NUMBER_WORD,
    NUMBER_WORDS,
    UNIT_WORD,
    alternation,
)
from scheduler.schedules.schedule import Schedule, fixed_time_instant

UNIT_SECONDS: Final = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# "every 4th day", "every third week": the n-th is a count (not "first": "every first monday").
_NTH_WORDS = alternation(word for word in DAY_ORDINALS if word != "first")
_NTH_UNIT = rf"(?:{_NTH_WORDS}|[0-9]{{1,2}}(?:st|nd|rd|th))"
_PERIOD_RE: Final = re.compile(
    rf"\b(?:once\s+)?(?:every|each)\s+(?:(?P<count>{NUMBER_WORD})\s*(?P<unit>{UNIT_WORD}|{CALENDAR_UNIT_WORD})"
    r"|(?P<half>half[\s-]+(?:an\s+)?hour|half[\s-]?hour)\b"
    r"|(?P<quarter>quarter(?:\s+of\s+an)?[\s-]+hour)\b"
    r"|(?P<single>minute|hour)\b"
    r"|(?P<other>other|alternate)\s+(?P<other_unit>minute|hour|day|week|month|year)\b"
    rf"|(?P<nth>{_NTH_UNIT})\s+(?P<nth_unit>minute|hour|day|week|month|year)\b"
    r"(?!\s+(?:of|in)\b)"  # "every 2nd day of the month" is a day of the month
    rf"|(?P<other_day>other|alternate)(?=\s+{DAY_WORD}))"
    r"|(?:@|\b)(?P<hourly>hourly)\b"
    r"|\b(?P<fortnightly>fortnightly|every\s+fortnight)\b"
    r"|\b(?P<semiannually>semi-?annually|twice\s+a\s+year)\b"
)
_DURATION = (
    rf"(?:{NUMBER_WORD}\s*(?:{UNIT_WORD}|{CALENDAR_UNIT_WORD})(?:\s+and\s+a\s+half)?"
    r"|half\s+an?\s+hour|a\s+half[\s-]hour|a\s+quarter\s+(?:of\s+)?an?\s+hour)"
)
_DURATIONS = rf"{_DURATION}(?:(?:\s*,\s*|\s+and\s+|\s*){_DURATION})?"
_OFFSET_RE: Final = re.compile(
    rf"\bin\s+(?P<after_in>{_DURATIONS})(?:\s+from\s+now\b)?"
    rf"|(?<![\w.])(?P<from_now>{_DURATIONS})\s+(?:from\s+now|hence)\b"
    rf"|(?<![\w.])(?P<from_day>{_DURATIONS})\s+from\s+(?P<base>today|tomorrow|tmrw)\b(?!')"
)
_DURATION_PART_RE: Final = re.compile(
    rf"(?P<count>{NUMBER_WORD})\s*(?P<unit>{UNIT_WORD}|{CALENDAR_UNIT_WORD})"
    r"(?P<and_half>\s+and\s+a\s+half)?"
    r"|(?P<half_hour>half\s+an?\s+hour|a\s+half[\s-]hour)"
    r"|(?P<quarter_hour>a\s+quarter\s+(?:of\s+)?an?\s+hour)"
)
_MONTHS_IN_YEAR: Final = 12


def match_offsets(text: Text, found: Found) -> None:
    """ "in 2 hours" (elapsed time), "in 3 days" (calendar days too), "in 2 months" (calendar
    months), "a week from tomorrow" (a day)."""
    for match in _OFFSET_RE.finditer(text.scan):
        body = match.group("after_in") or match.group("from_now") or match.group("from_day")
        offset = _offset(body)
        if offset.delta <= timedelta() and not offset.months:
            raise NotUnderstoodError(N_("“In 0 minutes” is not a time; say when."))
        if match.group("from_day"):
            if offset.days is None or offset.months:
                raise NotUnderstoodError(
                    N_("“… from tomorrow” works with whole days, e.g. “a week from tomorrow”.")
                )
            base = 0 if match.group("base") == "today" else 1
            found.put("relative_day", base + offset.days, N_("a day"))
        else:
            found.put("offset", offset, N_("“in …”"))
        text.claim(match.start(), match.end())


def _offset(body: str) -> Offset:
    delta = timedelta()
    calendar_days: int | None = 0
    months = 0
    sizes = [_part_size(part) for part in _DURATION_PART_RE.finditer(body)]
    if any(later >= earlier for earlier, later in pairwise(sizes)):
        # "in 2 hours 3 hours", "in 30 minutes 1 hour": not a duration anyone writes
        raise NotUnderstoodError(
            N_("I'm not sure what “{shown}” means here, so I won't guess the schedule."),
            shown=" ".join(body.split()),
        )
    for part in _DURATION_PART_RE.finditer(body):
        if part.group("half_hour"):
            seconds, calendar_days = 1800, None
        elif part.group("quarter_hour"):
            seconds, calendar_days = 900, None
        else:
            count = _number(part.group("count"))
            unit = _unit(part.group("unit"))
            if unit in ("mo", "y"):
                if part.group("and_half"):
                    raise NotUnderstoodError(N_("Half a month is not a date; say when exactly."))
                months += count * (_MONTHS_IN_YEAR if unit == "y" else 1)
                continue
            seconds = count * UNIT_SECONDS[unit]
            if part.group("and_half"):
                seconds += UNIT_SECONDS[unit] // 2
                calendar_days = None
            elif unit in ("d", "w") and calendar_days is not None:
                calendar_days += seconds // 86400
            else:
                calendar_days = None
        delta += timedelta(seconds=seconds)
    return Offset(delta, calendar_days, months)


def _part_size(part: re.Match[str]) -> int:
    """How big a duration's unit is, to check that a compound goes from larger to smaller."""
    if part.group("half_hour") or part.group("quarter_hour"):
        return UNIT_SECONDS["min"]
    unit = _unit(part.group("unit"))
    return {"mo": 31 * 86400, "y": 366 * 86400}.get(unit) or UNIT_SECONDS[unit]


def _unit(word: str) -> str:
    if word.startswith(("mo", "mth")):
        return "mo"
    if word.startswith("y"):
        return "y"
    if word.startswith("s"):
        return "s"
    if word.startswith("m"):
        return "min"
    if word.startswith("h"):
        return "h"
    if word.startswith("d"):
        return "d"
    return "w"


def _number(word: str) -> int:
    return NUMBER_WORDS.get(word) or DAY_ORDINALS.get(word) or int(word.rstrip("stndrh"))


def match_periods(text: Text, found: Found) -> None:
    for match in _PERIOD_RE.finditer(text.scan):
        if match.group("hourly"):
            if not closes_phrase(text, match.start("hourly"), match.end("hourly")):
                continue
            period = (1, "h")
        elif match.group("half"):
            period = (30, "min")
        elif match.group("quarter"):
            period = (15, "min")
        elif match.group("single"):
            period = (1, "min" if match.group("single") == "minute" else "h")
        elif match.group("other"):
            period = (2, _unit(match.group("other_unit")))
        elif match.group("nth"):
            period = (_number(match.group("nth")), _unit(match.group("nth_unit")))
        elif match.group("other_day") or match.group("fortnightly"):
            period = (2, "w")  # "every other monday": the day is read on its own
        elif match.group("semiannually"):
            period = (6, "mo")
        else:
            period = (_number(match.group("count")), _unit(match.group("unit")))
        if period[0] == 0:
            raise NotUnderstoodError(N_("“Every 0 …” is not a schedule."))
        found.put("period", period, N_("a period (“every …”)"))
        text.claim(match.start(), match.end())


# Facts of the declines (`unit`), translated by front doors.
_UNIT_WORDS: Final = {
    "s": N_("seconds"), "min": N_("minutes"), "h": N_("hours"), "d": N_("days"), "w": N_("weeks"),
    "mo": N_("months"), "y": N_("years"),
}  # fmt: skip


def build_offset(found: Found, offset: Offset, when: When) -> Schedule:
    if is_recurring(found) or found.start is not None:
        raise NotUnderstoodError(REPEAT_OR_ONCE)
    if found.window is not None:
        raise NotUnderstoodError(
            N_("A time window needs a period, e.g. “every hour from 9 to 17”.")
        )
    if has_any(found, "weekday_once", "relative_day", "dates", "months"):
        raise NotUnderstoodError(TWO_DAYS)
    timed = found.clocks is not None or found.part_of_day is not None
    try:
        if offset.months:
            if offset.days is None:
                raise NotUnderstoodError(
                    N_("“In …” with months works with whole days, e.g. “in 2 months and 3 days”.")
                )
            day = _add_months(when.now.date(), offset.months) + timedelta(days=offset.days)
            if timed:
                return when.once(when.at(day, one_clock(found)))
            wall = datetime.combine(day, when.now.time().replace(tzinfo=None))
            return when.once(fixed_time_instant(wall, when.zone).astimezone(when.zone))
        if not timed:
            # Elapsed time, so a DST change in between does not shift it.
            return when.once((when.now.astimezone(UTC) + offset.delta).astimezone(when.zone))
        if offset.days is None:
            raise NotUnderstoodError(
                N_("“In …” with a time of day works with whole days, e.g. “in 3 days at 9”.")
            )
        return when.once(when.at(when.now.date() + timedelta(days=offset.days), one_clock(found)))
    except OverflowError as error:
        raise NotUnderstoodError(N_("That is too far in the future.")) from error


def _add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day when it has no such day (Jan 31 + 1
    month is Feb 28 or 29), as calendars count."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def build_period(found: Found, period: tuple[int, str], when: When) -> Schedule:
    count, unit = period
    if unit in ("d", "w"):
        return _build_days_period(found, count, unit, when)
    if unit == "y":
        raise NotUnderstoodError(
            N_("Every {count} years can't be one schedule; make it yearly, e.g. “every year on "
               "March 3”."),
            count=count,
        )  # fmt: skip
    if has_any(
        found, "weekday_once", "relative_day", "weekly", "monthly", "month_days", "nth_weekdays",
        "yearly", "dates",
    ):  # fmt: skip
        raise NotUnderstoodError(
            N_("I can only combine “every …” periods with days of the week or a time window.")
        )
    timed = found.clocks is not None or found.part_of_day is not None
    if timed:
        raise NotUnderstoodError(
            N_(
                "I can't combine a period like “every 2 hours” with a time of day; "
                "use a window such as “every 2 hours from 8 to 20”."
            )
        )
    weekdays = "*" if found.weekdays is None else render_numbers(set(found.weekdays), range(7))
    months = "*" if found.months is None else render_numbers(set(found.months), range(1, 13))
    days = f"* {months} {weekdays}"
    if found.start is not None:
        if found.window is not None:
            raise NotUnderstoodError(N_("A time window and a start time? Please give one."))
        return _period_from_start(found, count, unit, days, when)
    if found.window is not None:
        return when.cron(f"{_window_fields(count, unit, found.window)} {days}")
    if unit == "min" and count < 60 and 60 % count == 0:
        return when.cron(f"{_step('*', count)} * {days}")
    if unit == "h" and count < 24 and 24 % count == 0:
        return when.cron(f"0 {_step('*', count)} {days}")
    _check_unrestricted(found, count, unit)
    return when.interval(count * UNIT_SECONDS[unit])


def _check_unrestricted(found: Found, count: int, unit: str) -> None:
    if found.weekdays is not None or found.months is not None:
        raise NotUnderstoodError(
            N_(
                "Every {count} {unit} can't be limited to some days exactly; "
                "use a period that divides an hour or a day."
            ),
            count=count,
            unit=_UNIT_WORDS[unit],
        )


def _period_from_start(found: Found, count: int, unit: str, days: str, when: When) -> Schedule:
    """ "every 12 hours starting at 7pm" runs at 07:00 and 19:00 (a cron when the period
    divides an hour or a day, from the first run on); "every 5 hours starting at 9" is an
    interval whose first run is the next 09:00; "every 2 hours starting tomorrow" runs from
    tomorrow 00:00."""
    assert found.start is not None
    start = found.start
    clock = None if start.clock is None else (start.clock.hour, start.clock.minute)
    if start.relative_day is not None or start.weekday is not None or start.date is not None:
        first = when.at(start_day(start, when), clock or (0, 0))
    else:
        assert clock is not None  # a start is a day, a time or both
        first = when.at(when.now.date(), clock)
        if first <= when.now:
            first = when.at(when.now.date() + timedelta(days=1), clock)
    hour, minute = clock or (0, 0)
    if unit == "min" and count < 60 and 60 % count == 0:
        minutes = set(range(minute % count, 60, count))
        field = _step("*", count) if minute % count == 0 else render_numbers(minutes, range(60))
        return when.cron_from(f"{field} * {days}", first)
    if unit == "h" and count < 24 and 24 % count == 0:
        hours = set(range(hour % count, 24, count))
        field = _step("*", count) if hour % count == 0 else render_numbers(hours, range(24))
        return when.cron_from(f"{minute} {field} {days}", first)
    _check_unrestricted(found, count, unit)
    if clock is None:
        raise NotUnderstoodError(N_("Starting at what time?"))
    if first <= when.now:
        raise NotUnderstoodError(N_("That time has already passed today."))
    return when.interval_from(first, count * UNIT_SECONDS[unit])


def _step(base: str, count: int) -> str:
    return base if count == 1 else f"{base}/{count}"


def _window_fields(count: int, unit: str, window: tuple[Clock, Clock]) -> str:
    """The minute and hour fields of a period inside a same-day window."""
    start, end = window
    start_minutes, end_minutes = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    if end_minutes <= start_minutes:
        raise NotUnderstoodError(
            N_("The time window must end after it starts, on the same day (e.g. “from 9 to 17”).")
        )
    if unit == "min" and count % 60 == 0:
        count, unit = count // 60, "h"
    if unit == "h":
        # Hour steps include the end: "every hour from 9 to 17" runs at 17:00 too.
        hours = [
            hour for hour in range(start.hour, 24, count) if hour * 60 + start.minute <= end_minutes
        ]
        if count == 1 or len(hours) == 1:
            return f"{start.minute} {render_numbers(set(hours), range(24))}"
        return f"{start.minute} {hours[0]}-{hours[-1]}/{count}"
    if unit == "s" or count >= 60 or 60 % count != 0:
        raise NotUnderstoodError(
            N_("Inside a time window the period must divide an hour (e.g. every 15 or 30 minutes).")
        )
    # The runs are the steps from the start to the end, both included ("every 30 minutes from
    # 9:15 to 17:45" is 15,45 9-17), when they make a grid of minutes x hours; when the end is
    # the one run off the grid it is left out, as cron can't add a single 17:00 to `*/30 9-16`.
    runs = list(range(start_minutes, end_minutes + 1, count))
    if not _is_grid(runs) and runs[-1] == end_minutes:
        runs.pop()
    if not _is_grid(runs):
        raise NotUnderstoodError(
            N_(
                "I can't run every {count} minutes from {start} to {end} exactly; try a window "
                "that starts on the hour, e.g. “from 9 to 17”."
            ),
            count=count,
            start=f"{start.hour:02d}:{start.minute:02d}",
            end=f"{end.hour:02d}:{end.minute:02d}",
        )
    minutes = {run % 60 for run in runs}
    every = minutes == set(range(0, 60, count))
    minute_field = _step("*", count) if every else render_numbers(minutes, range(60))
    return f"{minute_field} {render_numbers({run // 60 for run in runs}, range(24))}"


def _is_grid(runs: list[int]) -> bool:
    minutes = {run % 60 for run in runs}
    hours = {run // 60 for run in runs}
    return set(runs) == {hour * 60 + minute for hour in hours for minute in minutes}


def _build_days_period(found: Found, count: int, unit: str, when: When) -> Schedule:
    """Every N days or weeks: an interval in local days, from now or from its first run.

    "every 3 days" repeats from now; "every 2 weeks on friday at 5pm" from the first Friday
    17:00 ahead; "every other day at 9" from the next 09:00; "every 14 days 7am starting 1 Nov"
    from 1 November 07:00.
    """
    if has_any(
        found, "relative_day", "weekly", "monthly", "month_days", "nth_weekdays", "yearly",
        "dates", "window", "daily", "every_part_of_day", "months",
    ):  # fmt: skip
        raise NotUnderstoodError(
            N_("I can't combine “every {count} {unit}” with that."),
            count=count,
            unit=_UNIT_WORDS[unit],
        )
    weekdays = set(found.weekdays or ())
    if found.weekday_once is not None:
        weekday, mode = found.weekday_once
        if mode != "on":
            raise NotUnderstoodError(REPEAT_OR_ONCE)
        weekdays.add(weekday)
    seconds = count * UNIT_SECONDS[unit]
    timed = found.clocks is not None or found.part_of_day is not None
    if not weekdays and not timed and found.start is None:
        return when.interval(seconds)
    if weekdays and (unit != "w" or len(weekdays) != 1):
        raise NotUnderstoodError(
            N_(
                "Every {count} {unit} can be on one day of the week only, "
                "e.g. “every 2 weeks on friday”."
            ),
            count=count,
            unit=_UNIT_WORDS[unit],
        )
    clock = one_clock(found)
    today = when.now.date() if found.start is None else start_day(found.start, when)
    first = when.at(today, clock)
    if weekdays:
        (weekday,) = weekdays
        ahead = (weekday - cron_weekday(today)) % 7
        first = when.at(today + timedelta(days=ahead), clock)
        if first <= when.now:
            first = when.at(today + timedelta(days=ahead + 7), clock)
    elif first <= when.now:
        first = when.at(today + timedelta(days=1), clock)
    return when.interval_from(first, seconds)

"""Periods ("every 15 minutes") and offsets ("in 2 hours"), and the schedules they make."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Final

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.days import closes_phrase
from scheduler.parsing.rules.scan import (
    REPEAT_OR_ONCE,
    TWO_DAYS,
    Clock,
    Found,
    Text,
    When,
    cron_weekday,
    has_any,
    is_recurring,
    render_numbers,
)
from scheduler.parsing.rules.times import one_clock
from scheduler.parsing.rules.vocabulary import DAY_WORD, NUMBER_WORD, NUMBER_WORDS, UNIT_WORD
from scheduler.schedules.schedule import Schedule

UNIT_SECONDS: Final = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_PERIOD_RE: Final = re.compile(
    rf"\b(?:every|each)\s+(?:(?P<count>{NUMBER_WORD})\s*(?P<unit>{UNIT_WORD})"
    r"|(?P<half>half[\s-]+(?:an\s+)?hour|half[\s-]?hour)\b"
    r"|(?P<quarter>quarter(?:\s+of\s+an)?[\s-]+hour)\b"
    r"|(?P<single>minute|hour)\b"
    r"|(?P<other>other|second|2nd|alternate)\s+(?P<other_unit>week|day)\b"
    rf"|(?P<other_day>other|alternate)(?=\s+{DAY_WORD}))"
    r"|(?:@|\b)(?P<hourly>hourly)\b"
    r"|\b(?P<fortnightly>fortnightly|every\s+fortnight)\b"
)
_DURATION = (
    rf"(?:{NUMBER_WORD}\s*{UNIT_WORD}(?:\s+and\s+a\s+half)?|half\s+an?\s+hour|a\s+half[\s-]hour"
    r"|a\s+quarter\s+(?:of\s+)?an?\s+hour)"
)
_OFFSET_RE: Final = re.compile(
    rf"\bin\s+(?P<after_in>{_DURATION}(?:(?:\s*,\s*|\s+and\s+|\s+){_DURATION})?)"
    r"(?:\s+from\s+now\b)?"
    rf"|(?<![\w.])(?P<from_now>{_DURATION}(?:(?:\s*,\s*|\s+and\s+|\s+){_DURATION})?)"
    r"\s+from\s+now\b"
)
_DURATION_PART_RE: Final = re.compile(
    rf"(?P<count>{NUMBER_WORD})\s*(?P<unit>{UNIT_WORD})(?P<and_half>\s+and\s+a\s+half)?"
    r"|(?P<half_hour>half\s+an?\s+hour|a\s+half[\s-]hour)"
    r"|(?P<quarter_hour>a\s+quarter\s+(?:of\s+)?an?\s+hour)"
)


def match_offsets(text: Text, found: Found) -> None:
    for match in _OFFSET_RE.finditer(text.scan):
        body = match.group("after_in") or match.group("from_now")
        delta = timedelta()
        calendar_days: int | None = 0
        for part in _DURATION_PART_RE.finditer(body):
            if part.group("half_hour"):
                seconds, calendar_days = 1800, None
            elif part.group("quarter_hour"):
                seconds, calendar_days = 900, None
            else:
                count = _number(part.group("count"))
                unit = _unit(part.group("unit"))
                seconds = count * UNIT_SECONDS[unit]
                if part.group("and_half"):
                    seconds += UNIT_SECONDS[unit] // 2
                    calendar_days = None
                elif unit in ("d", "w") and calendar_days is not None:
                    calendar_days += seconds // 86400
                else:
                    calendar_days = None
            delta += timedelta(seconds=seconds)
        if delta <= timedelta():
            raise NotUnderstoodError(N_("“In 0 minutes” is not a time; say when."))
        found.put("offset", (delta, calendar_days), N_("“in …”"))
        text.claim(match.start(), match.end())


def _unit(word: str) -> str:
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
    return NUMBER_WORDS.get(word) or int(word)


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
            period = (2, "d" if match.group("other_unit") == "day" else "w")
        elif match.group("other_day") or match.group("fortnightly"):
            period = (2, "w")  # "every other monday": the day is read on its own
        else:
            period = (_number(match.group("count")), _unit(match.group("unit")))
        if period[0] == 0:
            raise NotUnderstoodError(N_("“Every 0 …” is not a schedule."))
        found.put("period", period, N_("a period (“every …”)"))
        text.claim(match.start(), match.end())


# Facts of the declines (`unit`), translated by front doors.
_UNIT_WORDS: Final = {
    "s": N_("seconds"), "min": N_("minutes"), "h": N_("hours"), "d": N_("days"), "w": N_("weeks"),
}  # fmt: skip


def build_offset(found: Found, offset: tuple[timedelta, int | None], when: When) -> Schedule:
    delta, calendar_days = offset
    if is_recurring(found):
        raise NotUnderstoodError(REPEAT_OR_ONCE)
    if found.window is not None:
        raise NotUnderstoodError(
            N_("A time window needs a period, e.g. “every hour from 9 to 17”.")
        )
    if has_any(found, "weekday_once", "relative_day", "date"):
        raise NotUnderstoodError(TWO_DAYS)
    try:
        if found.clocks is None and found.part_of_day is None:
            # Elapsed time, so a DST change in between does not shift it.
            return when.once((when.now.astimezone(UTC) + delta).astimezone(when.zone))
        if calendar_days is None:
            raise NotUnderstoodError(
                N_("“In …” with a time of day works with whole days, e.g. “in 3 days at 9”.")
            )
        return when.once(when.at(when.now.date() + timedelta(days=calendar_days), one_clock(found)))
    except OverflowError as error:
        raise NotUnderstoodError(N_("That is too far in the future.")) from error


def build_period(found: Found, period: tuple[int, str], when: When) -> Schedule:
    count, unit = period
    if unit in ("d", "w"):
        return _build_days_period(found, count, unit, when)
    if has_any(
        found, "weekday_once", "relative_day", "weekly", "monthly", "month_days", "nth_weekday",
        "yearly", "date",
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
    if found.window is not None:
        return when.cron(f"{_window_fields(count, unit, found.window)} * * {weekdays}")
    if unit == "min" and count < 60 and 60 % count == 0:
        return when.cron(f"{_step('*', count)} * * * {weekdays}")
    if unit == "h" and count < 24 and 24 % count == 0:
        return when.cron(f"0 {_step('*', count)} * * {weekdays}")
    if found.weekdays is not None:
        raise NotUnderstoodError(
            N_(
                "Every {count} {unit} can't be limited to some days exactly; "
                "use a period that divides an hour or a day."
            ),
            count=count,
            unit=_UNIT_WORDS[unit],
        )
    return when.interval(count * UNIT_SECONDS[unit])


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
    if start.minute or end.minute:
        raise NotUnderstoodError(
            N_("For steps of minutes the window must start and end on the hour (e.g. 9 to 17).")
        )
    # Minute steps exclude the end: "between 9 and 17" ends with the 16:xx runs, as cron can't
    # add a single 17:00 to `*/30 9-16`.
    return f"{_step('*', count)} {render_numbers(set(range(start.hour, end.hour)), range(24))}"


def _build_days_period(found: Found, count: int, unit: str, when: When) -> Schedule:
    """Every N days or weeks: an interval in local days, from now or from its first run.

    "every 3 days" repeats from now; "every 2 weeks on friday at 5pm" from the first Friday
    17:00 ahead; "every other day at 9" from the next 09:00.
    """
    if has_any(
        found, "relative_day", "weekly", "monthly", "month_days", "nth_weekday", "yearly", "date",
        "window", "daily", "every_part_of_day",
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
    if not weekdays and not timed:
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
    today = when.now.date()
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

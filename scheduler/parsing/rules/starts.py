"""When a repeating schedule starts: "starting next monday", "from 1 Nov", "starting at 7pm"."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.dates import check_date_exists, no_such_date, read_date_at
from scheduler.parsing.rules.scan import Found, Start, Text, When, cron_weekday
from scheduler.parsing.rules.times import parse_clock
from scheduler.parsing.rules.vocabulary import (
    AT,
    BARE_HOUR,
    CLOCK,
    DAY_FORMS,
    DOTTED_CLOCK,
    alternation,
)

_START_WORD_RE: Final = re.compile(
    r"\b(?P<word>starting|beginning|commencing|from)(?:\s+(?P<joiner>on|from|with))?\s+"
)
_RELATIVE_DAY_RE: Final = re.compile(
    r"(?:(?P<after>(?:the\s+)?day\s+after\s+tomorrow)|(?P<tomorrow>tomorrow|tmrw)|(?P<today>today))"
    r"\b(?!')"
)
# One day by name ("monday", "thurs"; not "sun", "sat", "wed", which are English words).
_ONE_DAY = alternation(form for form, day in DAY_FORMS.items() if not day.plural and day.full)
_WEEKDAY_RE: Final = re.compile(
    rf"(?:(?P<mode>next|this\s+coming|this|coming)\s+)?(?P<day>{_ONE_DAY})\b(?!')"
)
_CLOCK_AFTER_RE: Final = re.compile(
    rf"\s*,?\s*{AT}(?P<clock>{CLOCK}|{DOTTED_CLOCK}|{BARE_HOUR})(?![\w:])"
)
# "starting at 7pm", "beginning at 9:00": the first run's time of day.
_START_AT_RE: Final = re.compile(
    rf"\b(?:starting|beginning|commencing)\s+(?:(?:at|@|from)\s+(?P<clock>{CLOCK}|{DOTTED_CLOCK}"
    rf"|{BARE_HOUR})|(?P<written>{CLOCK}))(?![\w:])"
)
# A range or a list after the day is no start: "from monday to friday", "from 1 to 5 nov".
_NOT_A_START_RE: Final = re.compile(
    r"\s*(?:-|\bto\b|\bthrough\b|\bthru\b|\btill\b|\buntil\b|\band\b|\bor\b|[0-9])"
)


def match_starts(text: Text, found: Found) -> None:
    """The day (and maybe time) a repeating schedule starts, read before anything else claims
    the day: "weekdays starting next monday", "every 14 days 7am starting 1 Nov", "every 12
    hours starting at 7pm", "starting tomorrow on weekends"; "from <day>" only when no range
    follows ("from monday to friday" is days of the week)."""
    for match in _START_AT_RE.finditer(text.scan):
        clock = parse_clock(match.group("clock") or match.group("written"))
        found.put("start", Start(clock=clock), N_("a start"))
        text.claim(match.start(), match.end())
    for match in _START_WORD_RE.finditer(text.scan):
        start = _start_at(text, match.end())
        if start is None:
            continue
        value, end = start
        if match.group("word") == "from" and _NOT_A_START_RE.match(text.scan, end):
            continue
        found.put("start", value, N_("a start"))
        text.claim(match.start(), end)


def _start_at(text: Text, position: int) -> tuple[Start, int] | None:
    """The day written at `position` (with the time after it, if any) and where it ends."""
    relative = _RELATIVE_DAY_RE.match(text.scan, position)
    weekday = _WEEKDAY_RE.match(text.scan, position)
    start: Start
    if relative is not None:
        day = 2 if relative.group("after") else 1 if relative.group("tomorrow") else 0
        start, end = Start(relative_day=day), relative.end()
    elif weekday is not None:
        mode = " ".join((weekday.group("mode") or "on").split())
        mode = {"next": "next", "this": "this", "this coming": "this"}.get(mode, "on")
        start = Start(weekday=(DAY_FORMS[weekday.group("day")].weekday, mode))
        end = weekday.end()
    else:
        date = read_date_at(text, position)
        if date is None:
            return None
        start, end = Start(date=date[0]), date[1]
    clock = _CLOCK_AFTER_RE.match(text.scan, end)
    if clock is not None:
        start, end = start._replace(clock=parse_clock(clock.group("clock"))), clock.end()
    return start, end


def start_day(start: Start, when: When) -> date:
    """The day a start names: "tomorrow", "next monday" (as a one-shot would read it), "1 Nov"
    (this year if still ahead, else the next), "2027-03-01" (must be ahead). A start with a time
    only is today."""
    today = when.now.date()
    if start.relative_day is not None:
        return today + timedelta(days=start.relative_day)
    if start.weekday is not None:
        weekday, mode = start.weekday
        ahead = (weekday - cron_weekday(today)) % 7
        return today + timedelta(days=7 if mode == "next" and ahead == 0 else ahead)
    if start.date is None:
        return today
    value = start.date
    check_date_exists(value)
    if value.year is not None:
        try:
            day = date(value.year, value.month, value.day)
        except ValueError as error:
            raise no_such_date(value) from error
        if day < today:
            raise NotUnderstoodError(N_("That date has already passed."))
        return day
    for year in range(today.year, today.year + 9):
        try:
            day = date(year, value.month, value.day)
        except ValueError:
            continue  # February 29
        if day >= today:
            return day
    raise NotUnderstoodError(N_("That date is too far in the future."))

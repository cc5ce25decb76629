"""Clock times, lists of times, time windows and parts of the day."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.scan import CLAIMED, Clock, Found, Text, render_numbers
from scheduler.parsing.rules.vocabulary import (
    AT,
    BARE_HOUR,
    CLOCK,
    DAY_FORMS,
    DOTTED_CLOCK,
    HOUR_WORD,
    HOUR_WORDS,
    MILITARY_CLOCK,
    PART_OF_DAY,
    TIME_SEPARATOR,
    alternation,
)
from scheduler.parsing.rules.zones import (
    AFTER_TIME_LOCAL_RE,
    AFTER_TIME_ZONE_NAME_RE,
    decline_bare_city,
    read_zone_after,
    set_zone,
)

_PART_OF_DAY_DEFAULT: Final = {"morning": 8, "afternoon": 14, "evening": 18, "night": 21}
_PART_OF_DAY_HOURS: Final = {
    "morning": range(4, 12),
    "afternoon": range(12, 18),
    "evening": range(16, 24),
    "night": range(18, 24),
}
_DEFAULT_HOUR: Final = 9
_SHORT_MERIDIEM = r"[0-9]{1,2}[ap](?![a-z0-9])"  # "at 5p": after "at" only ("flat 2a" is no time)
_AT_CLOCK = rf"(?:{CLOCK}|{MILITARY_CLOCK}|{DOTTED_CLOCK}|{_SHORT_MERIDIEM}|{BARE_HOUR})"
_TIMES_RE: Final = re.compile(
    rf"{AT}(?P<listed>{_AT_CLOCK}(?:{TIME_SEPARATOR}{_AT_CLOCK}){{0,5}})"
    rf"|(?<![\w:.$€£])(?P<plain>{CLOCK}(?:{TIME_SEPARATOR}{CLOCK}){{0,5}})"
)
# "6 in the morning", "8 tonight": an hour that the part of the day after it makes a time.
_HOUR_BEFORE_PART_RE: Final = re.compile(
    rf"(?P<at>{AT})?(?<![\w:.$€£-])(?P<hour>[0-9]{{1,2}}|{HOUR_WORD})(?=\s+(?:in\s+the\s+"
    r"(?:morning|afternoon|evening)|tonight|this\s+(?:morning|afternoon|evening)|at\s+night)\b)"
)
# Where such an hour may stand without "at": first, or after a day ("friday 7 in the evening").
_DAY_BEFORE_RE: Final = re.compile(
    rf"(?:^|{CLAIMED}|\b(?:{alternation(DAY_FORMS)}|today|tomorrow|tmrw|day|days|weekdays?"
    r"|weekends?))[\s,]*$"
)
_TIME_SPLIT_RE: Final = re.compile(r"\s*(?:,\s*and\s+|,|\band\b|&)\s*(?:(?:at\b|@)\s*)?")
_CLOCK_PARTS_RE: Final = re.compile(
    r"(?:(?:a\s+)?(?P<fraction>half|quarter|[0-9]{1,2}|five|ten|twenty(?:[\s-]five)?)"
    r"(?:\s+minutes?)?\s+(?P<direction>past|after|to)\s+)?"
    rf"(?P<hour>[0-9]{{1,2}}|{HOUR_WORD})(?:(?P<separator>[:.h])?(?P<minute>[0-9]{{2}}))?\s*"
    r"(?:(?P<meridiem>[ap])(?:\.?m\.?)?|(?P<oclock>o'?clock)|(?P<hours>hrs|hours|h))?"
    r"(?P<zulu>\s?z)?"
    r"|(?P<named>noon|midday|midnight)"
)
_FRACTIONS: Final = {"half": 30, "quarter": 15, "five": 5, "ten": 10, "twenty": 20}
_WINDOW_RE: Final = re.compile(
    rf"(?:\b(?P<pre>from|between)\s+)?(?<![\w:.])(?P<start>{CLOCK}|{BARE_HOUR})\s*"
    r"(?P<separator>-|\bto\b|\buntil\b|\btill\b|\band\b|\bthrough\b)\s*"
    rf"(?P<end>{CLOCK}|{BARE_HOUR})"
)
_PART_OF_DAY_RE: Final = re.compile(
    rf"\b(?:(?P<every>every|each)\s+|in\s+the\s+|at\s+(?=night))(?P<part>{PART_OF_DAY})\b(?!')"
)


def match_windows(text: Text, found: Found) -> None:
    for match in _WINDOW_RE.finditer(text.scan):
        start_text, end_text = match.group("start"), match.group("end")
        bare = _is_bare_number(start_text) or _is_bare_number(end_text)
        if match.group("pre") is None and bare:
            continue  # "10-12" is not a window; bare hours need "from"/"between"
        if (match.group("separator") == "and") != (match.group("pre") == "between"):
            continue  # "at 9am and 5pm" is two times; "from 9 and 5" is nothing
        start, end = parse_clock(start_text), parse_clock(end_text)
        _check_mixed_meridiem((start, end))
        found.put("window", (start, end), N_("a time window"))
        text.claim(match.start(), match.end())


def _is_bare_number(item: str) -> bool:
    return item.strip().isdigit()


def match_parts_of_day(text: Text, found: Found) -> None:
    for match in _PART_OF_DAY_RE.finditer(text.scan):
        found.put("part_of_day", match.group("part"), N_("a part of the day"))
        if match.group("every"):
            found.every_part_of_day = True
        text.claim(match.start(), match.end())


def match_hours_before_parts(text: Text, found: Found) -> None:
    """ "6 in the morning", "8 tonight" (read before the part of the day is claimed)."""
    for match in _HOUR_BEFORE_PART_RE.finditer(text.scan):
        before = text.scan[max(0, match.start() - 40) : match.start()]
        if match.group("at") is None and _DAY_BEFORE_RE.search(before) is None:
            continue  # "top 5 in the morning news": a count
        found.put("clocks", (parse_clock(match.group("hour")),), N_("a time of day"))
        text.claim(match.start(), match.end())


def match_times(text: Text, found: Found) -> None:
    for match in _TIMES_RE.finditer(text.scan):
        if text.taken(match.start(), match.end()):
            continue
        items = match.group("listed") or match.group("plain")
        clocks = tuple(parse_clock(item) for item in _TIME_SPLIT_RE.split(items) if item)
        _check_mixed_meridiem(clocks)
        found.put("clocks", clocks, N_("a time of day"))
        end = match.end()
        if items.rstrip().endswith("z"):
            set_zone(found, "UTC")
        end = read_zone_after(text, found, end)
        local = AFTER_TIME_LOCAL_RE.match(text.scan, end)
        if local is not None:
            end = local.end()  # "at 9 local time": the chat's zone
        decline_bare_city(text, end)
        unknown = AFTER_TIME_ZONE_NAME_RE.match(text.scan, end)
        if unknown is not None and (
            unknown.group("in") or text.original[unknown.start("name")].isupper()
        ):
            shown = text.shown(unknown.start("name"), unknown.end())
            raise NotUnderstoodError(
                N_("I don't know the time zone “{shown}”; try a city like “Berlin time”."),
                shown=shown,
            )
        text.claim(match.start(), end)


def parse_clock(item: str) -> Clock:
    parts = _CLOCK_PARTS_RE.fullmatch(item.strip())
    if parts is None:  # the patterns only hand over clock-shaped items
        raise NotUnderstoodError(N_("“{shown}” is not a time I understand."), shown=item.strip())
    named = parts.group("named")
    if named is not None:
        return Clock(0 if named == "midnight" else 12, 0, bare=False, meridiem=False)
    hour_text = parts.group("hour")
    hour = HOUR_WORDS[hour_text] if hour_text in HOUR_WORDS else int(hour_text)
    minute = int(parts.group("minute") or 0)
    shown = item.strip()
    if parts.group("meridiem"):
        if not 1 <= hour <= 12 or minute > 59:
            raise NotUnderstoodError(N_("“{shown}” is not a valid time."), shown=shown)
        hour = hour % 12 + (12 if parts.group("meridiem") == "p" else 0)
        return _fraction(parts, Clock(hour, minute, bare=False, meridiem=True))
    if hour > 23 or minute > 59:
        raise NotUnderstoodError(N_("“{shown}” is not a valid time."), shown=shown)
    if parts.group("fraction"):  # "half past 8" reads like "at 8": 24-hour, moved by "tonight"
        return _fraction(parts, Clock(hour, 0, bare=True, meridiem=False))
    bare = parts.group("minute") is None
    # "09:30" and "1730" are written on the 24-hour clock.
    padded = (hour_text.startswith("0") and len(hour_text) == 2) or (
        parts.group("minute") is not None and parts.group("separator") is None
    )
    return Clock(hour, minute, bare=bare, meridiem=False, padded=padded)


def _fraction(parts: re.Match[str], clock: Clock) -> Clock:
    """ "half past 8" is 08:30, "quarter past 9" 09:15, "quarter to 6" 05:45, "10 past 2"
    02:10, "twenty-five past 7" 07:25, "5 minutes to 9" 08:55."""
    fraction = parts.group("fraction")
    if fraction is None:
        return clock
    words = fraction.replace("-", " ").split()
    minutes = int(fraction) if fraction.isdigit() else sum(_FRACTIONS[word] for word in words)
    if not 0 < minutes < 60:
        raise NotUnderstoodError(N_("“{shown}” is not a valid time."), shown=parts.group())
    if parts.group("direction") == "to":
        return clock._replace(hour=(clock.hour - 1) % 24, minute=60 - minutes)
    return clock._replace(minute=minutes)


def _check_mixed_meridiem(clocks: Iterable[Clock]) -> None:
    listed = tuple(clocks)
    if any(clock.meridiem for clock in listed) and any(clock.bare for clock in listed):
        raise NotUnderstoodError(
            N_("Some times have am/pm and some don't; please write each one fully (e.g. 9am, 5pm).")
        )


def one_clock(found: Found) -> tuple[int, int]:
    clocks = _resolve_clocks(found)
    if clocks is None:
        return (_DEFAULT_HOUR, 0)
    if len(clocks) != 1:
        raise NotUnderstoodError(N_("Several times for something that happens once? Name one."))
    return clocks[0]


def _resolve_clocks(found: Found) -> list[tuple[int, int]] | None:
    """The wall-clock times asked for, with the part of day applied; None if none was given."""
    part = found.part_of_day
    if found.clocks is None:
        return None if part is None else [(_PART_OF_DAY_DEFAULT[part], 0)]
    resolved = []
    for clock in found.clocks:
        hour = clock.hour
        if part is not None:
            twelve_hour = not clock.meridiem and not clock.padded and 1 <= hour <= 11
            if twelve_hour and part in ("afternoon", "evening", "night"):
                hour += 12  # "tonight at 8" is 20:00, "every evening at 6:30" 18:30
            if hour not in _PART_OF_DAY_HOURS[part]:
                raise NotUnderstoodError(
                    N_("That time doesn't fit “{part}”; which do you mean?"), part=part
                )
        resolved.append((hour, clock.minute))
    return resolved


def clock_fields(found: Found) -> str:
    """The minute and hour fields of a cron for the times asked for (09:00 if none)."""
    clocks = _resolve_clocks(found) or [(_DEFAULT_HOUR, 0)]
    minutes = {minute for _, minute in clocks}
    hours = {hour for hour, _ in clocks}
    # One cron runs at every minute x hour combination; refuse lists that aren't such a grid.
    if set(clocks) != {(hour, minute) for hour in hours for minute in minutes}:
        shown = " and ".join(f"{hour:02d}:{minute:02d}" for hour, minute in clocks)
        raise NotUnderstoodError(
            N_("One schedule can't run at exactly {shown}; please make a task for each time."),
            shown=shown,
        )
    return f"{render_numbers(minutes, range(60))} {render_numbers(hours, range(24))}"

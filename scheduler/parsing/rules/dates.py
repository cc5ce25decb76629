"""Calendar dates and days of the month, and the one-time instants they name."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.scan import Date, Found, Text, When, months_period, render_numbers
from scheduler.parsing.rules.vocabulary import (
    DAY_ORDINALS,
    MONTH_SUFFIX,
    MONTH_TITLES,
    MONTH_WORD,
    MONTHS,
    alternation,
)

_YEAR = r"(?:,?\s+(?P<year>[0-9]{4})(?![0-9:]))?"
_LIST_SEPARATOR = r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)(?:the\s+)?"
_DAY_WORDS = rf"\b(?:{alternation(DAY_ORDINALS)})\b"
# A day after a month name: "march 3", "march 3rd", "march third"; not "march 3pm", "march 3:30".
_DAY_AFTER_MONTH = (
    r"(?:[0-9]{1,2}(?:st|nd|rd|th)?(?![0-9]|[:.][0-9]|\s?(?:[ap]\.?m\b|o'?clock|%)|[a-z])"
    rf"|{_DAY_WORDS})"
)
_NOT_A_UNIT = r"(?!\s*(?:secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|years?)\b)"
_DATE_ISO_RE: Final = re.compile(
    r"(?:\bon\s+)?(?<![\w.:/-])(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?![\w:/-])"
)
# "march 3", "every aug 20 and 30", "every march 15 and september 15", "december the 21st and
# 31st, 2027".
_MONTH_DAY = rf"{MONTH_WORD}\.?\s*(?:the\s+)?{_DAY_AFTER_MONTH}"
_DATE_MONTH_DAY_RE: Final = re.compile(
    rf"(?:\b(?P<every>every|each)\s+|\bon\s+)?(?:\bthe\s+)?\b(?P<month>{MONTH_WORD})\.?\s*"
    rf"(?:the\s+)?(?P<days>{_DAY_AFTER_MONTH}(?:{_LIST_SEPARATOR}(?:{_MONTH_DAY}|{_DAY_AFTER_MONTH})){{0,9}})"
    + _NOT_A_UNIT
    + _YEAR
)
# One item of such a list: a day, maybe with its own month.
_LISTED_DAY_RE: Final = re.compile(
    rf"(?:(?P<month>{MONTH_WORD})\.?\s*(?:the\s+)?)?(?P<day>[0-9]{{1,2}}|{_DAY_WORDS})"
)
# "3 march", "the 1st of march", "20th and 30th of aug", "the first of march" ("of" after a word).
_DATE_DAY_MONTH_RE: Final = re.compile(
    rf"(?:\b(?P<every>every|each)\s+|\bon\s+)?(?:\bthe\s+)?(?<![\w:.#])"
    rf"(?P<days>[0-9]{{1,2}}(?:st|nd|rd|th)?(?:{_LIST_SEPARATOR}[0-9]{{1,2}}(?:st|nd|rd|th)?){{0,9}}"
    rf"\s+(?:of\s+)?|{_DAY_WORDS}\s+of\s+)(?P<month>{MONTH_WORD})\.?" + _YEAR
)
# "31/12", "12/31", "31/12/2026", "every 3/15 and 10/15": read only when one reading is a date
# ("03/04" is declined).
_SLASHED = r"(?<![\w./:-])[0-9]{1,2}/[0-9]{1,2}(?:/(?:[0-9]{4}|[0-9]{2}))?(?![\w/]|\.[0-9])"
_DATE_SLASHED_RE: Final = re.compile(
    rf"(?:\b(?P<every>every|each)\s+|\bon\s+)?(?P<dates>{_SLASHED}(?:{_LIST_SEPARATOR}{_SLASHED}){{0,9}})"
)
_SLASHED_PARTS_RE: Final = re.compile(
    r"(?P<first>[0-9]{1,2})/(?P<second>[0-9]{1,2})(?:/(?P<year>[0-9]{4}|[0-9]{2}))?"
)
# "31.12." or "31.12.2026": day first, as written where dots are used.
_DATE_DOTTED_RE: Final = re.compile(
    r"(?:\bon\s+)?(?<![\w.:/-])(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\."
    r"(?P<year>[0-9]{4})?(?![\w.]|[0-9])"
)
_DAY_PART_RE: Final = re.compile(rf"[0-9]{{1,2}}|{_DAY_WORDS}")
_MONTH_DAY_ITEM = rf"(?:[0-9]{{1,2}}(?:st|nd|rd|th)?|{_DAY_WORDS}|last(?:\s+day)?)"
_MONTH_DAYS_RE: Final = re.compile(
    r"(?:\b(?P<pre>on|every|each)\s+)?(?:\b(?P<the>the)\s+)?(?<![\w:.])"
    rf"(?P<items>{_MONTH_DAY_ITEM}(?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)(?:the\s+)?"
    rf"{_MONTH_DAY_ITEM}){{0,9}})\b(?![:.][0-9])(?P<day_word>\s+day\b)?" + MONTH_SUFFIX
)
# After "every 15th" these (within a word) make it a unit: "every 2nd day", "every 2nd our day".
_NOT_MONTHLY_AFTER_RE: Final = re.compile(
    r"\s*(?:[0-9]|(?:[a-z']+\s+)?(?:of\b|days?\b|weeks?\b|months?\b|years?\b|hours?\b"
    r"|minutes?\b|times?\b|week|work|business|mon|tue|wed|thu|fri|sat|sun))"
)
_MONTH_DAY_PART_RE: Final = re.compile(
    rf"(?P<number>[0-9]{{1,2}})(?P<suffix>st|nd|rd|th)?|(?P<last>last)|(?P<word>{_DAY_WORDS})"
)


# One date at a given place (after "starting"): ISO, "1 nov", "nov 1st", "1.11.", "15/11".
_DATE_AT_RES: Final = (
    re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})(?![\w:/-])"),
    re.compile(
        rf"(?:the\s+)?(?P<month>{MONTH_WORD})\.?\s*(?:the\s+)?(?P<day>{_DAY_AFTER_MONTH})"
        + _NOT_A_UNIT
        + _YEAR
    ),
    re.compile(
        rf"(?:the\s+)?(?P<day>[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?|{_DAY_WORDS}\s+of\s+)"
        rf"(?P<month>{MONTH_WORD})\b\.?" + _YEAR
    ),
    re.compile(r"(?P<day>[0-9]{1,2})\.(?P<month>[0-9]{1,2})\.(?P<year>[0-9]{4})?(?![\w.]|[0-9])"),
)
_SLASHED_AT_RE: Final = re.compile(_SLASHED)


def read_date_at(text: Text, position: int) -> tuple[Date, int] | None:
    """The one date written at `position` and where it ends, or None."""
    for pattern in _DATE_AT_RES:
        match = pattern.match(text.scan, position)
        if match is not None:
            month = match.group("month")
            day = _day_number(_DAY_PART_RE.findall(match.group("day"))[0])
            year = _full_year(match.group("year"))
            value = Date(year, MONTHS[month] if month in MONTHS else int(month), day, every=False)
            check_date_exists(value)
            return value, match.end()
    slashed = _SLASHED_AT_RE.match(text.scan, position)
    if slashed is None:
        return None
    part = _SLASHED_PARTS_RE.fullmatch(slashed.group())
    assert part is not None  # the same shape
    return _slashed(text, position, part, every=False), slashed.end()


def match_dates(text: Text, found: Found) -> None:
    for pattern in (_DATE_ISO_RE, _DATE_MONTH_DAY_RE, _DATE_DAY_MONTH_RE):
        for match in pattern.finditer(text.scan):
            groups = match.groupdict()
            if pattern is _DATE_DAY_MONTH_RE and text.word_before(match.start()) == "at":
                continue  # "at 9 may ..." is a time
            month = groups["month"]
            month_number = MONTHS[month] if month in MONTHS else int(month)
            year = int(groups["year"]) if groups["year"] else None
            every = groups.get("every") is not None
            if every and year is not None:
                raise NotUnderstoodError(N_("A date with a year happens once, not every year."))
            values: list[Date] = []
            if groups.get("days") is None:  # ISO: one date
                values.append(Date(year, month_number, int(groups["day"]), every))
            else:
                days_start = match.start("days")
                for part in _LISTED_DAY_RE.finditer(text.scan, days_start, match.end("days")):
                    if part.group("month"):
                        month_number = MONTHS[part.group("month")]
                    values.append(Date(year, month_number, _day_number(part["day"]), every))
            found.put("dates", tuple(values), N_("a date"))
            text.claim(match.start(), match.end())
    _match_numeric_dates(text, found)


def _day_number(written: str) -> int:
    return DAY_ORDINALS.get(" ".join(written.split())) or int(written)


def _match_numeric_dates(text: Text, found: Found) -> None:
    for match in _DATE_DOTTED_RE.finditer(text.scan):
        year = _full_year(match.group("year"))
        value = Date(year, int(match.group("month")), int(match.group("day")), every=False)
        check_date_exists(value)
        found.put("dates", (value,), N_("a date"))
        text.claim(match.start(), match.end())
    for match in _DATE_SLASHED_RE.finditer(text.scan):
        every = match.group("every") is not None
        values = tuple(
            _slashed(text, match.start("dates") + part.start(), part, every)
            for part in _SLASHED_PARTS_RE.finditer(match.group("dates"))
        )
        found.put("dates", values, N_("a date"))
        text.claim(match.start(), match.end())


def _slashed(text: Text, start: int, part: re.Match[str], every: bool) -> Date:
    first, second = int(part.group("first")), int(part.group("second"))
    year = _full_year(part.group("year"))
    if every and year is not None:
        raise NotUnderstoodError(N_("A date with a year happens once, not every year."))
    readings = {
        (day, month) for day, month in ((first, second), (second, first)) if _exists(month, day)
    }
    shown = text.shown(start, start + len(part.group()))
    if not readings:
        raise NotUnderstoodError(N_("“{shown}” is not a date."), shown=shown)
    if len(readings) > 1:
        raise NotUnderstoodError(
            N_(
                "“{shown}” could be {first} {month} or {second} {other_month}; please write "
                "the month as a word, e.g. “{first} {month}”."
            ),
            shown=shown,
            first=first,
            month=MONTH_TITLES[second],
            second=second,
            other_month=MONTH_TITLES[first],
        )
    ((day, month),) = readings
    return Date(year, month, day, every)


def _full_year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


def _exists(month: int, day: int) -> bool:
    try:
        date(2000, month, day)  # a leap year: February 29 exists
    except ValueError:
        return False
    return True


def match_month_days(text: Text, found: Found) -> None:
    for match in _MONTH_DAYS_RE.finditer(text.scan):
        monthly = match.group("of_month") is not None
        next_month = match.group("next_month") is not None
        pre, the = match.group("pre"), match.group("the")
        days: list[int] = []
        last = False
        loose_number = False  # "15" without "th": fine after "on the", else too vague
        words = False  # "fifteenth": only with "of the month" or after "on the"
        for part in _MONTH_DAY_PART_RE.finditer(match.group("items")):
            if part.group("last"):
                last = True
            elif part.group("word"):
                days.append(_day_number(part.group("word")))
                words = True
            else:
                days.append(int(part.group("number")))
                loose_number = loose_number or part.group("suffix") is None
        suffixed = any(char.isdigit() for char in match.group("items")) and not loose_number
        if words and not (monthly or next_month or (pre and the) or match.group("of_period")):
            continue  # "the second chapter", "every third": not a day of the month
        if not (
            monthly  # "the 15th of every month", "the first of the month"
            or next_month  # "the 12th of next month"
            or (match.group("of_period") and months_period(found))  # "the 4th of every 3 months"
            or (pre and the)  # "on the 15", "on the first"
            or (suffixed and (pre or the))  # "on 15th", "the 15th"
            or (match.group("day_word") and the)  # "the last day"
        ):
            continue  # "15", "the 2 top stories", "first": not a day of the month
        if last and days:
            raise NotUnderstoodError(N_("I can't mix “the last day” with other days of the month."))
        if any(not 1 <= day <= 31 for day in days):
            raise NotUnderstoodError(N_("A month has days 1 to 31."))
        field = "L" if last else render_numbers(set(days), range(1, 32))
        found.put("month_days", field, N_("a day of the month"))
        end = match.end()
        if match.group("of_period") and not months_period(found):
            end = match.start("of_period")  # "the 4th of [every day]": the "of" is declined
        # "of the month" (or "monthly" elsewhere) makes it monthly, and so does "every 15th"
        # when no unit follows: "every 2nd day" or "every 2nd week" is not monthly.
        every_nth = pre in ("every", "each") and suffixed and not match.group("day_word")
        if every_nth and _NOT_MONTHLY_AFTER_RE.match(text.scan, match.end()) is None:
            monthly = True
        found.monthly = found.monthly or monthly
        found.next_month = found.next_month or next_month
        text.claim(match.start(), end)


def date_once(value: Date, clock: tuple[int, int], when: When) -> datetime:
    if value.year is not None:
        try:
            day = date(value.year, value.month, value.day)
        except ValueError as error:
            raise no_such_date(value) from error
        run_at = when.at(day, clock)
        if run_at <= when.now:
            raise NotUnderstoodError(N_("That date has already passed."))
        return run_at
    check_date_exists(value)
    # This year if still ahead, else the next year that has the date (February 29).
    for year in range(when.now.year, min(when.now.year + 9, 10_000)):
        try:
            day = date(year, value.month, value.day)
        except ValueError:
            continue
        run_at = when.at(day, clock)
        if run_at > when.now:
            return run_at
    raise NotUnderstoodError(N_("That date is too far in the future."))


def check_date_exists(value: Date) -> None:
    try:
        date(2000, value.month, value.day)  # a leap year: February 29 exists
    except ValueError as error:
        raise no_such_date(value) from error


def no_such_date(value: Date) -> NotUnderstoodError:
    if 1 <= value.month <= 12:
        return NotUnderstoodError(
            N_("There is no {month} {day}."), month=MONTH_TITLES[value.month], day=value.day
        )
    return NotUnderstoodError(N_("There is no month {number}."), number=value.month)

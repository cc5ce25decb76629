"""The words the rules parser knows (days, months, numbers, units) and pattern pieces of them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, NamedTuple

from core.errors import N_

# cron numbering: Sunday = 0 ... Saturday = 6.
WEEKDAYS: Final = (
    ("sunday", ("sun",)),
    ("monday", ("mon",)),
    ("tuesday", ("tue", "tues")),
    ("wednesday", ("wed", "weds")),
    ("thursday", ("thu", "thur", "thurs")),
    ("friday", ("fri",)),
    ("saturday", ("sat",)),
)
# Facts of the declines (`weekday`, `month`), translated by front doors.
WEEKDAY_TITLES: Final = (
    N_("Sunday"), N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
    N_("Saturday"),
)  # fmt: skip


class _DayForm(NamedTuple):
    weekday: int
    full: bool  # "monday" or "thurs", not "sun", "sat", "wed": alone those are English words
    plural: bool


_ENGLISH_ABBREVIATIONS: Final = frozenset({"sun", "sat", "wed"})


def _day_forms() -> dict[str, _DayForm]:
    forms: dict[str, _DayForm] = {}
    for number, (name, abbreviations) in enumerate(WEEKDAYS):
        forms[name] = _DayForm(number, full=True, plural=False)
        forms[name + "s"] = _DayForm(number, full=True, plural=True)
        for abbreviation in abbreviations:
            full = abbreviation not in _ENGLISH_ABBREVIATIONS
            forms[abbreviation] = _DayForm(number, full=full, plural=False)
    return forms


DAY_FORMS: Final = _day_forms()
MONTHS: Final = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
MONTH_TITLES: Final = (
    "", N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
    N_("July"), N_("August"), N_("September"), N_("October"), N_("November"), N_("December"),
)  # fmt: skip
HOUR_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
NUMBER_WORDS: Final = {
    **HOUR_WORDS, "a": 1, "an": 1, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50,
}  # fmt: skip
ORDINALS: Final = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "last": -1,
}  # fmt: skip
_ORDINAL_UNITS: Final = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
)  # fmt: skip
_ORDINAL_TEENS: Final = (
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth",
)  # fmt: skip


def _day_ordinals() -> dict[str, int]:
    """ "first" ... "thirty-first" (also "twenty first"), the days of a month as words."""
    words = {word: number for number, word in enumerate(_ORDINAL_UNITS, start=1)}
    words |= {word: number for number, word in enumerate(_ORDINAL_TEENS, start=10)}
    words |= {"twentieth": 20, "thirtieth": 30}
    for tens, base in (("twenty", 20), ("thirty", 30)):
        for number, unit in enumerate(_ORDINAL_UNITS[: 9 if base == 20 else 1], start=1):
            words[f"{tens}-{unit}"] = words[f"{tens} {unit}"] = base + number
    return words


DAY_ORDINALS: Final = _day_ordinals()
DETERMINERS: Final = frozenset(
    {"a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that",
     "these", "those"}
)  # fmt: skip


def alternation(words: Iterable[str]) -> str:
    # Longest first, so "tues" is tried before "tue".
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


DAY_WORD = rf"(?<![\w'])(?:{alternation(DAY_FORMS)})\b"
DAY_GROUP = r"(?:week\s?days?|work\s?days?|working\s+days?|business\s+days?|week\s?ends?)\b"
MONTH_WORD = rf"(?:{alternation(MONTHS)})\b"
NUMBER_WORD = rf"(?:[0-9]{{1,6}}(?![0-9])|\b(?:{alternation(NUMBER_WORDS)})\b)"
HOUR_WORD = rf"\b(?:{alternation(HOUR_WORDS)})"
UNIT_WORD = r"(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w)\b"
CALENDAR_UNIT_WORD = r"(?:months?|mos?|mths?|years?|yrs?)\b"
# A day of the month: "15", "15th", "fifteenth", "twenty-first".
DAY_NUMBER = rf"(?:[0-9]{{1,2}}(?:st|nd|rd|th)?(?![0-9])|\b(?:{alternation(DAY_ORDINALS)})\b)"
MERIDIEM = r"(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
PART_OF_DAY = r"(?:morning|afternoon|evening|night)"

# Minutes before "past" ("10 past 2", "twenty past 3", "5 minutes to 9").
_MINUTES = r"(?:[1-5]?[0-9]|five|ten|twenty(?:[\s-]five)?)"
# One clock time that cannot be mistaken for a plain number.
CLOCK = (
    r"(?:"
    rf"[0-9]{{1,2}}(?:[:.]?[0-9]{{2}})?\s{{0,3}}{MERIDIEM}"
    r"|[0-9]{1,2}:[0-9]{2}[ap](?![a-z0-9])"  # "8:30a", "3:18p"
    rf"|{HOUR_WORD}\s{{0,3}}{MERIDIEM}"
    r"|[0-9]{1,2}:[0-9]{2}(?![0-9]|:[0-9])(?:\s?z\b)?"
    rf"|(?:[0-9]{{1,2}}|{HOUR_WORD})\s?o'?clock\b"
    r"|\b(?:noon|midday|midnight)\b"
    r"|(?<![\w.])[0-9]{1,2}h[0-9]{2}\b"  # 9h30
    rf"|\b(?:a\s+)?(?:(?:half|quarter|{_MINUTES}(?:\s+minutes?)?)\s+(?:past|after)|quarter\s+to"
    rf"|{_MINUTES}\s+minutes?\s+to)\s+(?:[0-9]{{1,2}}(?![0-9:.])|{HOUR_WORD}\b)"
    rf"(?:\s{{0,3}}{MERIDIEM})?"
    r")"
)
# "9.30" is a time after "at" ("at 9.30"); elsewhere it may be a price or a version.
DOTTED_CLOCK = r"[0-9]{1,2}\.[0-5][0-9](?![0-9]|\.[0-9])"
# "0930", "1745", "1700 hours" after "at": a 24-hour time. A round "1000" is one only when the
# sentence or the schedule goes on ("at 1000 followers" is a count).
MILITARY_CLOCK = (
    r"(?:(?:0[0-9]|1[0-9]|2[0-3])[0-5][0-9](?=\s*(?:hrs|hours|h)\b)"
    r"|(?:0[0-9][0-5][0-9]|(?:1[0-9]|2[0-3])(?:[0-5][1-9]|[1-5]0))(?![0-9])"
    r"|(?:1[0-9]|2[0-3])00(?=\s*(?:$|[^\sa-z0-9]|(?:on|every|each|daily|today|tomorrow|tonight"
    r"|utc|gmt)\b)))(?:\s*(?:hrs|hours|h)\b)?"
)

# A bare hour ("at 9"); not "9%", "9th", "9.5", "10 minutes".
BARE_HOUR = (
    r"[0-9]{1,2}(?![0-9]|[:.][0-9]|\s?(?:%|st\b|nd\b|rd\b|th\b|a\.?m|p\.?m)"
    r"|\s*(?:secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|years?|times?)\b)"
)
TIME_SEPARATOR = r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)(?:(?:\bat\b|@)\s*)?"
AT = r"(?:\bat\s*|@\s*)"
# "of the month", "of every month", "of next month" after a day of the month or an n-th weekday.
MONTH_SUFFIXES = (
    r"(?P<of_month>\s+(?:of|in)\s+(?:the|every|each|a)\s+month\b)"
    r"|(?P<next_month>\s+(?:of\s+|in\s+)?next\s+month\b)"
    # "the 4th of [every other month]": "of" before a period already read (claimed).
    r"|(?P<of_period>\s+of(?=\s*\x00))"
)
MONTH_SUFFIX = rf"(?:{MONTH_SUFFIXES})?"

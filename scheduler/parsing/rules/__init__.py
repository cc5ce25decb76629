"""The rules parser: the English phrases people really type, turned into a schedule and a prompt.

No LLM is involved and nothing is guessed: whatever is not fully understood is declined with
`NotUnderstoodError`, whose text is a short reason meant for the user (the LLM parser may then try).

How it works. The text is copied into a lowercase "scan" of the same length (URLs and e-mail
addresses masked so nothing inside them is read as a schedule). Small matchers, in a fixed order,
each look for one kind of schedule phrase (zone, "in 2 hours", "every 15 minutes", "from 9 to 17",
"the first monday of the month", dates, "on the 15th", "daily"/"monthly", "tomorrow", day names,
"every morning", clock times), record what they found and claim the characters they used. What is
left is the prompt. Before building the schedule, the leftovers are checked: a schedule-like word
that no matcher claimed (a day or month name, "every", a clock time, "daily", "until", ...) means
the message was not fully understood, so it is declined rather than scheduled wrongly.

Decisions (the product contract is PRODUCT.md, "Scheduling semantics"):

- Cron output is standard Vixie cron read in the schedule's zone, in canonical form: numbers, not
  names; runs of three or more consecutive values as ranges (`1-5`), other sets as lists (`0,6`);
  `*` for "every"; `* * * * *` for every minute and `0 * * * *` for every hour (not `*/1`).
- Times: `9am`, `9 am`, `9 a.m.`, `9:30`, `09:30`, `9:30pm`, `9.30pm`, `18:30`, `9 o'clock`,
  `nine pm`, noon/midday (12:00), midnight (00:00). A bare hour is only read as a time after
  "at"/"@" (or inside "from 9 to 17" / "between 9 and 17") and means that hour on the 24-hour
  clock: "at 9" is 09:00, "at 17" is 17:00. `9.30` without am/pm is declined (ambiguous); so are
  25:00, 9:75, 13pm, 0am, and a list or window that mixes bare hours with am/pm ("from 9am to 5").
- Parts of day: morning 08:00, afternoon 14:00, evening 18:00, night/tonight 21:00. With a clock
  time the part of day must agree: an hour 1-11 written without am/pm and without a leading zero
  is moved to the afternoon/evening when the words say so ("tonight at 8" is 20:00, "each evening
  at 6:30" is 18:30, but "every evening at 06:30" is declined); any other disagreement
  ("tomorrow morning at 9pm", "tonight at 1") is declined. Accepted hours: morning 04-11,
  afternoon 12-17, evening 16-23, night 18-23.
- Days without a time run at 09:00, recurring or one-shot ("every monday", "tomorrow").
  "today" with no time at all is declined (which time?).
- Several times in one cron only when they form a grid: "at 9 and 17" is `0 9,17`, "at 9:00 and
  9:30" is `0,30 9`; "at 9 and 17:30" is declined (`0,30 9,17` would fire four times).
- "every weekend", "on weekends", "weekends" all mean Saturday and Sunday (`0,6`).
  "on monday" (singular) is a one-shot; "mondays", "every monday", or two or more days
  ("on monday and thursday", "mon, wed and fri", "mon-fri") repeat. Day ranges may wrap
  ("fri-mon" is `0,1,5,6`).
- Periods: every N minutes is `*/N` when N divides 60 (N < 60), otherwise an interval of N*60 s
  counted from now (so "every 60 minutes" is an interval, "every hour"/"hourly" is `0 * * * *`);
  every N hours is `0 */N` when N divides 24 (N < 24), otherwise an interval; every N seconds is
  an interval (the validator applies the minimum); every N days or weeks (N > 1) is an interval
  from now, declined with a time of day (a fixed time every N days cannot be exact in cron, and
  an interval drifts by an hour at each DST change). "every 1 day" is "every day" and
  "every 1 week"/"weekly"/"every week" with a day ("weekly on monday") is that day; "weekly" with
  no day and no time is an interval of 7 days from now, with a time but no day it is declined.
  A period can be limited to days ("every 30 minutes on weekdays" is `*/30 * * * 1-5`) only when
  it is a cron.
- Windows: hour steps include the end hour ("every hour from 9 to 17" is `0 9-17`, "every 2
  hours from 8 to 20" is `0 8-20/2`; the minute of the start is kept: "every hour from 9:30 to
  17" is `30 9-16`); minute steps exclude it ("every 30 minutes between 9am and 5pm" is
  `*/30 9-16`, last run 16:30) and need whole-hour bounds and a step dividing 60. Windows across
  midnight are declined. A window without a period is declined.
- Monthly: "monthly"/"every month" alone is the 1st at 09:00; "on the 1st and 15th of every month"
  is `1,15`; "the last day of the month" is `L`; "the first monday of every month" is `1#1`, up to
  "fifth" (`#5`, skips months without one). "of the month" counts as "every month". A day of the
  month or an n-th weekday without any "every month"/"monthly" is declined (once or monthly?),
  "every second tuesday" or "every 2nd day" without "of the month" is declined (could be
  fortnightly / every other day), and "the last
  friday of the month" is declined (our cron has no `5L`). Days 29-31 are taken literally (they
  skip shorter months; the confirmation card shows the next runs).
- Yearly: "every year on March 3", "every December 24", "annually on 1 jan", "on march 3 every
  year" give `M H D Mo *`. February 29 is accepted (runs in leap years).
- One-shots: "today/tonight/this evening" must still be ahead ("that time has already passed
  today"); "next monday" is the coming Monday, in 7 days if today is Monday; "on friday"/"friday"
  is the coming Friday, today if today is Friday and the time is still ahead, else in 7 days;
  "this friday" is the same except that a passed time today is declined; "the day after tomorrow"
  is supported; a date without a year is this year if still ahead, else the next year in which
  the date exists; a date with a year must be ahead; "Thursday, December 24" is checked for
  agreement; a time alone ("at 8pm") is today if still ahead, else tomorrow.
- "in N seconds/minutes/hours/days/weeks" (also "in an hour and a half", "in 1 hour and 30
  minutes", "in half an hour", "N minutes from now") is the exact instant now + N of elapsed
  time, computed in UTC, so DST does not shift it. "in 3 days at 9" is the calendar day three days
  from today at 09:00.
- A local time that falls in a spring-forward gap moves to the first valid instant after it
  (02:30 -> 03:00); in the repeated fall-back hour the first occurrence is used.
- Zones: "<city> time" / "in <city> time" where the city is the last part of an IANA name
  (underscores as spaces, case-insensitive, regions Africa ... Pacific only, so legacy names like
  "US/Pacific" are not cities; a few English words such as "christmas", "wake", "north" are not
  cities either), full IANA names anywhere ("Europe/Berlin"), "UTC"/"GMT" after a time or as
  "in UTC"/"UTC time", and "Z" right after a time ("18:00Z"). "local time"/"my time" means the
  chat's zone. "9am EST", "UTC+2", an unknown "in Foo time" or "at 9 Foo time" are declined,
  and so is a city right after a time without "time" ("at 9 Berlin": a zone or a place?).
  The text's zone is the schedule's zone and the times are read in it.
- Explicit cron: when the first five whitespace-separated tokens all look like cron fields (the
  minute and hour fields numeric), they are passed through unchanged with source "cron" and the
  rest is the prompt (zone phrases in it still apply). The Vixie macros (@daily, @hourly, ...)
  at the start are accepted as well and written out as five fields.
- The prompt is the text without the schedule phrases. Fragments made only of punctuation are
  dropped, a schedule set off by commas on both sides takes one comma with it, empty brackets go,
  punctuation left dangling at either end is removed (a final "." or "!" that belongs to the
  user's sentence stays, a final "?" always stays), runs of spaces become one (line breaks are
  kept), and the first letter is capitalised. Nothing else is rewritten.
- Frequency adjectives are part of the prompt when a determiner precedes them ("my daily
  briefing", "the weekly report"). Otherwise "daily" (and hourly/weekly/monthly/yearly/annually/
  nightly/everyday) is a schedule when it is the first word ("Daily news at 9": daily at 9,
  prompt "News") or ends a phrase (followed by punctuation, the end, a time, or "at"/"on"/...);
  elsewhere ("summarize daily news every morning") it is declined as ambiguous.
- "today"/"tomorrow"/"tonight" after "for"/"of"/"about" or with "'s" belong to the prompt
  ("tomorrow's weather", "the news for today").
- Words that change the meaning of a schedule next to it are declined rather than ignored:
  "until", "except", "but not", "starting", "before", "after", "around", "or", "during",
  "for 2 weeks", "for an hour", "every other", "twice a day", "in Paris" right after a time, and
  a number right after a schedule phrase ("every day 10 UTC", "every monday 5 tips").
- Still declined, as not worth the risk: "9 to 5" without "from", "at 9.30", "12 noon",
  "half past nine", numeric dates other than ISO ("12/31", "31.12.2026"), "in 2 months", and
  "today"/"tomorrow" inside a repeating task's prompt unless written "for tomorrow"/"tomorrow's".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Final, Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import NotUnderstoodError, ScheduleError
from scheduler.schedules.schedule import ParsedRequest, Schedule
from storage.records import TaskKind

__all__ = ["parse_rules"]


# --- vocabulary ---------------------------------------------------------------------------------

# cron numbering: Sunday = 0 ... Saturday = 6.
_WEEKDAYS: Final = (
    ("sunday", ("sun",)),
    ("monday", ("mon",)),
    ("tuesday", ("tue", "tues")),
    ("wednesday", ("wed", "weds")),
    ("thursday", ("thu", "thur", "thurs")),
    ("friday", ("fri",)),
    ("saturday", ("sat",)),
)
_WEEKDAY_TITLES: Final = tuple(name.capitalize() for name, _ in _WEEKDAYS)


class _DayForm(NamedTuple):
    weekday: int
    full: bool  # "monday", not "mon": an abbreviation alone is too often an English word
    plural: bool


def _day_forms() -> dict[str, _DayForm]:
    forms: dict[str, _DayForm] = {}
    for number, (name, abbreviations) in enumerate(_WEEKDAYS):
        forms[name] = _DayForm(number, full=True, plural=False)
        forms[name + "s"] = _DayForm(number, full=True, plural=True)
        for abbreviation in abbreviations:
            forms[abbreviation] = _DayForm(number, full=False, plural=False)
    return forms


_DAY_FORMS: Final = _day_forms()

_MONTHS: Final = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
    "dec": 12,
}  # fmt: skip
_MONTH_TITLES: Final = (
    "", "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

_HOUR_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_NUMBER_WORDS: Final = {
    **_HOUR_WORDS, "a": 1, "an": 1, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50,
}  # fmt: skip
_ORDINALS: Final = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "last": -1,
}  # fmt: skip

_UNIT_SECONDS: Final = {"s": 1, "min": 60, "h": 3600, "d": 86400, "w": 604800}
# Before a day name these make it something we don't schedule ("last monday", "every other").
_NOT_BEFORE_A_DAY: Final = frozenset(
    {"last", "past", "previous", "other", "first", "second", "third", "fourth", "fifth", "1st",
     "2nd", "3rd", "4th", "5th"}
)  # fmt: skip

_PART_OF_DAY_DEFAULT: Final = {"morning": 8, "afternoon": 14, "evening": 18, "night": 21}
_PART_OF_DAY_HOURS: Final = {
    "morning": range(4, 12),
    "afternoon": range(12, 18),
    "evening": range(16, 24),
    "night": range(18, 24),
}
_DEFAULT_HOUR: Final = 9

# Zone regions whose last path segment is a city; legacy directories (US/, Canada/, Etc/ ...)
# and top-level names (EST, Japan, Zulu ...) are left out on purpose.
_CITY_REGIONS: Final = frozenset(
    {"Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe",
     "Indian", "Pacific"}
)  # fmt: skip
# Last segments that are ordinary English before "time" ("wake time", "christmas time").
_NOT_CITIES: Final = frozenset(
    {"act", "center", "christmas", "easter", "knox in", "north", "oral", "south", "tell city",
     "troll", "wake", "west", "yap"}
)  # fmt: skip
_ZONE_ALIASES: Final = {"utc": "UTC", "gmt": "GMT", "z": "UTC"}
# Abbreviations people put after a time; they are ambiguous (IST, CST) or not IANA names.
_ZONE_ABBREVIATIONS: Final = frozenset(
    {"acst", "aedt", "aest", "akdt", "akst", "awst", "bst", "cdt", "cest", "cet", "cst", "ct",
     "edt", "eest", "eet", "est", "et", "hst", "ist", "jst", "kst", "mdt", "msk", "mst", "mt",
     "nzdt", "nzst", "pdt", "pst", "pt", "sast", "wet", "wib"}
)  # fmt: skip

_DETERMINERS: Final = frozenset(
    {"a", "an", "the", "my", "your", "our", "their", "his", "her", "its", "this", "that",
     "these", "those"}
)  # fmt: skip
# Words that may follow "daily" (& co.) when it closes a schedule phrase: "daily at 9".
_FREQUENCY_FOLLOWERS: Final = frozenset(
    {"at", "on", "in", "from", "between", "and", "until", "till", "starting", "except", "around",
     "by", "before", "after", "every", "each"}
)  # fmt: skip
# Right before a schedule phrase these change its meaning ("until friday", "not on mondays").
_MODIFIERS_BEFORE: Final = frozenset(
    {"about", "after", "around", "at", "before", "beginning", "between", "but", "by", "each",
     "every", "except", "excluding", "fifth", "first", "fourth", "from", "in", "last", "near",
     "never", "next", "not", "on", "or", "other", "past", "previous", "second", "since",
     "starting", "than", "third", "till", "til", "until", "within"}
)  # fmt: skip
# Right after a schedule phrase these do ("at 9 or 10", "tomorrow until 5", "at 9 sharp").
_MODIFIERS_AFTER: Final = frozenset(
    {"after", "around", "at", "before", "beginning", "between", "but", "each", "earliest",
     "during", "every", "except", "excluding", "from", "in", "ish", "later", "latest", "on",
     "onward", "onwards", "or", "outside", "sharp", "since", "starting", "through", "thru",
     "till", "til", "until", "week", "while", "within"}
)  # fmt: skip

# Same-length replacements, so positions in the scan are positions in the original text.
_NORMALISE: Final = str.maketrans(
    {
        **{chr(code): " " for code in (*range(32), 127)},
        "\u00a0": " ", "\u2007": " ", "\u2009": " ", "\u202f": " ", "\u3000": " ",
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
        "\u2018": "'", "\u2019": "'", "\u02bc": "'",
    }
)  # fmt: skip
_CLAIMED: Final = "\x00"  # written over claimed characters; no pattern matches across it


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "tues" is tried before "tue".
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


# --- patterns -----------------------------------------------------------------------------------

_DAY = rf"(?<![\w'])(?:{_alternation(_DAY_FORMS)})\b"
_DAY_GROUP = r"(?:week\s?days?|work\s?days?|working\s+days?|business\s+days?|week\s?ends?)\b"
_MONTH = rf"(?:{_alternation(_MONTHS)})\b"
_NUMBER = rf"(?:[0-9]{{1,6}}(?![0-9])|\b(?:{_alternation(_NUMBER_WORDS)})\b)"
_HOUR_WORD = rf"\b(?:{_alternation(_HOUR_WORDS)})"
_UNIT = r"(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w)\b"
_MERIDIEM = r"(?:a\.?m\.?|p\.?m\.?)(?![a-z])"
_PART_OF_DAY = r"(?:morning|afternoon|evening|night)"

# One clock time that cannot be mistaken for a plain number.
_CLOCK = (
    r"(?:"
    rf"[0-9]{{1,2}}(?:[:.][0-9]{{2}})?\s{{0,3}}{_MERIDIEM}"
    rf"|{_HOUR_WORD}\s{{0,3}}{_MERIDIEM}"
    r"|[0-9]{1,2}:[0-9]{2}(?![0-9]|:[0-9])(?:\s?z\b)?"
    rf"|(?:[0-9]{{1,2}}|{_HOUR_WORD})\s?o'?clock\b"
    r"|\b(?:noon|midday|midnight)\b"
    r")"
)
# A bare hour ("at 9"); not "9%", "9th", "9.5", "10 minutes".
_BARE_HOUR = (
    r"[0-9]{1,2}(?![0-9]|[:.][0-9]|\s?(?:%|st\b|nd\b|rd\b|th\b|a\.?m|p\.?m)"
    r"|\s*(?:secs?|seconds?|mins?|minutes?|hours?|hrs?|days?|weeks?|months?|years?|times?)\b)"
)
_TIME_SEPARATOR = r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)(?:(?:\bat\b|@)\s*)?"
_AT = r"(?:\bat\s*|@\s*)"

_TIMES_RE: Final = re.compile(
    rf"{_AT}(?P<listed>(?:{_CLOCK}|{_BARE_HOUR})(?:{_TIME_SEPARATOR}(?:{_CLOCK}|{_BARE_HOUR}))"
    r"{0,5})"
    rf"|(?<![\w:.$€£])(?P<plain>{_CLOCK}(?:{_TIME_SEPARATOR}{_CLOCK}){{0,5}})"
)
_TIME_SPLIT_RE: Final = re.compile(r"\s*(?:,\s*and\s+|,|\band\b|&)\s*(?:(?:at\b|@)\s*)?")
_CLOCK_PARTS_RE: Final = re.compile(
    rf"(?P<hour>[0-9]{{1,2}}|{_HOUR_WORD})(?:[:.](?P<minute>[0-9]{{2}}))?\s*"
    r"(?:(?P<meridiem>[ap])\.?m\.?|(?P<oclock>o'?clock))?(?P<zulu>\s?z)?"
    r"|(?P<named>noon|midday|midnight)"
)
# After a time: "UTC", "GMT+2", "EST" ...
_AFTER_TIME_ZONE_RE: Final = re.compile(
    r"\s*(?:(?P<alias>utc|gmt)\b(?P<offset>\s*[+-]\s*[0-9])?|(?P<word>[a-z]{2,5})\b)"
)
# After a time: "<Name> time" or "in <name> time" is a zone we do not know (known ones are claimed).
_AFTER_TIME_ZONE_NAME_RE: Final = re.compile(
    r"\s+(?P<in>in\s+)?(?P<name>[a-z][a-z'.-]*(?:\s+[a-z][a-z'.-]*)?)\s+time\b"
)
_AFTER_TIME_LOCAL_RE: Final = re.compile(r"\s*(?:in\s+)?(?:local|my|our)\s+time\b(?:\s+zone\b)?")

_WINDOW_RE: Final = re.compile(
    rf"(?:\b(?P<pre>from|between)\s+)?(?<![\w:.])(?P<start>{_CLOCK}|{_BARE_HOUR})\s*"
    r"(?P<separator>-|\bto\b|\buntil\b|\btill\b|\band\b|\bthrough\b)\s*"
    rf"(?P<end>{_CLOCK}|{_BARE_HOUR})"
)

_PERIOD_RE: Final = re.compile(
    rf"\b(?:every|each)\s+(?:(?P<count>{_NUMBER})\s*(?P<unit>{_UNIT})"
    r"|(?P<half>half[\s-]+(?:an\s+)?hour|half[\s-]?hour)\b"
    r"|(?P<quarter>quarter(?:\s+of\s+an)?[\s-]+hour)\b"
    r"|(?P<single>minute|hour)\b)"
    r"|(?:@|\b)(?P<hourly>hourly)\b"
)

_DURATION = (
    rf"(?:{_NUMBER}\s*{_UNIT}(?:\s+and\s+a\s+half)?|half\s+an?\s+hour|a\s+half[\s-]hour"
    r"|a\s+quarter\s+(?:of\s+)?an?\s+hour)"
)
_OFFSET_RE: Final = re.compile(
    rf"\bin\s+(?P<after_in>{_DURATION}(?:(?:\s*,\s*|\s+and\s+|\s+){_DURATION})?)"
    r"(?:\s+from\s+now\b)?"
    rf"|(?<![\w.])(?P<from_now>{_DURATION}(?:(?:\s*,\s*|\s+and\s+|\s+){_DURATION})?)"
    r"\s+from\s+now\b"
)
_DURATION_PART_RE: Final = re.compile(
    rf"(?P<count>{_NUMBER})\s*(?P<unit>{_UNIT})(?P<and_half>\s+and\s+a\s+half)?"
    r"|(?P<half_hour>half\s+an?\s+hour|a\s+half[\s-]hour)"
    r"|(?P<quarter_hour>a\s+quarter\s+(?:of\s+)?an?\s+hour)"
)

_MONTH_SUFFIX = r"(?P<of_month>\s+of\s+(?:the|every|each|a)\s+month\b)?"
_NTH_WEEKDAY_RE: Final = re.compile(
    r"(?:\b(?P<pre>on|every|each)\s+)?(?:\b(?:the|every|each)\s+)?"
    rf"\b(?P<ordinal>{_alternation(_ORDINALS)})\s+(?P<day>{_DAY})(?!')" + _MONTH_SUFFIX
)

_YEAR = r"(?:,?\s+(?P<year>[0-9]{4})(?![0-9:]))?"
_DATE_ISO_RE: Final = re.compile(
    r"(?:\bon\s+)?(?<![\w.:/-])(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?![\w:/-])"
)
_DATE_MONTH_DAY_RE: Final = re.compile(
    rf"(?:\b(?P<every>every|each)\s+|\bon\s+)?(?:\bthe\s+)?\b(?P<month>{_MONTH})\.?\s*"
    r"(?:the\s+)?(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?"
    r"(?![0-9]|[:.][0-9]|\s?(?:[ap]\.?m\b|o'?clock|%)|[a-z])" + _YEAR
)
_DATE_DAY_MONTH_RE: Final = re.compile(
    rf"(?:\b(?P<every>every|each)\s+|\bon\s+)?(?:\bthe\s+)?(?<![\w:.#])(?P<day>[0-9]{{1,2}})"
    rf"(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<month>{_MONTH})\.?" + _YEAR
)

_MONTH_DAY_ITEM = r"(?:[0-9]{1,2}(?:st|nd|rd|th)?|first|last(?:\s+day)?)"
_MONTH_DAYS_RE: Final = re.compile(
    r"(?:\b(?P<pre>on|every|each)\s+)?(?:\b(?P<the>the)\s+)?(?<![\w:.])"
    rf"(?P<items>{_MONTH_DAY_ITEM}(?:(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*)(?:the\s+)?"
    rf"{_MONTH_DAY_ITEM}){{0,9}})\b(?![:.][0-9])(?P<day_word>\s+day\b)?" + _MONTH_SUFFIX
)
_MONTH_DAY_PART_RE: Final = re.compile(
    r"(?P<number>[0-9]{1,2})(?P<suffix>st|nd|rd|th)?|(?P<first>first)|(?P<last>last)"
)

_FREQUENCY_RE: Final = re.compile(
    r"\b(?P<daily>(?:every|each)\s+(?:single\s+)?day)\b"
    r"|\b(?P<weekly>(?:every|each)\s+week)\b"
    r"|\b(?P<monthly>(?:every|each)\s+month)\b"
    r"|\b(?P<yearly>(?:every|each)\s+year)\b"
    r"|(?:@|\b)(?P<word>daily|everyday|weekly|monthly|yearly|annually|nightly)\b"
)

_RELATIVE_DAY_RE: Final = re.compile(
    r"\b(?:(?P<after_tomorrow>(?:the\s+)?day\s+after\s+tomorrow)|(?P<tomorrow>tomorrow|tmrw)"
    rf"|(?P<today>today)|(?P<tonight>tonight)|this\s+(?P<this>morning|afternoon|evening))\b(?!')"
    rf"(?:\s+(?:in\s+the\s+)?(?P<part>{_PART_OF_DAY})\b(?!'))?"
)

_DAY_ITEM = rf"(?:{_DAY}(?:\s*(?:-|\bto\b|\bthrough\b|\bthru\b)\s*{_DAY})?|{_DAY_GROUP})"
_DAY_SEPARATOR = r"(?:\s*,\s*and\s+|\s*,\s*|\s+and\s+|\s*&\s*|\s*/\s*)(?:(?:on|every|each)\s+)?"
_DAYS_RE: Final = re.compile(
    r"(?:\b(?P<pre>on\s+every|on\s+each|every|each|on|from|next|this\s+coming|this|coming|at)"
    r"\s+)?"
    rf"(?P<days>{_DAY_ITEM}(?:{_DAY_SEPARATOR}{_DAY_ITEM}){{0,6}})(?!')"
    rf"(?:\s+(?:in\s+the\s+)?(?P<part>{_PART_OF_DAY})(?P<parts>s)?\b(?!'))?"
)
_DAY_PART_RE: Final = re.compile(
    rf"(?P<first>{_DAY})(?:\s*(?:-|\bto\b|\bthrough\b|\bthru\b)\s*(?P<last>{_DAY}))?"
    rf"|(?P<group>{_DAY_GROUP})"
)

_PART_OF_DAY_RE: Final = re.compile(
    rf"\b(?:(?P<every>every|each)\s+|in\s+the\s+|at\s+(?=night))(?P<part>{_PART_OF_DAY})\b(?!')"
)

_IANA_RE: Final = re.compile(
    r"(?:\bin\s+)?(?<![\w/_-])(?P<name>[a-z]+(?:[_-][a-z]+)*(?:/[a-z0-9_+-]+){1,2})(?![\w/])"
    r"(?:\s+time\b(?:\s+zone\b)?)?"
)
_ALIAS_ZONE_RE: Final = re.compile(
    r"\b(?:in\s+(?P<in>utc|gmt)\b|(?P<named>utc|gmt)\s+time\b)(?P<offset>\s*[+-]\s*[0-9])?"
)
_LOCAL_TIME_RE: Final = re.compile(r"\bin\s+(?:local|my|our)\s+time\b(?:\s+zone\b)?")
_TIME_WORD_RE: Final = re.compile(r"\btime\b(?:\s+zone\b)?")
_WORDS_BEFORE_RE: Final = re.compile(r"(?<![\w'.-])((?:[a-z][a-z'.-]*\s+){1,4})$")
_WORD_RE: Final = re.compile(r"[a-z][a-z'.-]*")
_WORDS_AFTER_RE: Final = re.compile(r"\s+((?:[a-z][a-z'.-]*)(?:\s+[a-z][a-z'.-]*){0,2})")

_WORD_BEFORE_RE: Final = re.compile(r"([a-z']+)\s*$")
_WORD_AFTER_RE: Final = re.compile(r"\s*([a-z']+)")
_TOKEN_END_RE: Final = re.compile(r"\s|$")
# Right after a schedule phrase: "for 2 weeks", "9-17", "or so".
# Right after a schedule phrase: "for 2 weeks", "for an hour", or a number ("every day 10 UTC",
# "every hour 9-17"): a number there is too likely a time or a range we did not read.
_AFTER_PHRASE_RE: Final = re.compile(
    r"\s*(?:for\s+(?:the\s+next\s+)?(?:[0-9]+|a|an|one|two|three|four|five|six|seven|eight|nine"
    r"|ten)\s+(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|times?)\b|[0-9])"
)

# Schedule-like words left in the prompt mean we did not understand the whole schedule.
_LEFTOVER_RES: Final = tuple(
    re.compile(pattern)
    for pattern in (
        r"\bevery\b(?:\s+[a-z0-9']+)?",
        r"\beach\s+(?:day|week|month|year|hour|minute|morning|afternoon|evening|night|weekday"
        rf"|weekend|other|time|{_alternation(name for name, _ in _WEEKDAYS)})",
        rf"\b(?:{_alternation(name for name, _ in _WEEKDAYS)})s?\b(?!')",
        r"\b(?:weekdays?|weekends|workdays?|business\s+days?|working\s+days?)\b",
        r"\b(?:on|at|this|next|the)\s+weekend\b",
        r"\b(?:next|this|coming)\s+(?:week|month|year)\b",
        rf"\b{_MONTH}\.?\s*(?:the\s+)?[0-9]",
        rf"(?<![\w.:])[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}",
        r"\b(?:in|on|every|each|of|until|till|from|since|before|after|next|this|by|during)\s+"
        r"(?:january|february|april|june|july|august|september|october|november|december)\b",
        r"[0-9]{1,2}:[0-9]{2}",
        r"\bat\s+[0-9]{1,2}\.[0-9]{2}\b",  # "at 9.30" could be a price; 9:30 or 9.30pm is a time
        rf"(?<![\w.])[0-9]{{1,2}}(?:[.:][0-9]{{2}})?\s?{_MERIDIEM}",
        r"\bo'?clock\b",
        r"\b(?:noon|midday|midnight)\b",
        r"\b(?:at|by|before|after|until|till|around)\s+[0-9]{1,2}(?![0-9%]|[.,][0-9])",
        rf"\bat\s+(?:{_alternation(_HOUR_WORDS)})\b",
        r"\b(?:once|twice|thrice|[0-9]+\s+times)\s+(?:a|an|per|every|each)\b",
        r"\b(?:fortnight|fortnightly|biweekly|bi-weekly|quarterly|semi-?annually|bimonthly)\b",
        r"\b(?:except|excluding)\b",
        r"\bbut\s+not\b",
        r"\b(?:in|within|after)\s+(?:[0-9]+|an?|half\s+an?)\s*(?:secs?|seconds?|mins?|minutes?"
        r"|hours?|hrs?|days?|weeks?|months?|years?)\b",
        r"\b(?:starting|beginning)\s+(?:from|on|at|in|next|this|tomorrow|today|tonight|now)\b",
        r"\bend\s+of\s+(?:the\s+)?(?:month|week|year|day)\b",
        r"\bat\s+(?:lunch|lunchtime|dinner|dinnertime|breakfast|bedtime|dawn|dusk|sunrise"
        r"|sunset)\b",
        r"\bon\s+(?:the\s+)?[0-9]{1,2}(?:st|nd|rd|th)?\b",
        r"(?<![\w.:#])[0-9]{1,2}(?:st|nd|rd|th)\b",
        r"(?<![\w./])[0-9]{1,2}/[0-9]{1,2}(?:/[0-9]{2,4})?(?![\w/])",
        r"(?<![\w.])[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}(?![\w.])",
        r"\b(?:utc|gmt)\s*[+-]\s*[0-9]",
        r"\b(?:from|between)\s+[0-9]{1,2}(?::[0-9]{2})?\s*(?:-|to|and|until|till)\s*[0-9]",
        r"(?<![\w.:])[0-9]{1,2}\s+(?:to|until|till)\s+[0-9]{1,2}(?![0-9])",
    )
)
_FREQUENCY_WORD_RE: Final = re.compile(
    r"\b(?:hourly|daily|nightly|weekly|monthly|yearly|annually|everyday)\b"
)

_CRON_NAME = r"(?:sun|mon|tue|wed|thu|fri|sat|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_CRON_VALUE = rf"(?:[0-9]{{1,2}}|{_CRON_NAME})"
_CRON_ITEM = rf"(?:(?:\*|{_CRON_VALUE}(?:-{_CRON_VALUE})?)(?:/[0-9]{{1,2}})?|l|{_CRON_VALUE}#[0-9])"
_CRON_FIELD_RE: Final = re.compile(rf"{_CRON_ITEM}(?:,{_CRON_ITEM}){{0,59}}", re.IGNORECASE)
_CRON_TIME_ITEM = r"(?:\*|[0-9]{1,2}(?:-[0-9]{1,2})?)(?:/[0-9]{1,2})?"
_CRON_TIME_FIELD_RE: Final = re.compile(rf"{_CRON_TIME_ITEM}(?:,{_CRON_TIME_ITEM}){{0,59}}")
_CRON_HEAD_RE: Final = re.compile(r"\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?!\S)")
_CRON_MACRO_RE: Final = re.compile(r"\s*@(\w+)(?!\S)")
_CRON_MACROS: Final = {
    "yearly": "0 0 1 1 *",
    "annually": "0 0 1 1 *",
    "monthly": "0 0 1 * *",
    "weekly": "0 0 * * 0",
    "daily": "0 0 * * *",
    "midnight": "0 0 * * *",
    "hourly": "0 * * * *",
}

_MASK_RE: Final = re.compile(r"(?:https?://|www\.)\S+|(?<!\S)[^\s@]{1,64}@[^\s@]+\.\S+")
# Punctuation only, in the user's own spelling (the prompt is cut from the original text).
_PROMPT_NOISE_RE: Final = re.compile(r"[\s,;:.!?\-\u2013\u2014()\[\]*_~\"'\u2018\u2019]*")
_EMPTY_BRACKETS_RE: Final = re.compile(r"\(\s*\)|\[\s*\]")
_SPACES_RE: Final = re.compile(r"[^\S\n]+")
_LINE_EDGE_SPACES_RE: Final = re.compile(r" ?\n ?")
_LEADING_NOISE_RE: Final = re.compile(r"^[\s,;:.!?)\]\-\u2013\u2014]+")
_TRAILING_NOISE_RE: Final = re.compile(r"(?:[\s,;:\-\u2013\u2014(\[]|\s[.!]+)+$")


# --- what the matchers found --------------------------------------------------------------------


class _Clock(NamedTuple):
    hour: int
    minute: int
    bare: bool  # an hour with neither minutes nor am/pm: "at 9", "9 o'clock"
    meridiem: bool  # written with am/pm
    padded: bool = False  # "09:30": a 24-hour clock, never moved to the afternoon


class _Date(NamedTuple):
    year: int | None
    month: int
    day: int
    every: bool  # "every December 24"


@dataclass
class _Found:
    """The schedule parts found so far; each value part may be given only once."""

    zone: str | None = None
    clocks: tuple[_Clock, ...] | None = None
    part_of_day: str | None = None
    daily: bool = False
    every_part_of_day: bool = False  # "every morning"
    weekdays: frozenset[int] | None = None
    weekday_once: tuple[int, str] | None = None  # (weekday, "on" | "next" | "this")
    relative_day: int | None = None  # today = 0, tomorrow = 1
    period: tuple[int, str] | None = None  # (count, unit) with unit s | min | h | d | w
    window: tuple[_Clock, _Clock] | None = None
    offset: tuple[timedelta, int | None] | None = None  # (delta, whole calendar days or None)
    weekly: bool = False
    monthly: bool = False
    month_days: str | None = None  # a cron day-of-month field: "1,15" or "L"
    nth_weekday: tuple[int, int] | None = None  # (weekday, k)
    yearly: bool = False
    date: _Date | None = None
    schedule_words: bool = False  # anything at all besides a zone

    def put(self, name: str, value: object, what: str) -> None:
        if getattr(self, name) is not None:
            raise NotUnderstoodError(f"I found {what} twice; please say it once.")
        setattr(self, name, value)
        self.schedule_words = True


class _Text:
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
        self.scan = self.scan[:start] + _CLAIMED * (end - start) + self.scan[end:]

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
        return _WORD_AFTER_RE.match(self.scan, position, position + 40)


# --- matchers -----------------------------------------------------------------------------------


def _match_zone(text: _Text, found: _Found) -> None:
    for match in _LOCAL_TIME_RE.finditer(text.scan):
        text.claim(match.start(), match.end())
    for match in _IANA_RE.finditer(text.scan):
        name = match.group("name")
        canonical = _zone_names().get(name)
        if canonical is None:
            if name.split("/", 1)[0].capitalize() in _CITY_REGIONS:
                shown = text.shown(match.start("name"), match.end("name"))
                raise NotUnderstoodError(f"I don't know the time zone “{shown}”.")
            continue
        _set_zone(found, canonical)
        text.claim(match.start(), match.end())
    for match in _ALIAS_ZONE_RE.finditer(text.scan):
        if match.group("offset"):
            raise NotUnderstoodError(
                "I can't use UTC offsets as a time zone; name a city, e.g. “Berlin time”."
            )
        _set_zone(found, _ZONE_ALIASES[match.group("in") or match.group("named")])
        text.claim(match.start(), match.end())
    _match_city_zones(text, found)


def _match_city_zones(text: _Text, found: _Found) -> None:
    cities = _city_zones()
    for match in _TIME_WORD_RE.finditer(text.scan):
        block = _WORDS_BEFORE_RE.search(text.scan, max(0, match.start() - 80), match.start())
        if block is None:
            continue
        words = [
            (word.group(), word.start())
            for word in _WORD_RE.finditer(text.scan, block.start(1), block.end(1))
        ]
        for count in range(min(3, len(words)), 0, -1):
            city = " ".join(word for word, _ in words[-count:])
            if city in cities:
                break
        else:
            _decline_unknown_city(text, words)
            continue
        start = words[-count][1]
        if len(words) > count and words[-count - 1][0] == "in":
            start = words[-count - 1][1]
        _set_zone(found, cities[city])
        text.claim(start, match.end())


def _decline_unknown_city(text: _Text, words: list[tuple[str, int]]) -> None:
    """Decline "in Foo time": a capitalised name after "in" was meant as a zone we don't know."""
    for index in range(len(words) - 2, max(-1, len(words) - 4), -1):
        if words[index][0] == "in":
            position = words[index + 1][1]
            if text.original[position].isupper():
                shown = text.shown(position, words[-1][1] + len(words[-1][0]))
                raise NotUnderstoodError(
                    f"I don't know the time zone “{shown} time”; try a city like “Berlin time”."
                )
            return


def _set_zone(found: _Found, zone: str) -> None:
    if found.zone is not None and found.zone != zone:
        raise NotUnderstoodError(f"You named two time zones ({found.zone} and {zone}).")
    found.zone = zone


def _match_offsets(text: _Text, found: _Found) -> None:
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
                seconds = count * _UNIT_SECONDS[unit]
                if part.group("and_half"):
                    seconds += _UNIT_SECONDS[unit] // 2
                    calendar_days = None
                elif unit in ("d", "w") and calendar_days is not None:
                    calendar_days += seconds // 86400
                else:
                    calendar_days = None
            delta += timedelta(seconds=seconds)
        if delta <= timedelta():
            raise NotUnderstoodError("“In 0 minutes” is not a time; say when.")
        found.put("offset", (delta, calendar_days), "“in …”")
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
    return _NUMBER_WORDS.get(word) or int(word)


def _match_periods(text: _Text, found: _Found) -> None:
    for match in _PERIOD_RE.finditer(text.scan):
        if match.group("hourly"):
            if not _closes_phrase(text, match.start("hourly"), match.end("hourly")):
                continue
            period = (1, "h")
        elif match.group("half"):
            period = (30, "min")
        elif match.group("quarter"):
            period = (15, "min")
        elif match.group("single"):
            period = (1, "min" if match.group("single") == "minute" else "h")
        else:
            period = (_number(match.group("count")), _unit(match.group("unit")))
        if period[0] == 0:
            raise NotUnderstoodError("“Every 0 …” is not a schedule.")
        found.put("period", period, "a period (“every …”)")
        text.claim(match.start(), match.end())


def _match_windows(text: _Text, found: _Found) -> None:
    for match in _WINDOW_RE.finditer(text.scan):
        start_text, end_text = match.group("start"), match.group("end")
        bare = _is_bare_number(start_text) or _is_bare_number(end_text)
        if match.group("pre") is None and bare:
            continue  # "10-12" is not a window; bare hours need "from"/"between"
        if (match.group("separator") == "and") != (match.group("pre") == "between"):
            continue  # "at 9am and 5pm" is two times; "from 9 and 5" is nothing
        start, end = _clock(start_text), _clock(end_text)
        _check_mixed_meridiem((start, end))
        found.put("window", (start, end), "a time window")
        text.claim(match.start(), match.end())


def _is_bare_number(item: str) -> bool:
    return item.strip().isdigit()


def _match_nth_weekdays(text: _Text, found: _Found) -> None:
    for match in _NTH_WEEKDAY_RE.finditer(text.scan):
        ordinal = _ORDINALS[match.group("ordinal")]
        monthly = match.group("of_month") is not None
        if ordinal == -1:
            if monthly or match.group("pre"):
                raise NotUnderstoodError(
                    "I can't schedule “the last <weekday> of the month” exactly; "
                    "try e.g. “the 4th friday of every month” if that is what you mean."
                )
            continue  # "last friday" is in the past: left for the leftover check
        weekday = _DAY_FORMS[match.group("day")].weekday
        found.put("nth_weekday", (weekday, ordinal), "a weekday of the month")
        found.monthly = found.monthly or monthly
        text.claim(match.start(), match.end())


def _match_dates(text: _Text, found: _Found) -> None:
    for pattern in (_DATE_ISO_RE, _DATE_MONTH_DAY_RE, _DATE_DAY_MONTH_RE):
        for match in pattern.finditer(text.scan):
            groups = match.groupdict()
            if pattern is _DATE_DAY_MONTH_RE and text.word_before(match.start()) == "at":
                continue  # "at 9 may ..." is a time
            month = groups["month"]
            month_number = _MONTHS[month] if month in _MONTHS else int(month)
            year = int(groups["year"]) if groups["year"] else None
            every = groups.get("every") is not None
            if every and year is not None:
                raise NotUnderstoodError("A date with a year happens once, not every year.")
            value = _Date(year, month_number, int(groups["day"]), every)
            found.put("date", value, "a date")
            text.claim(match.start(), match.end())


def _match_month_days(text: _Text, found: _Found) -> None:
    for match in _MONTH_DAYS_RE.finditer(text.scan):
        monthly = match.group("of_month") is not None
        pre, the = match.group("pre"), match.group("the")
        days: list[int] = []
        last = False
        loose_number = False  # "15" without "th": fine after "on the", else too vague
        for part in _MONTH_DAY_PART_RE.finditer(match.group("items")):
            if part.group("last"):
                last = True
            elif part.group("first"):
                days.append(1)
            else:
                days.append(int(part.group("number")))
                loose_number = loose_number or part.group("suffix") is None
        suffixed = any(char.isdigit() for char in match.group("items")) and not loose_number
        if not (
            monthly  # "the 15th of every month", "the first of the month"
            or (pre and the)  # "on the 15", "on the first"
            or (suffixed and (pre or the))  # "on 15th", "the 15th"
            or (match.group("day_word") and the)  # "the last day"
        ):
            continue  # "15", "the 2 top stories", "first": not a day of the month
        if last and days:
            raise NotUnderstoodError("I can't mix “the last day” with other days of the month.")
        if any(not 1 <= day <= 31 for day in days):
            raise NotUnderstoodError("A month has days 1 to 31.")
        field = "L" if last else _render_numbers(set(days), range(1, 32))
        found.put("month_days", field, "a day of the month")
        # Only "of the month" (or "monthly" elsewhere) makes it monthly: "every 2nd day" is not.
        found.monthly = found.monthly or monthly
        text.claim(match.start(), match.end())


def _match_frequency_words(text: _Text, found: _Found) -> None:
    for match in _FREQUENCY_RE.finditer(text.scan):
        word = match.group("word")
        if word is not None:
            if not _closes_phrase(text, match.start("word"), match.end("word")):
                continue
            kind = {"everyday": "daily", "annually": "yearly", "nightly": "daily"}.get(word, word)
            if word == "nightly":
                found.put("part_of_day", "night", "a part of the day")
        else:
            kind = next(name for name in ("daily", "weekly", "monthly", "yearly") if match[name])
        setattr(found, kind, True)
        found.schedule_words = True
        text.claim(match.start(), match.end())


def _closes_phrase(text: _Text, start: int, end: int) -> bool:
    """Whether "daily" (or hourly, weekly ...) here is a schedule, not an adjective."""
    if text.word_before(start) in _DETERMINERS:
        return False  # "my daily briefing"
    if not text.scan[:start].strip(" \t,;:.!-*_\"'" + _CLAIMED):
        return True  # the first word: "Daily news at 9", "Monthly: pay rent"
    following = text.scan[end : end + 40].lstrip(" ")
    if not following or not following[0].isalpha():
        return True  # end, punctuation, a time, a claimed phrase
    word = _WORD_AFTER_RE.match(following)
    return word is not None and word.group(1) in _FREQUENCY_FOLLOWERS


def _match_relative_days(text: _Text, found: _Found) -> None:
    for match in _RELATIVE_DAY_RE.finditer(text.scan):
        if text.word_before(match.start()) in ("for", "of", "about"):
            continue  # "the news for today" is the prompt's business
        part = match.group("part")
        if match.group("after_tomorrow"):
            day = 2
        elif match.group("tomorrow"):
            day = 1
        else:
            day = 0
            if match.group("tonight"):
                if part is not None:
                    continue
                part = "night"
            elif match.group("this"):
                if part is not None:
                    continue
                part = match.group("this")
        found.put("relative_day", day, "a day")
        if part is not None:
            found.put("part_of_day", part, "a part of the day")
        text.claim(match.start(), match.end())


def _match_days(text: _Text, found: _Found) -> None:
    for match in _DAYS_RE.finditer(text.scan):
        pre = " ".join(match.group("pre").split()) if match.group("pre") else None
        start = match.start() if pre is not None else match.start("days")
        if pre is None and text.word_before(start) in _NOT_BEFORE_A_DAY:
            continue  # "last monday", "every other monday": left for the leftover check
        weekdays: set[int] = set()
        plural = group = ranged = False
        items = 0
        for part in _DAY_PART_RE.finditer(match.group("days")):
            items += 1
            if part.group("group"):
                group = True
                name = re.sub(r"\s", "", part.group("group"))
                plural = plural or name.endswith("s")
                weekend = name.startswith("weekend")
                weekdays |= {0, 6} if weekend else {1, 2, 3, 4, 5}
                continue
            first = _DAY_FORMS[part.group("first")]
            plural = plural or first.plural
            if part.group("last") is None:
                weekdays.add(first.weekday)
                continue
            ranged = True
            last = _DAY_FORMS[part.group("last")]
            plural = plural or last.plural
            span = (last.weekday - first.weekday) % 7
            weekdays |= {(first.weekday + step) % 7 for step in range(span + 1)}
        part_of_day = match.group("part")
        several = items > 1 or ranged
        claim_start = start
        if pre in ("every", "each", "on every", "on each"):
            recurring = True
        elif pre in ("next", "this", "coming", "this coming"):
            if several or plural or group:
                raise NotUnderstoodError(f"“{pre} …” names one day; I can't repeat that.")
            recurring = False
        elif pre == "from":
            if not (ranged and items == 1):
                continue  # "from monday" is a start date: declined by the leftover check
            recurring = True
        elif several or plural or match.group("parts"):
            recurring = True
        elif group:
            if pre not in ("on", "at") and part_of_day is None:
                continue  # a bare "weekday" is just a word
            recurring = True
        else:
            one = _DAY_FORMS[match.group("days").split()[0]]
            if not one.full and pre != "on":
                continue  # "sun", "sat", "wed" alone are English words
            recurring = False
            if pre == "at":
                claim_start = match.start("days")  # "at monday": the "at" stays and is declined
        if recurring:
            found.put("weekdays", frozenset(weekdays), "days of the week")
        else:
            mode = "next" if pre == "next" else "this" if pre in ("this", "this coming") else "on"
            (weekday,) = weekdays
            found.put("weekday_once", (weekday, mode), "a day of the week")
        if part_of_day is not None:
            found.put("part_of_day", part_of_day, "a part of the day")
        text.claim(claim_start, match.end())


def _match_parts_of_day(text: _Text, found: _Found) -> None:
    for match in _PART_OF_DAY_RE.finditer(text.scan):
        found.put("part_of_day", match.group("part"), "a part of the day")
        if match.group("every"):
            found.every_part_of_day = True
        text.claim(match.start(), match.end())


def _match_times(text: _Text, found: _Found) -> None:
    for match in _TIMES_RE.finditer(text.scan):
        items = match.group("listed") or match.group("plain")
        clocks = tuple(_clock(item) for item in _TIME_SPLIT_RE.split(items) if item)
        _check_mixed_meridiem(clocks)
        found.put("clocks", clocks, "a time of day")
        end = match.end()
        if items.rstrip().endswith("z"):
            _set_zone(found, "UTC")
        zone = _AFTER_TIME_ZONE_RE.match(text.scan, end)
        if zone is not None and zone.group("alias"):
            if zone.group("offset"):
                raise NotUnderstoodError(
                    "I can't use UTC offsets as a time zone; name a city, e.g. “Berlin time”."
                )
            _set_zone(found, _ZONE_ALIASES[zone.group("alias")])
            end = zone.end()
        elif zone is not None and zone.group("word") in _ZONE_ABBREVIATIONS:
            shown = text.shown(zone.start("word"), zone.end("word"))
            raise NotUnderstoodError(
                f"“{shown}” is ambiguous as a time zone; name a city, e.g. “New York time”."
            )
        local = _AFTER_TIME_LOCAL_RE.match(text.scan, end)
        if local is not None:
            end = local.end()  # "at 9 local time": the chat's zone
        _decline_bare_city(text, end)
        unknown = _AFTER_TIME_ZONE_NAME_RE.match(text.scan, end)
        if unknown is not None and (
            unknown.group("in") or text.original[unknown.start("name")].isupper()
        ):
            shown = text.shown(unknown.start("name"), unknown.end())
            raise NotUnderstoodError(
                f"I don't know the time zone “{shown}”; try a city like “Berlin time”."
            )
        text.claim(match.start(), end)


def _decline_bare_city(text: _Text, end: int) -> None:
    """Decline "at 9 Berlin": a zone or a place? "Berlin time" would be clear."""
    following = _WORDS_AFTER_RE.match(text.scan, end)
    if following is None:
        return
    words = following.group(1).split()
    cities = _city_zones()
    for count in range(min(3, len(words)), 0, -1):
        if " ".join(words[:count]) in cities:
            last = _WORD_RE.finditer(text.scan, following.start(1), following.end(1))
            ends = [word.end() for word in last]
            shown = text.shown(following.start(1), ends[count - 1])
            raise NotUnderstoodError(
                f"Is “{shown}” a time zone? Say e.g. “at 9 Berlin time” to use one."
            )


def _clock(item: str) -> _Clock:
    parts = _CLOCK_PARTS_RE.fullmatch(item.strip())
    if parts is None:  # the patterns only hand over clock-shaped items
        raise NotUnderstoodError(f"“{item.strip()}” is not a time I understand.")
    named = parts.group("named")
    if named is not None:
        return _Clock(0 if named == "midnight" else 12, 0, bare=False, meridiem=False)
    hour_text = parts.group("hour")
    hour = _HOUR_WORDS[hour_text] if hour_text in _HOUR_WORDS else int(hour_text)
    minute = int(parts.group("minute") or 0)
    shown = item.strip()
    if parts.group("meridiem"):
        if not 1 <= hour <= 12 or minute > 59:
            raise NotUnderstoodError(f"“{shown}” is not a valid time.")
        hour = hour % 12 + (12 if parts.group("meridiem") == "p" else 0)
        return _Clock(hour, minute, bare=False, meridiem=True)
    if hour > 23 or minute > 59:
        raise NotUnderstoodError(f"“{shown}” is not a valid time.")
    bare = parts.group("minute") is None
    padded = hour_text.startswith("0") and len(hour_text) == 2
    return _Clock(hour, minute, bare=bare, meridiem=False, padded=padded)


def _check_mixed_meridiem(clocks: Iterable[_Clock]) -> None:
    listed = tuple(clocks)
    if any(clock.meridiem for clock in listed) and any(clock.bare for clock in listed):
        raise NotUnderstoodError(
            "Some times have am/pm and some don't; please write each one fully (e.g. 9am, 5pm)."
        )


_MATCHERS: Final[tuple[Callable[[_Text, _Found], None], ...]] = (
    _match_zone,
    _match_offsets,
    _match_dates,
    _match_periods,
    _match_windows,
    _match_nth_weekdays,
    _match_month_days,
    _match_frequency_words,
    _match_relative_days,
    _match_days,
    _match_parts_of_day,
    _match_times,
)


# --- leftovers ----------------------------------------------------------------------------------


def _check_leftovers(text: _Text) -> None:
    for pattern in _LEFTOVER_RES:
        match = pattern.search(text.scan)
        if match is not None:
            raise _not_sure(text, match.start(), match.end())
    for match in _FREQUENCY_WORD_RE.finditer(text.scan):
        if text.word_before(match.start()) not in _DETERMINERS:
            raise _not_sure(text, match.start(), match.end())
    for start, end in text.spans:
        before = text.word_before_match(start)
        if before is not None and before.group(1) in _MODIFIERS_BEFORE:
            raise _not_sure(text, before.start(1), end)
        after = text.word_after_match(end)
        if after is not None and after.group(1) in _MODIFIERS_AFTER:
            raise _not_sure(text, start, after.end(1))
        phrase = _AFTER_PHRASE_RE.match(text.scan, end)
        if phrase is not None:
            token_end = _TOKEN_END_RE.search(text.scan, phrase.end())
            raise _not_sure(text, start, token_end.start() if token_end else len(text.scan))


def _not_sure(text: _Text, start: int, end: int) -> NotUnderstoodError:
    return NotUnderstoodError(
        f"I'm not sure what “{text.shown(start, end)}” means here, so I won't guess the schedule."
    )


# --- building the schedule ----------------------------------------------------------------------

_REPEAT_OR_ONCE: Final = "I can't tell whether that repeats or happens once."
_TWO_DAYS: Final = "I found two different days in that; please name one."
_NO_SCHEDULE: Final = (
    "I couldn't find a schedule in that. Try e.g. “every weekday at 9am summarize the news” "
    "or “tomorrow at 18:00 remind me to call Anna”."
)
_UNIT_WORDS: Final = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class _When:
    """Where the schedule is built: its zone, and now in that zone."""

    zone_name: str
    zone: ZoneInfo
    now: datetime

    def cron(self, expression: str) -> Schedule:
        return Schedule(kind=TaskKind.CRON, timezone=self.zone_name, cron=expression)

    def interval(self, seconds: int) -> Schedule:
        # The period counts from creation: now.
        return Schedule(
            kind=TaskKind.INTERVAL, timezone=self.zone_name, every_seconds=seconds, run_at=self.now
        )

    def once(self, run_at: datetime) -> Schedule:
        return Schedule(kind=TaskKind.ONCE, timezone=self.zone_name, run_at=run_at)

    def at(self, day: date, clock: tuple[int, int]) -> datetime:
        return _wall_clock(day, clock[0], clock[1], self.zone)


def _build(found: _Found, when: _When) -> Schedule:
    if found.offset is not None:
        return _build_offset(found, found.offset, when)
    if found.period is not None:
        count, unit = found.period
        if unit == "d" and count == 1:
            found.daily = True
        elif unit == "w" and count == 1:
            found.weekly = True
        else:
            return _build_period(found, found.period, when)
    if found.window is not None:
        raise NotUnderstoodError("A time window needs a period, e.g. “every hour from 9 to 17”.")
    if _is_recurring(found) or (found.date is not None and found.date.every):
        return _build_recurring(found, when)
    return when.once(_build_once(found, when))


def _has_any(found: _Found, *names: str) -> bool:
    """Whether any of these parts was found (0, "today", counts as found)."""
    values = (getattr(found, name) for name in names)
    return any(value is not None and value is not False for value in values)


def _is_recurring(found: _Found) -> bool:
    return _has_any(
        found, "daily", "every_part_of_day", "weekdays", "period", "weekly", "monthly", "yearly",
        "month_days", "nth_weekday",
    )  # fmt: skip


def _build_offset(found: _Found, offset: tuple[timedelta, int | None], when: _When) -> Schedule:
    delta, calendar_days = offset
    if _is_recurring(found):
        raise NotUnderstoodError(_REPEAT_OR_ONCE)
    if found.window is not None:
        raise NotUnderstoodError("A time window needs a period, e.g. “every hour from 9 to 17”.")
    if _has_any(found, "weekday_once", "relative_day", "date"):
        raise NotUnderstoodError(_TWO_DAYS)
    try:
        if found.clocks is None and found.part_of_day is None:
            # Elapsed time, so a DST change in between does not shift it.
            return when.once((when.now.astimezone(UTC) + delta).astimezone(when.zone))
        if calendar_days is None:
            raise NotUnderstoodError(
                "“In …” with a time of day works with whole days, e.g. “in 3 days at 9”."
            )
        return when.once(
            when.at(when.now.date() + timedelta(days=calendar_days), _one_clock(found))
        )
    except OverflowError as error:
        raise NotUnderstoodError("That is too far in the future.") from error


def _build_period(found: _Found, period: tuple[int, str], when: _When) -> Schedule:
    count, unit = period
    if _has_any(
        found, "weekday_once", "relative_day", "weekly", "monthly", "month_days", "nth_weekday",
        "yearly", "date",
    ):  # fmt: skip
        raise NotUnderstoodError(
            "I can only combine “every …” periods with days of the week or a time window."
        )
    timed = found.clocks is not None or found.part_of_day is not None
    if unit in ("d", "w"):
        if timed:
            raise NotUnderstoodError(
                f"I can't run something every {count} {_UNIT_WORDS[unit]} at a fixed time "
                "exactly: cron can't count days across months, and a plain interval shifts by "
                "an hour with daylight saving. Drop the time (it then repeats from now) or use "
                "days of the week."
            )
        if found.weekdays is not None or found.window is not None:
            raise NotUnderstoodError(
                f"I can't combine “every {count} {_UNIT_WORDS[unit]}” with days or hours."
            )
        return when.interval(count * _UNIT_SECONDS[unit])
    if timed:
        raise NotUnderstoodError(
            "I can't combine a period like “every 2 hours” with a time of day; "
            "use a window such as “every 2 hours from 8 to 20”."
        )
    weekdays = "*" if found.weekdays is None else _render_numbers(set(found.weekdays), range(7))
    if found.window is not None:
        return when.cron(f"{_window_fields(count, unit, found.window)} * * {weekdays}")
    if unit == "min" and count < 60 and 60 % count == 0:
        return when.cron(f"{_step('*', count)} * * * {weekdays}")
    if unit == "h" and count < 24 and 24 % count == 0:
        return when.cron(f"0 {_step('*', count)} * * {weekdays}")
    if found.weekdays is not None:
        raise NotUnderstoodError(
            f"Every {count} {_UNIT_WORDS[unit]} can't be limited to some days exactly; "
            "use a period that divides an hour or a day."
        )
    return when.interval(count * _UNIT_SECONDS[unit])


def _step(base: str, count: int) -> str:
    return base if count == 1 else f"{base}/{count}"


def _window_fields(count: int, unit: str, window: tuple[_Clock, _Clock]) -> str:
    """The minute and hour fields of a period inside a same-day window."""
    start, end = window
    start_minutes, end_minutes = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    if end_minutes <= start_minutes:
        raise NotUnderstoodError(
            "The time window must end after it starts, on the same day (e.g. “from 9 to 17”)."
        )
    if unit == "min" and count % 60 == 0:
        count, unit = count // 60, "h"
    if unit == "h":
        # Hour steps include the end: "every hour from 9 to 17" runs at 17:00 too.
        hours = [
            hour for hour in range(start.hour, 24, count) if hour * 60 + start.minute <= end_minutes
        ]
        if count == 1 or len(hours) == 1:
            return f"{start.minute} {_render_numbers(set(hours), range(24))}"
        return f"{start.minute} {hours[0]}-{hours[-1]}/{count}"
    if unit == "s" or count >= 60 or 60 % count != 0:
        raise NotUnderstoodError(
            "Inside a time window the period must divide an hour (e.g. every 15 or 30 minutes)."
        )
    if start.minute or end.minute:
        raise NotUnderstoodError(
            "For steps of minutes the window must start and end on the hour (e.g. 9 to 17)."
        )
    # Minute steps exclude the end: "between 9 and 17" ends with the 16:xx runs, as cron can't
    # add a single 17:00 to `*/30 9-16`.
    return f"{_step('*', count)} {_render_numbers(set(range(start.hour, end.hour)), range(24))}"


def _build_recurring(found: _Found, when: _When) -> Schedule:
    weekdays = found.weekdays
    if found.weekday_once is not None:
        weekday, mode = found.weekday_once
        if not found.weekly or mode != "on" or weekdays is not None:
            raise NotUnderstoodError(_REPEAT_OR_ONCE)
        weekdays = frozenset({weekday})  # "weekly on monday"
    if found.relative_day is not None:
        raise NotUnderstoodError(_REPEAT_OR_ONCE)
    every_day = found.daily or found.every_part_of_day
    value = found.date
    if value is not None or found.yearly:
        if value is None:
            raise NotUnderstoodError("Every year on which date? e.g. “every year on March 3”.")
        if not (found.yearly or value.every):
            raise NotUnderstoodError(_REPEAT_OR_ONCE)
        if value.year is not None:
            raise NotUnderstoodError("A date with a year happens once, not every year.")
        if (
            every_day
            or weekdays is not None
            or _has_any(found, "weekly", "monthly", "nth_weekday", "month_days")
        ):
            raise NotUnderstoodError("I can't combine “every year” with other repeats.")
        _check_date_exists(value)
        return when.cron(f"{_clock_fields(found)} {value.day} {value.month} *")
    if found.monthly or found.nth_weekday is not None or found.month_days is not None:
        if not found.monthly:
            raise NotUnderstoodError(
                "Every month, or just once? Say e.g. “on the 15th of every month”."
            )
        if every_day or found.weekly or weekdays is not None:
            raise NotUnderstoodError("I can't combine “every month” with other repeats.")
        if found.nth_weekday is not None and found.month_days is not None:
            raise NotUnderstoodError("Please give either a day of the month or a weekday.")
        if found.nth_weekday is not None:
            weekday, k = found.nth_weekday
            return when.cron(f"{_clock_fields(found)} * * {weekday}#{k}")
        return when.cron(f"{_clock_fields(found)} {found.month_days or 1} * *")
    if found.weekly and weekdays is None:
        if found.clocks is not None or found.part_of_day is not None or every_day:
            raise NotUnderstoodError("Every week on which day? e.g. “every monday at 9”.")
        return when.interval(_UNIT_SECONDS["w"])  # "weekly": 7 days from now
    rendered = "*" if weekdays is None else _render_numbers(set(weekdays), range(7))
    return when.cron(f"{_clock_fields(found)} * * {rendered}")


def _build_once(found: _Found, when: _When) -> datetime:
    named_days = [
        value is not None for value in (found.relative_day, found.weekday_once, found.date)
    ].count(True)
    timed = found.clocks is not None or found.part_of_day is not None
    if not named_days and not timed:
        raise NotUnderstoodError(_NO_SCHEDULE)
    if named_days > 1 and not (named_days == 2 and found.relative_day is None):
        raise NotUnderstoodError(_TWO_DAYS)  # "Thursday, December 24" is checked below
    clock = _one_clock(found)
    today = when.now.date()
    if found.date is not None:
        run_at = _date_once(found.date, clock, when)
        if found.weekday_once is not None and _cron_weekday(run_at) != found.weekday_once[0]:
            raise NotUnderstoodError(
                f"{_MONTH_TITLES[run_at.month]} {run_at.day} is a "
                f"{_WEEKDAY_TITLES[_cron_weekday(run_at)]}, "
                f"not a {_WEEKDAY_TITLES[found.weekday_once[0]]}."
            )
        return run_at
    if found.relative_day is not None:
        if found.relative_day == 0 and not timed:
            raise NotUnderstoodError("Today at what time?")
        run_at = when.at(today + timedelta(days=found.relative_day), clock)
        if run_at <= when.now:
            raise NotUnderstoodError("That time has already passed today.")
        return run_at
    if found.weekday_once is not None:
        weekday, mode = found.weekday_once
        ahead = (weekday - _cron_weekday(today)) % 7
        if mode == "next" and ahead == 0:
            ahead = 7
        run_at = when.at(today + timedelta(days=ahead), clock)
        if run_at <= when.now:
            if mode == "this":
                raise NotUnderstoodError("That time has already passed today.")
            run_at = when.at(today + timedelta(days=7), clock)
        return run_at
    run_at = when.at(today, clock)
    if run_at <= when.now:  # "at 8pm" after 8pm: tomorrow
        run_at = when.at(today + timedelta(days=1), clock)
    return run_at


def _date_once(value: _Date, clock: tuple[int, int], when: _When) -> datetime:
    if value.year is not None:
        try:
            day = date(value.year, value.month, value.day)
        except ValueError as error:
            raise NotUnderstoodError(f"There is no {_shown_date(value)}.") from error
        run_at = when.at(day, clock)
        if run_at <= when.now:
            raise NotUnderstoodError("That date has already passed.")
        return run_at
    _check_date_exists(value)
    # This year if still ahead, else the next year that has the date (February 29).
    for year in range(when.now.year, min(when.now.year + 9, 10_000)):
        try:
            day = date(year, value.month, value.day)
        except ValueError:
            continue
        run_at = when.at(day, clock)
        if run_at > when.now:
            return run_at
    raise NotUnderstoodError("That date is too far in the future.")


def _check_date_exists(value: _Date) -> None:
    try:
        date(2000, value.month, value.day)  # a leap year: February 29 exists
    except ValueError as error:
        raise NotUnderstoodError(f"There is no {_shown_date(value)}.") from error


def _shown_date(value: _Date) -> str:
    if 1 <= value.month <= 12:
        return f"{_MONTH_TITLES[value.month]} {value.day}"
    return f"month {value.month}"


def _cron_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7


def _one_clock(found: _Found) -> tuple[int, int]:
    clocks = _resolve_clocks(found)
    if clocks is None:
        return (_DEFAULT_HOUR, 0)
    if len(clocks) != 1:
        raise NotUnderstoodError("Several times for something that happens once? Name one.")
    return clocks[0]


def _resolve_clocks(found: _Found) -> list[tuple[int, int]] | None:
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
                raise NotUnderstoodError(f"That time doesn't fit “{part}”; which do you mean?")
        resolved.append((hour, clock.minute))
    return resolved


def _clock_fields(found: _Found) -> str:
    """The minute and hour fields of a cron for the times asked for (09:00 if none)."""
    clocks = _resolve_clocks(found) or [(_DEFAULT_HOUR, 0)]
    minutes = {minute for _, minute in clocks}
    hours = {hour for hour, _ in clocks}
    # One cron runs at every minute x hour combination; refuse lists that aren't such a grid.
    if set(clocks) != {(hour, minute) for hour in hours for minute in minutes}:
        shown = " and ".join(f"{hour:02d}:{minute:02d}" for hour, minute in clocks)
        raise NotUnderstoodError(
            f"One schedule can't run at exactly {shown}; please make a task for each time."
        )
    return f"{_render_numbers(minutes, range(60))} {_render_numbers(hours, range(24))}"


def _render_numbers(values: set[int], full: range) -> str:
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


def _wall_clock(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """The instant `day hour:minute` in `zone`; a time in a spring-forward gap moves past it.

    In the repeated fall-back hour fold=0, the first occurrence, is what datetime gives.
    """
    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    for _ in range(24 * 60):
        back = candidate.astimezone(UTC).astimezone(zone)
        if (back.date(), back.hour, back.minute) == (
            candidate.date(),
            candidate.hour,
            candidate.minute,
        ):
            return candidate
        candidate += timedelta(minutes=1)  # same tzinfo: wall-clock arithmetic
    raise NotUnderstoodError("That local time does not exist in this time zone.")


# --- zones --------------------------------------------------------------------------------------


@cache
def _zone_names() -> dict[str, str]:
    """Every IANA name, lowercased, to its spelling."""
    return {name.lower(): name for name in available_timezones()}


@cache
def _city_zones() -> dict[str, str]:
    """City (last part of an IANA name, spaces for underscores, lowercase) to its zone."""
    cities: dict[str, str] = {}
    # Several names for one city are links to the same zone; prefer the longer, canonical one.
    for name in sorted(available_timezones(), key=lambda name: (-name.count("/"), name)):
        region, _, rest = name.partition("/")
        if region not in _CITY_REGIONS or not rest:
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        if city not in _NOT_CITIES:
            cities.setdefault(city, name)
    return cities


def _zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ScheduleError(f"unknown time zone {name!r}") from error


# --- explicit cron ------------------------------------------------------------------------------


def _explicit_cron(text: _Text) -> str | None:
    """The five fields (or macro) the message starts with, claimed; None if it doesn't."""
    macro = _CRON_MACRO_RE.match(text.original)
    if macro is not None and macro.group(1).lower() in _CRON_MACROS:
        text.claim(macro.start(1) - 1, macro.end())
        return _CRON_MACROS[macro.group(1).lower()]
    head = _CRON_HEAD_RE.match(text.original)
    if head is None:
        return None
    fields = list(head.groups())
    end = head.end()
    if fields[4][-1:] in (":", ","):  # "0 9 * * 1-5: summarize HN"
        fields[4] = fields[4][:-1]
    if not all(_CRON_TIME_FIELD_RE.fullmatch(field) for field in fields[:2]):
        return None
    if not all(_CRON_FIELD_RE.fullmatch(field) for field in fields[2:]):
        return None
    text.claim(head.start(1), end)
    return " ".join(fields)


# --- the prompt ---------------------------------------------------------------------------------


def _prompt(text: _Text) -> str:
    """The text without its schedule phrases, tidied at the seams and the ends."""
    pieces: list[str] = []
    cursor = 0
    for start, end in sorted(text.spans):
        pieces.append(text.original[cursor:start])
        cursor = end
    pieces.append(text.original[cursor:])
    # A final "?" that followed the schedule ("... every day at 9?") still ends the question.
    question = bool(_PROMPT_NOISE_RE.fullmatch(pieces[-1])) and "?" in pieces[-1]
    kept = [piece for piece in pieces if not _PROMPT_NOISE_RE.fullmatch(piece)]
    if not kept:
        return ""
    prompt = kept[0]
    for piece in kept[1:]:
        left, right = prompt.rstrip(), piece.lstrip()
        if left.endswith(",") and right.startswith(","):
            # "remind me, every day at 9, to stretch": the commas went with the schedule.
            left, right = left[:-1], right[1:].lstrip()
        if right[:1] in tuple(".,;:!?)]") or left[-1:] in ("(", "["):
            prompt = left + right
        else:
            prompt = f"{left} {right}"
    prompt = _EMPTY_BRACKETS_RE.sub("", prompt)
    prompt = _LINE_EDGE_SPACES_RE.sub("\n", _SPACES_RE.sub(" ", prompt))
    prompt = _TRAILING_NOISE_RE.sub("", _LEADING_NOISE_RE.sub("", prompt))
    if question and prompt and not prompt.endswith("?"):
        prompt += "?"
    return prompt[:1].upper() + prompt[1:]


# --- entry point --------------------------------------------------------------------------------


def parse_rules(text: str, *, now: datetime, timezone: str) -> ParsedRequest:
    """The schedule and task prompt in `text`, or NotUnderstoodError with a reason for the user.

    `now` must be aware; `timezone` is the chat's IANA zone, used unless the text names another.
    Raises ValueError for a naive `now` and ScheduleError for an unknown `timezone` (both are
    the caller's mistakes, not the user's).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    _zone_info(timezone)
    message = _Text(text)
    found = _Found()
    source: Literal["rules", "cron"]
    cron = _explicit_cron(message)
    if cron is not None:
        alias = _AFTER_TIME_ZONE_RE.match(message.scan, message.spans[0][1])
        if alias is not None and alias.group("alias") and not alias.group("offset"):
            # "0 9 * * 1-5 UTC summarize HN"
            _set_zone(found, _ZONE_ALIASES[alias.group("alias")])
            message.claim(alias.start("alias"), alias.end("alias"))
        _match_zone(message, found)
        schedule = Schedule(kind=TaskKind.CRON, timezone=found.zone or timezone, cron=cron)
        source = "cron"
    else:
        for matcher in _MATCHERS:
            matcher(message, found)
        _check_leftovers(message)
        if not found.schedule_words:
            raise NotUnderstoodError(_NO_SCHEDULE)
        zone_name = found.zone or timezone
        zone = _zone_info(zone_name)
        schedule = _build(found, _When(zone_name, zone, now.astimezone(zone)))
        source = "rules"
    prompt = _prompt(message)
    if not prompt:
        raise NotUnderstoodError("I understood when, but not what to do then.")
    return ParsedRequest(schedule=schedule, prompt=prompt, source=source)

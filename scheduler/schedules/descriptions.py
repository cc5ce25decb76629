"""A schedule in words, as people say it: "Monday to Friday at 09:00", "Every hour from 08:00 to
20:00", "Every 2 weeks on Monday at 10:00, starting Mon 07 Dec 2026".

English is written here for the shapes people ask for (times of day, a regular step inside a
day, weekdays, days of the month, the n-th or last weekday, dates, quarters). Any other shape,
and every cron in another `locale`, is worded by cron-descriptor with that locale. Day lists run
Monday first ("Saturday and Sunday"), times are on the 24-hour clock.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from babel import UnknownLocaleError
from babel.dates import get_day_names, get_month_names
from cron_descriptor import ExpressionDescriptor, Options

from scheduler.schedules.cron import WEEKDAY_WORDS, CronExpression, parse_cron

MONTH_WORDS = (
    "", "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
_ENGLISH_DAYS = tuple(calendar.day_name)  # Monday first, as Babel's
_ORDINAL_WORDS = ("", "first", "second", "third", "fourth", "fifth")
_MONDAY_FIRST = (1, 2, 3, 4, 5, 6, 0)
# More listed times than this read better as cron-descriptor's summary.
_MOST_LISTED_TIMES = 6
DAY_SECONDS = 86_400


def describe_period(seconds: int) -> str:
    """ "2 hours", "90 minutes", "1 day"."""
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds % size == 0:
            amount = seconds // size
            return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"
    return f"{seconds} seconds"


def format_local(instant: datetime, zone: ZoneInfo) -> str:
    """An instant as people read it in `zone`: "Fri 27 Nov 2026 09:00 CET"."""
    local = instant.astimezone(zone)
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()}"


def describe_once(run_at: datetime, zone: ZoneInfo) -> str:
    return f"Once, {format_local(run_at, zone)}"


def describe_interval(every_seconds: int, anchor: datetime, zone: ZoneInfo) -> str:
    """Whole days step in local days at one wall-clock time; shorter periods are elapsed time."""
    if every_seconds % DAY_SECONDS:
        return f"Every {describe_period(every_seconds)}"
    days = every_seconds // DAY_SECONDS
    local = anchor.astimezone(zone)
    first = (local + timedelta(days=days)).date()
    clock = f"{local:%H:%M}"
    start = f"{first:%a %d %b %Y}"
    if days % 7 == 0:
        weeks = days // 7
        period = "week" if weeks == 1 else f"{weeks} weeks"
        weekday = WEEKDAY_WORDS[(first.weekday() + 1) % 7]
        return f"Every {period} on {weekday} at {clock}, starting {start}"
    period = "day" if days == 1 else f"{days} days"
    return f"Every {period} at {clock}, starting {start}"


@functools.lru_cache(maxsize=1024)
def describe_cron(text: str, locale: str = "en") -> str:
    """A valid cron expression in words; cron-descriptor for other locales and rare shapes."""
    expression = parse_cron(text)
    if locale.split("_")[0].split("-")[0].lower() == "en":
        worded = _english(expression)
        if worded is not None:
            return worded
    return _cron_descriptor(expression.text, locale)


def _cron_descriptor(text: str, locale: str) -> str:
    fields = text.split(" ")
    items = fields[4].split(",")
    if len(items) > 1 and any("#" in item or item.upper().endswith("L") for item in items):
        # cron-descriptor drops the ordinals from a list of n-th weekdays ("5#1,5#3"), so each
        # one is worded alone and the sentences are listed.
        sentences = [_cron_descriptor(" ".join([*fields[:4], item]), locale) for item in items]
        return "; ".join(sentences[:1] + [_lowercase_first(words) for words in sentences[1:]])
    options = Options()
    options.use_24hour_time_format = True
    options.day_of_week_start_index_zero = True
    options.locale_code = _locale_code(locale)
    try:
        words = str(ExpressionDescriptor(text, options).get_description())
    except Exception:  # noqa: BLE001 - the descriptor is cosmetic; the cron itself is valid
        return f"cron {text}"
    return _localised_names(words, options.locale_code)


def _localised_names(words: str, locale_code: str) -> str:
    """cron-descriptor takes weekday and month names from the process's C locale (English)
    whatever its locale: put Babel's names in that language in their place."""
    if locale_code.startswith("en_"):
        return words
    try:
        days = get_day_names("wide", locale=locale_code)
        months = get_month_names("wide", context="stand-alone", locale=locale_code)
    except (UnknownLocaleError, ValueError):
        return words
    names = {english: days[index] for index, english in enumerate(_ENGLISH_DAYS)}
    names |= {english: months[number] for number, english in enumerate(MONTH_WORDS) if number}
    pattern = re.compile(r"\b(" + "|".join(names) + r")\b")
    return pattern.sub(lambda found: names[found.group(1)], words)


def _locale_code(locale: str) -> str:
    """cron-descriptor names its locales like "de_DE"; "de" and "pt-BR" are accepted too."""
    language, _, region = locale.replace("-", "_").partition("_")
    if region:
        return f"{language.lower()}_{region.upper()}"
    return {"en": "en_US", "zh": "zh_CN", "ja": "ja_JP", "ko": "ko_KR", "uk": "uk_UA"}.get(
        language.lower(), f"{language.lower()}_{language.upper()}"
    )


# --- English ------------------------------------------------------------------------------------


def _english(expression: CronExpression) -> str | None:
    days = _days(expression)
    if days is None:
        return None
    minutes_of_day = sorted(h * 60 + m for h in expression.hours for m in expression.minutes)
    step = _regular_step(minutes_of_day)
    if step is not None:
        return _capitalised(f"{step}, {days}" if days else step)
    if len(minutes_of_day) > _MOST_LISTED_TIMES:
        return None
    times = _listed(f"{m // 60:02d}:{m % 60:02d}" for m in minutes_of_day)
    return _capitalised(f"{days or 'every day'} at {times}")


def _regular_step(minutes_of_day: list[int]) -> str | None:
    """ "every 15 minutes", "every hour from 08:00 to 20:00"; None for a plain list of times."""
    if len(minutes_of_day) < 4:  # "at 09:00, 13:00 and 17:00" reads better as a list
        return None
    gaps = {later - earlier for earlier, later in pairwise(minutes_of_day)}
    if len(gaps) != 1:
        return None
    (gap,) = gaps
    every = "every " + ("hour" if gap == 60 else describe_period(gap * 60))
    first, last = minutes_of_day[0], minutes_of_day[-1]
    if first < gap and last + gap >= 24 * 60:  # the whole day: no window to name
        if first == 0:
            return every
        if gap == 60:
            return f"{every} at {first} minutes past the hour"
    return f"{every} from {first // 60:02d}:{first % 60:02d} to {last // 60:02d}:{last % 60:02d}"


def _days(expression: CronExpression) -> str | None:
    """The days part ("" for every day), or None when English here would not be exact."""
    all_months = len(expression.months) == 12
    weekdays = _weekdays(expression)
    if expression.day_of_month_star and expression.day_of_week_star:
        if all_months:
            return ""
        return f"every day in {_month_list(expression.months)}"
    if expression.day_of_week_star:  # days of the month only
        month_days = _month_days(expression)
        if all_months:
            return f"on {month_days} of every month"
        if len(expression.months) == 1 and not expression.last_day_of_month:
            (month,) = expression.months
            (day,) = expression.days_of_month if len(expression.days_of_month) == 1 else (0,)
            if day:
                return f"every year on {day} {MONTH_WORDS[month]}"
        return f"on {month_days} of {_month_list(expression.months)}"
    if expression.day_of_month_star and all_months:
        return weekdays
    return None  # both day fields restricted (either matches), or weekdays in some months


def _weekdays(expression: CronExpression) -> str | None:
    parts: list[str] = []
    plain = set(expression.days_of_week)
    if len(plain) == 7:
        parts.append("every day")
    elif plain == {1, 2, 3, 4, 5}:
        parts.append("Monday to Friday")
    elif len(plain) == 1:
        parts.append(f"every {WEEKDAY_WORDS[next(iter(plain))]}")
    elif plain:
        ordered = [day for day in _MONDAY_FIRST if day in plain]
        runs = _is_run(ordered)
        if runs and len(ordered) >= 3:
            parts.append(f"{WEEKDAY_WORDS[ordered[0]]} to {WEEKDAY_WORDS[ordered[-1]]}")
        else:
            parts.append(_listed(WEEKDAY_WORDS[day] for day in ordered))
    nth = _nth_weekdays(expression)
    if nth is not None:
        if plain:
            return None
        return f"on the {nth} of the month"
    return parts[0] if parts else None


def _nth_weekdays(expression: CronExpression) -> str | None:
    """ "first and third Friday", "first Monday and the last Friday"; None if there are none."""
    ordinals: dict[int, list[str]] = {}
    for weekday, k in sorted(expression.nth_weekdays, key=lambda item: item[1]):
        ordinals.setdefault(weekday, []).append(_ORDINAL_WORDS[k])
    for weekday in expression.last_weekdays:
        ordinals.setdefault(weekday, []).append("last")
    if not ordinals:
        return None
    days = [day for day in _MONDAY_FIRST if day in ordinals]
    return " and the ".join(f"{_listed(ordinals[day])} {WEEKDAY_WORDS[day]}" for day in days)


def _is_run(ordered: list[int]) -> bool:
    positions = [_MONDAY_FIRST.index(day) for day in ordered]
    return all(later == earlier + 1 for earlier, later in pairwise(positions))


def _month_days(expression: CronExpression) -> str:
    days = [_ordinal_number(day) for day in sorted(expression.days_of_month)]
    if expression.last_day_of_month:
        days.append("last day")
    return f"the {_listed(days)}"


def _month_list(months: frozenset[int]) -> str:
    return _listed(MONTH_WORDS[month] for month in sorted(months))


def _ordinal_number(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


def _listed(items: Iterable[str]) -> str:
    words = list(items)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lowercase_first(text: str) -> str:
    return text[:1].lower() + text[1:]

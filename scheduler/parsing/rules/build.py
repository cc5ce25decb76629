"""From the parts found to a Schedule: recurring (cron or interval) or once."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date, datetime, timedelta

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.dates import check_date_exists, date_once, no_such_date
from scheduler.parsing.rules.intervals import UNIT_SECONDS, build_offset, build_period
from scheduler.parsing.rules.scan import (
    NO_SCHEDULE,
    REPEAT_OR_ONCE,
    TWO_DAYS,
    Date,
    Found,
    Start,
    When,
    cron_weekday,
    has_any,
    is_recurring,
    render_numbers,
)
from scheduler.parsing.rules.starts import start_day
from scheduler.parsing.rules.times import clock_fields, one_clock
from scheduler.parsing.rules.vocabulary import MONTH_TITLES, WEEKDAY_TITLES
from scheduler.schedules.schedule import Schedule
from storage.records import TaskKind

_ONE_A_PERIOD = {"d": "daily", "w": "weekly", "mo": "monthly", "y": "yearly"}
_MONTHS_IN_YEAR = 12
_COMBINE_YEARLY = N_("I can't combine “every year” with other repeats.")
_COMBINE_MONTHLY = N_("I can't combine “every month” with other repeats.")


def build_schedule(found: Found, when: When) -> Schedule:
    _take_start_time(found)
    if found.offset is not None:
        return build_offset(found, found.offset, when)
    if found.period is not None:
        count, unit = found.period
        if count == 1 and unit in _ONE_A_PERIOD:
            setattr(found, _ONE_A_PERIOD[unit], True)  # "every 1 day" is "every day"
        elif unit == "mo":
            return _months_period(found, count, when)
        else:
            return build_period(found, found.period, when)
    if found.window is not None:
        raise NotUnderstoodError(
            N_("A time window needs a period, e.g. “every hour from 9 to 17”.")
        )
    if _names_one_day(found):
        if found.start is not None:
            raise NotUnderstoodError(REPEAT_OR_ONCE)
        return when.once(_build_once(found, when))
    if is_recurring(found) or any(value.every for value in found.dates or ()):
        return _with_start(found, _build_recurring(found, when), when)
    if found.start is not None:
        raise NotUnderstoodError(
            N_("“Starting …” goes with a repeating schedule, e.g. “weekdays starting next monday”.")
        )
    if found.months is not None:
        raise NotUnderstoodError(N_("Which day of that month? e.g. “on December 24”."))
    return when.once(_build_once(found, when))


def _take_start_time(found: Found) -> None:
    """ "every day starting tomorrow at 9": the start's time is the schedule's time, except for
    a period shorter than a day, whose runs it places ("every 12 hours starting at 7pm")."""
    start = found.start
    if start is None or start.clock is None:
        return
    if found.period is not None and found.period[1] in ("s", "min", "h"):
        return
    found.put("clocks", (start.clock,), N_("a time of day"))
    # "every day starting at 9" is "every day at 9"; a start with no day is kept (empty) so a
    # one-shot still declines it.
    found.start = start._replace(clock=None)


def _names_one_day(found: Found) -> bool:
    """ "the last monday of may", "the 12th of next month": one day, not a repeat."""
    repeating = found.monthly or found.yearly or found.quarterly
    if found.nth_weekdays is not None:
        return not repeating and (found.months is not None or found.next_month)
    return found.month_days is not None and found.next_month and not repeating


def _with_start(found: Found, schedule: Schedule, when: When) -> Schedule:
    """The schedule from its start on: a cron gets the start (validation drops it when it holds
    nothing back); "weekly starting monday" runs from that Monday."""
    if found.start is None or found.start == Start():
        return schedule
    day = start_day(found.start, when)
    if schedule.kind is TaskKind.CRON:
        return replace(schedule, run_at=when.at(day, (0, 0)))
    first = when.at(day, one_clock(found))
    if first <= when.now:
        raise NotUnderstoodError(N_("That time has already passed today."))
    assert schedule.every_seconds is not None
    return when.interval_from(first, schedule.every_seconds)


def _build_recurring(found: Found, when: When) -> Schedule:
    weekdays = found.weekdays
    if found.weekday_once is not None:
        weekday, mode = found.weekday_once
        if not found.weekly or mode != "on" or weekdays is not None:
            raise NotUnderstoodError(REPEAT_OR_ONCE)
        weekdays = frozenset({weekday})  # "weekly on monday"
    if found.relative_day is not None or found.next_month:
        raise NotUnderstoodError(REPEAT_OR_ONCE)
    every_day = found.daily or found.every_part_of_day
    if found.daily and weekdays is not None and weekdays != frozenset(range(1, 6)):
        # "every day … mondays": which? ("daily … on weekdays" is each working day.)
        raise NotUnderstoodError(TWO_DAYS)
    loose = found.loose_day is not None and found.clocks is None and found.start is None
    if loose and not every_day:
        raise NotUnderstoodError(REPEAT_OR_ONCE)  # "I love mondays": a schedule or a liking?
    if found.times_a_day is not None:
        listed = len(found.clocks or ())
        if listed != found.times_a_day and not (found.times_a_day == 1 and listed == 0):
            raise NotUnderstoodError(N_("How many times a day, and when? e.g. “at 9 and 21”."))
    if found.times_a_week is not None:
        weekly = found.times_a_week == 1 and weekdays is None  # "once a week": weekly
        if every_day or not (weekly or len(weekdays or ()) == found.times_a_week):
            raise NotUnderstoodError(
                N_("How many times a week, and on which days? e.g. “on monday and thursday”.")
            )
    months = "*" if found.months is None else render_numbers(set(found.months), range(1, 13))
    if found.dates is not None or found.yearly:
        return _build_yearly(found, when, weekdays, months)
    if (
        found.monthly
        or found.quarterly
        or found.nth_weekdays is not None
        or found.month_days is not None
    ):
        if not (found.monthly or found.quarterly):
            raise NotUnderstoodError(
                N_("Every month, or just once? Say e.g. “on the 15th of every month”.")
            )
        if every_day or found.weekly or weekdays is not None:
            raise NotUnderstoodError(_COMBINE_MONTHLY)
        if found.nth_weekdays is not None and found.month_days is not None:
            raise NotUnderstoodError(N_("Please give either a day of the month or a weekday."))
        if found.quarterly:
            if found.months is not None:
                raise NotUnderstoodError(_COMBINE_MONTHLY)
            months = "1,4,7,10"
        if found.nth_weekdays is not None:
            return when.cron(f"{clock_fields(found)} * {months} {nth_field(found.nth_weekdays)}")
        return when.cron(f"{clock_fields(found)} {found.month_days or 1} {months} *")
    if found.weekly and weekdays is None:
        timed = found.clocks is not None or found.part_of_day is not None
        if timed or every_day or found.months is not None:
            raise NotUnderstoodError(N_("Every week on which day? e.g. “every monday at 9”."))
        return when.interval(UNIT_SECONDS["w"])  # "weekly": 7 days from now
    rendered = "*" if weekdays is None else render_numbers(set(weekdays), range(7))
    return when.cron(f"{clock_fields(found)} * {months} {rendered}")


def _build_yearly(
    found: Found, when: When, weekdays: frozenset[int] | None, months: str
) -> Schedule:
    every_day = found.daily or found.every_part_of_day
    if found.nth_weekdays is not None:  # "every year on the fourth thursday in november"
        if found.months is None:
            raise NotUnderstoodError(
                N_("Every year in which month? e.g. “the last monday of may every year”.")
            )
        if every_day or weekdays is not None or has_any(found, "weekly", "monthly", "quarterly"):
            raise NotUnderstoodError(_COMBINE_YEARLY)
        return when.cron(f"{clock_fields(found)} * {months} {nth_field(found.nth_weekdays)}")
    values = found.dates
    if values is None:
        raise NotUnderstoodError(N_("Every year on which date? e.g. “every year on March 3”."))
    if not (found.yearly or any(value.every for value in values)):
        raise NotUnderstoodError(REPEAT_OR_ONCE)
    if any(value.year is not None for value in values):
        raise NotUnderstoodError(N_("A date with a year happens once, not every year."))
    if (
        every_day
        or weekdays is not None
        or has_any(found, "weekly", "monthly", "quarterly", "month_days", "months")
    ):
        raise NotUnderstoodError(_COMBINE_YEARLY)
    for value in values:
        check_date_exists(value)
    days = {value.day for value in values}
    month_numbers = {value.month for value in values}
    if {(value.month, value.day) for value in values} != {
        (month, day) for month in month_numbers for day in days
    }:
        # One cron runs on every day x month combination: "3/15 and 10/20" would be four.
        raise NotUnderstoodError(
            N_("Those dates don't make one schedule; please make a task for each date.")
        )
    day_field = render_numbers(days, range(1, 32))
    month_field = render_numbers(month_numbers, range(1, 13))
    return when.cron(f"{clock_fields(found)} {day_field} {month_field} *")


def nth_field(nth: frozenset[tuple[int, int]]) -> str:
    """The day-of-week field of n-th weekdays: "5#1,5#3", "1#1,1L" (the last one: `dL`)."""
    ordered = sorted(nth, key=lambda item: (item[0], 6 if item[1] == -1 else item[1]))
    return ",".join(f"{weekday}L" if k == -1 else f"{weekday}#{k}" for weekday, k in ordered)


def _months_period(found: Found, count: int, when: When) -> Schedule:
    """Every N months (N dividing 12) on a day of the month (the 1st if none is named) or an n-th
    weekday: the months from the first such day ahead, every N ("every 3 months on the 4th" on
    26 November is 4 December, March, June and September)."""
    if _MONTHS_IN_YEAR % count:
        raise NotUnderstoodError(
            N_(
                "Every {count} months doesn't come back to the same months each year; "
                "try every 2, 3, 4 or 6 months."
            ),
            count=count,
        )
    if has_any(
        found, "daily", "every_part_of_day", "weekdays", "weekday_once", "relative_day",
        "weekly", "yearly", "quarterly", "dates", "months", "window", "next_month",
    ):  # fmt: skip
        raise NotUnderstoodError(_COMBINE_MONTHLY)
    if found.nth_weekdays is not None and found.month_days is not None:
        raise NotUnderstoodError(N_("Please give either a day of the month or a weekday."))
    days = f"{found.month_days or 1} {{months}} *"
    if found.nth_weekdays is not None:
        days = f"* {{months}} {nth_field(found.nth_weekdays)}"
    clocks = clock_fields(found)
    after = when.now
    if found.start is not None and found.start != Start():
        after = when.at(start_day(found.start, when), (0, 0)) - timedelta(microseconds=1)
    first = when.cron(f"{clocks} {days.format(months='*')}").next_after(after)
    if first is None:  # a valid day of the month always comes
        raise NotUnderstoodError(NO_SCHEDULE)
    month = first.astimezone(when.zone).month
    months = {(month - 1 + step * count) % 12 + 1 for step in range(_MONTHS_IN_YEAR // count)}
    schedule = when.cron(f"{clocks} {days.format(months=render_numbers(months, range(1, 13)))}")
    return _with_start(found, schedule, when)


def _build_once(found: Found, when: When) -> datetime:
    nth_once = found.nth_weekdays is not None
    day_next_month = found.month_days is not None
    named_days = (
        [value is not None for value in (found.relative_day, found.weekday_once, found.date)].count(
            True
        )
        + nth_once
        + day_next_month
    )
    timed = found.clocks is not None or found.part_of_day is not None
    if not named_days and not timed:
        raise NotUnderstoodError(NO_SCHEDULE)
    if named_days > 1 and not (
        named_days == 2 and found.date is not None and found.weekday_once is not None
    ):
        raise NotUnderstoodError(TWO_DAYS)  # "Thursday, December 24" is checked below
    if len(found.dates or ()) > 1:
        raise NotUnderstoodError(TWO_DAYS)
    if found.months is not None and not nth_once:
        raise NotUnderstoodError(TWO_DAYS)  # "on the 12th of next month in may"
    clock = one_clock(found)
    today = when.now.date()
    if nth_once:
        return _nth_weekday_once(found, clock, when)
    if day_next_month:
        return _day_of_next_month(found, clock, when)
    if found.date is not None:
        run_at = date_once(found.date, clock, when)
        if found.weekday_once is not None and cron_weekday(run_at) != found.weekday_once[0]:
            raise NotUnderstoodError(
                N_("{month} {day} is a {weekday}, not a {other_weekday}."),
                month=MONTH_TITLES[run_at.month],
                day=run_at.day,
                weekday=WEEKDAY_TITLES[cron_weekday(run_at)],
                other_weekday=WEEKDAY_TITLES[found.weekday_once[0]],
            )
        return run_at
    if found.relative_day is not None:
        if found.relative_day == 0 and not timed:
            raise NotUnderstoodError(N_("Today at what time?"))
        run_at = when.at(today + timedelta(days=found.relative_day), clock)
        if run_at <= when.now:
            raise NotUnderstoodError(N_("That time has already passed today."))
        return run_at
    if found.weekday_once is not None:
        weekday, mode = found.weekday_once
        ahead = (weekday - cron_weekday(today)) % 7
        if mode == "next" and ahead == 0:
            ahead = 7
        run_at = when.at(today + timedelta(days=ahead), clock)
        if run_at <= when.now:
            if mode == "this":
                raise NotUnderstoodError(N_("That time has already passed today."))
            run_at = when.at(today + timedelta(days=7), clock)
        return run_at
    run_at = when.at(today, clock)
    if run_at <= when.now:  # "at 8pm" after 8pm: tomorrow
        run_at = when.at(today + timedelta(days=1), clock)
    return run_at


def _nth_weekday_once(found: Found, clock: tuple[int, int], when: When) -> datetime:
    """ "the last monday of may": the next one ahead; "the first friday of next month"."""
    assert found.nth_weekdays is not None
    if len(found.nth_weekdays) > 1 or (found.months is not None and len(found.months) > 1):
        raise NotUnderstoodError(TWO_DAYS)
    ((weekday, k),) = found.nth_weekdays
    for year, month in _months_ahead(found, when):
        day = _nth_weekday(year, month, weekday, k)
        if day is not None and when.at(day, clock) > when.now:
            return when.at(day, clock)
        if found.next_month:
            break
    raise NotUnderstoodError(N_("That day doesn't come then; please name the date."))


def _months_ahead(found: Found, when: When) -> list[tuple[int, int]]:
    """The (year, month) a one-day phrase may fall in, earliest first."""
    year, month = when.now.year, when.now.month
    if found.next_month:
        return [(year + month // 12, month % 12 + 1)]
    assert found.months is not None
    (wanted,) = found.months
    ahead = [(year + offset, wanted) for offset in range(9)]
    return [pair for pair in ahead if pair >= (year, month)]


def _nth_weekday(year: int, month: int, weekday: int, k: int) -> date | None:
    """The k-th (-1: the last) `weekday` (cron numbering) of a month, or None (no fifth)."""
    days = [
        date(year, month, number)
        for number in range(1, calendar.monthrange(year, month)[1] + 1)
        if cron_weekday(date(year, month, number)) == weekday
    ]
    if k == -1:
        return days[-1]
    return days[k - 1] if k <= len(days) else None


def _day_of_next_month(found: Found, clock: tuple[int, int], when: When) -> datetime:
    """ "on the 12th of next month", "the last day of next month"."""
    assert found.month_days is not None
    year, month = when.now.year, when.now.month
    year, month = year + month // 12, month % 12 + 1
    if "," in found.month_days:
        raise NotUnderstoodError(TWO_DAYS)
    last = calendar.monthrange(year, month)[1]
    number = last if found.month_days == "L" else int(found.month_days)
    if number > last:
        raise no_such_date(Date(year, month, number, every=False))
    return when.at(date(year, month, number), clock)

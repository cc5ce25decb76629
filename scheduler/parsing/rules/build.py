"""From the parts found to a Schedule: recurring (cron or interval) or once."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.errors import N_, NotUnderstoodError
from scheduler.parsing.rules.dates import check_date_exists, date_once
from scheduler.parsing.rules.intervals import UNIT_SECONDS, build_offset, build_period
from scheduler.parsing.rules.scan import (
    NO_SCHEDULE,
    REPEAT_OR_ONCE,
    TWO_DAYS,
    Found,
    When,
    cron_weekday,
    has_any,
    is_recurring,
    render_numbers,
)
from scheduler.parsing.rules.times import clock_fields, one_clock
from scheduler.parsing.rules.vocabulary import MONTH_TITLES, WEEKDAY_TITLES
from scheduler.schedules.schedule import Schedule


def build_schedule(found: Found, when: When) -> Schedule:
    if found.offset is not None:
        return build_offset(found, found.offset, when)
    if found.period is not None:
        count, unit = found.period
        if unit == "d" and count == 1:
            found.daily = True
        elif unit == "w" and count == 1:
            found.weekly = True
        else:
            return build_period(found, found.period, when)
    if found.window is not None:
        raise NotUnderstoodError(
            N_("A time window needs a period, e.g. “every hour from 9 to 17”.")
        )
    if is_recurring(found) or (found.date is not None and found.date.every):
        return _build_recurring(found, when)
    return when.once(_build_once(found, when))


def _build_recurring(found: Found, when: When) -> Schedule:
    weekdays = found.weekdays
    if found.weekday_once is not None:
        weekday, mode = found.weekday_once
        if not found.weekly or mode != "on" or weekdays is not None:
            raise NotUnderstoodError(REPEAT_OR_ONCE)
        weekdays = frozenset({weekday})  # "weekly on monday"
    if found.relative_day is not None:
        raise NotUnderstoodError(REPEAT_OR_ONCE)
    every_day = found.daily or found.every_part_of_day
    if found.daily and weekdays is not None and weekdays != frozenset(range(1, 6)):
        # "every day … mondays": which? ("daily … on weekdays" is each working day.)
        raise NotUnderstoodError(TWO_DAYS)
    if found.loose_day is not None and found.clocks is None and not every_day:
        raise NotUnderstoodError(REPEAT_OR_ONCE)  # "I love mondays": a schedule or a liking?
    if found.times_a_day is not None:
        listed = len(found.clocks or ())
        if listed != found.times_a_day and not (found.times_a_day == 1 and listed == 0):
            raise NotUnderstoodError(N_("How many times a day, and when? e.g. “at 9 and 21”."))
    value = found.date
    if value is not None or found.yearly:
        if value is None:
            raise NotUnderstoodError(N_("Every year on which date? e.g. “every year on March 3”."))
        if not (found.yearly or value.every):
            raise NotUnderstoodError(REPEAT_OR_ONCE)
        if value.year is not None:
            raise NotUnderstoodError(N_("A date with a year happens once, not every year."))
        if (
            every_day
            or weekdays is not None
            or has_any(found, "weekly", "monthly", "quarterly", "nth_weekday", "month_days")
        ):
            raise NotUnderstoodError(N_("I can't combine “every year” with other repeats."))
        check_date_exists(value)
        return when.cron(f"{clock_fields(found)} {value.day} {value.month} *")
    if (
        found.monthly
        or found.quarterly
        or found.nth_weekday is not None
        or found.month_days is not None
    ):
        if not (found.monthly or found.quarterly):
            raise NotUnderstoodError(
                N_("Every month, or just once? Say e.g. “on the 15th of every month”.")
            )
        if every_day or found.weekly or weekdays is not None:
            raise NotUnderstoodError(N_("I can't combine “every month” with other repeats."))
        if found.nth_weekday is not None and found.month_days is not None:
            raise NotUnderstoodError(N_("Please give either a day of the month or a weekday."))
        months = "1,4,7,10" if found.quarterly else "*"
        if found.nth_weekday is not None:
            weekday, k = found.nth_weekday
            nth = f"{weekday}L" if k == -1 else f"{weekday}#{k}"  # the last one, or the k-th
            return when.cron(f"{clock_fields(found)} * {months} {nth}")
        return when.cron(f"{clock_fields(found)} {found.month_days or 1} {months} *")
    if found.weekly and weekdays is None:
        if found.clocks is not None or found.part_of_day is not None or every_day:
            raise NotUnderstoodError(N_("Every week on which day? e.g. “every monday at 9”."))
        return when.interval(UNIT_SECONDS["w"])  # "weekly": 7 days from now
    rendered = "*" if weekdays is None else render_numbers(set(weekdays), range(7))
    return when.cron(f"{clock_fields(found)} * * {rendered}")


def _build_once(found: Found, when: When) -> datetime:
    named_days = [
        value is not None for value in (found.relative_day, found.weekday_once, found.date)
    ].count(True)
    timed = found.clocks is not None or found.part_of_day is not None
    if not named_days and not timed:
        raise NotUnderstoodError(NO_SCHEDULE)
    if named_days > 1 and not (named_days == 2 and found.relative_day is None):
        raise NotUnderstoodError(TWO_DAYS)  # "Thursday, December 24" is checked below
    clock = one_clock(found)
    today = when.now.date()
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

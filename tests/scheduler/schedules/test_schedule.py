"""Schedule maths with a fixed clock: standard cron, one-shots, intervals, zones and DST."""

from __future__ import annotations

import copy
import itertools
import pickle
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from core.errors import ScheduleError, TooFrequentError
from scheduler.schedules.cron import parse_cron
from scheduler.schedules.descriptions import describe_cron
from scheduler.schedules.schedule import (
    Schedule,
    canonical_zone,
    resolve_wall_time,
    validate,
    zone_for,
)
from storage.records import TaskKind

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)  # a Thursday


def cron(expression: str, zone: str = "UTC") -> Schedule:
    return validate(
        Schedule(kind=TaskKind.CRON, timezone=zone, cron=expression),
        now=NOW,
        min_interval_seconds=300,
    )


def local_runs(schedule: Schedule, after: datetime, count: int) -> list[str]:
    zone = zone_for(schedule.timezone)
    return [
        run.astimezone(zone).strftime("%a %Y-%m-%d %H:%M %z")
        for run in schedule.next_runs(after, count)
    ]


# --- weekdays, names, the day-field rule --------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "weekdays"),
    [
        ("0 9 * * 1-5", ["Fri", "Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * 0", ["Sun", "Sun", "Sun", "Sun", "Sun", "Sun"]),
        ("0 9 * * 7", ["Sun", "Sun", "Sun", "Sun", "Sun", "Sun"]),
        ("0 9 * * 5-7", ["Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]),
        ("0 9 * * 0-7", ["Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]),
        ("0 9 * * MON-FRI", ["Fri", "Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * sun,Sat", ["Sat", "Sun", "Sat", "Sun", "Sat", "Sun"]),
        ("0 9 * * thu", ["Thu", "Thu", "Thu", "Thu", "Thu", "Thu"]),
        ("0 9 * * 6,0", ["Sat", "Sun", "Sat", "Sun", "Sat", "Sun"]),
        ("0 9 * * 1-7/2", ["Fri", "Sun", "Mon", "Wed", "Fri", "Sun"]),
    ],
)
def test_weekdays_are_standard(expression: str, weekdays: list[str]) -> None:
    runs = cron(expression, "Europe/Berlin").next_runs(NOW, 6)
    assert [run.astimezone(BERLIN).strftime("%a") for run in runs] == weekdays
    assert all(run.astimezone(BERLIN).strftime("%H:%M") == "09:00" for run in runs)


def test_the_example_from_the_brief() -> None:
    schedule = cron("0 9 * * 1-5", "Europe/Berlin")
    assert [run.astimezone(BERLIN).isoformat() for run in schedule.next_runs(NOW, 3)] == [
        "2026-11-27T09:00:00+01:00",
        "2026-11-30T09:00:00+01:00",
        "2026-12-01T09:00:00+01:00",
    ]
    assert schedule.describe() == "Monday to Friday at 09:00"


def test_day_fields_or_when_both_restricted() -> None:
    # The 1st and the 15th, and also every Monday.
    runs = local_runs(cron("0 9 1,15 * 1"), NOW, 5)
    assert runs == [
        "Mon 2026-11-30 09:00 +0000",
        "Tue 2026-12-01 09:00 +0000",
        "Mon 2026-12-07 09:00 +0000",
        "Mon 2026-12-14 09:00 +0000",
        "Tue 2026-12-15 09:00 +0000",
    ]


def test_day_fields_and_when_one_starts_with_a_star() -> None:
    # Vixie cron: a day field starting with `*` (even `*/2`) makes the two fields AND-ed,
    # so this is "the 1st, when it falls on Sunday, Tuesday, Thursday or Saturday".
    runs = local_runs(cron("0 9 1 * */2"), NOW, 3)
    assert runs == [
        "Tue 2026-12-01 09:00 +0000",
        "Thu 2027-04-01 09:00 +0000",
        "Sat 2027-05-01 09:00 +0000",
    ]


def test_last_day_and_nth_weekday() -> None:
    assert local_runs(cron("0 9 L * *"), NOW, 4) == [
        "Mon 2026-11-30 09:00 +0000",
        "Thu 2026-12-31 09:00 +0000",
        "Sun 2027-01-31 09:00 +0000",
        "Sun 2027-02-28 09:00 +0000",
    ]
    assert local_runs(cron("0 9 * * 1#1"), NOW, 3) == [
        "Mon 2026-12-07 09:00 +0000",
        "Mon 2027-01-04 09:00 +0000",
        "Mon 2027-02-01 09:00 +0000",
    ]
    assert local_runs(cron("30 17 * * fri#3,5#5"), NOW, 3) == [
        "Fri 2026-12-18 17:30 +0000",
        "Fri 2027-01-15 17:30 +0000",
        "Fri 2027-01-29 17:30 +0000",
    ]
    # Leap day only, and the rarest pattern there is: a fifth Friday in February.
    assert local_runs(cron("0 0 29 2 *"), NOW, 2) == [
        "Tue 2028-02-29 00:00 +0000",
        "Sun 2032-02-29 00:00 +0000",
    ]
    assert local_runs(cron("0 0 * 2 5#5"), NOW, 1) == ["Fri 2036-02-29 00:00 +0000"]


def test_last_day_or_weekday() -> None:
    assert local_runs(cron("0 9 L * 3"), NOW, 3) == [
        "Mon 2026-11-30 09:00 +0000",
        "Wed 2026-12-02 09:00 +0000",
        "Wed 2026-12-09 09:00 +0000",
    ]


def test_day_of_month_or_nth_weekday() -> None:
    assert local_runs(cron("0 9 15 * 1#1"), NOW, 3) == [
        "Mon 2026-12-07 09:00 +0000",
        "Tue 2026-12-15 09:00 +0000",
        "Mon 2027-01-04 09:00 +0000",
    ]


def test_steps_ranges_lists_months_and_macros() -> None:
    assert local_runs(cron("5/20 10 * * *"), NOW, 3) == [
        "Thu 2026-11-26 10:05 +0000",
        "Thu 2026-11-26 10:25 +0000",
        "Thu 2026-11-26 10:45 +0000",
    ]
    assert local_runs(cron("0 8-20/6 * * *"), NOW, 4) == [
        "Thu 2026-11-26 14:00 +0000",
        "Thu 2026-11-26 20:00 +0000",
        "Fri 2026-11-27 08:00 +0000",
        "Fri 2026-11-27 14:00 +0000",
    ]
    assert local_runs(cron("0 12 1 jan-mar/2,DEC *"), NOW, 3) == [
        "Tue 2026-12-01 12:00 +0000",
        "Fri 2027-01-01 12:00 +0000",
        "Mon 2027-03-01 12:00 +0000",
    ]
    assert cron("@daily").cron == "0 0 * * *"
    assert cron("@weekly").next_runs(NOW, 1)[0].strftime("%a %H:%M") == "Sun 00:00"
    assert cron("  0   9 *  * 1-5 ").cron == "0 9 * * 1-5"


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "minute 61 is out of range 0–59"),
        ("0 24 * * *", "hour 24 is out of range 0–23"),
        ("0 9 0 * *", "day-of-month 0 is out of range 1–31"),
        ("0 9 32 * *", "day-of-month 32 is out of range 1–31"),
        ("0 9 * 13 *", "month 13 is out of range 1–12"),
        ("0 9 * * 8", "day-of-week 8 is out of range 0–7"),
        ("0 9 * * 99999999999999", "day-of-week 999999999999… is out of range 0–7"),
        ("0 9 * *", "has 5 fields (minute hour day-of-month month day-of-week), this one has 4"),
        ("0 9 * * * *", "this one has 6"),
        ("", "the cron expression is empty"),
        ("*/0 * * * *", "the step in '*/0' must be at least 1"),
        ("*/x * * * *", "the step in '*/x' must be a whole number"),
        ("0 17-9 * * *", "the hour range '17-9' runs backwards"),
        ("0 9 * * FRI-MON", "the day-of-week range 'FRI-MON' runs backwards"),
        ("0 9 * * funday", "'funday' is not a valid day-of-week (a number or a name)"),
        ("0 9 * smarch *", "'smarch' is not a valid month (a number or a name)"),
        ("a 9 * * *", "'a' is not a valid minute; expected a number"),
        ("0 9 1,,2 * *", "has an empty list item"),
        ("0 9 * * 1#6", "#6 must be 1 to 5"),
        ("0 9 ? * *", "'?' is not a valid day-of-month; expected a number"),
        ("0 9 * * ²", "'²' is not a valid day-of-week"),
        ("@reboot", "unknown cron macro '@reboot'"),
        ("0 0 31 2 *", "never runs: no date matches its day and month fields"),
        ("0 0 30,31 2 *", "never runs"),
        ("0 0 31 4,6,9,11 *", "never runs"),
        ("* * * * *", "every 1 minute is more often than this bot allows: at most every 5 minutes"),
        ("*/2 * * * *", "every 2 minutes is more often"),
        ("0,1 9 * * *", "every 1 minute is more often"),
        ("58 23 * * *", None),
        ("58,59 23 * * *", "every 1 minute is more often"),
        ("0,58 0,23 * * *", "every 2 minutes is more often"),  # 23:58 then 00:00 the next day
    ],
)
def test_invalid_cron_is_explained(expression: str, message: str | None) -> None:
    if message is None:
        cron(expression)
        return
    with pytest.raises(ScheduleError) as caught:
        cron(expression)
    assert message in str(caught.value)


def test_period_check_knows_when_days_are_not_consecutive() -> None:
    # 23:58 and 00:00 are two minutes apart only when the next day runs too.
    with pytest.raises(ScheduleError, match="every 2 minutes is more often than this bot allows"):
        cron("0,58 0,23 * * 1,2")
    mondays_and_wednesdays = cron("0,58 0,23 * * 1,3")
    after = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # a Monday
    assert local_runs(mondays_and_wednesdays, after, 4) == [
        "Mon 2026-11-30 23:00 +0000",
        "Mon 2026-11-30 23:58 +0000",
        "Wed 2026-12-02 00:00 +0000",
        "Wed 2026-12-02 00:58 +0000",
    ]


# --- zones ------------------------------------------------------------------------------------


def test_zones_are_checked_and_spelled_canonically() -> None:
    assert canonical_zone("europe/berlin") == "Europe/Berlin"
    assert canonical_zone(" UTC ") == "UTC"
    assert cron("0 9 * * *", "america/new_york").timezone == "America/New_York"
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "Europe/Berlin\x00", "x" * 500):
        with pytest.raises(ScheduleError, match="unknown time zone"):
            cron("0 9 * * *", bad)


def test_same_cron_in_different_zones() -> None:
    utc_runs = cron("0 9 * * *", "UTC").next_runs(NOW, 1)
    tokyo_runs = cron("0 9 * * *", "Asia/Tokyo").next_runs(NOW, 1)
    kathmandu = cron("0 9 * * *", "Asia/Kathmandu").next_runs(NOW, 1)
    assert utc_runs == [datetime(2026, 11, 27, 9, 0, tzinfo=UTC)]
    assert tokyo_runs == [datetime(2026, 11, 27, 0, 0, tzinfo=UTC)]
    assert kathmandu == [datetime(2026, 11, 27, 3, 15, tzinfo=UTC)]


# --- DST --------------------------------------------------------------------------------------


def ny(day: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, 0, 0, tzinfo=NEW_YORK)


class TestNewYorkSpringForward:
    """2026-03-08: clocks jump from 02:00 EST to 03:00 EDT."""

    def test_daily_in_the_gap_runs_once_at_three(self) -> None:
        assert local_runs(cron("30 2 * * *", "America/New_York"), ny(7), 3) == [
            "Sat 2026-03-07 02:30 -0500",
            "Sun 2026-03-08 03:00 -0400",
            "Mon 2026-03-09 02:30 -0400",
        ]

    def test_two_times_in_the_gap_collapse_into_one(self) -> None:
        assert local_runs(cron("0,30 2 * * *", "America/New_York"), ny(8), 3) == [
            "Sun 2026-03-08 03:00 -0400",
            "Mon 2026-03-09 02:00 -0400",
            "Mon 2026-03-09 02:30 -0400",
        ]

    def test_gap_time_next_to_an_existing_time(self) -> None:
        assert local_runs(cron("30 2,3 * * *", "America/New_York"), ny(8), 3) == [
            "Sun 2026-03-08 03:00 -0400",
            "Sun 2026-03-08 03:30 -0400",
            "Mon 2026-03-09 02:30 -0400",
        ]

    def test_daily_before_the_gap_is_untouched(self) -> None:
        assert local_runs(cron("30 1 * * *", "America/New_York"), ny(7), 3) == [
            "Sat 2026-03-07 01:30 -0500",
            "Sun 2026-03-08 01:30 -0500",
            "Mon 2026-03-09 01:30 -0400",
        ]

    def test_hourly_follows_real_hours(self) -> None:
        after = datetime(2026, 3, 8, 0, 30, tzinfo=NEW_YORK)
        assert local_runs(cron("0 * * * *", "America/New_York"), after, 4) == [
            "Sun 2026-03-08 01:00 -0500",
            "Sun 2026-03-08 03:00 -0400",
            "Sun 2026-03-08 04:00 -0400",
            "Sun 2026-03-08 05:00 -0400",
        ]

    def test_every_fifteen_minutes_has_no_hole_in_real_time(self) -> None:
        after = datetime(2026, 3, 8, 1, 30, tzinfo=NEW_YORK)
        runs = cron("*/15 * * * *", "America/New_York").next_runs(after, 5)
        assert [b - a for a, b in itertools.pairwise(runs)] == [timedelta(minutes=15)] * 4
        assert runs[1].astimezone(NEW_YORK).strftime("%H:%M %z") == "03:00 -0400"


class TestNewYorkFallBack:
    """2026-11-01: clocks go back from 02:00 EDT to 01:00 EST; 01:00–01:59 happens twice."""

    def test_daily_in_the_repeated_hour_runs_once(self) -> None:
        assert local_runs(cron("30 1 * * *", "America/New_York"), ny(31, 10), 3) == [
            "Sat 2026-10-31 01:30 -0400",
            "Sun 2026-11-01 01:30 -0400",
            "Mon 2026-11-02 01:30 -0500",
        ]

    def test_daily_after_the_repeated_hour(self) -> None:
        assert local_runs(cron("30 2 * * *", "America/New_York"), ny(1, 11), 2) == [
            "Sun 2026-11-01 02:30 -0500",
            "Mon 2026-11-02 02:30 -0500",
        ]

    def test_once_ran_the_repeated_time_is_not_run_again(self) -> None:
        first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
        assert local_runs(cron("30 1 * * *", "America/New_York"), first, 1) == [
            "Mon 2026-11-02 01:30 -0500"
        ]

    def test_hourly_runs_in_both_copies_of_the_hour(self) -> None:
        after = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
        assert local_runs(cron("0 * * * *", "America/New_York"), after, 4) == [
            "Sun 2026-11-01 01:00 -0400",
            "Sun 2026-11-01 01:00 -0500",
            "Sun 2026-11-01 02:00 -0500",
            "Sun 2026-11-01 03:00 -0500",
        ]

    def test_every_twenty_minutes_keeps_real_spacing(self) -> None:
        after = datetime(2026, 11, 1, 5, 10, tzinfo=UTC)  # 01:10 EDT
        runs = cron("*/20 * * * *", "America/New_York").next_runs(after, 6)
        assert all(b - a == timedelta(minutes=20) for a, b in itertools.pairwise(runs))


class TestBerlinSpringForward:
    """2026-03-29: clocks jump from 02:00 CET to 03:00 CEST."""

    after = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)

    def test_daily_0230(self) -> None:
        assert local_runs(cron("30 2 * * *", "Europe/Berlin"), self.after, 3) == [
            "Sun 2026-03-29 03:00 +0200",
            "Mon 2026-03-30 02:30 +0200",
            "Tue 2026-03-31 02:30 +0200",
        ]

    def test_daily_0130(self) -> None:
        assert local_runs(cron("30 1 * * *", "Europe/Berlin"), self.after, 2) == [
            "Sun 2026-03-29 01:30 +0100",
            "Mon 2026-03-30 01:30 +0200",
        ]

    def test_hourly(self) -> None:
        after = datetime(2026, 3, 29, 0, 30, tzinfo=BERLIN)
        assert local_runs(cron("0 * * * *", "Europe/Berlin"), after, 3) == [
            "Sun 2026-03-29 01:00 +0100",
            "Sun 2026-03-29 03:00 +0200",
            "Sun 2026-03-29 04:00 +0200",
        ]

    def test_weekly_at_0215(self) -> None:
        assert local_runs(cron("15 2 * * 0", "Europe/Berlin"), self.after, 3) == [
            "Sun 2026-03-29 03:00 +0200",
            "Sun 2026-04-05 02:15 +0200",
            "Sun 2026-04-12 02:15 +0200",
        ]


class TestBerlinFallBack:
    """2026-10-25: clocks go back from 03:00 CEST to 02:00 CET."""

    after = datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN)

    def test_daily_0230_once(self) -> None:
        assert local_runs(cron("30 2 * * *", "Europe/Berlin"), self.after, 2) == [
            "Sun 2026-10-25 02:30 +0200",
            "Mon 2026-10-26 02:30 +0100",
        ]

    def test_weekly_at_0215_once(self) -> None:
        assert local_runs(cron("15 2 * * 0", "Europe/Berlin"), self.after, 2) == [
            "Sun 2026-10-25 02:15 +0200",
            "Sun 2026-11-01 02:15 +0100",
        ]

    def test_hourly_twice_in_the_repeated_hour(self) -> None:
        after = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)
        assert local_runs(cron("0 * * * *", "Europe/Berlin"), after, 3) == [
            "Sun 2026-10-25 02:00 +0200",
            "Sun 2026-10-25 02:00 +0100",
            "Sun 2026-10-25 03:00 +0100",
        ]


def test_midnight_gap_zone() -> None:
    # Santiago springs forward at midnight: 2026-09-06 00:00 does not exist (jumps to 01:00).
    runs = local_runs(cron("0 0 * * *", "America/Santiago"), datetime(2026, 9, 5, tzinfo=UTC), 3)
    assert runs == [
        "Sat 2026-09-05 00:00 -0400",
        "Sun 2026-09-06 01:00 -0300",
        "Mon 2026-09-07 00:00 -0300",
    ]


def test_half_hour_dst_zone() -> None:
    # Lord Howe Island moves its clocks by 30 minutes: 02:00 → 02:30 on 2026-10-04.
    runs = local_runs(
        cron("15 2 * * *", "Australia/Lord_Howe"), datetime(2026, 10, 3, tzinfo=UTC), 2
    )
    assert runs == ["Sun 2026-10-04 02:30 +1100", "Mon 2026-10-05 02:15 +1100"]


def test_resolve_wall_time() -> None:
    kind, instants = resolve_wall_time(datetime(2026, 3, 8, 2, 30), NEW_YORK)  # noqa: DTZ001
    assert (kind, instants) == ("gap", [datetime(2026, 3, 8, 7, 0, tzinfo=UTC)])
    kind, instants = resolve_wall_time(datetime(2026, 11, 1, 1, 30), NEW_YORK)  # noqa: DTZ001
    assert kind == "repeated"
    assert instants == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ]
    kind, instants = resolve_wall_time(datetime(2026, 7, 1, 12, 0), NEW_YORK)  # noqa: DTZ001
    assert (kind, instants) == ("normal", [datetime(2026, 7, 1, 16, 0, tzinfo=UTC)])


# --- one-shots and intervals ------------------------------------------------------------------


def test_once() -> None:
    at = datetime(2026, 11, 26, 10, 2, tzinfo=BERLIN)
    schedule = validate(
        Schedule(kind=TaskKind.ONCE, timezone="Europe/Berlin", run_at=at),
        now=NOW,
        min_interval_seconds=300,
    )
    assert schedule.run_at == at
    assert schedule.run_at is not None
    assert schedule.run_at.tzinfo == UTC
    assert schedule.next_runs(NOW, 3) == [at]
    assert schedule.next_runs(at, 3) == []
    assert schedule.describe() == "Once, Thu 26 Nov 2026 10:02 CET"


@pytest.mark.parametrize("minutes", [0, -5])
def test_once_in_the_past_is_refused(minutes: int) -> None:
    with pytest.raises(ScheduleError, match=r"Thu 26 Nov 2026 .* is in the past"):
        validate(
            Schedule(
                kind=TaskKind.ONCE,
                timezone="Europe/Berlin",
                run_at=NOW + timedelta(minutes=minutes),
            ),
            now=NOW,
            min_interval_seconds=300,
        )


def test_interval_counts_real_seconds_from_its_anchor() -> None:
    schedule = validate(
        Schedule(kind=TaskKind.INTERVAL, timezone="UTC", run_at=NOW, every_seconds=5400),
        now=NOW,
        min_interval_seconds=300,
    )
    assert schedule.describe() == "Every 90 minutes"
    assert schedule.next_runs(NOW, 3) == [
        NOW + timedelta(minutes=90),
        NOW + timedelta(minutes=180),
        NOW + timedelta(minutes=270),
    ]
    later = NOW + timedelta(minutes=180)
    assert schedule.next_after(later) == NOW + timedelta(minutes=270)
    assert schedule.next_after(later - timedelta(seconds=1)) == later
    assert schedule.next_after(NOW - timedelta(days=3)) == NOW + timedelta(minutes=90)


def test_an_interval_of_hours_keeps_real_time_across_dst() -> None:
    anchor = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    schedule = Schedule(
        kind=TaskKind.INTERVAL, timezone="America/New_York", run_at=anchor, every_seconds=43_200
    )
    assert local_runs(schedule, anchor, 3) == [
        "Sun 2026-03-08 00:00 -0500",
        "Sun 2026-03-08 13:00 -0400",
        "Mon 2026-03-09 01:00 -0400",
    ]


@pytest.mark.parametrize(
    ("zone", "anchor", "expected"),
    [
        # Spring forward: Berlin 29 March 2026, New York 8 March 2026; the wall time stays.
        (
            "Europe/Berlin",
            (2026, 3, 16, 10, 0),
            ["Mon 2026-03-30 10:00 +0200", "Mon 2026-04-13 10:00 +0200"],
        ),
        (
            "America/New_York",
            (2026, 2, 23, 10, 0),
            ["Mon 2026-03-09 10:00 -0400", "Mon 2026-03-23 10:00 -0400"],
        ),
        # Fall back: Berlin 25 October 2026, New York 1 November 2026.
        (
            "Europe/Berlin",
            (2026, 10, 12, 10, 0),
            ["Mon 2026-10-26 10:00 +0100", "Mon 2026-11-09 10:00 +0100"],
        ),
        (
            "America/New_York",
            (2026, 10, 19, 10, 0),
            ["Mon 2026-11-02 10:00 -0500", "Mon 2026-11-16 10:00 -0500"],
        ),
        # A run on the change day inside the gap moves to the jump; in the repeated hour it
        # runs once, the first time.
        (
            "Europe/Berlin",
            (2026, 3, 15, 2, 30),
            ["Sun 2026-03-29 03:00 +0200", "Sun 2026-04-12 02:30 +0200"],
        ),
        (
            "America/New_York",
            (2026, 10, 18, 1, 30),
            ["Sun 2026-11-01 01:30 -0400", "Sun 2026-11-15 01:30 -0500"],
        ),
    ],
)
def test_an_interval_of_whole_days_keeps_its_wall_clock_time_across_dst(
    zone: str, anchor: tuple[int, int, int, int, int], expected: list[str]
) -> None:
    start = datetime(*anchor, tzinfo=ZoneInfo(zone))
    schedule = validate(
        Schedule(kind=TaskKind.INTERVAL, timezone=zone, run_at=start, every_seconds=14 * 86_400),
        now=start,
        min_interval_seconds=300,
    )
    assert local_runs(schedule, start, 2) == expected
    # The engine asks one at a time, from the last run: the same instants.
    first = schedule.next_after(start)
    assert first is not None
    assert [first, schedule.next_after(first)] == schedule.next_runs(start, 2)
    # From any moment between runs the next one is the same.
    assert schedule.next_after(first - timedelta(seconds=1)) == first


def test_an_interval_of_days_counts_from_its_anchor_in_local_days() -> None:
    anchor = datetime(2026, 11, 26, 14, 37, tzinfo=BERLIN)
    schedule = Schedule(
        kind=TaskKind.INTERVAL, timezone="Europe/Berlin", run_at=anchor, every_seconds=3 * 86_400
    )
    later = anchor + timedelta(days=30, hours=1)  # past the run of 26 December
    assert local_runs(schedule, later, 2) == [
        "Tue 2026-12-29 14:37 +0100",
        "Fri 2027-01-01 14:37 +0100",
    ]
    assert schedule.next_after(anchor - timedelta(days=10)) == anchor + timedelta(days=3)


def test_interval_too_short_is_refused_in_plain_words() -> None:
    with pytest.raises(TooFrequentError) as refused:
        validate(
            Schedule(kind=TaskKind.INTERVAL, timezone="UTC", run_at=NOW, every_seconds=120),
            now=NOW,
            min_interval_seconds=300,
        )
    assert str(refused.value) == (
        "every 2 minutes is more often than this bot allows: at most every 5 minutes"
    )
    assert (refused.value.period_seconds, refused.value.min_seconds) == (120, 300)


def test_a_cron_too_often_is_refused_without_showing_cron() -> None:
    with pytest.raises(TooFrequentError) as refused:
        validate(cron("*/2 * * * *"), now=NOW, min_interval_seconds=300)
    assert str(refused.value) == (
        "every 2 minutes is more often than this bot allows: at most every 5 minutes"
    )


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 * * * *", "Every hour"),
        ("15 * * * *", "Every hour at 15 minutes past the hour"),
        ("0 */2 * * *", "Every 2 hours"),
        ("0 8-20 * * *", "Every hour from 08:00 to 20:00"),
        ("0 8-20/2 * * *", "Every 2 hours from 08:00 to 20:00"),
        ("*/30 9-16 * * 1-5", "Every 30 minutes from 09:00 to 16:30, Monday to Friday"),
        ("0 9 * * *", "Every day at 09:00"),
        ("0 9,17 * * *", "Every day at 09:00 and 17:00"),
        ("0 9,13,17 * * *", "Every day at 09:00, 13:00 and 17:00"),
        ("0 9 * * 1-5", "Monday to Friday at 09:00"),
        ("0 9 * * 0,6", "Saturday and Sunday at 09:00"),
        ("0 9 * * 6,7", "Saturday and Sunday at 09:00"),
        ("0 9 * * 1,3,5", "Monday, Wednesday and Friday at 09:00"),
        ("0 9 * * 7", "Every Sunday at 09:00"),
        ("0 9 L * *", "On the last day of every month at 09:00"),
        ("0 9 1,15 * *", "On the 1st and 15th of every month at 09:00"),
        ("0 9 * * 1#1", "On the first Monday of the month at 09:00"),
        ("0 9 * * 5L", "On the last Friday of the month at 09:00"),
        ("0 9 1 1,4,7,10 *", "On the 1st of January, April, July and October at 09:00"),
        ("0 9 15 3 *", "Every year on 15 March at 09:00"),
        ("0 9 * * 5#1,5#3", "On the first and third Friday of the month at 09:00"),
        ("0 9 * * 1#1,1L", "On the first and last Monday of the month at 09:00"),
        ("0 9 * * 1#1,3#3", "On the first Monday and the third Wednesday of the month at 09:00"),
        ("0 1-23/2 * * *", "Every 2 hours from 01:00 to 23:00"),
        ("15,45 9-17 * * *", "Every 30 minutes from 09:15 to 17:45"),
        ("0 9 * 5 0#2", "At 09:00, on the second Sunday of the month, only in May"),
        ("0 9 * 4-6 *", "Every day in April, May and June at 09:00"),
        # Both day fields restricted (either matches): cron-descriptor's exact wording.
        ("0 9 1 * 1", "At 09:00, on day 1 of the month, or on Monday"),
    ],
)
def test_descriptions_read_naturally(expression: str, words: str) -> None:
    assert cron(expression).describe() == words


def test_descriptions_of_intervals() -> None:
    interval = Schedule(kind=TaskKind.INTERVAL, timezone="UTC", run_at=NOW, every_seconds=7200)
    assert interval.describe() == "Every 2 hours"
    fortnightly = Schedule(
        kind=TaskKind.INTERVAL,
        timezone="Europe/Berlin",
        run_at=datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN),
        every_seconds=14 * 86_400,
    )
    assert fortnightly.describe() == "Every 2 weeks on Monday at 10:00, starting Mon 07 Dec 2026"


def test_a_description_in_another_locale_comes_from_cron_descriptor() -> None:
    assert cron("*/15 * * * *").describe("de") == "Alle 15 Minuten"
    assert cron("*/15 * * * *").describe("de_DE") == "Alle 15 Minuten"


def test_naive_after_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cron("0 9 * * *").next_runs(datetime(2026, 1, 1), 1)  # noqa: DTZ001


# --- against an independent reference ---------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Santiago",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/St_Johns",
    "Europe/London",
    "Africa/Casablanca",
]


def random_expression(rng: random.Random) -> str:
    def field(low: int, high: int, names: list[str] | None = None) -> str:
        choice = rng.random()
        if choice < 0.25:
            return "*"
        if choice < 0.45:
            return str(rng.randint(low, high))
        if choice < 0.6:
            a = rng.randint(low, high)
            b = rng.randint(a, high)
            # croniter reads a one-value range like 4-4 as "every day"; cronpilot does not.
            return f"{a}-{b}" if b > a else str(a)
        if choice < 0.75:
            return f"*/{rng.randint(1, max(1, (high - low) // 2))}"
        if choice < 0.85 and names:
            return rng.choice(names)
        values = sorted(rng.sample(range(low, high + 1), rng.randint(2, 4)))
        return ",".join(map(str, values))

    step = rng.choice([10, 15, 30])
    minute = rng.choice([str(rng.randint(0, 59)), f"{rng.randint(0, 9)}/{step}"])
    hour = field(0, 23)
    day_of_month = rng.choice([field(1, 31), "*", "*", "L"])
    month = rng.choice(["*", "*", field(1, 12, ["jan", "MAR", "oct", "Nov"])])
    day_of_week = rng.choice(
        ["*", "*", field(0, 7, ["mon", "FRI", "sun"]), f"{rng.randint(0, 6)}#{rng.randint(1, 4)}"]
    )
    # croniter reads a day field that merely starts with "*" (like */2) as restricting the day
    # when the other one is restricted too; Vixie cron (and cronpilot) does not. The reference
    # cannot judge that case, which test_day_fields_and_when_one_starts_with_a_star covers.
    if day_of_month.startswith("*/") and day_of_week != "*":
        day_of_month = "*"
    if day_of_week.startswith("*/") and day_of_month != "*":
        day_of_week = "*"
    # croniter cannot combine L or a restricted day of month with `#`, nor L with a weekday;
    # test_last_day_or_weekday and test_day_of_month_or_nth_weekday cover those.
    if (day_of_month == "L" and day_of_week != "*") or "#" in day_of_week:
        day_of_month = "*"
    return f"{minute} {hour} {day_of_month} {month} {day_of_week}"


def reference_runs(expression: str, zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """croniter walks the wall clock (it knows nothing of our DST policy); each wall time is
    then placed in real time by brute force over UTC minutes, applying PRODUCT.md's policy."""
    every_hour = len(parse_cron(expression).hours) == 24
    wall_iterator = croniter(
        expression,
        after.astimezone(zone).replace(tzinfo=None) - timedelta(days=1),
        max_years_between_matches=400,
    )
    found: list[datetime] = []
    while True:
        wall: datetime = wall_iterator.get_next(datetime)
        exact = [
            instant
            for offset_minutes in range(-16 * 60, 16 * 60 + 1, 15)
            if (instant := (wall - timedelta(minutes=offset_minutes)).replace(tzinfo=UTC))
            and instant.astimezone(zone).replace(tzinfo=None) == wall
        ]
        if exact:
            found.extend(sorted(set(exact)) if every_hour else [min(exact)])
        elif not every_hour:
            # In a gap: the first instant whose wall time is later than the one asked for.
            start = (wall - timedelta(hours=16)).replace(tzinfo=UTC)
            minute = 0
            while (start + timedelta(minutes=minute)).astimezone(zone).replace(tzinfo=None) < wall:
                minute += 1
            found.append(start + timedelta(minutes=minute))
        later = sorted({instant for instant in found if instant > after})
        if len(later) >= count and wall > later[count - 1].astimezone(zone).replace(
            tzinfo=None
        ) + timedelta(hours=4):
            return later[:count]


def test_matches_reference_on_random_expressions_and_zones() -> None:
    rng = random.Random(20261126)
    compared = 0
    while compared < 1000:
        expression = random_expression(rng)
        zone_name = rng.choice(ZONES)
        try:
            schedule = validate(
                Schedule(kind=TaskKind.CRON, timezone=zone_name, cron=expression),
                now=NOW,
                min_interval_seconds=60,
            )
        except ScheduleError as error:
            if "never runs" not in str(error):
                raise
            continue
        zone = ZoneInfo(zone_name)
        # Around DST changes half the time, anywhere in two years otherwise.
        if rng.random() < 0.5:
            after = rng.choice(
                [
                    datetime(2026, 3, 7, tzinfo=UTC),
                    datetime(2026, 3, 28, tzinfo=UTC),
                    datetime(2026, 10, 24, tzinfo=UTC),
                    datetime(2026, 10, 31, tzinfo=UTC),
                    datetime(2026, 9, 5, tzinfo=UTC),
                    datetime(2026, 4, 4, tzinfo=UTC),
                ]
            ) + timedelta(minutes=rng.randint(0, 36 * 60))
        else:
            after = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 10**6))
        expected = reference_runs(expression, zone, after, 5)
        assert schedule.next_runs(after, 5) == expected, (expression, zone_name, after)
        compared += 1


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", "В 09:00, только в воскресенье, только в январь"),
        ("de", "Um 09:00, nur am Sonntag, nur im Januar"),
        ("es", "A las 09:00, sólo el domingo, sólo en enero"),
        ("fr", "À 09:00, uniquement le dimanche, uniquement en janvier"),
        ("pt", "Às 09:00, somente de domingo, somente em janeiro"),
    ],
)
def test_cron_in_words_in_each_language_with_its_own_day_and_month_names(
    language: str, words: str
) -> None:
    assert describe_cron("0 9 * 1 0", language) == words


@pytest.mark.parametrize("weekday", range(7))
def test_last_weekday_agrees_with_croniter(weekday: int) -> None:
    # croniter writes the last <weekday> of the month as L<d>; we write <d>L.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ours = cron(f"30 7 * * {weekday}L", "UTC").next_runs(start, 24)
    reference = croniter(f"30 7 * * L{weekday}", start)
    assert ours == [reference.get_next(datetime) for _ in range(24)]


def test_last_weekday_of_the_month() -> None:
    assert local_runs(cron("0 9 * * 5L", "Europe/Berlin"), NOW, 3) == [
        "Fri 2026-11-27 09:00 +0100",
        "Fri 2026-12-25 09:00 +0100",
        "Fri 2027-01-29 09:00 +0100",
    ]
    assert cron("0 9 * * FRIL").cron == "0 9 * * FRIL"
    with pytest.raises(ScheduleError, match="day-of-week"):
        cron("0 9 * * 8L")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("ru", "В 09:00, в первый пятница месяца; в 09:00, в третий пятница месяца"),
        ("de", "Um 09:00, am ersten Freitag des Monats; um 09:00, am dritten Freitag des Monats"),
        (
            "es",
            "A las 09:00, en el primero viernes del mes; a las 09:00, en el tercer viernes del mes",
        ),
        ("fr", "À 09:00, le premier vendredi du mois; à 09:00, le troisième vendredi du mois"),
        (
            "pt",
            "Às 09:00, na primeira sexta-feira do mês; às 09:00, na terceira sexta-feira do mês",
        ),
    ],
)
def test_a_list_of_nth_weekdays_keeps_every_ordinal_in_each_language(
    language: str, words: str
) -> None:
    # cron-descriptor drops the ordinals of such a list ("в  пятница и пятница месяца").
    assert describe_cron("0 9 * * 5#1,5#3", language) == words


# --- fixed offsets from UTC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("UTC+2", "UTC+02:00"),
        ("gmt-5", "UTC-05:00"),
        ("UTC+05:30", "UTC+05:30"),
        ("utc +0545", "UTC+05:45"),
        ("UTC-0", "UTC"),
        ("UTC+14", "UTC+14:00"),
        ("Etc/GMT-2", "Etc/GMT-2"),
    ],
)
def test_an_offset_from_utc_is_a_zone_with_a_canonical_name(written: str, canonical: str) -> None:
    assert canonical_zone(written) == canonical


@pytest.mark.parametrize("bad", ["UTC+15", "UTC+2:75", "UTC+", "UTC++2", "+02:00", "UTC+02:00:00"])
def test_offsets_past_fourteen_hours_or_malformed_are_unknown_zones(bad: str) -> None:
    with pytest.raises(ScheduleError, match="unknown time zone"):
        canonical_zone(bad)


def test_a_fixed_offset_zone_runs_at_that_offset_all_year_and_survives_pickling() -> None:
    schedule = cron("30 9 * * *", "utc+5:30")
    assert schedule.timezone == "UTC+05:30"
    summer = datetime(2027, 7, 1, tzinfo=UTC)
    assert schedule.next_runs(NOW, 1) == [datetime(2026, 11, 27, 4, 0, tzinfo=UTC)]
    assert schedule.next_runs(summer, 1) == [datetime(2027, 7, 1, 4, 0, tzinfo=UTC)]
    zone = zone_for("UTC+05:30")
    assert zone is zone_for("utc+0530")
    assert pickle.loads(pickle.dumps(zone)) is zone
    assert copy.deepcopy(zone) is zone
    once = validate(
        Schedule(
            kind=TaskKind.ONCE,
            timezone="UTC-03:30",
            run_at=datetime(2026, 11, 27, 9, 0, tzinfo=zone_for("UTC-03:30")),
        ),
        now=NOW,
        min_interval_seconds=300,
    )
    assert once.describe() == "Once, Fri 27 Nov 2026 09:00 UTC-03:30"


# --- a cron's start -----------------------------------------------------------------------------


def _from(expression: str, start: datetime, zone: str = "Europe/Berlin") -> Schedule:
    schedule = Schedule(kind=TaskKind.CRON, timezone=zone, cron=expression, run_at=start)
    return validate(schedule, now=NOW, min_interval_seconds=300)


def test_a_cron_runs_from_its_start_on() -> None:
    weekdays = _from("0 9 * * 1-5", datetime(2026, 11, 30, 0, 0, tzinfo=BERLIN))
    assert weekdays.run_at == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert local_runs(weekdays, NOW, 3) == [
        "Mon 2026-11-30 09:00 +0100",
        "Tue 2026-12-01 09:00 +0100",
        "Wed 2026-12-02 09:00 +0100",
    ]
    assert weekdays.describe() == "Monday to Friday at 09:00, starting Mon 30 Nov 2026"
    # A start that is itself a run is one.
    at_nine = _from("0 9 * * 1-5", datetime(2026, 11, 30, 9, 0, tzinfo=BERLIN))
    assert local_runs(at_nine, NOW, 1) == ["Mon 2026-11-30 09:00 +0100"]


def test_a_start_that_holds_no_run_back_is_dropped() -> None:
    # The first run after now is Friday the 27th anyway.
    assert _from("0 9 * * 1-5", datetime(2026, 11, 27, 0, 0, tzinfo=BERLIN)).run_at is None
    assert _from("0 9 * * 1-5", datetime(2026, 11, 1, 0, 0, tzinfo=BERLIN)).run_at is None


def test_a_start_shows_its_time_when_the_days_have_several_runs() -> None:
    every_two_hours = _from("0 */2 * * *", datetime(2026, 11, 27, 8, 0, tzinfo=BERLIN))
    assert every_two_hours.describe() == "Every 2 hours, starting Fri 27 Nov 2026 08:00 CET"


def test_a_start_past_a_hundred_years_is_refused() -> None:
    with pytest.raises(ScheduleError, match="100 years"):
        _from("0 9 * * *", datetime(2200, 1, 1, tzinfo=UTC))

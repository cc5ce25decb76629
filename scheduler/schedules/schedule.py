"""When a task runs: the schedule value, its validation, its next runs and its description.

Daylight saving policy (PRODUCT.md, "Scheduling semantics"):
- a fixed-time run whose local time falls in the spring-forward gap runs once, at the first valid
  instant after it (02:30 in a 02:00–03:00 gap runs at 03:00); several such times collapse into one;
- a fixed-time run in the repeated fall-back hour runs once, the first time that hour comes;
- schedules whose hour field covers all 24 hours (hourly, every N minutes) follow real elapsed
  time: they skip the wall-clock times that do not exist and run in both copies of a repeated hour.

Cron fields are read in the schedule's zone; a cron schedule may have a start (`run_at`), before
which it does not run. One-shots are an instant. Intervals are real elapsed seconds counted from an
anchor instant (whole days step in local days).

Zones are IANA names, or fixed offsets from UTC written `UTC+05:30` (see `canonical_zone`).
"""

from __future__ import annotations

import bisect
import calendar
import functools
import io
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice, pairwise
from typing import Final, Literal, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from core.errors import N_, ScheduleError, TooFrequentError
from scheduler.schedules.cron import CronExpression, parse_cron
from scheduler.schedules.descriptions import (
    DAY_SECONDS,
    describe_cron,
    describe_interval,
    describe_once,
    describe_period,
    format_local,
)
from storage.records import Task, TaskKind

# Far enough to find `0 0 * 2 5#5` (a fifth Friday in February comes every 28 years or so)
# and to prove that `0 0 30 2 *` never comes.
SEARCH_YEARS = 400
DAY = timedelta(days=1)
# Beyond these a schedule is a typo, and date arithmetic near year 9999 would overflow.
MAX_AHEAD = timedelta(days=366 * 100)
MAX_PERIOD_SECONDS = 366 * 86_400 * 10

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A task's schedule.

    - cron: `cron` is a five-field standard (Vixie) cron expression read in `timezone`; `run_at`,
      when set, is its start: no run comes before it ("weekdays starting next monday");
    - once: `run_at` is the instant (aware);
    - interval: every `every_seconds` seconds counted from the instant `run_at`.
    """

    kind: TaskKind
    timezone: str
    cron: str | None = None
    run_at: datetime | None = None
    every_seconds: int | None = None

    @classmethod
    def of(cls, task: Task) -> Schedule:
        """The schedule a stored task follows."""
        return cls(
            kind=task.kind,
            timezone=task.timezone,
            cron=task.cron,
            run_at=task.run_at,
            every_seconds=task.every_seconds,
        )

    @property
    def zone(self) -> ZoneInfo:
        return zone_for(self.timezone)

    def next_runs(self, after: datetime, count: int) -> list[datetime]:
        """The next `count` instants strictly after `after`, in UTC, earliest first."""
        _require_aware(after, "after")
        if count <= 0:
            return []
        if self.kind is TaskKind.ONCE:
            run_at = _require(self.run_at, "run_at")
            return [run_at.astimezone(UTC)] if run_at > after else []
        if self.kind is TaskKind.INTERVAL:
            return _interval_runs(
                _require(self.run_at, "run_at"),
                _require(self.every_seconds, "every_seconds"),
                self.zone,
                after,
                count,
            )
        expression = cron_expression(_require(self.cron, "cron"))
        if self.run_at is not None and self.run_at > after:
            after = self.run_at - timedelta(microseconds=1)  # the start may itself be a run
        return list(islice(_cron_runs(expression, self.zone, after), count))

    def next_after(self, after: datetime) -> datetime | None:
        runs = self.next_runs(after, 1)
        return runs[0] if runs else None

    def describe(self, locale: str = "en") -> str:
        """The schedule in words, e.g. "Monday to Friday at 09:00" (cron in `locale`)."""
        if self.kind is TaskKind.ONCE:
            return describe_once(_require(self.run_at, "run_at"), self.zone)
        if self.kind is TaskKind.INTERVAL:
            every = _require(self.every_seconds, "every_seconds")
            return describe_interval(every, _require(self.run_at, "run_at"), self.zone)
        words = describe_cron(_require(self.cron, "cron"), locale)
        start = self.first_run()
        if start is None:
            return words
        # The first run's day; its time too when the day has several runs.
        shown = format_local(start, self.zone) if self.runs_often() else f"{start:%a %d %b %Y}"
        return f"{words}, starting {shown}"

    def first_run(self) -> datetime | None:
        """A cron schedule's first run in its zone when it has a start, else None."""
        if self.kind is not TaskKind.CRON or self.run_at is None:
            return None
        first = self.next_after(self.run_at - timedelta(microseconds=1))
        return None if first is None else first.astimezone(self.zone)

    def runs_often(self) -> bool:
        """Whether a cron schedule runs more than once on the days it runs."""
        expression = cron_expression(_require(self.cron, "cron"))
        return len(expression.hours) * len(expression.minutes) > 1


def interval_starting(first_run: datetime, every_seconds: int, timezone: str) -> Schedule:
    """An interval whose first run is `first_run`: its anchor is one period before.

    For whole days the period is counted in local days ("every 2 weeks on monday at 10" keeps
    10:00 across DST), so the anchor is the same wall-clock time that many days earlier.
    """
    _require_aware(first_run, "first_run")
    if every_seconds % DAY_SECONDS == 0:
        zone = zone_for(timezone)
        wall = first_run.astimezone(zone).replace(tzinfo=None, fold=0)
        anchor = fixed_time_instant(wall - DAY * (every_seconds // DAY_SECONDS), zone)
    else:
        anchor = first_run.astimezone(UTC) - timedelta(seconds=every_seconds)
    return Schedule(
        kind=TaskKind.INTERVAL, timezone=timezone, every_seconds=every_seconds, run_at=anchor
    )


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """What a message asked for: when, and what to do then."""

    schedule: Schedule
    prompt: str
    source: Literal["rules", "cron", "llm"]
    # Misspellings read as schedule words, (typed, read as): the card shows them.
    corrections: tuple[tuple[str, str], ...] = ()


class UnknownZoneError(ScheduleError):
    """A time zone name that is not in the IANA database."""

    def __init__(self, name: str) -> None:
        super().__init__(
            N_("unknown time zone '{name}'; use an IANA name such as Europe/Berlin or UTC"),
            name=name,
        )
        self.name = name


class TimePassedError(ScheduleError):
    """A one-time schedule whose instant is no longer ahead."""

    def __init__(self, run_at: datetime, zone: str) -> None:
        super().__init__(N_("{when} is in the past"), when=format_local(run_at, zone_for(zone)))
        self.run_at = run_at
        self.zone = zone


def validate(schedule: Schedule, *, now: datetime, min_interval_seconds: int) -> Schedule:
    """Check a schedule completely and return it in canonical form, or raise ScheduleError.

    Canonical: the zone's IANA spelling, the cron expression with macros expanded and spaces
    normalised, datetimes in UTC, and no fields that do not belong to the kind.
    """
    _require_aware(now, "now")
    zone_name = canonical_zone(schedule.timezone)
    if schedule.kind is TaskKind.CRON:
        if schedule.cron is None:
            raise ScheduleError(N_("a cron schedule needs a cron expression"))
        expression = parse_cron(schedule.cron)
        _check_fires(expression)
        _check_cron_period(expression, now.astimezone(zone_for(zone_name)), min_interval_seconds)
        valid = Schedule(kind=TaskKind.CRON, timezone=zone_name, cron=expression.text)
        return _with_start(valid, schedule.run_at, now)
    if schedule.kind is TaskKind.ONCE:
        if schedule.run_at is None:
            raise ScheduleError(N_("a one-time schedule needs the time to run"))
        _require_aware(schedule.run_at, "run_at")
        if schedule.run_at <= now:
            raise TimePassedError(schedule.run_at, zone_name)
        if schedule.run_at - now > MAX_AHEAD:
            raise ScheduleError(N_("that is more than {years} years ahead"), years=100)
        return Schedule(
            kind=TaskKind.ONCE, timezone=zone_name, run_at=schedule.run_at.astimezone(UTC)
        )
    if schedule.every_seconds is None or schedule.run_at is None:
        raise ScheduleError(N_("an interval schedule needs a period and a start"))
    _require_aware(schedule.run_at, "run_at")
    if schedule.every_seconds > MAX_PERIOD_SECONDS:
        raise ScheduleError(N_("the longest allowed period is {years} years"), years=10)
    if schedule.every_seconds < min_interval_seconds:
        raise too_frequent(schedule.every_seconds, min_interval_seconds)
    valid = replace(
        schedule,
        timezone=zone_name,
        cron=None,
        run_at=schedule.run_at.astimezone(UTC),
    )
    # Whichever parser built it, an interval of whole days keeps its wall-clock time (the
    # next runs step in local days); its first run must be within reach.
    first = valid.next_after(now)
    if first is None or first - now > MAX_AHEAD:
        raise ScheduleError(N_("that is more than {years} years ahead"), years=100)
    return valid


def _with_start(schedule: Schedule, start: datetime | None, now: datetime) -> Schedule:
    """A cron schedule with its start kept only when the start holds back a run."""
    if start is None:
        return schedule
    _require_aware(start, "run_at")
    if start - now > MAX_AHEAD:
        raise ScheduleError(N_("that is more than {years} years ahead"), years=100)
    first = schedule.next_after(now)
    if start <= now or (first is not None and first >= start):
        return schedule  # it would run then anyway: the start says nothing
    return replace(schedule, run_at=start.astimezone(UTC))


# --- zones -------------------------------------------------------------------------------------

# "UTC+2", "GMT-05:30", "utc +0545": an offset east (+) or west (-) of UTC, hours up to 14.
_OFFSET_ZONE_RE: Final = re.compile(
    r"(?:utc|gmt)\s*(?P<sign>[+-])\s*(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?",
    re.IGNORECASE,
)
_MOST_OFFSET: Final = timedelta(hours=14)


@functools.cache
def zone_names() -> dict[str, str]:
    """Every IANA zone name, lowercased, to its spelling."""
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(name: str) -> str:
    """The canonical spelling of a zone, or ScheduleError.

    An IANA name in its own spelling ("Europe/Berlin"), or a fixed offset from UTC written
    `UTC+05:30` / `UTC-05:00` (given as "UTC+5:30", "gmt-5", "UTC+0530" ...; no offset is "UTC").
    The IANA `Etc/GMT-2` zones are not used for offsets: their sign is inverted and they have
    whole hours only.
    """
    stripped = name.strip()
    found = zone_names().get(stripped.lower())
    if found is not None:
        return found
    offset = _OFFSET_ZONE_RE.fullmatch(stripped)
    if offset is not None:
        hours, minutes = int(offset["hours"]), int(offset["minutes"] or 0)
        delta = timedelta(hours=hours, minutes=minutes)
        if minutes < 60 and delta <= _MOST_OFFSET:
            return offset_zone_name(-delta if offset["sign"] == "-" else delta)
    raise UnknownZoneError(stripped[:64])


def offset_zone_name(offset: timedelta) -> str:
    """The canonical name of a fixed offset from UTC: "UTC+05:30", "UTC-05:00", or "UTC"."""
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_for(name: str) -> ZoneInfo:
    canonical = canonical_zone(name)
    if canonical.startswith(("UTC+", "UTC-")):
        return _offset_zone(canonical)
    return ZoneInfo(canonical)


class _OffsetZone(ZoneInfo):
    """A fixed offset from UTC as a ZoneInfo, so every place that takes a zone takes it.

    The standard library has no ZoneInfo for a bare offset (datetime.timezone is another type,
    and the IANA Etc/GMT±N zones cover whole hours only), so one is read from a one-entry TZif
    file made here; its abbreviation is the canonical name. Pickling names it again.
    """

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (zone_for, (str(self),))


@functools.cache
def _offset_zone(canonical: str) -> ZoneInfo:
    offset = _OFFSET_ZONE_RE.fullmatch(canonical)
    assert offset is not None  # only canonical offset names reach here
    seconds = (int(offset["hours"]) * 60 + int(offset["minutes"])) * 60
    seconds = -seconds if offset["sign"] == "-" else seconds
    abbreviation = canonical.encode("ascii") + b"\0"
    # TZif version 1 (RFC 8536): a header with 1 local time type and its abbreviation, no
    # transitions; that one type applies at every instant.
    header = b"TZif" + bytes(16) + struct.pack(">6l", 0, 0, 0, 0, 1, len(abbreviation))
    body = struct.pack(">lbB", seconds, 0, 0) + abbreviation
    return _OffsetZone.from_file(io.BytesIO(header + body), key=canonical)


# --- cron --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def cron_expression(text: str) -> CronExpression:
    """Parsed expressions are immutable and shared: thousands of tasks use the same few."""
    return parse_cron(text)


def _cron_runs(expression: CronExpression, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    last = after.astimezone(UTC)
    first_day = last.astimezone(zone).date() - DAY  # a day early: DST can pull runs back
    minutes_of_day = [
        hour * 60 + minute for hour in expression.hours for minute in expression.minutes
    ]
    minutes_of_day.sort()
    for day in _matching_days(expression, first_day):
        for instant in _instants_on(expression, zone, day, minutes_of_day, last):
            if instant > last:
                last = instant
                yield instant


def _matching_days(expression: CronExpression, start: date) -> Iterator[date]:
    end_year = start.year + SEARCH_YEARS
    year, month, day = start.year, start.month, start.day
    while year <= end_year:
        if month in expression.months:
            for number in range(day, calendar.monthrange(year, month)[1] + 1):
                candidate = date(year, month, number)
                if expression.matches_day(candidate):
                    yield candidate
        day = 1
        month += 1
        if month == 13:
            year, month = year + 1, 1


def _instants_on(
    expression: CronExpression,
    zone: ZoneInfo,
    day: date,
    minutes_of_day: list[int],
    after: datetime,
) -> Iterator[datetime]:
    """The day's run instants in order, lazily: a caller wanting three of 288 makes three."""
    midnight = datetime.combine(day, time())
    offset = midnight.replace(tzinfo=zone).utcoffset()
    if offset is not None and offset == (midnight + DAY).replace(tzinfo=zone).utcoffset():
        # No transition today (all but two days a year): every wall time exists exactly once.
        base = (midnight - offset).replace(tzinfo=UTC)
        skip = bisect.bisect_right(minutes_of_day, (after - base).total_seconds() / 60)
        return (base + timedelta(minutes=m) for m in minutes_of_day[skip:])
    instants: list[datetime] = []
    for minute_of_day in minutes_of_day:
        wall = midnight + timedelta(minutes=minute_of_day)
        kind, resolved = resolve_wall_time(wall, zone)
        if kind == "normal":
            instants.append(resolved[0])
        elif kind == "repeated":
            instants.extend(resolved if expression.every_hour else resolved[:1])
        elif not expression.every_hour:
            instants.append(resolved[0])
    instants.sort()
    return iter(instants)


def resolve_wall_time(
    wall: datetime, zone: ZoneInfo
) -> tuple[Literal["normal", "repeated", "gap"], list[datetime]]:
    """What a naive wall-clock time means in `zone`, as UTC instants.

    normal: exactly one instant; repeated (fall back): both instants, earlier first;
    gap (spring forward): the wall time does not exist, and the one instant returned is the
    first valid one after it, the moment the clocks jump.
    """
    earlier = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    later = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if earlier == later:
        return "normal", [earlier]
    if earlier < later:
        return "repeated", [earlier, later]
    # In a gap fold=0 reads the wall time with the offset from before the jump and fold=1 with
    # the one after, so the jump lies in (later, earlier]: find it to the second.
    after_offset = wall.replace(tzinfo=zone, fold=1).utcoffset()
    low, high = later, earlier
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return "gap", [high]


def fixed_time_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """When a run fixed at the naive wall-clock time `wall` in `zone` happens, in UTC.

    The daylight-saving policy of fixed-time runs: in a spring-forward gap, the first valid
    instant after it (the moment the clocks jump); in a repeated fall-back hour, the first one.
    """
    return resolve_wall_time(wall, zone)[1][0]


def _check_fires(expression: CronExpression) -> None:
    # Every calendar pattern repeats within 400 years, so searching one cycle from any start
    # proves it either way.
    if next(_matching_days(expression, date(2000, 1, 1)), None) is None:
        raise ScheduleError(
            N_("'{cron}' never runs: no date matches its day and month fields"),
            cron=expression.text,
        )


def _check_cron_period(expression: CronExpression, now: datetime, min_seconds: int) -> None:
    """Refuse expressions that run more often than allowed, measured in wall-clock time."""
    times = [h * 60 + m for h in expression.hours for m in expression.minutes]
    times.sort()
    gaps = [later - earlier for earlier, later in pairwise(times)]
    if _has_consecutive_days(expression, now.date()):
        gaps.append(24 * 60 - times[-1] + times[0])
    if gaps and min(gaps) * 60 < min_seconds:
        raise too_frequent(min(gaps) * 60, min_seconds)


def too_frequent(period_seconds: int, min_seconds: int) -> TooFrequentError:
    """The refusal in the words people use: no cron, no "at times"."""
    return TooFrequentError(
        N_("every {period} is more often than this bot allows: at most every {minimum}"),
        period_seconds=period_seconds,
        min_seconds=min_seconds,
        period=describe_period(period_seconds),
        minimum=describe_period(min_seconds),
    )


def _has_consecutive_days(expression: CronExpression, start: date) -> bool:
    previous: date | None = None
    for day in _matching_days(expression, start):
        if previous is not None and day - previous == DAY:
            return True
        if day - start > timedelta(days=800):
            return False
        previous = day
    return False


# --- intervals ---------------------------------------------------------------------------------


def _interval_runs(
    anchor: datetime, every: int, zone: ZoneInfo, after: datetime, count: int
) -> list[datetime]:
    if every % DAY_SECONDS == 0:
        return _local_day_runs(anchor, every // DAY_SECONDS, zone, after, count)
    period = timedelta(seconds=every)
    elapsed = after - anchor
    # The first run comes one period after the anchor, never at the anchor itself.
    steps = max(1, elapsed // period + 1) if elapsed >= timedelta(0) else 1
    first = anchor.astimezone(UTC) + period * steps
    return [first + period * i for i in range(count)]


def _local_day_runs(
    anchor: datetime, days: int, zone: ZoneInfo, after: datetime, count: int
) -> list[datetime]:
    """Every `days` local calendar days at the anchor's wall-clock time, placed like cron's
    fixed times across DST (a gap moves the run to the jump, a repeated hour runs once)."""
    local = anchor.astimezone(zone)
    wall = local.replace(tzinfo=None, fold=0)
    elapsed_days = (after.astimezone(zone).date() - local.date()).days
    # Start a step early: the day's run may still be ahead of `after`, or DST may shift it.
    step = max(1, elapsed_days // days)
    runs: list[datetime] = []
    while len(runs) < count:
        instant = fixed_time_instant(wall + DAY * (days * step), zone)
        if instant > after:
            runs.append(instant)
        step += 1
    return runs


# --- small guards ------------------------------------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _require(value: _T | None, name: str) -> _T:
    if value is None:
        raise ScheduleError(N_("the schedule lacks {name}"), name=name)
    return value

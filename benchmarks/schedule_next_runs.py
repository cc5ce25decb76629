"""What a schedule costs: `next_runs(after, 3)`, `next_after(after)` and `validate()`, per call.

Run with `uv run python benchmarks/schedule_next_runs.py [calls]`. Each schedule is asked from
`calls` different instants (spread over years, or over the hours around a DST transition for the
DST cases), so the figures are not those of one cached path. Parsed cron expressions are cached
(`cron_expression`), as they are in the running bot; the "cold" column clears that cache before
each call, as after a restart. Prints figures only, in microseconds per call.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.schedules.schedule import Schedule, cron_expression, validate
from storage.records import TaskKind

MIN_INTERVAL_SECONDS = 300
BASE = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    label: str
    schedule: Schedule
    # The instants the schedule is asked from; validation uses them as `now` too.
    afters: Sequence[datetime]


def spread(calls: int) -> list[datetime]:
    """Instants a few days and odd minutes apart, over about ten years."""
    return [BASE + timedelta(minutes=7_919 * i % (10 * 525_600)) for i in range(calls)]


def around(transition: datetime, calls: int) -> list[datetime]:
    """Instants in the 36 hours before a DST transition, so the runs cross it."""
    return [transition - timedelta(minutes=1 + (i * 37) % (36 * 60)) for i in range(calls)]


def cron(expression: str, zone: str = "Europe/Berlin") -> Schedule:
    return Schedule(kind=TaskKind.CRON, timezone=zone, cron=expression)


def cases(calls: int) -> list[Case]:
    # Berlin springs forward at 02:00 local (01:00 UTC) on 28 March 2027 and falls back at
    # 03:00 local (01:00 UTC) on 31 October 2027.
    spring = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    autumn = datetime(2027, 10, 31, 1, 0, tzinfo=UTC)
    every = spread(calls)
    return [
        Case("daily 0 9 * * *", cron("0 9 * * *"), every),
        Case("weekdays 0 9 * * 1-5", cron("0 9 * * 1-5"), every),
        Case("every 5 min */5 * * * *", cron("*/5 * * * *"), every),
        Case("hourly 0 * * * *", cron("0 * * * *"), every),
        Case("monthly last day 0 9 L * *", cron("0 9 L * *"), every),
        Case("first Monday 0 9 * * 1#1", cron("0 9 * * 1#1"), every),
        Case("yearly 0 0 1 1 *", cron("0 0 1 1 *"), every),
        Case("New York 30 8 * * 1-5", cron("30 8 * * 1-5", "America/New_York"), every),
        Case("DST gap 30 2 * * *", cron("30 2 * * *"), around(spring, calls)),
        Case("DST fall back 30 2 * * *", cron("30 2 * * *"), around(autumn, calls)),
        Case("DST fall back */15 * * * *", cron("*/15 * * * *"), around(autumn, calls)),
        # Worst case: matching days are years apart (a fifth Friday in February).
        Case("rare 0 0 * 2 5#5", cron("0 0 * 2 5#5"), every),
        Case(
            "interval every 90 min",
            Schedule(
                kind=TaskKind.INTERVAL,
                timezone="Europe/Berlin",
                every_seconds=5_400,
                run_at=BASE - timedelta(days=400),
            ),
            every,
        ),
        Case(
            "one-shot",
            Schedule(
                kind=TaskKind.ONCE,
                timezone="Europe/Berlin",
                run_at=BASE + timedelta(days=4_000),
            ),
            every,
        ),
    ]


def timed(call: Callable[[datetime], object], afters: Sequence[datetime]) -> list[float]:
    """Seconds per call, one call per instant."""
    timings: list[float] = []
    for after in afters:
        start = time.perf_counter()
        call(after)
        timings.append(time.perf_counter() - start)
    return timings


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def figures(timings: list[float]) -> str:
    timings.sort()
    p50 = percentile(timings, 0.50) * 1e6
    p99 = percentile(timings, 0.99) * 1e6
    return f"{p50:8.1f} {p99:8.1f}"


def warm_next_runs(schedule: Schedule) -> Callable[[datetime], object]:
    def call(after: datetime) -> object:
        return schedule.next_runs(after, 3)

    return call


def next_after(schedule: Schedule) -> Callable[[datetime], object]:
    def call(after: datetime) -> object:
        return schedule.next_after(after)

    return call


def cold_next_runs(schedule: Schedule) -> Callable[[datetime], object]:
    def call(after: datetime) -> object:
        cron_expression.cache_clear()
        return schedule.next_runs(after, 3)

    return call


def check(case: Case) -> Callable[[datetime], object]:
    def call(now: datetime) -> object:
        return validate(case.schedule, now=now, min_interval_seconds=MIN_INTERVAL_SECONDS)

    return call


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    all_cases = cases(calls)
    # Warm up: zone files, the cron cache and the describe cache are filled on first use.
    for case in all_cases:
        case.schedule.next_runs(case.afters[0], 3)
        check(case)(case.afters[0])
    header = (
        f"{'µs per call, p50 p99':<28} {'next_runs(3)':>17} {'next_after':>17} "
        f"{'next_runs cold':>17} {'validate':>17}"
    )
    print(f"{calls} calls per figure, Python {sys.version.split()[0]}")
    print(header)
    every_next_runs: list[float] = []
    for case in all_cases:
        schedule = case.schedule
        next_runs = timed(warm_next_runs(schedule), case.afters)
        first = timed(next_after(schedule), case.afters)
        cold = (
            figures(timed(cold_next_runs(schedule), case.afters))
            if schedule.kind is TaskKind.CRON
            else f"{'-':>8} {'-':>8}"
        )
        validation = timed(check(case), case.afters)
        every_next_runs.extend(next_runs)
        print(
            f"{case.label:<28} {figures(next_runs)} {figures(first)} {cold} {figures(validation)}"
        )
    print(
        f"{'all of the above':<28} {figures(every_next_runs)}   "
        f"(mean {statistics.fmean(every_next_runs) * 1e6:.1f} µs)"
    )


if __name__ == "__main__":
    main()

"""The rules parser, driven by corpora of whole requests with a fixed clock: Thursday
2026-11-26 10:00 in Berlin.

The corpora are beside this file, one request a line: phrases.jsonl (the first one) and
phrases_families.jsonl (the phrase families of issue 23: n-th weekday lists, months, starts,
every N months, offsets, zones ..., each base request also written in other ways: after the task,
capitalised, upper-case, with "please"). A line: `text`, then `cron`, `once` (an ISO instant) or
`interval` (seconds; the first run is now + period unless `first` says otherwise; for a cron,
`first` is its first run, which a start may hold back), and `prompt`; or `decline` (empty, or a
part of the reason). Optional: `zone` (the schedule's), `chat_zone`, `now`, `source`,
`corrections` ([typed, read as] pairs), `group`. POSITIVE_CASES and NEGATIVE_PHRASES are
module-level so benchmarks/rules_parser.py can time them.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from core.errors import NotUnderstoodError, ScheduleError
from scheduler.parsing.rules import parse_rules
from scheduler.schedules.schedule import ParsedRequest, Schedule, validate, zone_for
from storage.records import TaskKind

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)  # a Thursday, CET (+01:00)


@dataclass(frozen=True)
class Case:
    """One whole request and what it means; an interval's `first` run when it is not now+period."""

    text: str
    schedule: Schedule
    prompt: str
    source: str = "rules"
    now: datetime = NOW
    chat_timezone: str = TZ
    first: datetime | None = None
    corrections: tuple[tuple[str, ...], ...] = ()


PHRASES = Path(__file__).with_name("phrases.jsonl")
FAMILIES = Path(__file__).with_name("phrases_families.jsonl")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _case(row: dict[str, Any]) -> Case:
    zone = row.get("zone", TZ)
    if "cron" in row:
        schedule = Schedule(kind=TaskKind.CRON, timezone=zone, cron=row["cron"])
    elif "once" in row:
        schedule = Schedule(kind=TaskKind.ONCE, timezone=zone, run_at=_when(row["once"]))
    else:
        now = _when(row["now"]) if "now" in row else NOW
        schedule = Schedule(
            kind=TaskKind.INTERVAL, timezone=zone, every_seconds=row["interval"], run_at=now
        )
    return Case(
        row["text"],
        schedule,
        row["prompt"],
        source=row.get("source", "rules"),
        now=_when(row["now"]) if "now" in row else NOW,
        chat_timezone=row.get("chat_zone", TZ),
        first=_when(row["first"]) if "first" in row else None,
        corrections=tuple(tuple(pair) for pair in row.get("corrections", ())),
    )


def rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _rows() -> list[dict[str, Any]]:
    return rows(PHRASES) + rows(FAMILIES)


POSITIVE_CASES: list[Case] = [_case(row) for row in _rows() if "decline" not in row]
NEGATIVE_PHRASES: list[str] = [row["text"] for row in _rows() if "decline" in row]
DECLINE_REASONS: list[tuple[str, str]] = [
    (row["text"], row["decline"]) for row in _rows() if row.get("decline")
]


def _parse(text: str, *, now: datetime = NOW, timezone: str = TZ) -> ParsedRequest:
    return parse_rules(text, now=now, timezone=timezone)


def test_the_corpora_are_big_enough() -> None:
    assert len(rows(PHRASES)) >= 470
    assert len(rows(FAMILIES)) >= 500
    assert len(NEGATIVE_PHRASES) >= 130
    texts = [case.text for case in POSITIVE_CASES if case.now == NOW]
    assert len(set(texts)) == len(texts), "a phrase is listed twice"
    families = [row["text"] for row in rows(FAMILIES)]
    assert len(set(families)) == len(families), "a phrase is listed twice"


@pytest.mark.parametrize("case", POSITIVE_CASES, ids=lambda case: case.text[:60])
def test_positive(case: Case) -> None:
    result = _parse(case.text, now=case.now, timezone=case.chat_timezone)
    # As it is stored: a cron's start is kept only when it holds a run back.
    schedule = validate(result.schedule, now=case.now, min_interval_seconds=1)

    assert result.prompt == case.prompt
    assert result.source == case.source
    assert result.corrections == case.corrections
    if case.first is not None:
        # An interval from its first run (the anchor is one period earlier, in local days), or
        # a cron from its start.
        assert (schedule.kind, schedule.every_seconds, schedule.cron) == (
            case.schedule.kind,
            case.schedule.every_seconds,
            case.schedule.cron,
        )
        assert schedule.timezone == case.schedule.timezone
        assert schedule.next_after(case.now) == case.first
        return
    assert _comparable(schedule) == _comparable(case.schedule)
    if result.schedule.run_at is not None:
        assert result.schedule.run_at.tzinfo == zone_for(case.schedule.timezone)


def _comparable(schedule: Schedule) -> tuple[object, ...]:
    # The instant in UTC: PEP 495 makes a time in a DST fold unequal to any other zone's.
    run_at = None if schedule.run_at is None else schedule.run_at.astimezone(UTC)
    return (schedule.kind, schedule.timezone, schedule.cron, run_at, schedule.every_seconds)


@pytest.mark.parametrize("text", NEGATIVE_PHRASES)
def test_negative(text: str) -> None:
    with pytest.raises(NotUnderstoodError) as raised:
        _parse(text)
    reason = str(raised.value)
    assert reason
    assert len(reason) < 300


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("today at 8am call", "already passed today"),
        ("every day at 9 and 17:30 check", "a task for each time"),
        ("every day at 9", "what to do"),
        ("hello", "couldn't find a schedule"),
        ("every day at 25:00 check", "“25:00” is not a valid time"),
        ("every 0 minutes check", "Every 0"),
        ("every day at 9 Foo time check", "Foo time"),
        ("every day except sunday at 9 check", "“except”"),
        ("friday, december 24 check", "is a Thursday, not a Friday"),
        *DECLINE_REASONS,
    ],
)
def test_the_reason_says_why(text: str, reason: str) -> None:
    with pytest.raises(NotUnderstoodError, match=re.escape(reason)):
        _parse(text)


def test_rule_crons_are_canonical_and_valid() -> None:
    # Numbers, not names; `L` alone only as the day of the month, `#` and `dL` only in the
    # day of the week.
    canonical = re.compile(
        r"^[0-9*][0-9,*/-]* [0-9*][0-9,*/-]* (?:[0-9*][0-9,*/-]*|L) [0-9*][0-9,*/-]* "
        r"(?:[0-9*][0-9,*/-]*|(?:[0-6]#[1-5]|[0-6]L)(?:,(?:[0-6]#[1-5]|[0-6]L))*)$"
    )
    checked = 0
    for case in POSITIVE_CASES:
        expression = case.schedule.cron
        if expression is None or case.source != "rules":
            continue
        assert canonical.match(expression), expression
        # croniter writes "the last Friday" as L5 where we write 5L.
        assert croniter.is_valid(re.sub(r"([0-6])L\b", r"L\1", expression)), expression
        checked += 1
    assert checked > 100


def test_interval_counts_from_now_in_the_schedule_zone() -> None:
    result = _parse("every 7 minutes check", now=NOW.astimezone(ZoneInfo("UTC")))

    assert result.schedule.run_at == NOW
    assert result.schedule.run_at is not None
    assert result.schedule.run_at.tzinfo == BERLIN


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_rules("every day at 9 check", now=datetime(2026, 11, 26, 10), timezone=TZ)  # noqa: DTZ001


def test_an_unknown_chat_zone_is_a_schedule_error() -> None:
    with pytest.raises(ScheduleError):
        parse_rules("every day at 9 check", now=NOW, timezone="Mars/Olympus")


_FUZZ_VOCABULARY = (
    "every day at 9 am pm monday mon-fri weekdays in 2 minutes hours from to between and , : "
    "tomorrow today tonight the 1st 15th of month last first on december 24 2026-12-31 utc tokyo "
    "time new york europe/berlin noon midnight 25:00 9:75 13pm 0 * */5 L 1#1 @daily next this "
    "morning evening hourly daily weekly monthly each week year half an hour 17:30 18:00z <b> ** "
    "https://x.y/every-day check news call mom İ ’ – \x00 \n"
)
_FUZZ_WORDS = _FUZZ_VOCABULARY.split(" ")


def _fuzz_texts(rng: random.Random) -> list[str]:
    texts = []
    for _ in range(3000):
        shape = rng.random()
        if shape < 0.5:
            texts.append(" ".join(rng.choice(_FUZZ_WORDS) for _ in range(rng.randint(1, 14))))
        elif shape < 0.8:
            texts.append("".join(chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 60))))
        else:
            alphabet = "every day at 9:0am,-/.#*@ \n\t\x00İ'’–<>[]()"
            texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))))
    long_texts = [
        "a" * 10_000,
        " " * 10_000,
        "9" * 10_000,
        "every " * 2_000,
        "at 9 " * 2_000,
        "monday, " * 1_500,
        "1st and " * 1_200,
        "time " * 2_000,
        "@" * 10_000,
        "a@b." * 2_500,
        "9:" * 5_000,
        "every day at 9 " + "x" * 10_000,
        "from 9 to " * 1_000,
        "new york time " * 700,
        "<b>" * 3_000,
        "\x00\x01\x1b" * 3_000,
        "mon-" * 2_500,
        "a-" * 5_000,
        "9-" * 5_000,
    ]
    return texts + long_texts


def _outcome(text: str) -> ParsedRequest | NotUnderstoodError:
    try:
        return _parse(text)
    except NotUnderstoodError as error:
        return error


def test_fuzz_only_declines_or_parses() -> None:
    zone_names = {"Europe/Berlin"}
    for text in _fuzz_texts(random.Random(20261126)):
        result = _outcome(text)  # anything else raised fails the test
        if isinstance(result, NotUnderstoodError):
            assert str(result)
            continue
        schedule = result.schedule
        assert result.prompt
        assert result.prompt == result.prompt.strip()
        assert result.source in ("rules", "cron")
        ZoneInfo(schedule.timezone)
        zone_names.add(schedule.timezone)
        if schedule.kind is TaskKind.CRON:
            assert schedule.cron is not None
            assert len(schedule.cron.split()) == 5
            assert schedule.run_at is None
            assert schedule.every_seconds is None
        elif schedule.kind is TaskKind.ONCE:
            assert schedule.run_at is not None
            assert schedule.run_at.utcoffset() is not None
            assert schedule.cron is None
            assert schedule.every_seconds is None
        else:
            assert schedule.every_seconds is not None
            assert schedule.every_seconds > 0
            assert schedule.run_at == NOW
    assert "UTC" in zone_names  # the fuzz reached the zone matchers

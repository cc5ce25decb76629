"""Properties of the rules parser over the corpus, and its score on requests it was not tuned on.

Inserting a misspelled schedule word anywhere in a request the parser understands never yields a
different schedule by accident: the parser declines, or reads the same schedule, or reads the
misspelling as the schedule word it stands for and says so (the card shows “read X as Y”), and
then the schedule is exactly the one of the request with that word spelled right.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import NotUnderstoodError
from scheduler.parsing.rules import parse_rules
from scheduler.parsing.rules.misspellings import SCHEDULE_WORDS, corrected, misspellings
from scheduler.parsing.rules.vocabulary import DAY_FORMS, MONTHS
from scheduler.schedules.schedule import ParsedRequest, Schedule, validate
from tests.scheduler.parsing.test_rules import NOW, POSITIVE_CASES, TZ, Case

HELD_OUT = Path(__file__).with_name("phrases_held_out.jsonl")
UNDERSTOOD = [
    case
    for case in POSITIVE_CASES
    if case.now == NOW and case.chat_timezone == TZ and not case.corrections
]
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _outcome(text: str) -> ParsedRequest | None:
    try:
        return parse_rules(text, now=NOW, timezone=TZ)
    except NotUnderstoodError:
        return None


def _runs(schedule: Schedule) -> list[datetime]:
    return schedule.next_runs(NOW, 5)


@st.composite
def _misspelled(draw: st.DrawFn) -> str:
    """A schedule word with one edit (drop, swap, double or change a letter) that reads as a
    misspelling, i.e. not an English word or a word the parser knows."""
    word = draw(st.sampled_from(SCHEDULE_WORDS))
    position = draw(st.integers(0, len(word) - 2))
    edit = draw(st.sampled_from(("drop", "swap", "double", "change")))
    if edit == "drop":
        typo = word[:position] + word[position + 1 :]
    elif edit == "swap":
        typo = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    elif edit == "double":
        typo = word[: position + 1] + word[position] + word[position + 1 :]
    else:
        letter = draw(st.sampled_from(_LETTERS))
        typo = word[:position] + letter + word[position + 1 :]
    # An edit can land on another schedule word ("weekday" + "s"): that is no misspelling.
    assume(typo not in SCHEDULE_WORDS and typo not in DAY_FORMS and typo not in MONTHS)
    return typo


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
@given(
    case=st.sampled_from(UNDERSTOOD),
    typo=_misspelled(),
    where=st.floats(0, 1),
)
def test_a_misspelled_schedule_word_never_changes_the_schedule(
    case: Case, typo: str, where: float
) -> None:
    words = case.text.split(" ")
    cut = round(where * len(words))
    text = " ".join([*words[:cut], typo, *words[cut:]])
    original = _outcome(case.text)
    assert original is not None
    result = _outcome(text)
    if result is None:
        return  # declining is allowed
    typos = misspellings(text.lower())
    if not typos:  # an English word after all ("ours", "nights"): it must change nothing
        assert _runs(result.schedule) == _runs(original.schedule), (text, result)
        assert result.prompt.lower() == original.prompt.lower() or typo in result.prompt.lower()
        return
    # Read as the word it stands for, and said so: the same as writing that word.
    assert result.corrections == tuple((found.typed, found.meant) for found in typos)
    spelled_right, _ = corrected(text, typos)
    expected = _outcome(spelled_right)
    assert expected is not None, (text, spelled_right)
    assert _runs(result.schedule) == _runs(expected.schedule), (text, result)
    assert (result.schedule.kind, result.prompt) == (expected.schedule.kind, expected.prompt)


def _held_out() -> list[dict[str, Any]]:
    with HELD_OUT.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _is_right(row: dict[str, Any], request: ParsedRequest) -> bool:
    zone = ZoneInfo(row.get("zone", TZ))
    schedule = validate(request.schedule, now=NOW, min_interval_seconds=300)
    if request.prompt != row["prompt"] or schedule.timezone != row.get("zone", TZ):
        return False
    if "cron" in row:
        return schedule.cron == row["cron"]
    if "once" in row:
        return schedule.run_at == datetime.fromisoformat(row["once"]).replace(tzinfo=zone)
    first = (
        datetime.fromisoformat(row["first"]).replace(tzinfo=zone)
        if "first" in row
        else NOW + timedelta(seconds=row["interval"])
    )
    return schedule.every_seconds == row["interval"] and schedule.next_after(NOW) == first


def score_held_out() -> tuple[int, int, int, list[str]]:
    """(right, wrong, declined, the texts read wrongly) over the held-out requests."""
    right = wrong = declined = 0
    wrongly: list[str] = []
    for row in _held_out():
        request = _outcome(row["text"])
        if request is None:
            right += "decline" in row
            declined += "decline" not in row
        elif "decline" not in row and _is_right(row, request):
            right += 1
        else:
            wrong += 1
            wrongly.append(row["text"])
    return right, wrong, declined, wrongly


def test_held_out_requests_are_never_read_wrongly() -> None:
    right, wrong, declined, wrongly = score_held_out()
    assert wrongly == []
    assert wrong == 0
    assert right + declined == len(_held_out()) >= 60

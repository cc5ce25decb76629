"""Properties of the rules parser over the corpus, and its score on requests it was not tuned on.

Inserting a misspelled schedule word anywhere in a request the parser understands never yields a
different schedule by accident: the parser declines, or reads the same schedule, or reads the
misspelling as the schedule word it stands for and says so (the card shows “read X as Y”), and
then the schedule is exactly the one of the request with that word spelled right.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from core.errors import NotUnderstoodError, ScheduleError
from scheduler.parsing.rules import parse_rules
from scheduler.parsing.rules.misspellings import SCHEDULE_WORDS, corrected, misspellings
from scheduler.parsing.rules.vocabulary import DAY_FORMS, MONTHS
from scheduler.schedules.schedule import ParsedRequest, Schedule, validate, zone_for
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


def held_out(path: Path = HELD_OUT) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _is_right(row: dict[str, Any], schedule: Schedule, prompt: str) -> bool:
    zone = zone_for(row.get("zone", TZ))
    if prompt != row["prompt"] or schedule.timezone != row.get("zone", TZ):
        return False
    first = datetime.fromisoformat(row["first"]).replace(tzinfo=zone) if "first" in row else None
    if "cron" in row:
        return schedule.cron == row["cron"] and first in (None, schedule.next_after(NOW))
    if "once" in row:
        return schedule.run_at == datetime.fromisoformat(row["once"]).replace(tzinfo=zone)
    first = first or NOW + timedelta(seconds=row["interval"])
    return schedule.every_seconds == row["interval"] and schedule.next_after(NOW) == first


@dataclass(frozen=True)
class Score:
    """How the rules did on requests with a known meaning (or a known need to decline)."""

    right: int  # understood as meant, or declined as they should be
    wrong: list[str]  # read otherwise than meant, or read when they should be declined
    declined: list[str]  # a clear schedule the rules declined (the LLM may try)
    clear: int  # requests with a clear schedule
    understood: int  # of those, read as meant


def score_held_out(path: Path = HELD_OUT) -> Score:
    """The rules' score on requests written elsewhere; a refused schedule (too frequent, in
    the past) counts as declined, as the bot would not schedule it."""
    right = understood = clear = 0
    wrong: list[str] = []
    declined: list[str] = []
    for row in held_out(path):
        clear += "decline" not in row
        request = _outcome(row["text"])
        schedule = None
        if request is not None:
            try:
                schedule = validate(request.schedule, now=NOW, min_interval_seconds=300)
            except ScheduleError:
                schedule = None
        if request is None or schedule is None:
            if "decline" in row:
                right += 1
            else:
                declined.append(row["text"])
        elif "decline" not in row and _is_right(row, schedule, request.prompt):
            right += 1
            understood += 1
        else:
            wrong.append(row["text"])
    return Score(right, wrong, declined, clear, understood)


def test_held_out_requests_are_never_read_wrongly() -> None:
    score = score_held_out()
    assert score.wrong == []
    assert score.right + len(score.declined) == len(held_out()) >= 60


# --- schedule words the reading ignored never reach the prompt -----------------------------------

# Schedule phrases of every family, each read alone with a plain task first.
SCHEDULE_PHRASES = (
    "every day at 9am", "every weekday at 8:30", "every monday at 10",
    "on mondays and thursdays at 6pm", "every 15 minutes", "every 2 hours",
    "every hour from 9 to 17", "every 30 minutes between 9:15 and 17:45",
    "on the 1st of every month", "on the last day of the month", "the first monday of the month",
    "the 2nd and 4th tuesday of the month", "every first and third friday of each month at 9",
    "the last friday of the month at 16:00", "every year on march 3",
    "every year on the second sunday of may", "every 3/15 and 10/15 at 10am",
    "every day from april through june", "every monday in december", "weekdays in january at 7",
    "every other week on tuesday at 11", "every 3 days", "every other month on the 4th",
    "every 3 months on the 15th", "every 12 hours starting at 7pm", "every 5 hours starting at 9",
    "weekdays starting next monday", "every monday starting december 7",
    "every 14 days at 7am starting 1 Nov", "tomorrow at 9", "next friday at 5pm",
    "on march 3rd at 10", "on 2026-12-24 at 18:00", "in 2 hours", "in 3 days at 9",
    "in 2 months", "a week from tomorrow", "on the 12th of next month at 6pm",
    "the last monday of may", "at 6pm UTC+2", "every day at 9am EST", "at 5pm Tokyo time",
    "every morning", "every sunday evening", "twice a day at 9 and 21", "once a week on sunday",
    "every quarter", "at noon", "tonight at 11",
)  # fmt: skip
# Tasks without schedule words, and tasks whose words only look like some.
PLAIN_TASKS = (
    "call mom", "water the plants", "summarize the top Hacker News stories",
    "check the server status", "send the team update", "tell me a joke",
)  # fmt: skip
TASKS_WITH_NUMBERS_AND_ORDINALS = (
    "summarize the top 5 stories", "read the first chapter", "send the weekly report",
    "tell me the weather for tomorrow", "list 3 things to do", "buy milk and eggs",
)  # fmt: skip
# Schedule words before or after a schedule phrase that no reading here can hold: the parser
# must decline ("for 3 weeks", "until june", "or 10am", "8 [tonight]"...).
DECLINE_BEFORE = (
    "until june", "except", "between", "twice", "or", "not", "after", "before", "around",
    "3 hours after", "only until", "until", "end of", "beginning of", "or at 10am", "and at 10",
    "ev", "for 3 weeks", "by", "onwards", "2", "starting", "every other day and",
)  # fmt: skip
DECLINE_AFTER = (
    "until june", "except fridays", "between", "twice", "or 10am", "until 5pm", "for 3 weeks",
    "through march", "or every", "before noon", "after 6pm", "3 hours", "ish", "sharp",
    "or so", "at the latest", "plus 2 days", "for 3x", "or later", "and after",
    "except on holidays", "onwards", "or two", "until further notice", "but not mondays",
    "of the year", "or the first", "starting", "and", "or",
)  # fmt: skip
# Schedule words that may join the reading ("first and [third friday]", "[every monday] and
# tuesdays", "[every day] in may"): then none of them is left in the prompt.
JOIN_BEFORE = (
    "first and", "the 2nd and", "every other", "third and", "last", "next", "this", "second",
    "from", "each", "on", "at", "in", "the",
)  # fmt: skip
JOIN_AFTER = (
    "and 30", "and the 3rd", "and every other", "and 5", "and the last", "and the next day",
    "and 10", "& 11", ", 5pm", "and weekends", "and tuesdays", "every other week", "in may",
    "of may",
)  # fmt: skip


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", text.lower()).split())


def _reading(text: str) -> tuple[list[datetime], str, str] | None:
    request = _outcome(text)
    if request is None:
        return None
    return _runs(request.schedule), request.schedule.timezone, _words(request.prompt)


@st.composite
def _arranged(draw: st.DrawFn) -> tuple[str, str, str]:
    """A schedule phrase and a task in one of the orders people write them."""
    phrase = draw(st.sampled_from(SCHEDULE_PHRASES))
    task = draw(st.sampled_from(PLAIN_TASKS + TASKS_WITH_NUMBERS_AND_ORDINALS))
    shown = draw(st.sampled_from((phrase, phrase.capitalize(), phrase.upper(), phrase.title())))
    order = draw(st.sampled_from(("{s} {t}", "{t} {s}", "{s}, {t}", "{t}, {s}.", "{s}: {t}")))
    return phrase, task, order.format(s=shown, t=task)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(arranged=_arranged())
def test_a_schedule_phrase_means_the_same_wherever_it_stands(
    arranged: tuple[str, str, str],
) -> None:
    phrase, task, text = arranged
    base = _reading(f"{phrase} call mom")
    assert base is not None, phrase
    reading = _reading(text)
    if reading is None:
        return  # declining is allowed (and rare: see the next test)
    assert reading == (base[0], base[1], _words(task)), text


def test_most_orders_of_every_phrase_are_understood() -> None:
    understood = total = 0
    for phrase in SCHEDULE_PHRASES:
        for task in PLAIN_TASKS[:3]:
            for text in (f"{phrase} {task}", f"{task} {phrase}", f"{phrase}, {task}"):
                total += 1
                understood += _outcome(text) is not None
    assert understood / total >= 0.97


@st.composite
def _next_to_a_phrase(draw: st.DrawFn) -> tuple[str, str, bool]:
    """A task, and a schedule phrase with schedule words before or after it: (text, the task,
    whether the parser must decline)."""
    phrase = draw(st.sampled_from(SCHEDULE_PHRASES))
    task = draw(st.sampled_from(PLAIN_TASKS))
    before = draw(st.booleans())
    words = draw(
        st.sampled_from((DECLINE_BEFORE + JOIN_BEFORE) if before else (DECLINE_AFTER + JOIN_AFTER))
    )
    schedule = f"{words} {phrase}" if before else f"{phrase} {words}"
    text = draw(st.sampled_from((f"{task} {schedule}", f"{schedule} {task}")))
    return text, task, words in (DECLINE_BEFORE if before else DECLINE_AFTER)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(case=_next_to_a_phrase())
def test_schedule_words_the_reading_ignored_never_reach_the_prompt(
    case: tuple[str, str, bool],
) -> None:
    """Schedule language next to a schedule phrase is either read with it or declined: the
    prompt never holds a schedule word the reading ignored."""
    text, task, must_decline = case
    reading = _reading(text)
    if must_decline:
        assert reading is None, text
    elif reading is not None:
        assert reading[2] == _words(task), text

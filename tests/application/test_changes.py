"""Which replies are a schedule alone, a new task, or something for the model; proposals read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from application.changes import ChangeAction, Changes, InvalidChangeError, Proposal
from core.errors import ScheduleError
from scheduler.parsing.target_words import TargetsHow, TargetWords
from storage.records import Task, TaskKind, TaskState
from tests.fakes.clock import FakeClock

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=BERLIN)


def daily_task(**changes: Any) -> Task:
    fields: dict[str, Any] = {
        "id": 7,
        "chat_id": 1,
        "created_by": 1,
        "name": "Send me a quote",
        "prompt": "Send me a quote",
        "kind": TaskKind.CRON,
        "cron": "0 9 * * *",
        "run_at": None,
        "every_seconds": None,
        "timezone": "Europe/Berlin",
        "state": TaskState.ACTIVE,
        "next_run_at": None,
        "last_run_at": None,
        "consecutive_failures": 0,
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(changes)
    return Task(**fields)


@pytest.fixture
def changes() -> Changes:
    # Reading replies touches neither the database nor the engine.
    return Changes(None, None, FakeClock(NOW), None, min_interval_seconds=300)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("only on weekdays at 8am", "0 8 * * 1-5"),
        ("every day at 7pm", "0 19 * * *"),
        ("make it every monday at 10 instead", "0 10 * * 1"),
        ("Please change it to weekends at 11.", "0 11 * * 0,6"),
        ("hourly", "0 * * * *"),
    ],
)
def test_a_schedule_phrase_alone_is_read_by_the_rules(
    changes: Changes, text: str, cron: str
) -> None:
    schedule = changes.schedule_phrase(daily_task(), text)
    assert schedule is not None
    assert (schedule.kind, schedule.cron, schedule.timezone) == (
        TaskKind.CRON,
        cron,
        "Europe/Berlin",
    )


@pytest.mark.parametrize(
    "text",
    [
        "skip weekends",  # the rules would read "on weekends"
        "make it 7pm",  # a one-time 7pm for a daily task: a new time of day is meant
        "also include the top comment every day at 9",
        "shorter, three bullet points",
        "pause this",
        "what does it mean?",
    ],
)
def test_anything_more_is_left_to_the_model(changes: Changes, text: str) -> None:
    assert changes.schedule_phrase(daily_task(), text) is None


def test_a_one_time_task_takes_a_new_time(changes: Changes) -> None:
    once = daily_task(kind=TaskKind.ONCE, cron=None, run_at=NOW)
    schedule = changes.schedule_phrase(once, "tomorrow at 8pm")
    assert schedule is not None
    assert schedule.run_at == datetime(2026, 11, 27, 20, 0, tzinfo=BERLIN)


def test_a_schedule_that_is_not_allowed_is_refused(changes: Changes) -> None:
    with pytest.raises(ScheduleError):
        changes.schedule_phrase(daily_task(), "every minute")


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("every friday at 16 ask for the weekly report", True),
        ("every day at 9 send me a joke", True),
        ("skip weekends", False),
        ("only on weekdays at 8am", False),
        ("also include the top comment every day at 9", False),
        ("make it every day at 7pm", False),
    ],
)
def test_a_whole_new_request_is_told_apart(changes: Changes, text: str, new: bool) -> None:
    assert changes.is_new_request(daily_task(), text) is new


def arguments(**values: Any) -> str:
    return json.dumps(values)


def test_proposals_are_read_and_checked(changes: Changes) -> None:
    task = daily_task()
    proposal = changes.read_proposal(task, arguments(action="edit", cron="0 9 * * 1-5"))
    assert (proposal.action, proposal.prompt) == (ChangeAction.EDIT, None)
    assert proposal.schedule is not None
    assert proposal.schedule.cron == "0 9 * * 1-5"
    proposal = changes.read_proposal(
        task, arguments(action="edit", schedule="every weekday at 7pm", prompt="Two quotes")
    )
    assert proposal.schedule is not None
    assert proposal.schedule.cron == "0 19 * * 1-5"
    assert proposal.prompt == "Two quotes"
    assert changes.read_proposal(task, arguments(action="delete")) == Proposal(ChangeAction.DELETE)
    # Where results go and the model: the complete new list, and a name as written.
    proposal = changes.read_proposal(
        task, arguments(action="edit", targets=["here", " @news ", "here", ""], model=" Smart ")
    )
    assert proposal.targets == TargetWords(TargetsHow.SET, ("here", "@news"))
    assert (proposal.model, proposal.schedule, proposal.prompt) == ("smart", None, None)
    for bad in (
        "not json",
        arguments(action="explode"),
        arguments(action="edit"),  # nothing to change
        arguments(action="edit", cron="0 9 * * *", prompt="Send me a quote"),  # the same
        arguments(action="edit", schedule="whenever you like"),
        arguments(action="edit", targets=[" "]),  # no place at all
        arguments(action="edit", targets=None, model=""),  # nothing to change
    ):
        with pytest.raises(InvalidChangeError):
            changes.read_proposal(task, bad)
    with pytest.raises(ScheduleError):
        changes.read_proposal(task, arguments(action="edit", cron="* * * * *"))
    with pytest.raises(ScheduleError):
        changes.read_proposal(task, arguments(action="edit", cron="99 9 * * *"))

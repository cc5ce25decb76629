"""Which requests are reminders (posted without a model) and what a reminder says."""

from __future__ import annotations

import pytest

from scheduler.parsing.reminders import reminder_words, task_mode
from storage.records import TaskMode

REMINDERS = [
    "Remind me to drink water",
    "Remind me to call mum",
    "Timesheet!",
    "remind us to post the stand-up notes",
    "Remind me to write the report",
    "Don't forget to take the pills",
    "Reminder: pay rent",
    "Stand up and stretch",
    # What people keep in their to-do lists.
    "Check the oven",
    "Submit the report",
    "Review the draft",
    "Erinnere mich daran, Wasser zu trinken",
    "Recuérdame llamar a mamá",
    "Напомни мне позвонить маме",
]
AI_TASKS = [
    "Remind me of the weather",
    "Remind me to stretch and tell me the top news",
    "Summarize HN",
    "Summarize the top Hacker News stories",
    "Tell me a joke",
    "Say hi",
    "Report number 3",
    "Write the market report",
    "List my open pull requests",
    "Check if the site is up",
    "Greet the team",
    "Check https://status.example.com and tell me if anything is down",
    "What's new in Python?",
    "Top stories on Hacker News",
    "Write a haiku about autumn",
    "Find cheap flights to Lisbon and list the three best with prices and times",
    "",
]


@pytest.mark.parametrize("prompt", REMINDERS)
def test_reminders_need_no_model(prompt: str) -> None:
    assert task_mode(prompt) is TaskMode.REMINDER


@pytest.mark.parametrize("prompt", AI_TASKS)
def test_requests_for_information_or_work_stay_ai_tasks(prompt: str) -> None:
    assert task_mode(prompt) is TaskMode.AI


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("Remind me to drink water", "Drink water"),
        ("remind me that the bins go out", "The bins go out"),
        ("Reminder: pay rent", "Pay rent"),
        ("Timesheet!", "Timesheet!"),
        ("Remind me", "Remind me"),
        ("Напомни мне позвонить маме", "Позвонить маме"),
    ],
)
def test_a_reminder_says_the_words_without_remind_me(prompt: str, words: str) -> None:
    assert reminder_words(prompt) == words

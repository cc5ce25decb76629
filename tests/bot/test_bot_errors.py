"""The bot's words for expected errors, and its one handler for the unexpected ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from application.errors import (
    DraftExpiredError,
    QuotaExceededError,
    TaskNotActiveError,
    TaskTimePassedError,
)
from bot import problems
from bot.handlers.errors import SORRY
from bot.i18n import translator
from core.errors import CronpilotError
from scheduler.engine import TaskBusyError, TaskNotFoundError
from scheduler.schedules.schedule import TimePassedError, UnknownZoneError
from storage.database import create_engine
from storage.records import TaskState
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram, RateLimits

pytestmark = pytest.mark.usefixtures("litellm_imported")

ENGLISH = translator("en")


def test_dates_in_errors_keep_their_capitals() -> None:
    """Confirming a card whose one-time slot passed once read "Thu 26 nov 2026 11:00 cet is in
    the past": the error's text was capitalised, lower-casing the date."""
    error = TimePassedError(datetime(2026, 11, 26, 10, 0, tzinfo=UTC), "Europe/Berlin")
    said = problems.explain(ENGLISH, error, "Europe/Berlin")
    assert said.startswith("Thu 26 Nov 2026 11:00 CET is in the past")
    # In the chat's own zone, whatever zone the schedule was written in.
    assert "05:00 EST" in problems.explain(ENGLISH, error, "America/New_York")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TaskNotFoundError(7), "There is no task #7 in this chat."),
        (TaskBusyError(7), "Task #7 is running right now; wait for its result."),
        (TaskNotActiveError(7, TaskState.PAUSED), "Task #7 is paused already."),
        (TaskNotActiveError(7, TaskState.FINISHED), "Task #7 is done"),
        (TaskTimePassedError(7, TaskState.PAUSED), "use /edit 7 with a new time"),
        (QuotaExceededError(25), "already has 25 tasks"),
        (DraftExpiredError("abc", timedelta(hours=24)), "open for 24 hours"),
        (UnknownZoneError("Mars/Base"), "I don't know the time zone Mars/Base"),
    ],
)
def test_each_error_is_worded_from_its_facts(error: CronpilotError, expected: str) -> None:
    said = problems.explain(ENGLISH, error, "Europe/Berlin")
    assert expected in said
    assert said[0].isupper()


def test_errors_are_worded_in_the_chats_language() -> None:
    german = problems.explain(translator("de"), TaskNotFoundError(7), "Europe/Berlin")
    assert "#7" in german
    assert german != problems.explain(ENGLISH, TaskNotFoundError(7), "Europe/Berlin")


def test_alerts_fit_telegrams_limit() -> None:
    error = UnknownZoneError("x" * 64)
    assert len(problems.alert(ENGLISH, error, "UTC")) <= problems.ALERT_CHARS


@pytest.fixture
async def bot(pg_url: str) -> AsyncIterator[tuple[FakeTelegram, BotUnderTest, str]]:
    async with FakeTelegram(rate_limits=RateLimits.unlimited()) as fake, FakeLLM() as llm:
        under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
        await under_test.start()
        try:
            yield fake, under_test, pg_url
        finally:
            await under_test.stop()


async def test_the_unexpected_is_logged_and_the_person_gets_an_apology(
    bot: tuple[FakeTelegram, BotUnderTest, str],
) -> None:
    fake, _, url = bot
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    await create_task(fake, dm, alice, "every day at 9 news")
    await fake.send_text(dm, alice, "/tasks")
    listing = await fake.wait_for_message(dm)
    # A real failure underneath: the tasks table is gone for a moment.
    database = create_engine(url, pool_size=1)
    try:
        async with database.begin() as connection:
            await connection.execute(text("ALTER TABLE tasks RENAME TO tasks_away"))
        with capture_logs() as logs:
            await fake.send_text(dm, alice, "/tasks")
            sorry = await fake.wait_for_message(dm)
            query = await fake.press(dm, alice, listing, "Pause")
            answer = await fake.wait_for_callback_answer(query)
    finally:
        async with database.begin() as connection:
            await connection.execute(text("ALTER TABLE tasks_away RENAME TO tasks"))
        await database.dispose()
    assert sorry.text == SORRY
    assert (answer.text, answer.show_alert) == (SORRY, True)
    failures = [entry for entry in logs if entry["event"] == "bot.update_failed"]
    assert len(failures) == 2
    assert all(entry["log_level"] == "error" and entry["exc_info"] for entry in failures)

"""The database round trips of a scheduled run's hot path, counted on real PostgreSQL.

At 09:00 thousands of runs are due at once and each costs the bot's process CPU for every
statement it sends (issue 27: about half of a run's CPU was the database). This pins how many
round trips a scheduled run takes, from its claim to the record that its result arrived, so the
count cannot silently grow back: the claim, the run's start, the record of its outcome, the
chat's language read for the result's words, the record of the message sent.

Counted with SQLAlchemy's events: every statement, and every BEGIN, COMMIT and ROLLBACK that
reaches the server (none in sessions in AUTOCOMMIT, storage/database.py `autocommitting`),
made by the claim and by what it started (the runs and their deliveries inherit the counting
context); the heartbeat and the other background jobs are not counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.records import RunStatus
from tests.bot.test_bot_reliability import DAILY, NEXT_NINE
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.round_trips import RoundTrips

pytestmark = pytest.mark.usefixtures("litellm_imported")

RUNS = 3
# Per run, before issue 27's round: 20 (7 to start it, 7 to close it, 3 to read the chat's
# language for the result's words, 3 to record the message sent) and a share of the claim's.
# Now 7: its start 1 (one statement marks it started and reads its task, chat and last answers,
# and whether it has documents), its close 4 (BEGIN, the run, the task's count with what it
# spent and whether tasks follow it, COMMIT), the language 1, the message 1; and the claim's
# share (BEGIN, the due tasks, the runs, the tasks' next runs, COMMIT; and the tries due, none
# here: BEGIN, a read, COMMIT), 8 for the batch.
ROUND_TRIPS_PER_RUN = 7 + 8 / RUNS


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_a_scheduled_run_reaches_the_database_a_pinned_number_of_times(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    for number in range(RUNS):
        await create_task(fake, dm, alice, f"{DAILY} part {number}")
    for number in range(RUNS):
        llm.reply_text(f"Today's summary, part {number}.")
    since = fake.checkpoint()
    round_trips = RoundTrips()

    with round_trips.listening(), round_trips.counted():
        runs = await bot.fire_due(NEXT_NINE)

    assert len(runs) == RUNS
    results = [m for m in fake.messages(dm) if m.last_event > since and "Today's summary" in m.text]
    assert len(results) == RUNS
    history = [
        run for task in await bot.tasks_of(ALICE) for run in await bot.history(ALICE, task.id)
    ]
    assert all(
        run.status is RunStatus.SUCCEEDED and run.delivered_message_id and not run.delivery_pending
        for run in history
        if run.scheduled_for == NEXT_NINE
    )
    listed = "\n".join(f"{count} × {what}" for what, count in round_trips.statements.most_common())
    assert round_trips.total >= 4 * RUNS, listed  # the counting saw the runs
    assert round_trips.total <= ROUND_TRIPS_PER_RUN * RUNS, listed

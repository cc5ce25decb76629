"""The operator hears first: a model that fails opens one incident in OPERATOR_CHAT_ID, its
recovery resolves it, and `cronpilot doctor`'s checks say the same. The real PTB Application
over the fake Bot API and the fake LLM (LiteLLM between), the clock moved by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from typing import Any

import pytest

from storage.records import RunStatus, RunTrigger
from terminal.doctor import doctor
from tests.bot_harness import ALICE, NOW, OPERATOR, BotUnderTest, bot_settings, create_task
from tests.fakes.clock import FakeClock
from tests.fakes.llm import ErrorReply, FakeLLM, Reply, TextReply
from tests.fakes.telegram import FakeChat, FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")

OPS_CHAT = -1009876543210
NINE = NOW.replace(day=27, hour=9, minute=0)


def failing(body: Mapping[str, Any]) -> Reply:
    return ErrorReply(500, "The server had an error while processing your request.")


def answering(body: Mapping[str, Any]) -> Reply:
    return TextReply("All quiet.")


@pytest.fixture
def ops(fake: FakeTelegram) -> FakeChat:
    return fake.group(OPS_CHAT, "Ops", owner=fake.user(ALICE, "Alice"))


@pytest.fixture
async def bot(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, ops: FakeChat
) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, operator_chat_id=str(OPS_CHAT))
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_a_failing_model_raises_one_incident_and_its_recovery_resolves_it(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, ops: FakeChat
) -> None:
    runtime = bot.runtime
    assert runtime is not None
    assert runtime.operator is not None
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    ids = [await create_task(fake, dm, alice, f"every day at 9am report {n}") for n in range(3)]

    llm.default = failing
    runs = await bot.fire_due(NINE)
    assert sorted(run.task_id for run in runs) == sorted(ids)
    history = [await bot.history(dm.id, task_id) for task_id in ids]
    assert all(runs[0].status is RunStatus.FAILED for runs in history)

    bot.clock.current = NINE + timedelta(minutes=1)
    await runtime.watch.review(runtime.operator)
    alerts = fake.messages(ops)
    assert len(alerts) == 1
    assert "Model errors: 3 of 3 runs" in alerts[0].text
    assert "openai/gpt-4o-mini" in alerts[0].text

    lines, fine = await doctor(runtime.watch)
    assert not fine
    assert any(line.startswith("✗ model openai/gpt-4o-mini: 3 of 3 runs") for line in lines)
    assert "✓ database: reachable" in lines

    # Still failing a few minutes later (every replica reviews): no second alert.
    bot.clock.current = NINE + timedelta(minutes=5)
    await runtime.watch.review(runtime.operator)
    await runtime.watch.review(runtime.operator)
    assert len(fake.messages(ops)) == 1

    # The provider is back: the next runs succeed, the failures leave the window.
    llm.default = answering
    bot.clock.current = NINE + timedelta(minutes=20)
    for task_id in ids:
        await runtime.use_cases.runs.run_now(OPERATOR, task_id, trigger=RunTrigger.MANUAL)
    await bot.engine.wait_idle()
    await runtime.watch.review(runtime.operator)
    messages = fake.messages(ops)
    assert len(messages) == 2
    assert messages[1].text == "✅ Resolved after 19 minutes."
    assert messages[1].reply_to is not None
    assert messages[1].reply_to.message_id == alerts[0].message_id

    lines, fine = await doctor(runtime.watch)
    assert fine, lines
    assert any(line.startswith("✓ model errors:") for line in lines)
    await runtime.watch.review(runtime.operator)
    assert len(fake.messages(ops)) == 2

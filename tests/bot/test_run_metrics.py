"""What the dashboard and the alert rules read after real runs: runs per model, the model's
requests and their latency, and what became of the results owed to chats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from core import metrics
from tests.bot_harness import ALICE, BERLIN, NOW, BotUnderTest, FakeClock, bot_settings, create_task
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("litellm_imported")


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(fake, llm, bot_settings(fake, llm, pg_url), FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def failed_requests(model: str) -> float:
    return sum(
        found.value
        for metric in metrics.REGISTRY.collect()
        if metric.name == "cronpilot_llm_requests"
        for found in metric.samples
        if found.name == "cronpilot_llm_requests_total"
        and found.labels["model"] == model
        and found.labels["outcome"] != "ok"
    )


async def test_a_run_counts_by_model_and_its_delivery_by_outcome(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    model = bot.settings.llm_model
    task_id = await create_task(fake, dm, alice, "every day at 9am tell me a joke")
    succeeded = sample("cronpilot_model_runs_total", model=model, status="succeeded")
    failed = sample("cronpilot_model_runs_total", model=model, status="failed")
    answered = sample("cronpilot_llm_requests_total", model=model, outcome="ok")
    timed = sample("cronpilot_llm_request_duration_seconds_count", model=model)
    refused = failed_requests(model)
    delivered = sample("cronpilot_deliveries_total", target="chat", outcome="delivered")

    llm.reply_text("A joke")
    since = fake.checkpoint()
    due = datetime(2026, 11, 27, 9, 0, tzinfo=BERLIN)
    assert [run.task_id for run in await bot.fire_due(due)] == [task_id]
    await fake.wait_for_message(dm, lambda m: "A joke" in m.text, since=since)
    await bot.engine.wait_idle()

    assert sample("cronpilot_model_runs_total", model=model, status="succeeded") == succeeded + 1
    assert sample("cronpilot_llm_requests_total", model=model, outcome="ok") == answered + 1
    assert sample("cronpilot_llm_request_duration_seconds_count", model=model) == timed + 1
    assert sample("cronpilot_deliveries_total", target="chat", outcome="delivered") == delivered + 1
    assert sample("cronpilot_results_owed") == 0

    # A key the provider refuses: a failed request under its reason, a failed run, its
    # failure notice delivered.
    llm.reply_error(401, "Incorrect API key provided", error_type="invalid_request_error")
    since = fake.checkpoint()
    assert [run.task_id for run in await bot.fire_due(due + timedelta(days=1))] == [task_id]
    await fake.wait_for_message(dm, since=since)
    await bot.engine.wait_idle()

    assert failed_requests(model) == refused + 1
    assert sample("cronpilot_model_runs_total", model=model, status="failed") == failed + 1
    assert sample("cronpilot_deliveries_total", target="chat", outcome="delivered") == delivered + 2

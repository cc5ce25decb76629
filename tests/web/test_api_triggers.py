"""Trigger URLs and payloads over HTTP: the API's run takes a payload, a trigger URL's secret is
kept only as its digest and compared in constant time, and the counts reach /metrics."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from application import triggers as trigger_use_cases
from application.permissions import Actor
from scheduler.runner.chains import queue_followers
from storage import runs
from storage.database import create_engine, create_sessionmaker
from storage.records import RunStatus, RunTrigger
from tests.bot_harness import ALICE, NOW, OPERATOR, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import port_client, token_for

pytestmark = pytest.mark.usefixtures("litellm_imported")

HN = "every day at 9am summarize the top Hacker News stories"
# The operator, writing in Alice's private chat (as `cronpilot chat` does in its own).
IN_ALICES_CHAT = Actor.operator(chat_id=ALICE)


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, http_port=0, trigger_max_bytes=1000)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


def last_request_text(llm: FakeLLM) -> str:
    return str(llm.requests[-1]["messages"][-1]["content"])


async def test_the_api_run_takes_a_payload(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    assert bot.runtime is not None
    alice = fake.user(ALICE, "Alice")
    token = await token_for(fake, alice)
    async with port_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        task = (await api.post("/api/v1/tasks", json={"chat_id": ALICE, "text": HN})).json()
        llm.reply_text("Seen the alert.")
        started = await api.post(
            f"/api/v1/tasks/{task['id']}/run", json={"payload": {"alert": "disk 91% full"}}
        )
        assert started.status_code == 202, started.text
        await bot.engine.wait_idle()
        assert '"alert": "disk 91% full"' in last_request_text(llm)
        assert "<event>" in last_request_text(llm)
        [run] = (await api.get(f"/api/v1/tasks/{task['id']}/runs")).json()["runs"]
        assert run["payload"] == '{"alert": "disk 91% full"}'
        assert run["trigger"] == "manual"

        # Text too; and no body at all is a plain run, as before.
        llm.reply_text("Plain text seen.")
        text_run = await api.post(f"/api/v1/tasks/{task['id']}/run", json={"payload": "hello"})
        assert text_run.status_code == 202
        await bot.engine.wait_idle()
        assert "<event>\nhello\n</event>" in last_request_text(llm)
        llm.reply_text("No event.")
        assert (await api.post(f"/api/v1/tasks/{task['id']}/run")).status_code == 202
        await bot.engine.wait_idle()
        assert "<event>" not in last_request_text(llm)

        # Over TRIGGER_MAX_BYTES (1,000 here): refused, nothing started.
        too_big = await api.post(f"/api/v1/tasks/{task['id']}/run", json={"payload": "x" * 1001})
        assert too_big.status_code == 413
        assert "1001 bytes" in too_big.json()["error"]
        assert len((await api.get(f"/api/v1/tasks/{task['id']}/runs")).json()["runs"]) == 3
        shown = (await api.get(f"/api/v1/tasks/{task['id']}")).json()
        assert (shown["runs_after"], shown["has_trigger_url"]) == (None, False)


async def test_secrets_are_kept_as_digests_and_compared_in_constant_time(
    bot: BotUnderTest, fake: FakeTelegram, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert bot.runtime is not None
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    await fake.send_text(dm, alice, "/token")
    await fake.wait_for_message(dm, lambda m: "API token" in m.text)
    app = bot.runtime.use_cases
    card = await app.drafts.create(IN_ALICES_CHAT, ALICE, HN)
    task = await app.drafts.confirm(IN_ALICES_CHAT, card.draft_id)
    made = await app.triggers.issue(OPERATOR, task.id)
    secret = made.path.rsplit("/", 1)[1]
    assert made.url is None

    engine = create_engine(pg_url, pool_size=1)
    try:
        async with engine.connect() as connection:
            stored = (await connection.execute(text("SELECT trigger_hash FROM tasks"))).scalar()
    finally:
        await engine.dispose()
    assert stored == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored)

    compared: list[tuple[str, str]] = []
    compare = hmac.compare_digest

    def spy(left: str, right: str) -> bool:
        compared.append((left, right))
        return compare(left, right)

    monkeypatch.setattr(trigger_use_cases.hmac, "compare_digest", spy)
    async with port_client(bot.runtime) as client:
        wrong = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        assert (await client.post(f"/hooks/{wrong}", content=b"x")).status_code == 404
        # The unknown secret costs the same comparison of two digests as a known one.
        assert len(compared) == 1
        assert all(len(item) == 64 for item in compared[0])
        assert (await client.post("/hooks/" + "y" * 500, content=b"x")).status_code == 404
        assert (await client.post(f"/hooks/{secret}", content=b"x")).status_code == 202
        assert compared[-1] == (stored, stored)
        await bot.engine.wait_idle()

        metrics = (await client.get("/metrics")).text
    assert 'cronpilot_trigger_requests_total{outcome="started"}' in metrics
    assert 'cronpilot_trigger_requests_total{outcome="unknown"}' in metrics
    assert 'cronpilot_chain_runs_total{outcome="started"}' in metrics


async def test_a_chain_started_twice_by_the_same_run_starts_once(
    bot: BotUnderTest, fake: FakeTelegram, pg_url: str
) -> None:
    """The follower's run is a stored row under a unique (task, parent run) index: recording
    the same upstream run's followers again (a retried commit, a second replica) adds none."""
    assert bot.runtime is not None
    alice = fake.user(ALICE, "Alice")
    await fake.send_text(fake.private_chat(alice), alice, "/token")
    await fake.wait_for_message(fake.private_chat(alice), lambda m: "API token" in m.text)
    app = bot.runtime.use_cases
    ids = []
    for prompt in ("every day at 9am first", "every day at 10am second"):
        card = await app.drafts.create(IN_ALICES_CHAT, ALICE, prompt)
        ids.append((await app.drafts.confirm(IN_ALICES_CHAT, card.draft_id)).id)
    await app.triggers.run_after(OPERATOR, ids[1], ids[0])
    engine = create_engine(pg_url, pool_size=2)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            started = await runs.add(
                session,
                task_id=ids[0],
                scheduled_for=NOW,
                trigger=RunTrigger.MANUAL,
                status=RunStatus.RUNNING,
            )
            parent = await runs.finish(
                session, started.id, status=RunStatus.SUCCEEDED, finished_at=NOW, output="done"
            )
        assert parent is not None
        queued = []
        for _ in range(2):
            async with sessions() as session, session.begin():
                queued.append(len(await queue_followers(session, parent, now=NOW, owner=None)))
    finally:
        await engine.dispose()
    assert queued == [1, 0]
    history = await app.runs.history(OPERATOR, ids[1])
    assert [(run.trigger, run.parent_run_id) for run in history] == [(RunTrigger.AFTER, parent.id)]

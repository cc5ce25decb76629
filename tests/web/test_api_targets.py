"""The API's targets: set on create and update, validated as /target validates them (a bad
target makes nothing), read on the task with names only, and each run's outcome per target."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from storage import tasks as stored_tasks
from tests.bot.targets_harness import Receiver
from tests.bot_harness import ALICE, BOB, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import asgi_client, port_client, token_for

pytestmark = pytest.mark.usefixtures("litellm_imported")

TEAM, NEWS = -1001000000011, -1001000000012
HN = "every day at 9am summarize the top Hacker News stories"


@pytest.fixture
async def bot(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str, receiver: Receiver, tmp_path: Path
) -> AsyncIterator[BotUnderTest]:
    config = tmp_path / "destinations.json"
    config.write_text(f'{{"hook": "json://127.0.0.1:{receiver.port}/hook"}}', encoding="utf-8")
    settings = bot_settings(fake, llm, pg_url, http_port=0, destinations_config=str(config))
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_targets_are_set_read_checked_and_reported_per_run(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, receiver: Receiver
) -> None:
    alice, bob = fake.user(ALICE, "Alice"), fake.user(BOB, "Bob")
    team = fake.group(TEAM, "Team", owner=alice, admins=[bob])
    news = fake.channel(NEWS, "News", username="news", owner=alice)
    # The bot learns of the group when someone writes there.
    await fake.send_text(team, alice, "/tasks")
    await fake.wait_for_message(team)
    assert bot.runtime is not None
    token = await token_for(fake, alice)
    bob_token = await token_for(fake, bob)
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        assert (await api.get("/api/v1/destinations")).json() == {"destinations": ["hook"]}
        refused = await api.post(
            "/api/v1/tasks", json={"chat_id": TEAM, "text": HN, "targets": ["here", "nowhere"]}
        )
        assert refused.status_code == 422, refused.text
        assert await bot.tasks_of(TEAM) == []

        created = await api.post(
            "/api/v1/tasks", json={"chat_id": TEAM, "text": HN, "targets": ["here", "@news"]}
        )
        assert created.status_code == 201, created.text
        task = created.json()
        assert task["targets"] == [
            {"kind": "chat", "name": "here", "chat_id": TEAM, "thread_id": None},
            {"kind": "telegram", "name": "@news", "chat_id": NEWS, "thread_id": None},
        ]
        changed = await api.patch(
            f"/api/v1/tasks/{task['id']}", json={"targets": ["@news", "hook"]}
        )
        assert changed.status_code == 200, changed.text
        assert [t["name"] for t in changed.json()["targets"]] == ["@news", "hook"]
        assert "json://" not in changed.text

        llm.reply_text("the digest")
        started = await api.post(f"/api/v1/tasks/{task['id']}/run")
        assert started.status_code == 202
        await bot.engine.wait_idle()
        [run] = (await api.get(f"/api/v1/tasks/{task['id']}/runs")).json()["runs"]
        assert {(d["target"], d["kind"], d["state"]) for d in run["deliveries"]} == {
            ("@news", "telegram", "sent"),
            ("hook", "destination", "sent"),
        }
        # Its results go elsewhere only: the group gets no copy.
        assert not [m for m in fake.messages(team) if "the digest" in m.text]
        assert [m for m in fake.messages(news) if "the digest" in m.text]
        assert len(receiver.received) == 1

    async with asgi_client(bot.runtime, Authorization=f"Bearer {bob_token}") as api:
        # Bob manages the group but is no admin of the channel.
        refused = await api.patch(f"/api/v1/tasks/{task['id']}", json={"targets": ["@news"]})
        assert refused.status_code == 403, refused.text

        # The channel stops taking results and the webhook keeps failing: each run's
        # deliveries say why, by code and in English, "gave up" included.
        news.bot_is_admin = False
        receiver.failing = True
        llm.reply_text("the next digest")
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        started = await api.post(f"/api/v1/tasks/{task['id']}/run")
        assert started.status_code == 202
        await bot.engine.wait_idle()
        newest, _ = (await api.get(f"/api/v1/tasks/{task['id']}/runs")).json()["runs"]
        found = {d["target"]: d for d in newest["deliveries"]}
        assert found["@news"]["state"] == "failed"
        assert found["@news"]["reason"]["code"] == "target_cannot_post"
        assert found["@news"]["error"] == "the bot can't post there"
        assert found["hook"]["state"] == "failed"
        assert found["hook"]["reason"]["code"] == "delivery_gave_up"
        assert found["hook"]["reason"]["facts"] == {
            "attempts": 8,
            "error": {"code": "destination_http", "facts": {"status": 500}},
        }
        assert found["hook"]["error"].startswith("gave up after 8 attempts")


async def test_a_task_is_made_with_its_cap_and_targets_or_not_at_all(
    bot: BotUnderTest, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    body = {
        "chat_id": ALICE,
        "prompt": "Summarize the news",
        "cron": "0 8 * * *",
        "monthly_cap_usd": 0.5,
        "targets": ["here", "hook"],
    }

    async def database_gone(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE tasks", {}, ConnectionError("the database went away"))

    assert bot.runtime is not None
    # The last thing stored fails, after the task's insert and its cap: nothing is left.
    with monkeypatch.context() as patched:
        patched.setattr(stored_tasks, "set_targets", database_gone)
        async with port_client(bot.runtime, Authorization=f"Bearer {token}") as api:
            failed = await api.post("/api/v1/tasks", json=body)
        assert failed.status_code == 500, failed.text
    assert await bot.tasks_of(ALICE) == []

    # The client's retry makes the one task, with everything it asked for.
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        made = await api.post("/api/v1/tasks", json=body)
        assert made.status_code == 201, made.text
    [task] = await bot.tasks_of(ALICE)
    assert task.id == made.json()["id"]
    assert task.monthly_cap_usd == 0.5
    assert [(target.kind.value, target.name) for target in task.destinations] == [
        ("chat", None),
        ("destination", "hook"),
    ]


async def test_a_refused_prompt_leaves_the_targets_as_they_were(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        made = await api.post(
            "/api/v1/tasks",
            json={"chat_id": ALICE, "prompt": "Summarize the news", "cron": "0 8 * * *"},
        )
        assert made.status_code == 201, made.text
        url = f"/api/v1/tasks/{made.json()['id']}"
        refused = await api.patch(url, json={"targets": ["hook"], "prompt": "   "})
        assert refused.status_code == 422, refused.text
        assert "no prompt" in refused.json()["error"]
        [task] = await bot.tasks_of(ALICE)
        assert (task.prompt, [t.kind.value for t in task.destinations]) == (
            "Summarize the news",
            ["chat"],
        )

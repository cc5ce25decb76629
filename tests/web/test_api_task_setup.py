"""A task's model, tools and monthly cap in the HTTP API (read, set at creation, changed), the
next run's skip and the cost estimate on a task's read, and the Mini App's words: the real bot
and its HTTP server against the fake Bot API and the fake LLM (through the real LiteLLM)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot_harness import ALICE, BOB, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import asgi_client, token_for

pytestmark = pytest.mark.usefixtures("litellm_imported")

MODELS = "fast=openai/gpt-4o-mini,smart=openai/gpt-4o"
NEWS = {"chat_id": ALICE, "prompt": "Summarize the news", "cron": "0 8 * * *"}
GERMAN_SKIP = "auf Wunsch übersprungen (/skip) von Nutzer {user_id}"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, database_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(
        fake,
        llm,
        database_url,
        http_port=0,
        models=MODELS,
        # Two tools to choose from: web fetch, and a search (never reached here).
        search_provider="searxng",
        search_api_base="http://127.0.0.1:9",
    )
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


async def test_the_models_and_tools_a_task_may_choose(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        models = (await api.get("/api/v1/models")).json()
        assert models == {"default": "openai/gpt-4o-mini", "models": ["fast", "smart"]}
        tools = (await api.get("/api/v1/tools")).json()["tools"]
        assert tools == [
            {"key": "web_fetch", "label": "web fetch"},
            {"key": "web_search", "label": "web search"},
        ]
    async with asgi_client(bot.runtime) as stranger:
        assert (await stranger.get("/api/v1/models")).status_code == 401
        assert (await stranger.get("/api/v1/tools")).status_code == 401


async def test_model_tools_and_cap_are_set_at_creation_and_changed(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        made = await api.post(
            "/api/v1/tasks",
            json={**NEWS, "model": "smart", "tools": ["web_fetch"], "monthly_cap_usd": 0.5},
        )
        assert made.status_code == 201, made.text
        task = made.json()
        assert (task["model"], task["tools"], task["monthly_cap_usd"]) == (
            "smart",
            ["web_fetch"],
            0.5,
        )
        # gpt-4o's price for a typical run (3,000 + 500 tokens) × 30 mornings.
        estimate = task["estimate"]
        assert estimate["model"] == "smart"
        assert estimate["runs_in_30_days"] == 30
        assert estimate["free"] is False
        assert estimate["from_runs"] is False
        assert estimate["per_run_usd"] == pytest.approx(0.0125)
        assert estimate["per_month_usd"] == pytest.approx(0.375)
        assert task["skipped_for"] is None

        stored = {t.id: t for t in await bot.tasks_of(ALICE)}[task["id"]]
        assert (stored.model, stored.tools, stored.monthly_cap_usd) == (
            "smart",
            ("web_fetch",),
            0.5,
        )

        url = f"/api/v1/tasks/{task['id']}"
        changed = await api.patch(
            url, json={"model": "default", "tools": [], "monthly_cap_usd": None}
        )
        assert changed.status_code == 200, changed.text
        body = changed.json()
        assert (body["model"], body["tools"], body["monthly_cap_usd"]) == (None, [], None)
        assert body["estimate"]["model"] == "openai/gpt-4o-mini"
        # Every tool again: null.
        again = (await api.patch(url, json={"tools": None, "model": "fast"})).json()
        assert (again["model"], again["tools"]) == ("fast", None)

        listed = (await api.get(f"/api/v1/tasks?chat_id={ALICE}")).json()["tasks"]
        assert [(t["id"], t["model"], t["estimate"]) for t in listed] == [
            (task["id"], "fast", None)
        ]


async def test_a_refused_model_tool_or_cap_changes_nothing_and_makes_no_task(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        refused = [
            ({"model": "huge"}, "no model named 'huge'; MODELS names fast, smart"),
            ({"tools": ["teleport"]}, "no tool named teleport"),
            ({"monthly_cap_usd": 5000}, "a monthly cap of 5000.0 is not between 0 and 1000.0"),
            ({"monthly_cap_usd": -1}, "is not between 0"),
        ]
        for extra, reason in refused:
            answer = await api.post("/api/v1/tasks", json={**NEWS, **extra})
            assert answer.status_code == 422, answer.text
            assert reason in answer.json()["error"]
        assert await bot.tasks_of(ALICE) == []

        task = (await api.post("/api/v1/tasks", json=NEWS)).json()
        url = f"/api/v1/tasks/{task['id']}"
        for extra, reason in refused:
            # With a new prompt in the same body: that is not kept either.
            answer = await api.patch(url, json={"prompt": "Something else", **extra})
            assert answer.status_code == 422, answer.text
            assert reason in answer.json()["error"]
        [stored] = await bot.tasks_of(ALICE)
        assert (stored.prompt, stored.model, stored.tools, stored.monthly_cap_usd) == (
            "Summarize the news",
            None,
            None,
            None,
        )
        # Asked in German: the bot's sentence in German beside the English.
        german = await api.patch(
            url, json={"model": "huge"}, headers={"Accept-Language": "de-AT,de;q=0.9"}
        )
        assert german.json() == {
            "error": "no model named 'huge'; MODELS names fast, smart",
            "message": (
                "Es gibt kein Modell namens huge. Die Modelle sind: fast, smart oder default."
            ),
        }
        not_a_number = await api.patch(url, json={"monthly_cap_usd": "lots"})
        assert not_a_number.status_code == 422
        assert "monthly_cap_usd" in not_a_number.json()["error"]


async def test_someone_else_may_neither_see_nor_change_a_tasks_setup(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    alice_token = await token_for(fake, fake.user(ALICE, "Alice"))
    bob_token = await token_for(fake, fake.user(BOB, "Bob"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {alice_token}") as api:
        task = (await api.post("/api/v1/tasks", json=NEWS)).json()
    async with asgi_client(bot.runtime, Authorization=f"Bearer {bob_token}") as bob:
        url = f"/api/v1/tasks/{task['id']}"
        assert (await bob.get(url)).status_code == 404
        assert (await bob.patch(url, json={"model": "smart"})).status_code == 404
        assert (await bob.post(f"{url}/skip")).status_code == 404
        made = await bob.post("/api/v1/tasks", json={**NEWS, "model": "smart"})
        assert made.status_code in (403, 404)
    [stored] = await bot.tasks_of(ALICE)
    assert stored.model is None


async def test_a_skipped_next_run_shows_on_the_task(bot: BotUnderTest, fake: FakeTelegram) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        task = (await api.post("/api/v1/tasks", json=NEWS)).json()
        url = f"/api/v1/tasks/{task['id']}"
        skipped = (await api.post(f"{url}/skip")).json()
        assert skipped["skipped_for"] == skipped["task"]["skipped_for"] == "2026-11-27T07:00:00Z"
        assert (await api.get(url)).json()["skipped_for"] == "2026-11-27T07:00:00Z"
        listed = (await api.get(f"/api/v1/tasks?chat_id={ALICE}")).json()["tasks"]
        assert listed[0]["skipped_for"] == "2026-11-27T07:00:00Z"
        undone = (await api.delete(f"{url}/skip")).json()
        assert undone["task"]["skipped_for"] is None
        assert (await api.get(url)).json()["skipped_for"] is None
        await api.post(f"{url}/skip")

    # Its time comes: the run is recorded as skipped, and says why in the language asked for.
    await bot.fire_due(NOW.replace(day=27, hour=7))
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        english = (await api.get(f"{url}/runs")).json()["runs"]
        assert [(run["status"], run["reason"]["code"]) for run in english] == [
            ("skipped", "skipped_by_person")
        ]
        assert english[0]["error"] == f"skipped on request (/skip) by user {ALICE}"
        german = (await api.get(f"{url}/runs", headers={"Accept-Language": "de"})).json()
        said = german["runs"][0]
        assert said["reason"]["message"] == said["error"] == GERMAN_SKIP.format(user_id=ALICE)


async def test_a_reminder_is_free(bot: BotUnderTest, fake: FakeTelegram) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        words = {"chat_id": ALICE, "text": "remind me to drink water every 2 hours"}
        reminder = (await api.post("/api/v1/tasks", json=words)).json()
        assert reminder["estimate"]["free"] is True
        assert reminder["estimate"]["per_month_usd"] == 0


async def test_the_mini_app_texts_come_in_the_asked_language(bot: BotUnderTest) -> None:
    assert bot.runtime is not None
    async with asgi_client(bot.runtime) as api:
        german = (await api.get("/api/v1/texts", params={"language": "de-AT"})).json()
        assert german["language"] == "de"
        assert german["texts"]["⏭ Skip next"] == "⏭ Nächsten überspringen"
        assert german["texts"]["web fetch"] != "web fetch"
        english = (await api.get("/api/v1/texts", params={"language": "xx"})).json()
        assert english["language"] == "en"
        assert english["texts"]["⏭ Skip next"] == "⏭ Skip next"
        assert set(english["texts"]) == set(german["texts"])


async def test_a_schedule_is_described_in_the_language_asked_for(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    assert bot.runtime is not None
    async with asgi_client(bot.runtime, Authorization=f"Bearer {token}") as api:
        task = (await api.post("/api/v1/tasks", json=NEWS)).json()
        assert task["description"] == "Every day at 08:00"
        url = f"/api/v1/tasks/{task['id']}"
        german = {"Accept-Language": "de"}
        assert (await api.get(url, headers=german)).json()["description"] == "Um 08:00"
        listed = await api.get(f"/api/v1/tasks?chat_id={ALICE}", headers=german)
        assert [t["description"] for t in listed.json()["tasks"]] == ["Um 08:00"]
        parsed = await api.post(
            "/api/v1/parse", json={"text": "every day at 8 read the news"}, headers=german
        )
        assert parsed.json()["description"] == "Um 08:00"

"""The HTTP API end to end: the real bot, its one HTTP server, the fake Bot API and LLM.

Tokens come from /token in the fake chat, runs post their results into the fake chat, and the
same requests are made in process (ASGI) and over a real port.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from cronpilot.runtime import Runtime
from scheduler.parsing.llm_parser import TOOL_NAME
from tests.bot_harness import (
    ALICE,
    BOB,
    CAROL,
    NOW,
    BotUnderTest,
    FakeClock,
    bot_settings,
)
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import asgi_client, init_data, port_client, token_for
from web.api import build_api
from web.ratelimit import SignInLimiter

pytestmark = pytest.mark.usefixtures("litellm_imported")

TEAM = -1001234567890
HN = "every day at 9am summarize the top Hacker News stories"


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    settings = bot_settings(fake, llm, pg_url, http_port=0)
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


def runtime_of(bot: BotUnderTest) -> Runtime:
    assert bot.runtime is not None
    return bot.runtime


def client(bot: BotUnderTest, transport: str, **headers: str) -> httpx.AsyncClient:
    runtime = runtime_of(bot)
    return (
        asgi_client(runtime, **headers) if transport == "asgi" else port_client(runtime, **headers)
    )


@pytest.mark.parametrize("transport", ["asgi", "port"])
async def test_a_script_creates_lists_runs_reads_and_pauses(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM, transport: str
) -> None:
    alice = fake.user(ALICE, "Alice")
    token = await token_for(fake, alice)
    async with client(bot, transport, Authorization=f"Bearer {token}") as api:
        chats = (await api.get("/api/v1/chats")).json()["chats"]
        assert chats == [
            {
                "id": ALICE,
                "type": "private",
                "title": "Alice",
                "timezone": "Europe/Berlin",
                "can_manage": True,
                "language": None,
            }
        ]

        created = await api.post("/api/v1/tasks", json={"chat_id": ALICE, "text": HN})
        assert created.status_code == 201, created.text
        task = created.json()
        assert set(task) >= {
            *("id", "chat_id", "name", "prompt", "kind", "cron", "run_at", "every_seconds"),
            *("timezone", "state", "description", "next_runs"),
        }
        assert task["chat_id"] == ALICE
        assert task["prompt"] == "Summarize the top Hacker News stories"
        assert (task["kind"], task["cron"], task["state"]) == ("cron", "0 9 * * *", "active")
        assert task["timezone"] == "Europe/Berlin"
        # NOW is Thursday 26 Nov 2026 10:00 in Berlin: the next 9:00 is on Friday.
        assert task["next_runs"] == [
            "2026-11-27T09:00:00+01:00",
            "2026-11-28T09:00:00+01:00",
            "2026-11-29T09:00:00+01:00",
        ]

        listing = (await api.get("/api/v1/tasks", params={"chat_id": ALICE})).json()
        assert [item["id"] for item in listing["tasks"]] == [task["id"]]
        assert (listing["page"], listing["pages"], listing["total"]) == (1, 1, 1)

        llm.reply_tool_calls([("current_time", {})], prompt_tokens=30, completion_tokens=4)
        llm.reply_text("Top story: cronpilot ships an API.", prompt_tokens=10, completion_tokens=5)
        started = await api.post(f"/api/v1/tasks/{task['id']}/run")
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        await bot.engine.wait_idle()
        dm = fake.private_chat(alice)
        result = await fake.wait_for_message(dm, lambda m: "cronpilot ships an API" in m.text)
        assert result.text.startswith(task["name"]) or task["name"] in result.text

        runs = (await api.get(f"/api/v1/tasks/{task['id']}/runs")).json()["runs"]
        assert [(r["id"], r["status"], r["trigger"]) for r in runs] == [
            (run_id, "succeeded", "manual")
        ]
        assert (runs[0]["prompt_tokens"], runs[0]["completion_tokens"]) == (40, 9)
        assert runs[0]["tools"] == [{"name": "current_time", "calls": 1}]
        assert (runs[0]["reason"], runs[0]["error"]) == (None, None)

        paused = await api.patch(f"/api/v1/tasks/{task['id']}", json={"state": "paused"})
        assert paused.status_code == 200, paused.text
        assert (paused.json()["state"], paused.json()["next_runs"]) == ("paused", [])
        assert (await bot.tasks_of(ALICE))[0].state.value == "paused"

        health = await api.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok"


async def test_runs_and_follow_ups_say_why_they_ended_as_a_code_and_its_facts(
    bot: BotUnderTest, fake: FakeTelegram, llm: FakeLLM
) -> None:
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    token = await token_for(fake, alice)
    async with client(bot, "asgi", Authorization=f"Bearer {token}") as api:
        task = (await api.post("/api/v1/tasks", json={"chat_id": ALICE, "text": HN})).json()
        llm.reply_error(401, "Incorrect API key provided: sk-test-abcdefgh12345678")
        await api.post(f"/api/v1/tasks/{task['id']}/run")
        await bot.engine.wait_idle()
        notice = await fake.wait_for_message(dm, lambda m: m.text.startswith("⚠️"))

        # A question in reply to the failure notice, which the model leaves unanswered.
        llm.reply_text("   ")
        await fake.send_text(dm, alice, "why did it fail?", reply_to=notice)
        await fake.wait_for_message(dm, lambda m: m.text.startswith("⚠️ I couldn't answer"))

        [run] = (await api.get(f"/api/v1/tasks/{task['id']}/runs")).json()["runs"]
        assert run["status"] == "failed"
        assert run["reason"] == {
            "code": "key_rejected",
            "facts": {"status": 401},
            "message": "the LLM provider rejected the API key (HTTP 401)",
        }
        assert run["error"] == "the LLM provider rejected the API key (HTTP 401)"

        answered = await api.get(f"/api/v1/tasks/{task['id']}/followups")
        assert answered.status_code == 200, answered.text
        [followup] = answered.json()["followups"]
        assert (followup["question"], followup["status"], followup["run_id"]) == (
            "why did it fail?",
            "failed",
            run["id"],
        )
        assert followup["reason"] == {
            "code": "empty_answer",
            "facts": {},
            "message": "the model gave an empty answer",
        }
        assert followup["error"] == "the model gave an empty answer"

    bob = fake.user(BOB, "Bob")
    async with client(bot, "asgi", Authorization=f"Bearer {await token_for(fake, bob)}") as api:
        hidden = await api.get(f"/api/v1/tasks/{task['id']}/followups")
        assert hidden.status_code == 404


async def test_errors_are_json_with_the_right_status(bot: BotUnderTest, fake: FakeTelegram) -> None:
    alice = fake.user(ALICE, "Alice")
    token = await token_for(fake, alice)
    async with client(bot, "asgi") as anonymous:
        missing = await anonymous.get("/api/v1/chats")
        assert missing.status_code == 401
        assert "Bearer" in missing.json()["error"]
        wrong = await anonymous.get("/api/v1/chats", headers={"Authorization": "Bearer cp_nope"})
        assert wrong.status_code == 401
        assert wrong.json() == {
            "error": "the token is unknown or was revoked; /token makes a new one"
        }
    async with client(bot, "asgi", Authorization=f"Bearer {token}") as api:
        vague = await api.post("/api/v1/tasks", json={"chat_id": ALICE, "text": "summarize HN"})
        assert vague.status_code == 422
        assert vague.json()["error"]  # the reason the bot would give
        assert await bot.tasks_of(ALICE) == []

        none = await api.post("/api/v1/tasks", json={"chat_id": ALICE, "prompt": "say hi"})
        assert none.status_code == 422
        assert none.json()["error"].startswith("no schedule")

        both = await api.post(
            "/api/v1/tasks", json={"chat_id": ALICE, "text": HN, "cron": "0 9 * * *"}
        )
        assert both.status_code == 400

        too_often = await api.post(
            "/api/v1/tasks", json={"chat_id": ALICE, "prompt": "ping", "cron": "* * * * *"}
        )
        assert too_often.status_code == 422
        assert "more often than this bot allows" in too_often.json()["error"]

        explicit = await api.post(
            "/api/v1/tasks",
            json={
                "chat_id": ALICE,
                "prompt": "stand-up",
                "cron": "30 9 * * 1-5",
                "timezone": "Asia/Tokyo",
            },
        )
        assert explicit.status_code == 201, explicit.text
        assert explicit.json()["timezone"] == "Asia/Tokyo"
        assert explicit.json()["next_runs"][0] == "2026-11-27T09:30:00+09:00"
        task_id = explicit.json()["id"]

        interval = await api.post(
            "/api/v1/tasks", json={"chat_id": ALICE, "prompt": "check", "every_seconds": 5400}
        )
        assert interval.status_code == 201, interval.text
        assert interval.json()["kind"] == "interval"

        broken = await api.post(
            "/api/v1/tasks", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 400
        assert "error" in broken.json()

        unknown_field = await api.post("/api/v1/tasks", json={"chat_id": ALICE, "txt": HN})
        assert unknown_field.status_code == 422
        assert "txt" in unknown_field.json()["error"]

        await api.patch(f"/api/v1/tasks/{task_id}", json={"state": "paused"})
        again = await api.patch(f"/api/v1/tasks/{task_id}", json={"state": "paused"})
        assert again.status_code == 200  # already paused: nothing to do
        resumed = await api.patch(f"/api/v1/tasks/{task_id}", json={"state": "active"})
        assert resumed.json()["state"] == "active"

        renamed = await api.patch(f"/api/v1/tasks/{task_id}", json={"prompt": "stand-up notes"})
        assert renamed.status_code == 200, renamed.text
        assert (renamed.json()["prompt"], renamed.json()["cron"]) == (
            "stand-up notes",
            "30 9 * * 1-5",
        )
        moved = await api.patch(f"/api/v1/tasks/{task_id}", json={"schedule": "every monday at 8"})
        assert moved.status_code == 200, moved.text
        assert (moved.json()["prompt"], moved.json()["cron"]) == ("Stand-up notes", "0 8 * * 1")

        # Its model, tools and monthly cap.
        assert (moved.json()["model"], moved.json()["tools"]) == (None, None)
        setup = await api.patch(
            f"/api/v1/tasks/{task_id}", json={"tools": [], "monthly_cap_usd": 0.5}
        )
        assert setup.status_code == 200, setup.text
        assert (setup.json()["tools"], setup.json()["monthly_cap_usd"]) == ([], 0.5)
        reset = await api.patch(
            f"/api/v1/tasks/{task_id}", json={"tools": None, "monthly_cap_usd": None}
        )
        assert (reset.json()["tools"], reset.json()["monthly_cap_usd"]) == (None, None)
        unknown_model = await api.patch(f"/api/v1/tasks/{task_id}", json={"model": "huge"})
        assert unknown_model.status_code == 422
        too_much = await api.patch(f"/api/v1/tasks/{task_id}", json={"monthly_cap_usd": 5000})
        assert too_much.status_code == 422

        assert (await api.get("/api/v1/tasks/999999")).status_code == 404
        assert (await api.get("/api/v1/tasks", params={"chat_id": 42})).status_code == 404
        assert (await api.get("/api/v1/nothing-here")).json() == {"error": "Not Found"}

        deleted = await api.delete(f"/api/v1/tasks/{task_id}")
        assert deleted.status_code == 204
        assert (await api.get(f"/api/v1/tasks/{task_id}")).status_code == 404


async def test_another_users_token_cannot_reach_a_chat(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE, "Alice")
    bob = fake.user(BOB, "Bob")
    alice_token = await token_for(fake, alice)
    bob_token = await token_for(fake, bob)
    async with client(bot, "asgi", Authorization=f"Bearer {alice_token}") as api:
        task = (await api.post("/api/v1/tasks", json={"chat_id": ALICE, "text": HN})).json()
    async with client(bot, "asgi", Authorization=f"Bearer {bob_token}") as api:
        assert [c["id"] for c in (await api.get("/api/v1/chats")).json()["chats"]] == [BOB]
        for response in (
            await api.get(f"/api/v1/tasks/{task['id']}"),
            await api.get(f"/api/v1/tasks/{task['id']}/runs"),
            await api.post(f"/api/v1/tasks/{task['id']}/run"),
            await api.patch(f"/api/v1/tasks/{task['id']}", json={"state": "paused"}),
            await api.delete(f"/api/v1/tasks/{task['id']}"),
            await api.get("/api/v1/tasks", params={"chat_id": ALICE}),
            await api.post("/api/v1/tasks", json={"chat_id": ALICE, "text": HN}),
        ):
            assert response.status_code in (403, 404), response.text
            assert "error" in response.json()
    assert [t.state.value for t in await bot.tasks_of(ALICE)] == ["active"]


async def test_in_groups_members_read_and_admins_manage(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE, "Alice")
    bob = fake.user(BOB, "Bob")
    carol = fake.user(CAROL, "Carol")
    team = fake.group(TEAM, "Team", owner=alice, members=[bob])
    await fake.send_text(team, alice, "/tasks")  # the bot learns about the group
    await fake.wait_for_message(team)
    tokens = {user.id: await token_for(fake, user) for user in (alice, bob, carol)}
    async with client(bot, "asgi", Authorization=f"Bearer {tokens[ALICE]}") as api:
        chats = (await api.get("/api/v1/chats")).json()["chats"]
        assert [(c["id"], c["can_manage"]) for c in chats] == [(ALICE, True), (TEAM, True)]
        created = await api.post("/api/v1/tasks", json={"chat_id": TEAM, "text": HN})
        assert created.status_code == 201, created.text
        task_id = created.json()["id"]
    async with client(bot, "asgi", Authorization=f"Bearer {tokens[BOB]}") as api:
        chats = (await api.get("/api/v1/chats")).json()["chats"]
        assert [(c["id"], c["can_manage"]) for c in chats] == [(BOB, True), (TEAM, False)]
        assert (await api.get("/api/v1/tasks", params={"chat_id": TEAM})).status_code == 200
        assert (await api.get(f"/api/v1/tasks/{task_id}")).status_code == 200
        refused = await api.patch(f"/api/v1/tasks/{task_id}", json={"state": "paused"})
        assert refused.status_code == 403
        assert (
            await api.post("/api/v1/tasks", json={"chat_id": TEAM, "text": HN})
        ).status_code == 403
    async with client(bot, "asgi", Authorization=f"Bearer {tokens[CAROL]}") as api:
        assert [c["id"] for c in (await api.get("/api/v1/chats")).json()["chats"]] == [CAROL]
        assert (await api.get(f"/api/v1/tasks/{task_id}")).status_code == 404


async def test_init_data_signed_with_the_bot_token_is_accepted(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE, "Alice")
    await fake.send_text(fake.private_chat(alice), alice, "/start")
    await fake.wait_for_message(fake.private_chat(alice))
    now = bot.clock.now()
    good = init_data(alice, fake.token, auth_date=now - timedelta(hours=1))
    forged = init_data(alice, "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", auth_date=now)
    stale = init_data(alice, fake.token, auth_date=now - timedelta(hours=25))
    tampered = good.replace(f"%22id%22%3A{ALICE}", f"%22id%22%3A{BOB}")
    assert tampered != good
    async with client(bot, "asgi") as api:
        accepted = await api.get("/api/v1/chats", headers={"Authorization": f"tma {good}"})
        assert accepted.status_code == 200, accepted.text
        assert [c["id"] for c in accepted.json()["chats"]] == [ALICE]
        for refused, reason in (
            (forged, "not signed with this bot's token"),
            (stale, "older than 24 hours"),
            (tampered, "not signed with this bot's token"),
            ("user=1&auth_date=1", "no hash"),
        ):
            answer = await api.get("/api/v1/chats", headers={"Authorization": f"tma {refused}"})
            assert answer.status_code == 401
            assert reason in answer.json()["error"]
        stranger = fake.user(999, "Eve")
        outsider = init_data(stranger, fake.token, auth_date=now)
        answer = await api.get("/api/v1/chats", headers={"Authorization": f"tma {outsider}"})
        assert answer.status_code == 403


def _outward_address() -> str | None:
    """This machine's address on its default route (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


async def test_by_default_the_http_server_answers_this_machine_only(bot: BotUnderTest) -> None:
    outward = _outward_address()
    if outward is None:
        pytest.skip("this machine has no address besides loopback")
    http = runtime_of(bot).http
    assert http is not None
    async with port_client(runtime_of(bot)) as local:
        assert (await local.get("/healthz")).status_code == 200
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((outward, http.port), timeout=5).close()


async def test_parse_answers_like_cronpilot_parse_json(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    alice = fake.user(ALICE, "Alice")
    token = await token_for(fake, alice)
    async with client(bot, "asgi", Authorization=f"Bearer {token}") as api:
        parsed = await api.post("/api/v1/parse", json={"text": "every weekday at 9am summarize HN"})
        assert parsed.status_code == 200, parsed.text
        assert parsed.json() == {
            "kind": "cron",
            "cron": "0 9 * * 1-5",
            "run_at": None,
            "every_seconds": None,
            "timezone": "Europe/Berlin",
            "prompt": "Summarize HN",
            "description": parsed.json()["description"],
            "next_runs": [
                "2026-11-27T09:00:00+01:00",
                "2026-11-30T09:00:00+01:00",
                "2026-12-01T09:00:00+01:00",
            ],
            "source": "rules",
        }
        assert "9:00" in parsed.json()["description"] or "09:00" in parsed.json()["description"]
        tokyo = await api.post(
            "/api/v1/parse", json={"text": "daily at 7 news", "timezone": "Asia/Tokyo"}
        )
        assert tokyo.json()["next_runs"][0] == "2026-11-27T07:00:00+09:00"
        vague = await api.post("/api/v1/parse", json={"text": "summarize HN"})
        assert vague.status_code == 422
        assert (await bot.tasks_of(ALICE)) == []


async def test_a_parse_the_model_reads_goes_on_the_callers_bill_and_stops_at_the_budget(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    settings = bot_settings(
        fake,
        llm,
        pg_url,
        http_port=0,
        parser_model="openai/gpt-4o-mini",
        chat_monthly_budget_usd=0.01,
    )
    bot = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await bot.start()
    try:
        alice = fake.user(ALICE, "Alice")
        token = await token_for(fake, alice)
        async with client(bot, "asgi", Authorization=f"Bearer {token}") as api:
            # 100,000 + 10,000 tokens of gpt-4o-mini: $0.0210, past the $0.01 budget.
            llm.reply_tool_calls(
                [(TOOL_NAME, {"understood": False, "reason": "When?"})],
                prompt_tokens=100_000,
                completion_tokens=10_000,
            )
            asked = await api.post("/api/v1/parse", json={"text": "the dentist, sometime"})
            assert (asked.status_code, asked.json()) == (422, {"error": "When?"})
            usage = await api.get("/api/v1/usage", params={"chat_id": ALICE})
            assert usage.status_code == 200, usage.text
            report = usage.json()
            assert [(line["kind"], line["prompt_tokens"]) for line in report["lines"]] == [
                ("parse", 100_000)
            ]
            assert (report["tokens"], report["budget_usd"]) == (110_000, 0.01)
            assert report["left_usd"] == 0
            assert report["cost"] == pytest.approx(0.021)

            refused = await api.post("/api/v1/parse", json={"text": "the dentist, sometime"})
            assert refused.status_code == 422
            assert refused.json()["error"].startswith("This chat's monthly budget is spent")
            assert len(llm.requests) == 1
            # The rules need no model and no budget.
            parsed = await api.post("/api/v1/parse", json={"text": "every day at 9 the dentist"})
            assert parsed.status_code == 200, parsed.text
            assert len(llm.requests) == 1
            # A script withdraws its own token: it works no more.
            assert (await api.delete("/api/v1/token")).status_code == 204
            assert (await api.get("/api/v1/chats")).status_code == 401
    finally:
        await bot.stop()


async def test_each_token_has_its_own_rate_limit(bot: BotUnderTest, fake: FakeTelegram) -> None:
    door = runtime_of(bot).api_door
    assert door is not None
    now = [0.0]
    limiter = SignInLimiter(burst=3, per_second=0.5, monotonic=lambda: now[0])
    limited = build_api(dataclasses.replace(door, rate_limiter=limiter))
    alice_token = await token_for(fake, fake.user(ALICE, "Alice"))
    bob_token = await token_for(fake, fake.user(BOB, "Bob"))
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        alice = {"Authorization": f"Bearer {alice_token}"}
        statuses = [(await api.get("/chats", headers=alice)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = await api.get("/chats", headers=alice)
        assert refused.json()["error"].startswith("too many requests")
        assert refused.headers["Retry-After"] == "2"
        bob = {"Authorization": f"Bearer {bob_token}"}
        assert (await api.get("/chats", headers=bob)).status_code == 200
        now[0] += 2.0
        assert (await api.get("/chats", headers=alice)).status_code == 200


async def test_failed_sign_ins_slow_their_address_down(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    door = runtime_of(bot).api_door
    assert door is not None
    now = [0.0]
    failures = SignInLimiter(burst=3, per_second=0.1, monotonic=lambda: now[0])
    guarded = build_api(dataclasses.replace(door, failure_limiter=failures))
    alice_token = await token_for(fake, fake.user(ALICE, "Alice"))
    transport = httpx.ASGITransport(app=guarded, client=("203.0.113.7", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as api:
        guesses = [
            (await api.get("/chats", headers={"Authorization": f"Bearer guess-{n}"})).status_code
            for n in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        # While the address waits, no token is looked at, not even a good one.
        good = {"Authorization": f"Bearer {alice_token}"}
        refused = await api.get("/chats", headers=good)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "10"
        assert refused.json()["error"].startswith("too many requests")
        forged = await api.get("/chats", headers={"Authorization": "tma user=1&hash=00"})
        assert forged.status_code == 429
        now[0] += 10.0
        assert (await api.get("/chats", headers=good)).status_code == 200
        # Good sign-ins cost the address nothing.
        assert [(await api.get("/chats", headers=good)).status_code for _ in range(5)] == [200] * 5
    other = httpx.ASGITransport(app=guarded, client=("198.51.100.2", 4712))
    async with httpx.AsyncClient(transport=other, base_url="http://api.test") as api:
        stranger = await api.get("/chats", headers={"Authorization": "Bearer guess-x"})
        assert stranger.status_code == 401


async def test_openapi_and_docs_are_served(bot: BotUnderTest) -> None:
    async with client(bot, "port") as api:
        document = (await api.get("/api/v1/openapi.json")).json()
        assert {"/chats", "/tasks", "/tasks/{task_id}", "/tasks/{task_id}/run", "/parse"} <= set(
            document["paths"]
        )
        docs = await api.get("/api/v1/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()

"""Hostile HTTP clients against the one HTTP server, over a real port (uvicorn).

Bodies: one announced larger than the route takes is refused before a byte of it is sent (the
client sends none and still gets its answer: a server that waited for the body would never
give one), a chunked one is refused at the limit without its end, credentials are checked
before the body is read, and JSON with too many keys or levels is refused without a 500.
Addresses: a forged X-Forwarded-For neither escapes the failed sign-in limit nor locks another
address out; only the proxies of FORWARDED_ALLOW_IPS are believed.
"""

from __future__ import annotations

import dataclasses
import json
import socket
from collections.abc import AsyncIterator

import pytest

from cronpilot.runtime import Runtime, build_runtime
from tests.bot_harness import ALICE, NOW, BotUnderTest, FakeClock, bot_settings
from tests.fakes.llm import FakeLLM
from tests.fakes.telegram import FakeTelegram
from tests.web.api_harness import token_for
from tests.web.raw_http import CHUNK, RawAnswer, pieces, request
from web.api import JSON_LIMITS, MAX_BODY_BYTES, ROUTERS, build_api
from web.app import build_app
from web.deps import ApiRoute
from web.health import Health
from web.ratelimit import SignInLimiter
from web.server import HttpServer
from web.webhook import MAX_UPDATE_BYTES, SECRET_HEADER, UPDATE_JSON

pytestmark = pytest.mark.usefixtures("litellm_imported")

MB = 1024 * 1024
HOOK = "/telegram"
# Well within what a test may wait; a server waiting for a body that never comes exceeds it.
ANSWER_WITHIN = 20.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def bot(fake: FakeTelegram, llm: FakeLLM, pg_url: str) -> AsyncIterator[BotUnderTest]:
    """The bot in webhook mode: the API and Telegram's webhook on one port."""
    port = free_port()
    settings = bot_settings(
        fake, llm, pg_url, http_port=port, webhook_url=f"http://127.0.0.1:{port}{HOOK}"
    )
    under_test = BotUnderTest(fake, llm, settings, FakeClock(NOW))
    await under_test.start()
    try:
        yield under_test
    finally:
        await under_test.stop()


def runtime_of(bot: BotUnderTest) -> Runtime:
    assert bot.runtime is not None
    return bot.runtime


def port_of(bot: BotUnderTest) -> int:
    http = runtime_of(bot).http
    assert http is not None
    return http.port


def secret_of(bot: BotUnderTest) -> dict[str, str]:
    return {SECRET_HEADER: bot.settings.effective_webhook_secret()}


def error_of(answer: RawAnswer) -> str:
    found = json.loads(answer.body)["error"]
    assert isinstance(found, str)
    return found


async def test_a_body_announced_too_large_is_refused_before_it_is_sent(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    port = port_of(bot)
    bearer = {"Authorization": f"Bearer {await token_for(fake, fake.user(ALICE, 'Alice'))}"}
    for path, headers in (
        ("/api/v1/tasks", {}),
        ("/api/v1/tasks", bearer),
        ("/api/v1/parse", {"Authorization": "Bearer guess"}),
        (HOOK, secret_of(bot)),
        (HOOK, {}),
        ("/healthz", {}),
        ("/app/", {}),
        ("/nowhere", {}),
    ):
        answer = await request(
            port, "POST", path, headers=headers, length=64 * MB, timeout=ANSWER_WITHIN
        )
        assert (path, answer.status) == (path, 413)
        assert answer.sent == 0
    # Starlette answers these itself, in plain text, whatever the route would have said.
    answer = await request(port, "POST", "/api/v1/tasks", headers=bearer, length=MAX_BODY_BYTES + 1)
    assert (answer.status, answer.body) == (413, b"Content Too Large")
    # A body of exactly the limit is read.
    padded = b'{"text": "every day at 9 the news"}'.ljust(MAX_BODY_BYTES)
    answer = await request(
        port, "POST", "/api/v1/parse", headers={**bearer, "Content-Type": "application/json"},
        length=len(padded), body=[padded],
    )  # fmt: skip
    assert answer.status == 200, answer.body


async def test_a_chunked_body_stops_being_read_at_the_limit(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    port = port_of(bot)
    bearer = {"Authorization": f"Bearer {await token_for(fake, fake.user(ALICE, 'Alice'))}"}
    for path, headers, limit in (
        ("/api/v1/tasks", bearer, MAX_BODY_BYTES),
        (HOOK, secret_of(bot), MAX_UPDATE_BYTES),
    ):
        # One chunk past the limit, and never the last chunk: the answer cannot wait for it.
        answer = await request(
            port, "POST", path, headers=headers, chunked=True, finish=False,
            body=pieces(limit + CHUNK), timeout=ANSWER_WITHIN,
        )  # fmt: skip
        assert (path, answer.status) == (path, 413)
    api = await request(
        port, "POST", "/api/v1/tasks", headers=bearer, chunked=True, finish=False,
        body=pieces(MAX_BODY_BYTES + CHUNK), timeout=ANSWER_WITHIN,
    )  # fmt: skip
    limit = MAX_BODY_BYTES
    assert error_of(api) == f"the request body is larger than the {limit} bytes the API takes"


def test_every_router_identifies_its_caller_before_the_body() -> None:
    assert [router.route_class for router in ROUTERS] == [ApiRoute] * len(ROUTERS)


async def test_credentials_are_checked_before_the_body_is_read(bot: BotUnderTest) -> None:
    port = port_of(bot)
    for path, headers, status in (
        ("/api/v1/tasks", {}, 401),
        ("/api/v1/tasks", {"Authorization": "Bearer not-a-token"}, 401),
        ("/api/v1/parse", {"Authorization": "tma user=%7B%22id%22%3A1%7D&hash=00"}, 401),
        ("/api/v1/tasks/1", {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, 401),
        (HOOK, {SECRET_HEADER: "wrong"}, 403),
        (HOOK, {}, 403),
    ):
        # A body within the limit is announced and never sent: the answer comes without it.
        method = "PATCH" if path.endswith("/1") else "POST"
        answer = await request(
            port, method, path, headers=headers, length=1_000, timeout=ANSWER_WITHIN
        )
        assert (path, answer.status) == (path, status)


async def test_json_with_too_many_keys_or_levels_is_refused(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    port = port_of(bot)
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    bearer = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def post(path: str, body: bytes, headers: dict[str, str]) -> RawAnswer:
        return await request(port, "POST", path, headers=headers, length=len(body), body=[body])

    keys = JSON_LIMITS.max_keys + 1
    many = {"text": "every day at 9 the news", **{f"k{n}": 0 for n in range(keys)}}
    answer = await post("/api/v1/parse", json.dumps(many).encode(), bearer)
    assert answer.status == 422
    assert error_of(answer) == f"the JSON body has too many keys (at most {JSON_LIMITS.max_keys})"
    deep: object = "every day at 9 the news"
    for _ in range(JSON_LIMITS.max_depth):
        deep = [deep]
    answer = await post("/api/v1/parse", json.dumps({"text": deep}).encode(), bearer)
    assert answer.status == 422
    assert error_of(answer) == (
        f"the JSON body has too many levels (at most {JSON_LIMITS.max_depth})"
    )
    deepest = b'{"text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    answer = await post("/api/v1/parse", deepest, bearer)
    assert answer.status == 422
    # What the attack sent: 400,000 keys, 5 MB, with a good token. Refused on its size.
    attack = b'{"chat_id": 1, ' + b", ".join(b'"k%d": 0' % n for n in range(400_000)) + b"}"
    assert (await post("/api/v1/tasks", attack, bearer)).status == 413
    assert (await post("/api/v1/tasks", attack, {})).status == 413
    # Within the limits, the same route works.
    fine = await post("/api/v1/parse", b'{"text": "every day at 9 the news"}', bearer)
    assert fine.status == 200, fine.body

    # The webhook: Telegram's updates are larger, but not of any shape.
    update = {"update_id": 1, **{f"k{n}": 0 for n in range(UPDATE_JSON.max_keys)}}
    answer = await post(HOOK, json.dumps(update).encode(), secret_of(bot))
    assert answer.status == 422
    assert error_of(answer) == (f"the JSON body has too many keys (at most {UPDATE_JSON.max_keys})")
    assert (await post(HOOK, b"[" * 10_000 + b"]" * 10_000, secret_of(bot))).status == 422


async def trusted_server(
    bot: BotUnderTest, failures: SignInLimiter, trusted: tuple[str, ...]
) -> HttpServer:
    """The bot's API behind a server of its own, whose failed sign-in limit is `failures`."""
    door = runtime_of(bot).api_door
    assert door is not None
    api = build_api(dataclasses.replace(door, failure_limiter=failures))
    return HttpServer(build_app(Health([]), api=api), 0, host="127.0.0.1", trusted_proxies=trusted)


async def sign_in(port: int, token: str, **headers: str) -> int:
    answer = await request(
        port, "GET", "/api/v1/chats", headers={"Authorization": f"Bearer {token}", **headers}
    )
    return answer.status


async def test_forged_forwarded_addresses_are_not_believed(
    bot: BotUnderTest, fake: FakeTelegram
) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    now = [0.0]
    failures = SignInLimiter(burst=3, per_second=0.1, monotonic=lambda: now[0])
    # By default nobody is a trusted proxy: every guess from here is this socket's address,
    # whatever it claims.
    async with await trusted_server(bot, failures, ()) as direct:
        guesses = [
            await sign_in(direct.port, f"guess-{n}", **{"X-Forwarded-For": f"192.0.2.{n}"})
            for n in range(3)
        ]
        assert guesses == [401, 401, 401]
        for forged in (
            {"X-Forwarded-For": "203.0.113.9"},
            {"X-Forwarded-For": "198.51.100.1, 198.51.100.2"},
            {"Forwarded": "for=192.0.2.77"},
        ):
            assert await sign_in(direct.port, "guess", **forged) == 429
            assert await sign_in(direct.port, token, **forged) == 429
    # Nor did the guesses that claimed 203.0.113.9 lock that address out: seen through a
    # trusted proxy (this host), it signs in.
    async with await trusted_server(bot, failures, ("127.0.0.1",)) as proxied:
        assert await sign_in(proxied.port, token, **{"X-Forwarded-For": "203.0.113.9"}) == 200


async def test_a_trusted_proxy_names_the_client(bot: BotUnderTest, fake: FakeTelegram) -> None:
    token = await token_for(fake, fake.user(ALICE, "Alice"))
    now = [0.0]
    failures = SignInLimiter(burst=3, per_second=0.1, monotonic=lambda: now[0])
    async with await trusted_server(bot, failures, ("127.0.0.0/8",)) as proxied:
        port = proxied.port

        def through_proxy(claimed: str, client: str) -> dict[str, str]:
            # What a client wrote itself comes first; the proxy appends the address it saw.
            return {"X-Forwarded-For": f"{claimed}, {client}" if claimed else client}

        guesses = [
            await sign_in(port, f"guess-{n}", **through_proxy(f"10.0.0.{n}", "198.51.100.7"))
            for n in range(4)
        ]
        assert guesses == [401, 401, 401, 429]
        assert await sign_in(port, token, **through_proxy("203.0.113.9", "198.51.100.7")) == 429
        # Another client behind the same proxy is not locked out, nor the one the guesses named.
        assert await sign_in(port, token, **through_proxy("", "203.0.113.9")) == 200
        assert await sign_in(port, token, **through_proxy("", "10.0.0.1")) == 200
        now[0] += 10.0
        assert await sign_in(port, token, **through_proxy("", "198.51.100.7")) == 200


def test_the_runtime_trusts_the_proxies_of_forwarded_allow_ips(
    fake: FakeTelegram, llm: FakeLLM, pg_url: str
) -> None:
    for setting, trusted in (("", ()), ("10.0.0.5, 172.16.0.0/12", ("10.0.0.5", "172.16.0.0/12"))):
        settings = bot_settings(fake, llm, pg_url, http_port=0, forwarded_allow_ips=setting)
        runtime = build_runtime(settings, clock=FakeClock(NOW))
        runtime.build_http()  # as `Runtime.start` does with HTTP_PORT set
        http = runtime.http
        assert http is not None
        assert http.trusted_proxies == trusted

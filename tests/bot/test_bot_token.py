"""/token over the fake Bot API: shown once, stored only as a digest, private chats only."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from storage.database import create_engine
from tests.bot_harness import ALICE, BOB, NOW, BotUnderTest, FakeClock, bot_settings
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


async def stored_digests(url: str) -> list[tuple[int, str]]:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT user_id, token_hash FROM api_tokens"))
            return [(int(row[0]), str(row[1])) for row in rows]
    finally:
        await engine.dispose()


async def test_token_is_shown_once_and_stored_hashed(
    bot: BotUnderTest, fake: FakeTelegram, pg_url: str
) -> None:
    assert ("token", "an API token for scripts: /token, /token revoke") in fake.commands
    alice = fake.user(ALICE, "Alice")
    dm = fake.private_chat(alice)
    await fake.send_text(dm, alice, "/token")
    answer = await fake.wait_for_message(dm, lambda m: "API token" in m.text)
    found = re.search(r"\b(cp_[A-Za-z0-9_-]{40,})\b", answer.text)
    assert found is not None, answer.text
    token = found.group(1)
    assert answer.entity_texts("code")[0] == token
    assert await stored_digests(pg_url) == [(ALICE, hashlib.sha256(token.encode()).hexdigest())]
    assert bot.runtime is not None
    tokens = bot.runtime.use_cases.tokens
    assert await tokens.user_for(token) == ALICE
    assert await tokens.user_for(token + "x") is None

    # A new token replaces the old one.
    await fake.send_text(dm, alice, "/token")
    second = await fake.wait_for_message(
        dm, lambda m: "API token" in m.text and token not in m.text
    )
    newer = re.search(r"\b(cp_[A-Za-z0-9_-]{40,})\b", second.text)
    assert newer is not None
    assert await tokens.user_for(token) is None
    assert await tokens.user_for(newer.group(1)) == ALICE

    await fake.send_text(dm, alice, "/token revoke")
    revoked = await fake.wait_for_message(dm, lambda m: "revoked" in m.text)
    assert "refused from now on" in revoked.text
    assert await tokens.user_for(newer.group(1)) is None
    assert await stored_digests(pg_url) == []
    await fake.send_text(dm, alice, "/token revoke")
    assert "no API token" in (await fake.wait_for_message(dm, lambda m: "no API" in m.text)).text


async def test_token_is_refused_in_groups_and_to_strangers(
    bot: BotUnderTest, fake: FakeTelegram, pg_url: str
) -> None:
    alice = fake.user(ALICE, "Alice")
    bob = fake.user(BOB, "Bob")
    team = fake.group(-1001234567890, "Team", owner=alice, members=[bob])
    await fake.send_text(team, alice, "/token")
    refused = await fake.wait_for_message(team)
    assert "private chat only" in refused.text
    stranger = fake.user(999, "Eve")
    eve = fake.private_chat(stranger)
    await fake.send_text(eve, stranger, "/token")
    assert "not allowed" in (await fake.wait_for_message(eve)).text
    assert await stored_digests(pg_url) == []

"""The whole bot with its HTTP server on a free port, and the two ways a caller proves who it is:
a token asked for with /token over the fake Bot API, and initData signed with the bot token."""

from __future__ import annotations

import json
import re
from datetime import datetime
from urllib.parse import urlencode

import httpx

from cronpilot.runtime import Runtime
from tests.fakes.telegram import FakeTelegram, FakeUser
from web.initdata import sign


async def token_for(fake: FakeTelegram, user: FakeUser) -> str:
    """Ask for a token the way a person does: /token in their private chat."""
    chat = fake.private_chat(user)
    await fake.send_text(chat, user, "/token")
    answer = await fake.wait_for_message(chat, lambda m: "cp_" in m.text)
    found = re.search(r"\b(cp_[A-Za-z0-9_-]{40,})\b", answer.text)
    assert found is not None, answer.text
    return found.group(1)


def init_data(user: FakeUser, bot_token: str, *, auth_date: datetime, language: str = "en") -> str:
    """initData as Telegram hands it to a Mini App opened from the bot's menu button (by a
    person whose Telegram speaks `language`)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(
            {"id": user.id, "first_name": user.first_name, "language_code": language},
            separators=(",", ":"),
        ),
        "auth_date": str(int(auth_date.timestamp())),
    }
    fields["hash"] = sign(fields, bot_token)
    return urlencode(fields)


def asgi_client(runtime: Runtime, **headers: str) -> httpx.AsyncClient:
    """A client that calls the ASGI app in process."""
    assert runtime.web_app is not None
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=runtime.web_app),
        base_url="http://cronpilot.test",
        headers=headers,
        timeout=30,
    )


def port_client(runtime: Runtime, **headers: str) -> httpx.AsyncClient:
    """A client that talks to the HTTP server over a real socket."""
    assert runtime.http is not None
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{runtime.http.port}", headers=headers, timeout=30
    )

"""Telegram Mini App initData, verified as Telegram specifies.

    secret = HMAC-SHA256(key="WebAppData", message=bot token)
    hash   = hex HMAC-SHA256(key=secret, message="\\n".join(sorted "key=value" except hash))

and `auth_date` at most MAX_AGE old: a copied initData stops working after a day.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

MAX_AGE = timedelta(hours=24)
# Clocks differ a little; an auth_date further ahead than this is not believed.
CLOCK_SKEW = timedelta(minutes=5)
MAX_INIT_DATA_CHARS = 10_000


class InitDataError(ValueError):
    """The initData is malformed, forged or stale; the text says which."""


@dataclass(frozen=True, slots=True)
class WebAppUser:
    id: int
    first_name: str
    language_code: str | None
    auth_date: datetime


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def sign(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram would put next to these fields (tests and tools sign with it)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    return hmac.new(secret_key(bot_token), check.encode(), hashlib.sha256).hexdigest()


def verify(
    init_data: str, bot_token: str, *, now: datetime, max_age: timedelta = MAX_AGE
) -> WebAppUser:
    if len(init_data) > MAX_INIT_DATA_CHARS:
        raise InitDataError("initData is too long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("initData is not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("initData repeats a field")
    given = fields.pop("hash", "")
    if not given:
        raise InitDataError("initData has no hash")
    if not hmac.compare_digest(given.encode(), sign(fields, bot_token).encode()):
        raise InitDataError("initData is not signed with this bot's token")
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), tz=UTC)
    except (KeyError, ValueError, OverflowError, OSError):
        raise InitDataError("initData has no valid auth_date") from None
    if now - auth_date > max_age:
        raise InitDataError("initData is older than 24 hours; reopen the Mini App")
    if auth_date - now > CLOCK_SKEW:
        raise InitDataError("initData is dated in the future")
    try:
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataError("initData names no user") from None
    return WebAppUser(
        id=user_id,
        first_name=str(user.get("first_name", "")),
        language_code=user.get("language_code")
        if isinstance(user.get("language_code"), str)
        else None,
        auth_date=auth_date,
    )

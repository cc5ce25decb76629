"""API tokens: issued by /token in a private chat, shown once, kept only as a SHA-256 digest.

A token is 256 random bits, so a plain digest (no salt, no slow hash) is enough: there is no
dictionary to try, and the lookup by digest stays one indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.permissions import Action, Actor
from core.logs import get_logger
from scheduler.clock import Clock
from storage import tokens

log = get_logger(__name__)

PREFIX = "cp_"
# Longer than any token we issue; a longer header is refused before hashing it.
MAX_TOKEN_CHARS = 100


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokens:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, access: Access
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._access = access

    async def issue(self, actor: Actor) -> str:
        """A new token for the actor, replacing the one they had; the caller shows it once."""
        user_id = actor.user_id
        await self._access.require(actor, Action.ISSUE_TOKEN, actor.home_chat_id)
        token = PREFIX + secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            await tokens.replace(session, user_id, digest(token), now=self._clock.now())
        log.info("token.issued", user_id=user_id)
        return token

    async def revoke(self, actor: Actor) -> bool:
        """Whether the actor had a token (it no longer works)."""
        user_id = actor.user_id
        await self._access.require(actor, Action.REVOKE_TOKEN, actor.home_chat_id)
        async with self._sessions() as session, session.begin():
            had = await tokens.delete_for_user(session, user_id)
        log.info("token.revoked", user_id=user_id, had_token=had)
        return had

    async def user_for(self, token: str) -> int | None:
        """The user a token belongs to, or None when it is unknown or revoked (this is how the
        API learns who its actor is, so it takes none)."""
        if not token.startswith(PREFIX) or len(token) > MAX_TOKEN_CHARS:
            return None
        async with self._sessions() as session:
            return await tokens.user_of(session, digest(token))

"""The chat's language: chosen with /language, or forgotten to follow the user's own again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.permissions import Action, Actor
from core.errors import CronpilotError
from core.languages import ENGLISH, chat_language, supported_language
from core.logs import get_logger
from storage import chats
from storage.database import autocommitting
from storage.retry import unavailable

log = get_logger(__name__)

# How many chats' languages are remembered for an outage (a dict of short strings).
KNOWN_CHATS = 100_000


class UnsupportedLanguageError(CronpilotError):
    """The bot has no catalog for that language."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no catalog for language {code!r}")
        self.code = code


class Languages:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], access: Access) -> None:
        self._sessions = sessions
        # One read, asked for every result sent: no transaction around it.
        self._reads = autocommitting(sessions)
        self._access = access
        # The last language read for each chat, for when the database is away: a result owed
        # to a chat is still delivered then, and in its language if it was seen before.
        self._known: dict[int, str] = {}

    async def of_chat(self, chat_id: int) -> str:
        """The language to speak in a chat when nobody is writing (results, notices): its
        setting, else the language its person's app had when last seen, else English."""
        try:
            async with self._reads() as session:
                known = await chats.languages(session, chat_id)
        except Exception as error:
            if not unavailable(error):
                raise
            return self._known.get(chat_id, ENGLISH)
        language = chat_language(*known) if known is not None else ENGLISH
        if len(self._known) >= KNOWN_CHATS:
            self._known.clear()
        self._known[chat_id] = language
        return language

    async def set_language(self, actor: Actor, chat_id: int, code: str | None) -> str | None:
        """Set the chat's language (`pt-BR` is stored as `pt`), or forget it with None.

        Returns the stored code; raises UnsupportedLanguageError for a language we do not speak.
        """
        await self._access.require(actor, Action.SET_LANGUAGE, chat_id)
        language = None
        if code is not None:
            language = supported_language(code)
            if language is None:
                raise UnsupportedLanguageError(code[:16])
        async with self._sessions() as session, session.begin():
            await chats.set_language(session, chat_id, language)
        log.info("chat.language_set", chat_id=chat_id, language=language)
        return language

"""The chat's language: chosen with /language, or forgotten to follow the user's own again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import CronpilotError
from core.languages import supported_language
from core.logs import get_logger
from storage import chats

log = get_logger(__name__)


class UnsupportedLanguageError(CronpilotError):
    """The bot has no catalog for that language."""

    def __init__(self, code: str) -> None:
        super().__init__(f"no catalog for language {code!r}")
        self.code = code


class Languages:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def set_language(self, chat_id: int, code: str | None) -> str | None:
        """Set the chat's language (`pt-BR` is stored as `pt`), or forget it with None.

        Returns the stored code; raises UnsupportedLanguageError for a language we do not speak.
        """
        language = None
        if code is not None:
            language = supported_language(code)
            if language is None:
                raise UnsupportedLanguageError(code[:16])
        async with self._sessions() as session, session.begin():
            await chats.set_language(session, chat_id, language)
        log.info("chat.language_set", chat_id=chat_id, language=language)
        return language

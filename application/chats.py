"""Chats: who talks to us, in which time zone, and what happens when one goes away."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.records import ApplicationSettings
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.schedules.schedule import canonical_zone
from storage import chats
from storage.records import Chat

log = get_logger(__name__)


def zone_of(chat: Chat, settings: ApplicationSettings) -> str:
    """The zone the chat's requests are read in: its own, else the deployment's default."""
    return chat.timezone or settings.default_timezone


class Chats:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: ApplicationSettings,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._settings = settings

    async def see(
        self, chat_id: int, *, type: str, title: str | None, user_language: str | None = None
    ) -> Chat:
        """Record that the chat exists and talks to us (again); in a private chat, with the
        language of the person's Telegram app."""
        async with self._sessions() as session, session.begin():
            return await chats.upsert(
                session,
                chat_id,
                type=type,
                title=title,
                now=self._clock.now(),
                user_language=user_language,
            )

    def zone_of(self, chat: Chat) -> str:
        return zone_of(chat, self._settings)

    async def set_timezone(self, chat_id: int, zone: str) -> str:
        """Set the chat's zone (for tasks created from now on); return its IANA spelling."""
        name = canonical_zone(zone)
        async with self._sessions() as session, session.begin():
            await chats.set_timezone(session, chat_id, name)
        return name

    async def unreachable(self, chat_id: int) -> list[int]:
        """The chat blocked or removed the bot: mark it inactive, pause its tasks."""
        async with self._sessions() as session, session.begin():
            paused = await chats.mark_unreachable(session, chat_id, now=self._clock.now())
        log.warning("chat.unreachable", chat_id=chat_id, paused=paused)
        return paused

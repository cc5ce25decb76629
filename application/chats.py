"""Chats: who talks to us, in which time zone, which of them a person may reach, and what
happens when one goes away."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access, Rights
from application.permissions import NEEDS, Action, Actor
from application.records import ApplicationSettings
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.schedules.schedule import canonical_zone
from storage import chats
from storage.records import Chat

log = get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ChatView:
    """A chat someone may reach from outside it (the API, the Mini App), and what they may do."""

    chat: Chat
    rights: Rights


def zone_of(chat: Chat, settings: ApplicationSettings) -> str:
    """The zone the chat's requests are read in: its own, else the deployment's default."""
    return chat.timezone or settings.default_timezone


class Chats:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: ApplicationSettings,
        access: Access,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._settings = settings
        self._access = access

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

    async def mine(self, actor: Actor) -> list[ChatView]:
        """The chats the actor may read, with what they may do in each (a person is asked about
        from outside any chat: by the API and the Mini App)."""
        self._access.require_allowed(actor, Action.LIST_CHATS)
        async with self._sessions() as session:
            candidates = await chats.list_for_user(session, actor.user_id)
        views = []
        for chat in candidates:
            rights = await self._access.rights(actor, chat.id, chat.type)
            if NEEDS[Action.LIST_CHATS] in rights:
                views.append(ChatView(chat, rights))
        return views

    async def get(self, actor: Actor, chat_id: int, *, to: Action) -> Chat:
        """The chat, when `actor` may do `to` in it (the door checks before it reads a body)."""
        return await self._access.chat(actor, to, chat_id)

    async def set_timezone(self, actor: Actor, chat_id: int, zone: str) -> str:
        """Set the chat's zone (for tasks created from now on); return its IANA spelling."""
        await self._access.require(actor, Action.SET_TIMEZONE, chat_id)
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

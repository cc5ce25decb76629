"""Who may do what, for every front door: the allowlist, a private chat is its user's, and in
groups members read while admins manage (or every member, with GROUP_MEMBERS_CAN_MANAGE).

Whether someone is a group's admin is Telegram's to say: the front doors provide a ChatMembers
port (the bot asks getChatMember), and answers are cached briefly so that a dashboard listing
twenty tasks does not ask Telegram twenty times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import CronpilotError
from core.settings import AllowedUsers
from scheduler.clock import Clock
from scheduler.engine import TaskNotFoundError
from storage import chats, tasks
from storage.records import Chat, Task

MEMBERSHIP_CACHE = timedelta(seconds=60)
PRIVATE = "private"


class NotAllowedError(CronpilotError):
    """The user is not on ALLOWED_USERS."""


class ChatHiddenError(CronpilotError):
    """The user may not see this chat (or it does not exist): answered like a missing chat."""


class NotManagerError(CronpilotError):
    """The user may see the chat but not change its tasks (a group member who is no admin)."""


class MemberRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    OUTSIDER = "outsider"


class ChatMembers(Protocol):
    """The front door's way of asking Telegram about a chat member; None when it cannot tell
    (Telegram unreachable, the bot removed): such answers are not cached."""

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None: ...


@dataclass(frozen=True, slots=True)
class Rights:
    read: bool
    manage: bool


NO_RIGHTS = Rights(read=False, manage=False)


class Access:
    def __init__(
        self,
        allowed_users: AllowedUsers,
        members: ChatMembers,
        clock: Clock,
        *,
        group_members_can_manage: bool = False,
        cache_for: timedelta = MEMBERSHIP_CACHE,
    ) -> None:
        self._allowed_users = allowed_users
        self._members = members
        self._clock = clock
        self._group_members_can_manage = group_members_can_manage
        self._cache_for = cache_for
        self._roles: dict[tuple[int, int], tuple[datetime, MemberRole]] = {}

    def allowed(self, user_id: int) -> bool:
        return self._allowed_users.allows(user_id)

    def require_allowed(self, user_id: int) -> None:
        if not self.allowed(user_id):
            raise NotAllowedError(f"user {user_id} is not on ALLOWED_USERS")

    async def rights(self, user_id: int, chat: Chat) -> Rights:
        """What `user_id` may do in `chat`."""
        return await self.rights_in(user_id, chat.id, chat.type)

    async def rights_in(self, user_id: int, chat_id: int, chat_type: str) -> Rights:
        if not self.allowed(user_id):
            return NO_RIGHTS
        if chat_type == PRIVATE:
            mine = chat_id == user_id
            return Rights(read=mine, manage=mine)
        role = await self.role(chat_id, user_id)
        if role in (MemberRole.OWNER, MemberRole.ADMIN):
            return Rights(read=True, manage=True)
        if role is MemberRole.MEMBER:
            return Rights(read=True, manage=self._group_members_can_manage)
        return NO_RIGHTS

    async def require(self, user_id: int, chat: Chat, *, manage: bool) -> None:
        """Raise unless the user may read (or, with `manage`, change) the chat's tasks."""
        self.require_allowed(user_id)
        rights = await self.rights(user_id, chat)
        if not rights.read:
            raise ChatHiddenError(f"chat {chat.id} is not one of user {user_id}'s chats")
        if manage and not rights.manage:
            raise NotManagerError(f"user {user_id} does not manage chat {chat.id}")

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        now = self._clock.now()
        cached = self._roles.get((chat_id, user_id))
        if cached is not None and now - cached[0] < self._cache_for:
            return cached[1]
        role = await self._members.role(chat_id, user_id)
        if role is not None:
            if len(self._roles) > 10_000:  # a bound, not an eviction policy: start over
                self._roles.clear()
            self._roles[(chat_id, user_id)] = (now, role)
        return role

    def forget(self, chat_id: int, user_id: int) -> None:
        """Drop a cached role (the bot saw the member's status change)."""
        self._roles.pop((chat_id, user_id), None)


@dataclass(frozen=True, slots=True)
class ChatView:
    chat: Chat
    rights: Rights


class Reach:
    """What a user can reach from outside a chat (the API and the Mini App act for a user,
    not inside a chat): their chats, and chats and tasks by id, checked with Access.

    A chat or task the user may not see is reported exactly like a missing one."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], access: Access) -> None:
        self._sessions = sessions
        self._access = access

    async def chats(self, user_id: int) -> list[ChatView]:
        self._access.require_allowed(user_id)
        async with self._sessions() as session:
            candidates = await chats.list_for_user(session, user_id)
        views = []
        for chat in candidates:
            rights = await self._access.rights(user_id, chat)
            if rights.read:
                views.append(ChatView(chat, rights))
        return views

    async def chat(self, user_id: int, chat_id: int, *, manage: bool) -> Chat:
        self._access.require_allowed(user_id)
        async with self._sessions() as session:
            chat = await chats.get(session, chat_id)
        if chat is None:
            raise ChatHiddenError(f"there is no chat {chat_id} that user {user_id} may see")
        await self._access.require(user_id, chat, manage=manage)
        return chat

    async def task(self, user_id: int, task_id: int, *, manage: bool) -> Task:
        self._access.require_allowed(user_id)
        async with self._sessions() as session:
            task = await tasks.get(session, task_id)
            chat = await chats.get(session, task.chat_id) if task is not None else None
        if task is None or chat is None:
            raise TaskNotFoundError(task_id)
        try:
            await self._access.require(user_id, chat, manage=manage)
        except ChatHiddenError:
            raise TaskNotFoundError(task_id) from None
        return task

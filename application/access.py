"""Who holds which right where, for every front door: the allowlist, a private chat is its
user's, in groups members read while admins manage (or every member, with
GROUP_MEMBERS_CAN_MANAGE), and the operator at the terminal may do anything. Which action needs
which right is the table in `application.permissions`; the use cases ask `require` (or `chat`,
`task`) before they read or change anything.

Whether someone is a group's admin is Telegram's to say: the bot provides a ChatMembers port
(getChatMember), and answers are cached briefly (a TTL cache) so that a dashboard listing twenty
tasks does not ask Telegram twenty times.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Protocol

from cachetools import TTLCache
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.permissions import (
    NEEDS,
    PRIVATE,
    Action,
    Actor,
    ChatHiddenError,
    Door,
    NotAllowedError,
    NotManagerError,
    OperatorOnlyError,
    PrivateChatOnlyError,
    RefusedError,
    Right,
)
from core.errors import CronpilotError
from core.settings import AllowedUsers
from scheduler.clock import Clock
from scheduler.engine import TaskNotFoundError
from storage import chats, tasks
from storage.records import Chat, Task

MEMBERSHIP_CACHE = timedelta(seconds=60)
# Roles remembered at once; the oldest go first when a flood of users would grow it further.
ROLES_CACHED = 10_000

Rights = frozenset[Right]
NO_RIGHTS: Rights = frozenset()
READER: Rights = frozenset({Right.READ})
ADMIN: Rights = frozenset({Right.READ, Right.MANAGE})
OWN_CHAT: Rights = frozenset({Right.READ, Right.MANAGE, Right.OWN})
EVERY_RIGHT: Rights = frozenset(Right)


class MemberRole(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    OUTSIDER = "outsider"


class ChatMembers(Protocol):
    """The front door's way of asking Telegram about a chat member; None when it cannot tell
    (Telegram unreachable, the bot removed): such answers are not cached."""

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None: ...


class NoMembers:
    """Members for a door that cannot ask Telegram (the terminal): nobody's role is known."""

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        return None


class Access:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        allowed_users: AllowedUsers,
        members: ChatMembers,
        clock: Clock,
        *,
        group_members_can_manage: bool = False,
        cache_for: timedelta = MEMBERSHIP_CACHE,
    ) -> None:
        self._sessions = sessions
        self._allowed_users = allowed_users
        self._members = members
        self._group_members_can_manage = group_members_can_manage
        self._roles: TTLCache[tuple[int, int], MemberRole] = TTLCache(
            maxsize=ROLES_CACHED,
            ttl=cache_for.total_seconds(),
            timer=lambda: clock.now().timestamp(),
        )

    def allowed(self, user_id: int) -> bool:
        """Whether the user is on ALLOWED_USERS (the bot's gate asks before anything else)."""
        return self._allowed_users.allows(user_id)

    async def rights(
        self, actor: Actor, chat_id: int | None, chat_type: str | None, *, need: Right | None = None
    ) -> Rights:
        """The rights `actor` holds in the chat (None: in every chat at once). The one function
        for that; with `need`, just enough to decide that right (a reader who writes in the
        chat is not looked up at Telegram)."""
        if chat_id is None:
            return (
                EVERY_RIGHT if actor.door is Door.TERMINAL and actor.chat_id is None else NO_RIGHTS
            )
        if actor.chat_id is not None and chat_id != actor.chat_id:
            return NO_RIGHTS  # an actor in a chat acts on that chat only
        if actor.door is Door.TERMINAL:
            return EVERY_RIGHT  # the operator, at the machine the bot runs on
        if not self.allowed(actor.user_id):
            return NO_RIGHTS
        if chat_type == PRIVATE:
            return OWN_CHAT if chat_id == actor.user_id else NO_RIGHTS
        # Someone writing in a group (or pressing its buttons) is in it: they may read.
        present = chat_id == actor.chat_id
        if present and need is Right.READ:
            return READER
        if actor.as_chat is not None:
            # An anonymous admin writes as the group itself; as any other chat, no more.
            return ADMIN if actor.as_chat == chat_id else READER if present else NO_RIGHTS
        role = await self.role(chat_id, actor.user_id)
        if role in (MemberRole.OWNER, MemberRole.ADMIN):
            return ADMIN
        if role is MemberRole.MEMBER:
            return ADMIN if self._group_members_can_manage else READER
        return READER if present else NO_RIGHTS

    async def require(
        self,
        actor: Actor,
        action: Action,
        chat_id: int | None,
        *,
        missing: CronpilotError | None = None,
    ) -> None:
        """Raise unless `actor` may do `action` in the chat. A chat they may not see is reported
        as `missing` (the task, draft or change they named), else as ChatHiddenError."""
        self.require_allowed(actor, action, chat_id)
        elsewhere = actor.chat_id is not None and chat_id not in (None, actor.chat_id)
        chat_type = None if elsewhere else await self._type_of(actor, chat_id)
        if chat_id is not None and chat_type is None:
            # An actor in a chat acts on that chat only; a chat we do not know is nobody's.
            raise missing or ChatHiddenError(actor, action, chat_id)
        await self._check(actor, action, chat_id, chat_type, missing)

    async def chat(self, actor: Actor, action: Action, chat_id: int) -> Chat:
        """The chat, when `actor` may do `action` in it."""
        self.require_allowed(actor, action, chat_id)
        async with self._sessions() as session:
            chat = await chats.get(session, chat_id)
        if chat is None:
            raise ChatHiddenError(actor, action, chat_id)
        await self._check(actor, action, chat.id, chat.type, None)
        return chat

    async def task(self, actor: Actor, action: Action, task_id: int) -> Task:
        """The task, when `actor` may do `action` to it; a task they may not see is missing."""
        self.require_allowed(actor, action, None)
        async with self._sessions() as session:
            task = await tasks.get(session, task_id)
        if task is None:
            raise TaskNotFoundError(task_id)
        await self.require(actor, action, task.chat_id, missing=TaskNotFoundError(task_id))
        return task

    async def may(self, actor: Actor, action: Action, chat_id: int) -> bool:
        """Whether `actor` may do `action` in the chat, for a use case that offers it or not
        (a reply that would propose a change)."""
        try:
            await self.require(actor, action, chat_id)
        except RefusedError:
            return False
        return True

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        key = (chat_id, user_id)
        cached = self._roles.get(key)
        if cached is not None:
            return cached
        role = await self._members.role(chat_id, user_id)
        if role is not None:
            self._roles[key] = role
        return role

    def forget(self, chat_id: int, user_id: int) -> None:
        """Drop a cached role (the bot saw the member's status change)."""
        self._roles.pop((chat_id, user_id), None)

    def require_allowed(self, actor: Actor, action: Action, chat_id: int | None = None) -> None:
        """NotAllowedError for a user not on ALLOWED_USERS (the operator needs no place on it)."""
        if actor.door is not Door.TERMINAL and not self.allowed(actor.user_id):
            raise NotAllowedError(actor, action, chat_id)

    async def _type_of(self, actor: Actor, chat_id: int | None) -> str | None:
        """The chat's type, read only when the actor does not tell it: their own chat, or a
        person's private chat with the bot (it has the person's id)."""
        if chat_id is None:
            return None
        if chat_id == actor.chat_id and actor.chat_type is not None:
            return actor.chat_type
        if chat_id == actor.user_id:
            return PRIVATE
        async with self._sessions() as session:
            chat = await chats.get(session, chat_id)
        return chat.type if chat is not None else None

    async def _check(
        self,
        actor: Actor,
        action: Action,
        chat_id: int | None,
        chat_type: str | None,
        missing: CronpilotError | None,
    ) -> None:
        need = NEEDS[action]
        held = await self.rights(actor, chat_id, chat_type, need=need)
        if need in held:
            return
        if need is Right.OPERATE:
            raise OperatorOnlyError(actor, action, chat_id)
        if need is Right.OWN:
            raise PrivateChatOnlyError(actor, action, chat_id)
        if need is Right.MANAGE and Right.READ in held:
            raise NotManagerError(actor, action, chat_id)
        raise missing or ChatHiddenError(actor, action, chat_id)

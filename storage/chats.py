"""Repository for chats. Callers own the transaction."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import tasks
from storage.dialects import insert_for
from storage.models import ChatRow
from storage.records import Chat


def to_record(row: ChatRow) -> Chat:
    return Chat(
        id=row.id,
        type=row.type,
        title=row.title,
        timezone=row.timezone,
        active=row.active,
        created_at=row.created_at,
        language=row.language,
        user_language=row.user_language,
    )


async def get(session: AsyncSession, chat_id: int) -> Chat | None:
    row = await session.get(ChatRow, chat_id)
    return to_record(row) if row is not None else None


async def languages(session: AsyncSession, chat_id: int) -> tuple[str | None, str | None] | None:
    """The chat's language setting and its user's language, or None for a chat not known: the
    two columns, not the row as an ORM object (read for every result sent, loading the whole row
    cost several times the CPU)."""
    row = (await session.execute(_languages_statement(), {"chat_id": chat_id})).first()
    return (row[0], row[1]) if row is not None else None


@functools.cache
def _languages_statement() -> Any:
    return select(ChatRow.language, ChatRow.user_language).where(ChatRow.id == bindparam("chat_id"))


async def upsert(
    session: AsyncSession,
    chat_id: int,
    *,
    type: str,
    title: str | None,
    now: datetime,
    user_language: str | None = None,
) -> Chat:
    """Record that the chat exists and can reach us: new chats are created, known ones refreshed
    (a chat that had blocked the bot and writes again is active again). A `user_language` given
    replaces the one kept; None keeps it."""
    statement = insert_for(session, ChatRow).values(
        id=chat_id,
        type=type,
        title=title,
        timezone=None,
        active=True,
        created_at=now,
        user_language=user_language,
    )
    refreshed: dict[str, object] = {"type": type, "title": title, "active": True}
    if user_language is not None:
        refreshed["user_language"] = user_language
    statement = statement.on_conflict_do_update(
        index_elements=[ChatRow.id], set_=refreshed
    ).returning(ChatRow)
    # The row may already sit in this session's identity map; take the database's values.
    result = await session.execute(statement, execution_options={"populate_existing": True})
    return to_record(result.scalar_one())


async def set_timezone(session: AsyncSession, chat_id: int, timezone: str | None) -> bool:
    result = await session.execute(
        update(ChatRow).where(ChatRow.id == chat_id).values(timezone=timezone)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_language(session: AsyncSession, chat_id: int, language: str | None) -> bool:
    result = await session.execute(
        update(ChatRow).where(ChatRow.id == chat_id).values(language=language)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_active(session: AsyncSession, chat_id: int, active: bool) -> bool:
    result = await session.execute(
        update(ChatRow).where(ChatRow.id == chat_id).values(active=active)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def lock(session: AsyncSession, chat_id: int) -> bool:
    """Hold the chat's row until the transaction ends (PostgreSQL; SQLite serialises writers
    anyway): whatever counts the chat's tasks and then adds one does it under this lock."""
    result = await session.execute(
        select(ChatRow.id).where(ChatRow.id == chat_id).with_for_update()
    )
    return result.scalar_one_or_none() is not None


GROUP_TYPES = ("group", "supergroup")


async def list_for_user(session: AsyncSession, user_id: int) -> list[Chat]:
    """The chats a user might see: their own private chat and every active group (whether
    they are a member is Telegram's to say), private chat first."""
    rows = await session.scalars(
        select(ChatRow).where(
            (ChatRow.id == user_id) | (ChatRow.type.in_(GROUP_TYPES) & ChatRow.active.is_(True))
        )
    )
    found = [to_record(row) for row in rows]
    return sorted(found, key=lambda chat: (chat.type != "private", chat.id))


async def mark_unreachable(session: AsyncSession, chat_id: int, *, now: datetime) -> list[int]:
    """The chat blocked or removed the bot (seen by an update or by a failed delivery): mark it
    inactive and pause its active tasks until someone resumes them; return their ids."""
    await set_active(session, chat_id, False)
    return await tasks.pause_all_in_chat(session, chat_id, now=now)

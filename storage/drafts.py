"""Repository for drafts: parsed requests waiting for Confirm, Edit or Cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DraftRow
from storage.records import Draft


def to_record(row: DraftRow) -> Draft:
    return Draft(
        id=row.id,
        chat_id=row.chat_id,
        user_id=row.user_id,
        message_id=row.message_id,
        task_id=row.task_id,
        payload=dict(row.payload),
        created_at=row.created_at,
        expires_at=row.expires_at,
        edit_prompt_id=row.edit_prompt_id,
    )


async def add(
    session: AsyncSession,
    *,
    draft_id: str,
    chat_id: int,
    user_id: int,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime,
    task_id: int | None = None,
) -> Draft:
    row = DraftRow(
        id=draft_id,
        chat_id=chat_id,
        user_id=user_id,
        message_id=None,
        edit_prompt_id=None,
        task_id=task_id,
        payload=payload,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return to_record(row)


async def get(session: AsyncSession, draft_id: str, *, for_update: bool = False) -> Draft | None:
    """The draft; with `for_update` its row stays locked until the transaction ends, so a
    second Confirm of the same draft waits and then finds it gone."""
    row = await session.get(
        DraftRow, draft_id, populate_existing=True, with_for_update=for_update or None
    )
    return to_record(row) if row is not None else None


async def list_open(
    session: AsyncSession, *, chat_id: int, user_id: int, now: datetime
) -> list[Draft]:
    """The user's drafts in this chat that have not expired, oldest first."""
    result = await session.execute(
        select(DraftRow)
        .where(
            DraftRow.chat_id == chat_id,
            DraftRow.user_id == user_id,
            DraftRow.expires_at > now,
        )
        .order_by(DraftRow.created_at, DraftRow.id)
    )
    return [to_record(row) for row in result.scalars()]


async def list_open_in_chat(session: AsyncSession, *, chat_id: int, now: datetime) -> list[Draft]:
    """Every draft in this chat that has not expired, oldest first."""
    result = await session.execute(
        select(DraftRow)
        .where(DraftRow.chat_id == chat_id, DraftRow.expires_at > now)
        .order_by(DraftRow.created_at, DraftRow.id)
    )
    return [to_record(row) for row in result.scalars()]


async def set_message_id(session: AsyncSession, draft_id: str, message_id: int) -> None:
    await session.execute(
        update(DraftRow).where(DraftRow.id == draft_id).values(message_id=message_id)
    )


async def set_payload_value(session: AsyncSession, draft_id: str, key: str, value: Any) -> bool:
    """Set one key of the draft's payload; False when the draft is gone."""
    row = await session.get(DraftRow, draft_id, with_for_update=True, populate_existing=True)
    if row is None:
        return False
    row.payload = {**row.payload, key: value}
    await session.flush()
    return True


async def set_edit_prompt(session: AsyncSession, draft_id: str, message_id: int) -> None:
    await session.execute(
        update(DraftRow).where(DraftRow.id == draft_id).values(edit_prompt_id=message_id)
    )


async def find_by_edit_prompt(session: AsyncSession, chat_id: int, message_id: int) -> Draft | None:
    """The draft whose Edit prompt is that message of the chat (expired or not)."""
    result = await session.execute(
        select(DraftRow).where(DraftRow.chat_id == chat_id, DraftRow.edit_prompt_id == message_id)
    )
    row = result.scalars().first()
    return to_record(row) if row is not None else None


async def delete(session: AsyncSession, draft_id: str) -> bool:
    """Remove a draft; False when it was already gone (another press got there first)."""
    result = await session.execute(sql_delete(DraftRow).where(DraftRow.id == draft_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_expired(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(sql_delete(DraftRow).where(DraftRow.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]

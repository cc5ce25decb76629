"""Repository for proposed changes to tasks, waiting for Confirm or Cancel.

Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete as sql_delete
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChangeRow
from storage.records import Change


def to_record(row: ChangeRow) -> Change:
    return Change(
        id=row.id,
        chat_id=row.chat_id,
        task_id=row.task_id,
        user_id=row.user_id,
        message_id=row.message_id,
        payload=dict(row.payload),
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


async def add(
    session: AsyncSession,
    *,
    change_id: str,
    chat_id: int,
    task_id: int,
    user_id: int,
    payload: dict[str, Any],
    now: datetime,
    expires_at: datetime,
) -> Change:
    row = ChangeRow(
        id=change_id,
        chat_id=chat_id,
        task_id=task_id,
        user_id=user_id,
        message_id=None,
        payload=payload,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    await session.flush()
    return to_record(row)


async def get(session: AsyncSession, change_id: str) -> Change | None:
    row = await session.get(ChangeRow, change_id, populate_existing=True)
    return to_record(row) if row is not None else None


async def set_message_id(session: AsyncSession, change_id: str, message_id: int) -> None:
    await session.execute(
        update(ChangeRow).where(ChangeRow.id == change_id).values(message_id=message_id)
    )


async def delete(session: AsyncSession, change_id: str) -> bool:
    """Remove a proposal; False when it was already gone (another press got there first)."""
    result = await session.execute(sql_delete(ChangeRow).where(ChangeRow.id == change_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def delete_expired(session: AsyncSession, *, now: datetime) -> int:
    result = await session.execute(sql_delete(ChangeRow).where(ChangeRow.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]

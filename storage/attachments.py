"""Repository for attachments: documents kept with a draft, then with its task. Callers own
the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AttachmentRow
from storage.records import Attachment


def _record(row: AttachmentRow) -> Attachment:
    return Attachment(
        id=row.id,
        chat_id=row.chat_id,
        task_id=row.task_id,
        draft_id=row.draft_id,
        name=row.name,
        media_type=row.media_type,
        text=row.text,
        size=row.size,
        created_at=row.created_at,
    )


async def add_to_draft(
    session: AsyncSession,
    *,
    chat_id: int,
    draft_id: str,
    name: str,
    media_type: str,
    text: str,
    now: datetime,
) -> Attachment:
    row = AttachmentRow(
        chat_id=chat_id,
        draft_id=draft_id,
        name=name,
        media_type=media_type,
        text=text,
        size=len(text.encode()),
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return _record(row)


async def move_to_task(session: AsyncSession, draft_id: str, task_id: int) -> None:
    """The draft's attachments become its task's (before the draft is deleted)."""
    await session.execute(
        update(AttachmentRow)
        .where(AttachmentRow.draft_id == draft_id)
        .values(task_id=task_id, draft_id=None)
    )


async def move_to_draft(session: AsyncSession, from_draft: str, to_draft: str) -> None:
    """A replaced draft's attachments go with the draft that replaces it."""
    await session.execute(
        update(AttachmentRow).where(AttachmentRow.draft_id == from_draft).values(draft_id=to_draft)
    )


async def of_draft(session: AsyncSession, draft_id: str) -> list[Attachment]:
    rows = await session.scalars(
        select(AttachmentRow).where(AttachmentRow.draft_id == draft_id).order_by(AttachmentRow.id)
    )
    return [_record(row) for row in rows]


async def of_task(session: AsyncSession, task_id: int) -> list[Attachment]:
    rows = await session.scalars(
        select(AttachmentRow).where(AttachmentRow.task_id == task_id).order_by(AttachmentRow.id)
    )
    return [_record(row) for row in rows]

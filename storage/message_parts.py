"""Repository for the later messages of a result or a follow-up answer split into several.

A reply to any of them is a reply to the whole; the first message is the run's
`delivered_message_id` or the follow-up's `message_id`. Callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for
from storage.models import MessagePartRow


async def add(
    session: AsyncSession,
    chat_id: int,
    message_ids: Sequence[int],
    *,
    run_id: int | None = None,
    followup_id: int | None = None,
) -> None:
    """Record `message_ids` as parts of that run's result or that follow-up's answer."""
    if not message_ids:
        return
    await session.execute(
        insert_for(session, MessagePartRow)
        .values(
            [
                {
                    "chat_id": chat_id,
                    "message_id": message_id,
                    "run_id": run_id,
                    "followup_id": followup_id,
                }
                for message_id in message_ids
            ]
        )
        .on_conflict_do_nothing()
    )


async def find(session: AsyncSession, chat_id: int, message_id: int) -> MessagePartRow | None:
    """The part posted as `message_id` in `chat_id`, if it is one."""
    found = await session.execute(
        select(MessagePartRow).where(
            MessagePartRow.chat_id == chat_id, MessagePartRow.message_id == message_id
        )
    )
    return found.scalar_one_or_none()

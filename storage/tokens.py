"""Repository for API tokens, kept as SHA-256 digests. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for
from storage.models import ApiTokenRow


async def replace(session: AsyncSession, user_id: int, token_hash: str, *, now: datetime) -> None:
    """The user's one token is now the one with this digest (any older one stops working)."""
    statement = insert_for(session, ApiTokenRow).values(
        user_id=user_id, token_hash=token_hash, created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ApiTokenRow.user_id],
        set_={"token_hash": token_hash, "created_at": now},
    )
    await session.execute(statement)


async def delete_for_user(session: AsyncSession, user_id: int) -> bool:
    result = await session.execute(delete(ApiTokenRow).where(ApiTokenRow.user_id == user_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def user_of(session: AsyncSession, token_hash: str) -> int | None:
    return await session.scalar(
        select(ApiTokenRow.user_id).where(ApiTokenRow.token_hash == token_hash)
    )

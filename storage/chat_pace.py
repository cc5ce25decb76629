"""Repository for the pace of each chat, shared by every replica of the bot.

Telegram's per-chat and per-group limits are the bot's, not a process's: two replicas that each
keep one message a second to a chat together send two. Each chat has a row holding its
theoretical arrival time (`next_at`, GCRA: the generic cell rate algorithm that redis-cell and
throttled use): a message may go at `next_at - burst`, and each message moves it on by the
chat's spacing. One statement reserves a slot for each of many chats at once, so a replica pays
one round trip per batch of messages, not per message. Callers own the transaction.

Times are seconds since the epoch on the replicas' clocks (kept in step by NTP; a skew of some
milliseconds is far inside the margins of bot.ratelimit's spacings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for, is_postgres
from storage.models import ChatPaceRow


@dataclass(frozen=True, slots=True)
class PaceRequest:
    """One message to `chat`, to go no earlier than `earliest`; the chat keeps `spacing`
    seconds between messages on average."""

    chat: str
    earliest: float
    spacing: float


async def reserve(session: AsyncSession, requests: Sequence[PaceRequest]) -> dict[str, float]:
    """Count one message to each requested chat (one request per chat): its `next_at` becomes
    `max(next_at, earliest) + spacing`. Return each chat's new `next_at`; the message's own
    slot is that minus its spacing and burst (bot.ratelimit.ChatSlots works it out).

    Rows are written in the chats' order, so two replicas reserving overlapping chats wait for
    each other's row locks and never deadlock."""
    if not requests:
        return {}
    ordered = sorted(requests, key=lambda request: request.chat)
    if len({request.chat for request in ordered}) != len(ordered):
        raise ValueError("one request per chat in a reservation")
    statement = insert_for(session, ChatPaceRow).values(
        [
            {
                "chat": request.chat,
                "next_at": request.earliest + request.spacing,
                "spacing": request.spacing,
            }
            for request in ordered
        ]
    )
    greatest = func.greatest if is_postgres(session) else func.max
    statement = statement.on_conflict_do_update(
        index_elements=[ChatPaceRow.chat],
        set_={
            "next_at": greatest(
                ChatPaceRow.next_at + statement.excluded.spacing, statement.excluded.next_at
            ),
            "spacing": statement.excluded.spacing,
        },
    ).returning(ChatPaceRow.chat, ChatPaceRow.next_at)
    result = await session.execute(statement)
    return {chat: float(next_at) for chat, next_at in result.all()}


async def forget_idle(session: AsyncSession, *, before: float) -> int:
    """Drop the rows of chats whose pace lapsed before `before`: a missing row means a free
    chat, so this changes nothing but the table's size."""
    result = await session.execute(delete(ChatPaceRow).where(ChatPaceRow.next_at < before))
    return int(result.rowcount)  # type: ignore[attr-defined]

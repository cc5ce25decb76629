"""Repository for incidents: what the operator is told about, shared by every replica.

An incident is open while its check keeps finding the problem; the partial unique index on open
keys lets only one replica open it, and the alert and the resolution are each claimed by one
UPDATE, so two replicas never tell the operator the same thing twice. Callers own the
transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import insert_for
from storage.models import IncidentRow


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    key: str
    kind: str
    facts: Mapping[str, Any]
    opened_at: datetime
    resolved_at: datetime | None
    alerted_at: datetime | None
    message_id: int | None


def _record(row: IncidentRow) -> Incident:
    return Incident(
        id=row.id,
        key=row.key,
        kind=row.kind,
        facts=dict(row.facts or {}),
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
        alerted_at=row.alerted_at,
        message_id=row.message_id,
    )


async def open_keys(session: AsyncSession) -> dict[str, Incident]:
    """The open incidents, by key."""
    result = await session.execute(select(IncidentRow).where(IncidentRow.resolved_at.is_(None)))
    return {row.key: _record(row) for row in result.scalars()}


async def open_or_reopen(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    facts: Mapping[str, Any],
    now: datetime,
    reopen_since: datetime,
) -> bool:
    """Open an incident for `key` unless one is open; one of the same key resolved since
    `reopen_since` is opened again instead (a problem that comes back within the hour is the
    same incident, and the operator already heard of it). True if this call opened it."""
    recent = await session.execute(
        select(IncidentRow.id)
        .where(IncidentRow.key == key, IncidentRow.resolved_at >= reopen_since)
        .order_by(IncidentRow.id.desc())
        .limit(1)
    )
    recent_id = recent.scalar_one_or_none()
    if recent_id is not None:
        reopened = await session.execute(
            update(IncidentRow)
            .where(IncidentRow.id == recent_id, IncidentRow.resolved_at.is_not(None))
            .values(resolved_at=None, facts=dict(facts))
            .execution_options(synchronize_session=False)
        )
        return bool(reopened.rowcount)  # type: ignore[attr-defined]
    statement = (
        insert_for(session, IncidentRow)
        .values(key=key, kind=kind, facts=dict(facts), opened_at=now)
        .on_conflict_do_nothing(
            index_elements=[IncidentRow.key], index_where=text("resolved_at IS NULL")
        )
        .returning(IncidentRow.id)
    )
    inserted = await session.execute(statement)
    return inserted.scalar_one_or_none() is not None


async def resolve(session: AsyncSession, keys: Sequence[str], *, now: datetime) -> int:
    """The checks pass again for these keys: their open incidents are resolved."""
    if not keys:
        return 0
    result = await session.execute(
        update(IncidentRow)
        .where(IncidentRow.key.in_(list(keys)), IncidentRow.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_alerts(session: AsyncSession, *, now: datetime) -> list[Incident]:
    """Open incidents the operator has not been told of: this caller tells, nobody else."""
    result = await session.execute(
        update(IncidentRow)
        .where(IncidentRow.resolved_at.is_(None), IncidentRow.alerted_at.is_(None))
        .values(alerted_at=now)
        .returning(IncidentRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted((_record(row) for row in result.scalars()), key=lambda item: item.id)


async def claim_resolutions(
    session: AsyncSession, *, now: datetime, told_before: datetime
) -> list[Incident]:
    """Resolved incidents whose alert went out and whose end the operator has not been told of
    (at most once per `told_before` window each: a flapping problem is not a flood)."""
    result = await session.execute(
        update(IncidentRow)
        .where(
            IncidentRow.resolved_at.is_not(None),
            IncidentRow.alerted_at.is_not(None),
            or_(
                IncidentRow.resolution_told_at.is_(None),
                and_(
                    IncidentRow.resolution_told_at < IncidentRow.resolved_at,
                    IncidentRow.resolution_told_at < told_before,
                ),
            ),
        )
        .values(resolution_told_at=now)
        .returning(IncidentRow)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return sorted((_record(row) for row in result.scalars()), key=lambda item: item.id)


async def set_message(session: AsyncSession, incident_id: int, message_id: int | None) -> None:
    """The alert's message in the operator's chat (None: it could not be sent)."""
    await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id)
        .values(message_id=message_id)
        .execution_options(synchronize_session=False)
    )


async def unclaim_alert(session: AsyncSession, incident_id: int) -> None:
    """The alert could not be sent: the next review tries again."""
    await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id)
        .values(alerted_at=None)
        .execution_options(synchronize_session=False)
    )


async def recent(session: AsyncSession, key: str, *, since: datetime) -> bool:
    """Whether an incident of `key` was opened or resolved since `since`."""
    result = await session.execute(
        select(IncidentRow.id)
        .where(
            IncidentRow.key == key,
            or_(IncidentRow.opened_at >= since, IncidentRow.resolved_at >= since),
        )
        .limit(1)
    )
    return result.scalar_one_or_none() is not None


async def open_passed(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    facts: Mapping[str, Any],
    opened_at: datetime,
) -> int | None:
    """Open an incident that is already over (the database was away: nothing could be recorded
    while it lasted), for `close_passed` to close in a transaction of its own; None if one of
    `key` is open (another replica is telling it)."""
    statement = (
        insert_for(session, IncidentRow)
        .values(key=key, kind=kind, facts=dict(facts), opened_at=opened_at)
        .on_conflict_do_nothing(
            index_elements=[IncidentRow.key], index_where=text("resolved_at IS NULL")
        )
        .returning(IncidentRow.id)
    )
    inserted: int | None = (await session.execute(statement)).scalar_one_or_none()
    return inserted


async def close_passed(
    session: AsyncSession, incident_id: int, *, now: datetime, message_id: int | None
) -> None:
    """Close an incident of `open_passed`, told in one message (`message_id`)."""
    await session.execute(
        update(IncidentRow)
        .where(IncidentRow.id == incident_id)
        .values(resolved_at=now, alerted_at=now, resolution_told_at=now, message_id=message_id)
        .execution_options(synchronize_session=False)
    )

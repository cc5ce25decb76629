"""The owed-delivery bookkeeping per target, on SQLite and PostgreSQL: a run stays owed (and
adoptable once its owner is gone) while its own chat or any target still waits for its copy."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.reasons import DestinationHttp
from storage import deliveries, runs, target_notices, tasks, workers
from storage.records import (
    DeliveryState,
    RunStatus,
    RunTrigger,
    Target,
    TargetKind,
    Task,
)
from tests.storage.test_storage import NOW, cron_task, make_chat

NEWS = Target(TargetKind.TELEGRAM, chat_id=-1009, name="@news")
HOOK = Target(TargetKind.DESTINATION, name="hook")


async def test_a_run_stays_owed_until_every_target_is_settled(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(targets=(NEWS, HOOK)), now=NOW)
        run = await runs.add(
            session,
            task_id=task.id,
            scheduled_for=NOW,
            trigger=RunTrigger.SCHEDULE,
            status=RunStatus.RUNNING,
            owner="gone",
        )
        await runs.finish(
            session,
            run.id,
            status=RunStatus.SUCCEEDED,
            finished_at=NOW,
            output="digest",
            owner="gone",
            delivery_pending=True,
        )
        await deliveries.owe(session, run.id, [NEWS, HOOK], now=NOW)
        await deliveries.owe(session, run.id, [NEWS], now=NOW)  # owed once, however often said
    assert (await _get(sessions, task.id)).targets == (NEWS, HOOK)

    async with sessions() as session, session.begin():
        # The chat has it; the run stays owed for the two copies.
        await runs.set_delivery(session, run.id, message_id=41, error=None)
        await deliveries.record(
            session, run.id, NEWS.key, state=DeliveryState.SENT, now=NOW, message_id="7"
        )
        await deliveries.record(
            session,
            run.id,
            HOOK.key,
            state=DeliveryState.RETRYING,
            now=NOW,
            reason=DestinationHttp(status=500),
        )
    async with sessions() as session:
        owed = await deliveries.owed(session, run.id)
        assert [(copy.label, copy.state, copy.error, copy.reason) for copy in owed] == [
            (
                "hook",
                DeliveryState.RETRYING,
                "the service answered HTTP 500",
                DestinationHttp(status=500),
            )
        ]
        assert (await runs.get(session, run.id)).delivery_pending  # type: ignore[union-attr]

    # Its owner is gone: another process adopts the run, with only the hook still owed.
    async with sessions() as session, session.begin():
        await workers.beat(session, "me", now=NOW)
        adopted = await runs.adopt_undelivered(
            session, me="me", alive_since=NOW - timedelta(seconds=30)
        )
    assert [item.id for item in adopted] == [run.id]
    assert adopted[0].delivered_message_id == 41

    async with sessions() as session, session.begin():
        # A copy already sent stays sent, whatever a late attempt says.
        await deliveries.record(session, run.id, NEWS.key, state=DeliveryState.FAILED, now=NOW)
        await deliveries.record(session, run.id, HOOK.key, state=DeliveryState.SENT, now=NOW)
        await deliveries.settle(session, run.id)
    async with sessions() as session:
        settled = await runs.get(session, run.id)
        copies = (await deliveries.for_runs(session, [run.id]))[run.id]
    assert settled is not None
    assert not settled.delivery_pending
    assert {(copy.label, copy.state, copy.attempts, copy.reason) for copy in copies} == {
        ("@news", DeliveryState.SENT, 1, None),
        ("hook", DeliveryState.SENT, 2, None),
    }


async def test_a_refusal_is_told_once_until_the_target_works_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(targets=(NEWS, HOOK)), now=NOW)

    async def claim(target: Target) -> bool:
        async with sessions() as session, session.begin():
            return await target_notices.claim(
                session, task.id, target.key, reason_code="target_cannot_post", now=NOW
            )

    assert await claim(NEWS)
    assert not await claim(NEWS)  # told already: not again
    assert await claim(HOOK)  # each target on its own
    async with sessions() as session, session.begin():
        await target_notices.clear(session, task.id, NEWS.key)  # it worked meanwhile
    assert await claim(NEWS)
    assert not await claim(HOOK)
    # Who chose a target is kept with it, and is no part of what it is.
    chosen = Target(TargetKind.TELEGRAM, chat_id=-1009, name="@news", set_by=42)
    async with sessions() as session, session.begin():
        await tasks.set_targets(session, task.id, [chosen], thread_id=None, now=NOW)
    [stored] = (await _get(sessions, task.id)).targets
    assert stored == NEWS
    assert stored.set_by == 42


async def _get(sessions: async_sessionmaker[AsyncSession], task_id: int) -> Task:
    async with sessions() as session:
        found = await tasks.get(session, task_id)
    assert found is not None
    return found

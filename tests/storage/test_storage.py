"""Repositories against real PostgreSQL and SQLite, both migrated to head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.reasons import BotShutDown, FailedInARow, ModelNotFound, Other, RateLimitedHttp
from storage import chats, drafts, retries, runs, spending, tasks
from storage.models import DraftRow, RunRow, TaskRow
from storage.records import NewTask, RunStatus, RunTrigger, Spending, TaskKind, TaskState

Sessions = async_sessionmaker[AsyncSession]

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SUPERGROUP = -1001234567890  # beyond 32 bits, as Telegram supergroup ids are


async def make_chat(sessions: Sessions, chat_id: int = SUPERGROUP) -> None:
    async with sessions() as session, session.begin():
        await chats.upsert(session, chat_id, type="supergroup", title="Team", now=NOW)


def cron_task(chat_id: int = SUPERGROUP, **changes: object) -> NewTask:
    fields: dict[str, object] = {
        "chat_id": chat_id,
        "created_by": 4_000_000_001,
        "name": "HN digest",
        "prompt": "Summarize the top Hacker News stories",
        "kind": TaskKind.CRON,
        "cron": "0 9 * * 1-5",
        "timezone": "Europe/Berlin",
        "next_run_at": NOW + timedelta(hours=23),
    }
    fields.update(changes)
    return NewTask(**fields)  # type: ignore[arg-type]


async def test_chat_upsert_creates_refreshes_and_reactivates(sessions: Sessions) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        assert await chats.set_active(session, SUPERGROUP, False)
        assert await chats.set_timezone(session, SUPERGROUP, "Asia/Tokyo")
    async with sessions() as session, session.begin():
        chat = await chats.upsert(
            session, SUPERGROUP, type="supergroup", title="Renamed", now=NOW + timedelta(days=1)
        )
    assert chat.id == SUPERGROUP
    assert chat.title == "Renamed"
    assert chat.active is True
    assert chat.timezone == "Asia/Tokyo"  # a refresh never forgets the chosen zone
    assert chat.created_at == NOW  # nor when the chat was first seen
    async with sessions() as session:
        assert await chats.get(session, 42) is None
        assert not await chats.set_timezone(session, 42, "UTC")


async def test_chat_keeps_its_chosen_and_its_user_language(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        chat = await chats.upsert(
            session, 42, type="private", title="A", now=NOW, user_language="ru"
        )
        assert (chat.language, chat.user_language) == (None, "ru")
        assert await chats.set_language(session, 42, "de")
    async with sessions() as session, session.begin():
        # An update without a language keeps the one seen before; the choice is never touched.
        chat = await chats.upsert(session, 42, type="private", title="A", now=NOW)
        assert (chat.language, chat.user_language) == ("de", "ru")
        chat = await chats.upsert(
            session, 42, type="private", title="A", now=NOW, user_language="pt"
        )
        assert (chat.language, chat.user_language) == ("de", "pt")
        assert await chats.set_language(session, 42, None)
        assert not await chats.set_language(session, 43, "de")
    async with sessions() as session:
        found = await chats.get(session, 42)
    assert found is not None
    assert (found.language, found.user_language) == (None, "pt")


async def test_datetimes_come_back_aware_utc(sessions: Sessions) -> None:
    await make_chat(sessions)
    berlin = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    odd_offset = datetime(2026, 12, 1, 9, 0, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    async with sessions() as session, session.begin():
        task = await tasks.add(
            session, cron_task(next_run_at=berlin, kind=TaskKind.ONCE, run_at=odd_offset), now=NOW
        )
    async with sessions() as session:
        stored = await tasks.get(session, task.id)
    assert stored is not None
    assert stored.next_run_at == berlin
    assert stored.next_run_at is not None
    assert stored.next_run_at.tzinfo == UTC
    assert stored.run_at == odd_offset
    assert stored.run_at is not None
    assert stored.run_at.utcoffset() == timedelta(0)
    assert stored.created_at == NOW
    assert stored.created_at.tzinfo == UTC


async def test_naive_datetime_is_refused(sessions: Sessions) -> None:
    await make_chat(sessions)
    naive = datetime(2026, 11, 26, 9, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime"):
        async with sessions() as session, session.begin():
            await tasks.add(session, cron_task(next_run_at=naive), now=NOW)
    async with sessions() as session:
        assert await tasks.count_for_chat(session, SUPERGROUP) == 0


async def test_task_lifecycle(sessions: Sessions) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        created = [
            await tasks.add(session, cron_task(name=f"task {n}"), now=NOW) for n in range(12)
        ]
    first = created[0]
    assert first.state is TaskState.ACTIVE
    assert first.consecutive_failures == 0
    assert first.created_by == 4_000_000_001

    async with sessions() as session:
        page_one = await tasks.list_for_chat(session, SUPERGROUP, limit=10)
        page_two = await tasks.list_for_chat(session, SUPERGROUP, offset=10, limit=10)
        assert [t.name for t in page_one] == [f"task {n}" for n in range(10)]
        assert [t.name for t in page_two] == ["task 10", "task 11"]
        assert await tasks.count_for_chat(session, SUPERGROUP) == 12

    later = NOW + timedelta(minutes=5)
    async with sessions() as session, session.begin():
        paused = await tasks.set_state(
            session, first.id, TaskState.PAUSED, next_run_at=None, now=later
        )
    assert paused is not None
    assert paused.state is TaskState.PAUSED
    assert paused.next_run_at is None
    assert paused.updated_at == later

    async with sessions() as session, session.begin():
        assert await tasks.record_outcome(session, first.id, failed=True, finished_at=later) == 1
        assert await tasks.record_outcome(session, first.id, failed=True, finished_at=later) == 2
        edited = await tasks.update_definition(
            session,
            first.id,
            name="Every 2 hours",
            prompt="Drink water",
            kind=TaskKind.INTERVAL,
            cron=None,
            run_at=later,
            every_seconds=7200,
            timezone="UTC",
            next_run_at=later + timedelta(hours=2),
            now=later,
        )
    assert edited is not None
    assert (edited.kind, edited.every_seconds, edited.state) == (
        TaskKind.INTERVAL,
        7200,
        TaskState.ACTIVE,
    )
    assert edited.consecutive_failures == 0
    assert edited.last_run_at == later

    async with sessions() as session, session.begin():
        counted = await tasks.count_for_chat(session, SUPERGROUP, states=[TaskState.ACTIVE])
        assert counted == 12
        assert await tasks.pause_all_in_chat(session, SUPERGROUP, now=later) == [
            t.id for t in created
        ]
        assert await tasks.count_for_chat(session, SUPERGROUP, states=[TaskState.ACTIVE]) == 0
        assert await tasks.delete(session, first.id)
        assert not await tasks.delete(session, first.id)
        assert await tasks.get(session, first.id) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"cron": None},  # a cron task without its expression
        {"kind": TaskKind.ONCE, "cron": None},  # a one-shot without its instant
        {"kind": TaskKind.INTERVAL, "cron": None, "run_at": NOW},  # no period
        {"kind": TaskKind.INTERVAL, "cron": None, "run_at": NOW, "every_seconds": 0},
    ],
)
async def test_database_refuses_incomplete_schedules(
    sessions: Sessions, changes: dict[str, object]
) -> None:
    await make_chat(sessions)
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await tasks.add(session, cron_task(**changes), now=NOW)


async def test_paused_task_cannot_keep_a_next_run(sessions: Sessions) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(), now=NOW)
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await tasks.set_state(session, task.id, TaskState.PAUSED, next_run_at=NOW, now=NOW)


async def test_task_needs_an_existing_chat(sessions: Sessions) -> None:
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await tasks.add(session, cron_task(chat_id=777), now=NOW)


async def test_each_scheduled_occurrence_is_recorded_once(sessions: Sessions) -> None:
    await make_chat(sessions)
    due = NOW + timedelta(hours=1)
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(), now=NOW)
        await runs.add(
            session,
            task_id=task.id,
            scheduled_for=due,
            trigger=RunTrigger.SCHEDULE,
            status=RunStatus.RUNNING,
            started_at=due,
        )
    for trigger in (RunTrigger.SCHEDULE, RunTrigger.CATCH_UP):
        with pytest.raises(IntegrityError):
            async with sessions() as session, session.begin():
                await runs.add(
                    session,
                    task_id=task.id,
                    scheduled_for=due,
                    trigger=trigger,
                    status=RunStatus.RUNNING,
                )
    # Pressing "Run now" twice in the same instant is two runs, not a duplicate occurrence.
    async with sessions() as session, session.begin():
        for trigger in (RunTrigger.MANUAL, RunTrigger.MANUAL, RunTrigger.RETRY):
            await runs.add(
                session,
                task_id=task.id,
                scheduled_for=due,
                trigger=trigger,
                status=RunStatus.RUNNING,
            )
    async with sessions() as session:
        assert len(await runs.list_for_task(session, task.id)) == 4


async def test_run_finish_history_memory_and_delivery(sessions: Sessions) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(), now=NOW)
        ids = []
        for day in range(4):
            when = NOW + timedelta(days=day)
            run = await runs.add(
                session,
                task_id=task.id,
                scheduled_for=when,
                trigger=RunTrigger.SCHEDULE,
                status=RunStatus.RUNNING,
                started_at=when,
            )
            ids.append(run.id)
    async with sessions() as session, session.begin():
        for day, run_id in enumerate(ids):
            finished = await runs.finish(
                session,
                run_id,
                status=RunStatus.FAILED if day == 2 else RunStatus.SUCCEEDED,
                finished_at=NOW + timedelta(days=day, seconds=12),
                output=None if day == 2 else f"digest {day}",
                reason=RateLimitedHttp(status=429) if day == 2 else None,
                prompt_tokens=100 + day,
                completion_tokens=50,
                cost=0.0012,
            )
            assert finished is not None
            assert finished.duration_seconds == 12
        # Finishing twice changes nothing: the run is no longer running.
        assert await runs.finish(session, ids[0], status=RunStatus.FAILED, finished_at=NOW) is None
        await runs.set_delivery(session, ids[3], message_id=9_000_000_001, error=None)
        await runs.set_delivery(session, ids[1], message_id=None, error="Forbidden: bot blocked")

    async with sessions() as session:
        history = await runs.list_for_task(session, task.id, limit=3)
        assert [r.id for r in history] == [ids[3], ids[2], ids[1]]
        assert history[0].prompt_tokens == 103
        assert history[0].cost == pytest.approx(0.0012)
        assert history[2].delivery_error == "Forbidden: bot blocked"
        memory = await runs.recent_outputs(session, task.id, limit=2)
        assert [r.output for r in memory] == ["digest 1", "digest 3"]  # oldest first, no failures
        delivered = await runs.find_delivered(session, SUPERGROUP, 9_000_000_001)
        assert delivered is not None
        assert delivered.id == ids[3]
        assert await runs.find_delivered(session, 12345, 9_000_000_001) is None
        fetched = await runs.get(session, ids[2])
        assert fetched is not None
        assert fetched.reason == RateLimitedHttp(status=429)


async def test_a_reason_is_stored_as_its_code_and_facts(sessions: Sessions) -> None:
    await make_chat(sessions)
    paused = FailedInARow(count=3, error=ModelNotFound(model="openai/gpt-x", status=404))
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(), now=NOW)
        nested, plain, unknown = [
            await runs.add(
                session,
                task_id=task.id,
                scheduled_for=NOW,
                trigger=RunTrigger.MANUAL,
                status=status,
                reason=reason,
            )
            for status, reason in (
                (RunStatus.FAILED, paused),
                (RunStatus.SUCCEEDED, None),
                (RunStatus.FAILED, None),
            )
        ]
        # A code from a newer version, or facts that no longer fit, still read back.
        await session.execute(
            update(RunRow)
            .where(RunRow.id == unknown.id)
            .values(reason_code="retry_budget", reason_facts={"left": 2})
        )
    async with sessions() as session:
        stored = {
            row.id: (row.reason_code, row.reason_facts)
            for row in (await session.execute(select(RunRow))).scalars()
        }
        assert stored[nested.id] == (
            "failed_in_a_row",
            {
                "count": 3,
                "error": {
                    "code": "model_not_found",
                    "facts": {"model": "openai/gpt-x", "status": 404},
                },
            },
        )
        # No reason is no document at all, not the JSON document `null`.
        assert stored[plain.id] == (None, None)
        assert (
            await session.scalar(
                select(func.count()).select_from(RunRow).where(RunRow.reason_facts.is_(None))
            )
            == 1
        )
        found = {run.id: run.reason for run in await runs.list_for_task(session, task.id)}
    assert found[nested.id] == paused
    assert found[plain.id] is None
    assert found[unknown.id] == Other(text='retry_budget {"left": 2}')


async def test_drafts_round_trip_and_expire(sessions: Sessions) -> None:
    await make_chat(sessions)
    payload = {"prompt": "Drink water", "schedule": {"kind": "interval", "every_seconds": 7200}}
    async with sessions() as session, session.begin():
        await drafts.add(
            session,
            draft_id="aB3xY9_q",
            chat_id=SUPERGROUP,
            user_id=7,
            payload=payload,
            now=NOW,
            expires_at=NOW + timedelta(hours=24),
        )
        await drafts.add(
            session,
            draft_id="old",
            chat_id=SUPERGROUP,
            user_id=7,
            payload={},
            now=NOW - timedelta(days=2),
            expires_at=NOW - timedelta(days=1),
        )
        await drafts.set_message_id(session, "aB3xY9_q", 555)
    async with sessions() as session, session.begin():
        draft = await drafts.get(session, "aB3xY9_q")
        assert draft is not None
        assert draft.payload == payload
        assert draft.message_id == 555
        assert draft.expires_at == NOW + timedelta(hours=24)
        assert await drafts.delete_expired(session, now=NOW) == 1
        assert await drafts.get(session, "old") is None
        assert await drafts.delete(session, "aB3xY9_q")
        assert not await drafts.delete(session, "aB3xY9_q")


async def test_deleting_a_task_removes_its_runs_and_drafts(sessions: Sessions) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(), now=NOW)
        await runs.add(
            session,
            task_id=task.id,
            scheduled_for=NOW,
            trigger=RunTrigger.MANUAL,
            status=RunStatus.SUCCEEDED,
        )
        await drafts.add(
            session,
            draft_id="edit1",
            chat_id=SUPERGROUP,
            user_id=7,
            payload={},
            now=NOW,
            expires_at=NOW + timedelta(days=1),
            task_id=task.id,
        )
    async with sessions() as session, session.begin():
        assert await tasks.delete(session, task.id)
    async with sessions() as session:
        assert (await session.execute(select(RunRow))).first() is None
        assert (await session.execute(select(DraftRow))).first() is None


async def test_claim_building_blocks(sessions: Sessions) -> None:
    await make_chat(sessions)
    due = NOW + timedelta(hours=1)
    async with sessions() as session, session.begin():
        early = await tasks.add(session, cron_task(next_run_at=due - timedelta(minutes=5)), now=NOW)
        on_time = await tasks.add(session, cron_task(next_run_at=due), now=NOW)
        later = await tasks.add(session, cron_task(next_run_at=due + timedelta(minutes=1)), now=NOW)
        paused = await tasks.add(session, cron_task(next_run_at=due), now=NOW)
        await tasks.set_state(session, paused.id, TaskState.PAUSED, next_run_at=None, now=NOW)

    async with sessions() as session, session.begin():
        assert await tasks.due_instants(session, until=due) == [due - timedelta(minutes=5), due]
        locked = [item.task for item in await tasks.lock_due(session, due_before=due, limit=10)]
        assert [t.id for t in locked] == [early.id, on_time.id]
        won = await runs.add_occurrences(
            session,
            [
                runs.NewRun(t.id, t.next_run_at or due, RunTrigger.SCHEDULE, RunStatus.RUNNING)
                for t in locked
            ],
        )
        assert sorted(r.task_id for r in won) == [early.id, on_time.id]
        await tasks.advance(
            session,
            [tasks.Advance(early.id, due + timedelta(days=1)), tasks.Advance(on_time.id, None)],
            now=due,
        )

    async with sessions() as session, session.begin():
        # The same occurrences again (a second process, say): nothing is won.
        again = await runs.add_occurrences(
            session,
            [
                runs.NewRun(
                    early.id, due - timedelta(minutes=5), RunTrigger.CATCH_UP, RunStatus.RUNNING
                ),
                runs.NewRun(
                    on_time.id,
                    due,
                    RunTrigger.SCHEDULE,
                    RunStatus.SKIPPED,
                    reason=FailedInARow(count=2, error=Other(text="«quoted», ünïcode")),
                ),
                runs.NewRun(later.id, due, RunTrigger.MANUAL, RunStatus.RUNNING),
            ],
        )
        assert [(r.task_id, r.trigger) for r in again] == [(later.id, RunTrigger.MANUAL)]
        # What comes back is the row as stored.
        for run in (*won, *again):
            assert await runs.get(session, run.id) == run
        assert await runs.running_task_ids(session, [early.id, later.id, paused.id]) == {
            early.id,
            later.id,
        }
        finished = await tasks.get(session, on_time.id)
        assert finished is not None
        assert finished.state is TaskState.FINISHED
        assert finished.next_run_at is None
        moved = await tasks.get(session, early.id)
        assert moved is not None
        assert moved.next_run_at == due + timedelta(days=1)
        assert await tasks.lock_due(session, due_before=due, limit=10) == []
        assert await runs.mark_started(session, again[0].id, started_at=due)
        assert await runs.interrupt(session, [again[0].id], now=due, reason=BotShutDown()) == 1
        assert not await runs.mark_started(session, again[0].id, started_at=due)


async def test_runs_per_model_and_the_tries_before_a_run(sessions: Sessions) -> None:
    """/usage's runs per model that answered (this month's, the chat's own), and the chain of
    tries a later success settles."""
    await make_chat(sessions)
    await make_chat(sessions, chat_id=42)
    answered = [("smart", 0.002), ("fast", 0.0005), ("smart", None), (None, None)]
    async with sessions() as session, session.begin():
        task = await tasks.add(session, cron_task(), now=NOW)
        other = await tasks.add(session, cron_task(chat_id=42), now=NOW)
        chain: list[int] = []
        for day, (model, cost) in enumerate(answered):
            run = await runs.add(
                session,
                task_id=task.id,
                scheduled_for=NOW + timedelta(hours=day),
                trigger=RunTrigger.SCHEDULE,
                status=RunStatus.RUNNING,
            )
            await runs.finish(
                session,
                run.id,
                status=RunStatus.SUCCEEDED,
                finished_at=NOW + timedelta(hours=day, seconds=5),
                prompt_tokens=100,
                completion_tokens=10,
                cost=cost,
                model=model,
            )
            chain.append(run.id)
        # Another chat's run, and one of last month, are not counted.
        for task_id, finished in ((other.id, NOW), (task.id, NOW - timedelta(days=40))):
            run = await runs.add(
                session,
                task_id=task_id,
                scheduled_for=finished,
                trigger=RunTrigger.MANUAL,
                status=RunStatus.RUNNING,
            )
            await runs.finish(
                session, run.id, status=RunStatus.SUCCEEDED, finished_at=finished, model="fast"
            )
        await session.execute(
            update(RunRow).where(RunRow.id == chain[1]).values(retry_of=chain[0], attempt=2)
        )
        await session.execute(
            update(RunRow).where(RunRow.id == chain[2]).values(retry_of=chain[1], attempt=3)
        )

    async with sessions() as session:
        month = await spending.by_model(
            session, SUPERGROUP, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1)
        )
        assert [(m.model, m.runs, m.prompt_tokens, m.priced) for m in month] == [
            ("smart", 2, 200, 1),
            ("fast", 1, 100, 1),
        ]
        assert month[0].cost == pytest.approx(0.002)
        third = await runs.get(session, chain[2])
        assert third is not None
        assert [run.id for run in await retries.earlier_tries(session, third)] == [
            chain[1],
            chain[0],
        ]
        first = await runs.get(session, chain[0])
        assert first is not None
        assert await retries.earlier_tries(session, first) == []


async def test_counting_a_run_records_its_expense_and_says_whether_tasks_follow_it(
    sessions: Sessions,
) -> None:
    await make_chat(sessions)
    async with sessions() as session, session.begin():
        first = await tasks.add(session, cron_task(), now=NOW)
        second = await tasks.add(session, cron_task(name="Alone"), now=NOW)
        await session.execute(
            update(TaskRow).where(TaskRow.id == second.id).values(after_task_id=first.id)
        )
    expense = Spending(
        chat_id=SUPERGROUP,
        task_id=first.id,
        kind=spending.RUN,
        at=NOW,
        prompt_tokens=10,
        completion_tokens=5,
        cost=0.25,
    )
    async with sessions() as session, session.begin():
        followed = await tasks.count_run(
            session, first.id, failed=True, finished_at=NOW, counts=True, spent=expense
        )
        alone = await tasks.count_run(
            session, second.id, failed=False, finished_at=NOW, counts=True
        )
        gone = await tasks.count_run(session, 999_999, failed=True, finished_at=NOW, counts=True)
    assert followed == tasks.Counted(failures=1, followed=True)
    # SQLite does not say (its followers are always looked up, which costs no round trip).
    assert alone == tasks.Counted(failures=0, followed=sqlite_url_in(sessions))
    assert gone is None
    async with sessions() as session:
        spent = await spending.spent_by_task(
            session, first.id, since=NOW, until=NOW + timedelta(seconds=1)
        )
        assert spent == 0.25
        assert (
            await spending.spent_by_task(
                session, second.id, since=NOW, until=NOW + timedelta(seconds=1)
            )
            == 0.0
        )


def sqlite_url_in(sessions: Sessions) -> bool:
    bind = sessions.kw["bind"]
    return bool(bind.dialect.name == "sqlite")

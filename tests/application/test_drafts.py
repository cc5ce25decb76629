"""Drafts: a request kept until Confirm; what Confirm refuses, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.errors import DraftExpiredError, DraftNotFoundError, QuotaExceededError
from scheduler.engine import TaskNotFoundError
from scheduler.schedules.schedule import TimePassedError
from storage.records import TaskState
from tests.application.conftest import ALICE, CHAT, NOW, OTHER_CHAT, QUOTA, World


async def test_a_confirmed_draft_becomes_a_task_once(world: World) -> None:
    card = await world.app.drafts.create(await world.chat(), ALICE, "every day at 10:30 news")
    assert card.prompt == "News"
    assert len(card.next_runs) == 3
    task = await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    assert task.next_run_at == card.next_runs[0]
    with pytest.raises(DraftNotFoundError) as gone:
        await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    assert gone.value.draft_id == card.draft_id
    assert not isinstance(gone.value, DraftExpiredError)
    assert [t.id for t in (await world.app.tasks.list(CHAT)).tasks] == [task.id]


async def test_a_draft_of_another_chat_is_not_found_there(world: World) -> None:
    await world.chat(OTHER_CHAT)
    card = await world.app.drafts.create(await world.chat(), ALICE, "every day at 9 news")
    for act in (world.app.drafts.get, world.app.drafts.cancel):
        with pytest.raises(DraftNotFoundError):
            await act(OTHER_CHAT, card.draft_id)
    with pytest.raises(DraftNotFoundError):
        await world.app.drafts.confirm(OTHER_CHAT, card.draft_id, ALICE)
    assert (await world.app.tasks.list(OTHER_CHAT)).total == 0
    # Still open in its own chat.
    assert (await world.app.drafts.get(CHAT, card.draft_id)).draft_id == card.draft_id


async def test_confirming_an_expired_card_is_refused_with_its_lifetime(world: World) -> None:
    card = await world.app.drafts.create(await world.chat(), ALICE, "every day at 9 news")
    world.clock.current = NOW + timedelta(hours=24, seconds=1)
    with pytest.raises(DraftExpiredError) as expired:
        await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    assert expired.value.lifetime == timedelta(hours=24)
    assert (await world.app.tasks.list(CHAT)).total == 0


async def test_confirming_after_the_one_time_slot_passed_writes_nothing(world: World) -> None:
    card = await world.app.drafts.create(await world.chat(), ALICE, "in 10 minutes call Bob")
    [run_at] = card.next_runs
    world.clock.current = run_at + timedelta(minutes=1)
    with pytest.raises(TimePassedError) as passed:
        await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    assert passed.value.run_at == run_at
    assert passed.value.zone == "Europe/Berlin"
    assert (await world.app.tasks.list(CHAT)).total == 0
    # The refusal rolled back: the card is still there to cancel.
    assert (await world.app.drafts.cancel(CHAT, card.draft_id)).draft_id == card.draft_id


async def test_the_quota_counts_active_and_paused_tasks(world: World) -> None:
    tasks = [await world.task(f"every day at {9 + n} news {n}") for n in range(QUOTA)]
    await world.app.tasks.pause(CHAT, tasks[0].id)
    chat = await world.chat()
    with pytest.raises(QuotaExceededError) as full:
        await world.app.drafts.create(chat, ALICE, "every day at 20 one more")
    assert full.value.limit == QUOTA
    # A task deleted makes room again.
    await world.app.tasks.delete(CHAT, tasks[1].id)
    card = await world.app.drafts.create(chat, ALICE, "every day at 20 one more")
    await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    assert (await world.app.tasks.list(CHAT)).total == QUOTA


async def test_cards_opened_before_the_quota_filled_cannot_exceed_it(world: World) -> None:
    chat = await world.chat()
    cards = [
        await world.app.drafts.create(chat, ALICE, f"every day at {9 + n} news {n}")
        for n in range(QUOTA + 1)
    ]
    for card in cards[:QUOTA]:
        await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    with pytest.raises(QuotaExceededError):
        await world.app.drafts.confirm(CHAT, cards[-1].draft_id, ALICE)
    assert (await world.app.tasks.list(CHAT)).total == QUOTA


async def test_an_edit_applies_to_the_task_and_only_in_its_chat(world: World) -> None:
    task = await world.task("every day at 9 news")
    with pytest.raises(TaskNotFoundError) as foreign:
        await world.app.drafts.create(
            await world.chat(OTHER_CHAT), ALICE, "every day at 7 news", task_id=task.id
        )
    assert foreign.value.task_id == task.id
    card = await world.app.drafts.create(
        await world.chat(), ALICE, "every monday at 7 the week ahead", task_id=task.id
    )
    assert card.task_id == task.id
    edited = await world.app.drafts.confirm(CHAT, card.draft_id, ALICE)
    assert (edited.id, edited.prompt, edited.state) == (task.id, "The week ahead", TaskState.ACTIVE)


async def test_cancel_open_drops_only_this_users_drafts(world: World) -> None:
    chat = await world.chat()
    mine = await world.app.drafts.create(chat, ALICE, "every day at 9 mine")
    theirs = await world.app.drafts.create(chat, ALICE + 1, "every day at 9 theirs")
    dropped = await world.app.drafts.cancel_open(CHAT, ALICE)
    assert [card.draft_id for card in dropped] == [mine.draft_id]
    assert (await world.app.drafts.get(CHAT, theirs.draft_id)).prompt == "Theirs"

"""Drafts: a request kept until Confirm; what Confirm refuses, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from application.access import MemberRole
from application.errors import DraftExpiredError, DraftNotFoundError, QuotaExceededError
from application.permissions import Actor, Door
from scheduler.engine import TaskNotFoundError
from scheduler.schedules.schedule import TimePassedError
from storage.records import TaskState
from tests.application.conftest import CHAT, NOW, OTHER_CHAT, QUOTA, World

TEAM = -100123


async def test_a_confirmed_draft_becomes_a_task_once(world: World) -> None:
    card = await world.draft("every day at 10:30 news")
    assert card.prompt == "News"
    assert len(card.next_runs) == 3
    task = await world.app.drafts.confirm(world.actor(), card.draft_id)
    assert task.next_run_at == card.next_runs[0]
    with pytest.raises(DraftNotFoundError) as gone:
        await world.app.drafts.confirm(world.actor(), card.draft_id)
    assert gone.value.draft_id == card.draft_id
    assert not isinstance(gone.value, DraftExpiredError)
    assert [t.id for t in (await world.app.tasks.list(world.actor(), CHAT)).tasks] == [task.id]


async def test_a_draft_of_another_chat_is_not_found_there(world: World) -> None:
    await world.chat(OTHER_CHAT)
    card = await world.draft("every day at 9 news")
    for act in (world.app.drafts.get, world.app.drafts.cancel):
        with pytest.raises(DraftNotFoundError):
            await act(world.actor(OTHER_CHAT), card.draft_id)
    with pytest.raises(DraftNotFoundError):
        await world.app.drafts.confirm(world.actor(OTHER_CHAT), card.draft_id)
    assert (await world.app.tasks.list(world.actor(OTHER_CHAT), OTHER_CHAT)).total == 0
    # Still open in its own chat.
    assert (await world.app.drafts.get(world.actor(), card.draft_id)).draft_id == card.draft_id


async def test_confirming_an_expired_card_is_refused_with_its_lifetime(world: World) -> None:
    card = await world.draft("every day at 9 news")
    world.clock.current = NOW + timedelta(hours=24, seconds=1)
    with pytest.raises(DraftExpiredError) as expired:
        await world.app.drafts.confirm(world.actor(), card.draft_id)
    assert expired.value.lifetime == timedelta(hours=24)
    assert (await world.app.tasks.list(world.actor(), CHAT)).total == 0


async def test_confirming_after_the_one_time_slot_passed_writes_nothing(world: World) -> None:
    card = await world.draft("in 10 minutes call Bob")
    [run_at] = card.next_runs
    world.clock.current = run_at + timedelta(minutes=1)
    with pytest.raises(TimePassedError) as passed:
        await world.app.drafts.confirm(world.actor(), card.draft_id)
    assert passed.value.run_at == run_at
    assert passed.value.zone == "Europe/Berlin"
    assert (await world.app.tasks.list(world.actor(), CHAT)).total == 0
    # The refusal rolled back: the card is still there to cancel.
    assert (await world.app.drafts.cancel(world.actor(), card.draft_id)).draft_id == card.draft_id


async def test_the_quota_counts_active_and_paused_tasks(world: World) -> None:
    tasks = [await world.task(f"every day at {9 + n} news {n}") for n in range(QUOTA)]
    await world.app.tasks.pause(world.actor(), tasks[0].id)
    with pytest.raises(QuotaExceededError) as full:
        await world.draft("every day at 20 one more")
    assert full.value.limit == QUOTA
    # A task deleted makes room again.
    await world.app.tasks.delete(world.actor(), tasks[1].id)
    card = await world.draft("every day at 20 one more")
    await world.app.drafts.confirm(world.actor(), card.draft_id)
    assert (await world.app.tasks.list(world.actor(), CHAT)).total == QUOTA


async def test_cards_opened_before_the_quota_filled_cannot_exceed_it(world: World) -> None:
    cards = [await world.draft(f"every day at {9 + n} news {n}") for n in range(QUOTA + 1)]
    for card in cards[:QUOTA]:
        await world.app.drafts.confirm(world.actor(), card.draft_id)
    with pytest.raises(QuotaExceededError):
        await world.app.drafts.confirm(world.actor(), cards[-1].draft_id)
    assert (await world.app.tasks.list(world.actor(), CHAT)).total == QUOTA


async def test_an_edit_applies_to_the_task_and_only_in_its_chat(world: World) -> None:
    task = await world.task("every day at 9 news")
    with pytest.raises(TaskNotFoundError) as foreign:
        await world.draft("every day at 7 news", OTHER_CHAT, task_id=task.id)
    assert foreign.value.task_id == task.id
    card = await world.draft("every monday at 7 the week ahead", task_id=task.id)
    assert card.task_id == task.id
    edited = await world.app.drafts.confirm(world.actor(), card.draft_id)
    assert (edited.id, edited.prompt, edited.state) == (task.id, "The week ahead", TaskState.ACTIVE)


async def test_cancel_open_drops_only_this_users_drafts(world: World) -> None:
    # Two admins of a group, each with a request open.
    await world.app.chats.see(TEAM, type="supergroup", title="Team")
    alice, bob = (Actor(user, Door.BOT, chat_id=TEAM, chat_type="supergroup") for user in (1, 2))
    for user in (1, 2):
        world.members.roles[(TEAM, user)] = MemberRole.ADMIN
    mine = await world.app.drafts.create(alice, TEAM, "every day at 9 mine")
    theirs = await world.app.drafts.create(bob, TEAM, "every day at 9 theirs")
    dropped = await world.app.drafts.cancel_open(alice, TEAM)
    assert [card.draft_id for card in dropped] == [mine.draft_id]
    assert (await world.app.drafts.get(bob, theirs.draft_id)).prompt == "Theirs"

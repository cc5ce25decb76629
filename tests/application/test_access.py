"""application.access: who holds which right where, with the members port played by a table the
test edits (Telegram's getChatMember is exercised by the bot and API tests). What each use case
needs is walked in test_permissions.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.access import ADMIN, EVERY_RIGHT, NO_RIGHTS, OWN_CHAT, READER, Access, MemberRole
from application.permissions import (
    NEEDS,
    Action,
    Actor,
    ChatHiddenError,
    Door,
    NotAllowedError,
    NotManagerError,
    OperatorOnlyError,
    PrivateChatOnlyError,
    Right,
)
from core.settings import AllowedUsers
from tests.application.conftest import Members
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL, EVE = 1, 2, 3, 666
TEAM = -100123
GROUP = "supergroup"


def make(members: Members, clock: FakeClock, *, members_manage: bool = False) -> Access:
    allowed = AllowedUsers(ids=frozenset({ALICE, BOB, CAROL}))
    # These rules need no database: every chat's type is told (a test that looks one up walks
    # the use cases, test_permissions.py).
    return Access(
        None,  # type: ignore[arg-type]
        allowed,
        members,
        clock,
        group_members_can_manage=members_manage,
    )


def api(user_id: int) -> Actor:
    return Actor(user_id, Door.API)


def in_chat(user_id: int, chat_id: int, chat_type: str = GROUP) -> Actor:
    return Actor(user_id, Door.BOT, chat_id=chat_id, chat_type=chat_type)


def test_every_action_needs_a_right() -> None:
    assert set(NEEDS) == set(Action)


async def test_private_chats_belong_to_their_user() -> None:
    access = make(Members(), FakeClock(NOW))
    assert await access.rights(api(ALICE), ALICE, "private") == OWN_CHAT
    assert await access.rights(in_chat(ALICE, ALICE, "private"), ALICE, "private") == OWN_CHAT
    assert await access.rights(api(BOB), ALICE, "private") == NO_RIGHTS


async def test_the_allowlist_comes_first() -> None:
    members = Members()
    members.roles[(TEAM, EVE)] = MemberRole.OWNER
    access = make(members, FakeClock(NOW))
    assert await access.rights(api(EVE), TEAM, GROUP) == NO_RIGHTS
    assert await access.rights(in_chat(EVE, TEAM), TEAM, GROUP, need=Right.READ) == NO_RIGHTS
    assert await access.rights(api(EVE), EVE, "private") == NO_RIGHTS
    with pytest.raises(NotAllowedError) as refused:
        await access.require(api(EVE), Action.SHOW_TASK, EVE)
    assert (refused.value.user_id, refused.value.action) == (EVE, Action.SHOW_TASK)
    assert members.asked == 0


@pytest.mark.parametrize(
    ("role", "members_manage", "expected"),
    [
        (MemberRole.OWNER, False, ADMIN),
        (MemberRole.ADMIN, False, ADMIN),
        (MemberRole.MEMBER, False, READER),
        (MemberRole.MEMBER, True, ADMIN),
        (MemberRole.OUTSIDER, True, NO_RIGHTS),
        (None, False, NO_RIGHTS),
    ],
)
async def test_in_groups_members_read_and_admins_manage(
    role: MemberRole | None, members_manage: bool, expected: frozenset[Right]
) -> None:
    members = Members()
    members.roles[(TEAM, BOB)] = role
    access = make(members, FakeClock(NOW), members_manage=members_manage)
    assert await access.rights(api(BOB), TEAM, GROUP) == expected


async def test_a_member_who_is_no_admin_may_read_but_not_manage() -> None:
    members = Members()
    members.roles[(TEAM, BOB)] = MemberRole.MEMBER
    access = make(members, FakeClock(NOW))
    bob = in_chat(BOB, TEAM)
    await access.require(bob, Action.LIST_TASKS, TEAM)
    with pytest.raises(NotManagerError) as refused:
        await access.require(bob, Action.PAUSE_TASK, TEAM)
    assert (refused.value.action, refused.value.chat_id) == (Action.PAUSE_TASK, TEAM)


async def test_whoever_writes_in_a_group_may_read_it_without_asking_telegram() -> None:
    members = Members()
    members.roles[(TEAM, BOB)] = None  # Telegram cannot tell
    access = make(members, FakeClock(NOW))
    bob = in_chat(BOB, TEAM)
    await access.require(bob, Action.TASK_HISTORY, TEAM)
    assert members.asked == 0
    assert await access.rights(bob, TEAM, GROUP) == READER
    with pytest.raises(NotManagerError):
        await access.require(bob, Action.RUN_TASK, TEAM)


async def test_an_actor_in_a_chat_acts_on_that_chat_only() -> None:
    members = Members()
    members.roles[(TEAM, CAROL)] = MemberRole.OWNER
    access = make(members, FakeClock(NOW))
    # Carol owns the team, but writes in her own chat: a button there naming the team's
    # task finds nothing.
    carol = in_chat(CAROL, CAROL, "private")
    assert await access.rights(carol, TEAM, GROUP) == NO_RIGHTS
    with pytest.raises(ChatHiddenError):
        await access.require(carol, Action.DELETE_TASK, TEAM)
    assert await access.rights(api(CAROL), TEAM, GROUP) == ADMIN


async def test_an_anonymous_admin_writes_as_the_group() -> None:
    members = Members()
    access = make(members, FakeClock(NOW))
    anonymous = Actor(ALICE, Door.BOT, chat_id=TEAM, chat_type=GROUP, as_chat=TEAM)
    assert await access.rights(anonymous, TEAM, GROUP) == ADMIN
    as_channel = Actor(ALICE, Door.BOT, chat_id=TEAM, chat_type=GROUP, as_chat=-100999)
    assert await access.rights(as_channel, TEAM, GROUP) == READER
    assert members.asked == 0


async def test_tokens_are_a_persons_own_in_their_private_chat() -> None:
    members = Members()
    members.roles[(TEAM, ALICE)] = MemberRole.OWNER
    access = make(members, FakeClock(NOW))
    await access.require(in_chat(ALICE, ALICE, "private"), Action.ISSUE_TOKEN, ALICE)
    await access.require(api(ALICE), Action.REVOKE_TOKEN, ALICE)
    with pytest.raises(PrivateChatOnlyError):
        await access.require(in_chat(ALICE, TEAM), Action.ISSUE_TOKEN, TEAM)


async def test_the_operator_may_do_anything_and_only_they_see_every_chat() -> None:
    members = Members()
    access = make(members, FakeClock(NOW))
    operator = Actor.operator()
    assert await access.rights(operator, TEAM, GROUP) == EVERY_RIGHT
    assert await access.rights(operator, None, None) == EVERY_RIGHT
    await access.require(operator, Action.EVERY_CHATS_TASKS, None)
    for someone in (api(ALICE), in_chat(ALICE, TEAM), Actor.operator(chat_id=0)):
        with pytest.raises(OperatorOnlyError):
            await access.require(someone, Action.EVERY_CHATS_TASKS, None)
    # In `cronpilot chat` the operator acts in the local chat, as anyone in a chat does.
    assert await access.rights(Actor.operator(chat_id=0), TEAM, GROUP) == NO_RIGHTS
    assert members.asked == 0


async def test_roles_are_cached_briefly_and_unknown_answers_not_at_all() -> None:
    members = Members()
    members.roles[(TEAM, ALICE)] = MemberRole.ADMIN
    clock = FakeClock(NOW)
    access = make(members, clock)
    alice = api(ALICE)
    for _ in range(5):
        assert Right.MANAGE in await access.rights(alice, TEAM, GROUP)
    assert members.asked == 1
    # Demoted: still an admin for up to a minute, then not.
    members.roles[(TEAM, ALICE)] = MemberRole.MEMBER
    clock.set(NOW + timedelta(seconds=59))
    assert Right.MANAGE in await access.rights(alice, TEAM, GROUP)
    clock.set(NOW + timedelta(seconds=61))
    assert Right.MANAGE not in await access.rights(alice, TEAM, GROUP)
    assert members.asked == 2
    # Telegram could not tell: nothing is cached, the next question asks again.
    members.roles[(TEAM, CAROL)] = None
    assert await access.rights(api(CAROL), TEAM, GROUP) == NO_RIGHTS
    assert await access.rights(api(CAROL), TEAM, GROUP) == NO_RIGHTS
    assert members.asked == 4
    # A status change seen by the bot drops the cached role at once.
    members.roles[(TEAM, ALICE)] = MemberRole.OWNER
    access.forget(TEAM, ALICE)
    assert Right.MANAGE in await access.rights(alice, TEAM, GROUP)
    assert members.asked == 5


async def test_the_cache_is_bounded() -> None:
    members = Members()
    access = make(members, FakeClock(NOW))
    many = 10_050
    for user in range(many):
        members.roles[(TEAM, user)] = MemberRole.MEMBER
        await access.role(TEAM, user)
    assert members.asked == many
    # The oldest were let go to stay within the bound; the newest are still known.
    await access.role(TEAM, many - 1)
    await access.role(TEAM, 0)
    assert members.asked == many + 1

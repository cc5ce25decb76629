"""application.access: the rules every front door shares, with the members port played by a
table the test edits (Telegram's getChatMember is exercised by the bot and API tests)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.access import (
    Access,
    ChatHiddenError,
    MemberRole,
    NotAllowedError,
    NotManagerError,
    Rights,
)
from core.settings import AllowedUsers
from storage.records import Chat
from tests.fakes.clock import FakeClock

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ALICE, BOB, CAROL, EVE = 1, 2, 3, 666
TEAM = -100123


class Members:
    """Who is what in which group; every question is counted."""

    def __init__(self) -> None:
        self.roles: dict[tuple[int, int], MemberRole | None] = {}
        self.asked = 0

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None:
        self.asked += 1
        return self.roles.get((chat_id, user_id), MemberRole.OUTSIDER)


def chat(chat_id: int, type: str) -> Chat:
    return Chat(id=chat_id, type=type, title=None, timezone=None, active=True, created_at=NOW)


def make(members: Members, clock: FakeClock, *, members_manage: bool = False) -> Access:
    allowed = AllowedUsers(ids=frozenset({ALICE, BOB, CAROL}))
    return Access(allowed, members, clock, group_members_can_manage=members_manage)


async def test_private_chats_belong_to_their_user() -> None:
    access = make(Members(), FakeClock(NOW))
    assert await access.rights(ALICE, chat(ALICE, "private")) == Rights(read=True, manage=True)
    assert await access.rights(BOB, chat(ALICE, "private")) == Rights(read=False, manage=False)
    with pytest.raises(ChatHiddenError):
        await access.require(BOB, chat(ALICE, "private"), manage=False)


async def test_the_allowlist_comes_first() -> None:
    members = Members()
    members.roles[(TEAM, EVE)] = MemberRole.OWNER
    access = make(members, FakeClock(NOW))
    assert await access.rights(EVE, chat(TEAM, "supergroup")) == Rights(read=False, manage=False)
    assert await access.rights(EVE, chat(EVE, "private")) == Rights(read=False, manage=False)
    with pytest.raises(NotAllowedError):
        await access.require(EVE, chat(EVE, "private"), manage=False)
    assert members.asked == 0


@pytest.mark.parametrize(
    ("role", "members_manage", "expected"),
    [
        (MemberRole.OWNER, False, Rights(read=True, manage=True)),
        (MemberRole.ADMIN, False, Rights(read=True, manage=True)),
        (MemberRole.MEMBER, False, Rights(read=True, manage=False)),
        (MemberRole.MEMBER, True, Rights(read=True, manage=True)),
        (MemberRole.OUTSIDER, True, Rights(read=False, manage=False)),
        (None, False, Rights(read=False, manage=False)),
    ],
)
async def test_in_groups_members_read_and_admins_manage(
    role: MemberRole | None, members_manage: bool, expected: Rights
) -> None:
    members = Members()
    members.roles[(TEAM, BOB)] = role
    access = make(members, FakeClock(NOW), members_manage=members_manage)
    assert await access.rights(BOB, chat(TEAM, "supergroup")) == expected


async def test_a_member_who_is_no_admin_may_not_manage() -> None:
    members = Members()
    members.roles[(TEAM, BOB)] = MemberRole.MEMBER
    access = make(members, FakeClock(NOW))
    await access.require(BOB, chat(TEAM, "group"), manage=False)
    with pytest.raises(NotManagerError):
        await access.require(BOB, chat(TEAM, "group"), manage=True)


async def test_roles_are_cached_briefly_and_unknown_answers_not_at_all() -> None:
    members = Members()
    members.roles[(TEAM, ALICE)] = MemberRole.ADMIN
    clock = FakeClock(NOW)
    access = make(members, clock)
    team = chat(TEAM, "supergroup")
    for _ in range(5):
        assert (await access.rights(ALICE, team)).manage
    assert members.asked == 1
    # Demoted: still an admin for up to a minute, then not.
    members.roles[(TEAM, ALICE)] = MemberRole.MEMBER
    clock.set(NOW + timedelta(seconds=59))
    assert (await access.rights(ALICE, team)).manage
    clock.set(NOW + timedelta(seconds=61))
    assert not (await access.rights(ALICE, team)).manage
    assert members.asked == 2
    # Telegram could not tell: nothing is cached, the next question asks again.
    members.roles[(TEAM, CAROL)] = None
    assert not (await access.rights(CAROL, team)).read
    assert not (await access.rights(CAROL, team)).read
    assert members.asked == 4

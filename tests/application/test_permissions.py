"""Every use case, walked with everyone who might call it: a stranger (not on ALLOWED_USERS), a
group member (no admin), an admin of another group, the group's owner, and the operator; each
person through the bot (writing in a chat) and through the API (from outside any chat). Exactly
those who hold the right a use case needs get through; a refused call changes nothing.

The rights expected here are written down by this test, not read from the application's table,
so a use case that asks for the wrong action fails it; a use case added to the UseCases
without being listed here (walked, or exempt with a reason) fails
`test_every_use_case_is_walked_or_exempt`.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application import UseCases
from application.access import MemberRole
from application.attachments import SentFile
from application.changes import ChangeAction, ChangeNotFoundError
from application.conversations import Subject
from application.errors import DraftNotFoundError
from application.permissions import Action, Actor, Door, RefusedError, Right
from application.shapes import SnoozeFor
from application.voice import VOICE_NOTE, Recording
from core.errors import CronpilotError
from core.settings import AllowedUsers
from scheduler.engine import TaskNotFoundError
from scheduler.schedules.schedule import Schedule
from storage import changes, chats, drafts, tasks
from storage.database import create_engine, create_sessionmaker
from storage.records import TaskMode
from tests.application.conftest import World, build_world

ALICE, BOB, CAROL, EVE = 1, 2, 3, 666
TEAM, OTHER = -1001, -1002
GROUP = "supergroup"
OPERATOR = Actor.operator()
SENT_FILE = SentFile("notes.txt", "text/plain", 0)
RECORDING = Recording(VOICE_NOTE, seconds=3, size=4, media_type="audio/ogg")


class Who(Enum):
    STRANGER = "stranger"
    MEMBER = "member"
    OTHER_ADMIN = "admin-of-another-group"
    OWNER = "owner"
    OPERATOR = "operator"


# What each of them may do in the team's group.
HOLDS: dict[Who, frozenset[Right]] = {
    Who.STRANGER: frozenset(),
    Who.MEMBER: frozenset({Right.READ}),
    Who.OTHER_ADMIN: frozenset(),
    Who.OWNER: frozenset({Right.READ, Right.MANAGE}),
    Who.OPERATOR: frozenset(Right),
}
USERS = {Who.STRANGER: EVE, Who.MEMBER: BOB, Who.OTHER_ADMIN: CAROL, Who.OWNER: ALICE}


def actor(who: Who, door: Door) -> Actor:
    if who is Who.OPERATOR:
        return OPERATOR
    user = USERS[who]
    if door is Door.API:
        return Actor(user, Door.API)
    # Through the bot each writes in their group: the admin of another group in that one,
    # pressing a button (or naming an id) that points at the team's things.
    chat = OTHER if who is Who.OTHER_ADMIN else TEAM
    return Actor(user, Door.BOT, chat_id=chat, chat_type=GROUP)


def may(who: Who, door: Door, right: Right) -> bool:
    if right is Right.OWN:
        # A token is a person's own: handed out in their private chat, and withdrawn there or
        # through the API; never in a group.
        return who is Who.OPERATOR or (door is Door.API and who is not Who.STRANGER)
    return right in HOLDS[who]


@dataclass
class Scene:
    """The team's group; its owner makes a task, a draft or a change proposal as a use case
    needs one (fresh for every call, as a call let through may use it up)."""

    world: World
    sessions: async_sessionmaker[AsyncSession]

    @property
    def app(self) -> UseCases:
        return self.world.app

    @property
    def owner(self) -> Actor:
        return actor(Who.OWNER, Door.BOT)

    async def task(self) -> int:
        card = await self.app.drafts.create(self.owner, TEAM, "every day at 9 read the news")
        return (await self.app.drafts.confirm(self.owner, card.draft_id)).id

    async def draft(self) -> str:
        return (await self.app.drafts.create(self.owner, TEAM, "every monday at 8 plan")).draft_id

    async def change(self) -> str:
        task = await self.app.tasks.get(self.owner, await self.task())
        card = await self.app.changes.propose(self.owner, task, ChangeAction.PAUSE, text="pause")
        return card.change_id

    async def state(self, target: object) -> object:
        """Everything a use case could change: the team's group, its tasks and open requests,
        the change proposal `target` (when it is one), and the API tokens."""
        async with self.sessions() as session:
            team = await chats.get(session, TEAM)
            found = await tasks.list_all(session, chat_id=TEAM)
            requests = await drafts.list_open_in_chat(
                session, chat_id=TEAM, now=self.world.clock.now()
            )
            proposal = await changes.get(session, target) if isinstance(target, str) else None
            issued = (await session.execute(text("SELECT * FROM api_tokens"))).all()
        return team, found, requests, proposal, issued


async def _nothing(scene: Scene) -> None:
    return None


Prepare = Callable[[Scene], Awaitable[object]]
Call = Callable[[Scene, Actor, object], Awaitable[object]]


class ChatNotListed(Exception):
    """chats.mine refuses nobody allowed: a chat one may not read is left out of the list."""


async def _chats_mine(scene: Scene, who: Actor, _: object) -> object:
    views = await scene.app.chats.mine(who)
    if TEAM not in [view.chat.id for view in views]:
        raise ChatNotListed
    return views


async def _reply(scene: Scene, who: Actor, task_id: object) -> object:
    assert isinstance(task_id, int)
    subject = Subject(await scene.app.tasks.get(OPERATOR, task_id), None, None)
    return await scene.app.conversations.reply(who, subject, "every day at 7am")


async def _propose(scene: Scene, who: Actor, task_id: object) -> object:
    assert isinstance(task_id, int)
    task = await scene.app.tasks.get(OPERATOR, task_id)
    return await scene.app.changes.propose(who, task, ChangeAction.DELETE, text="delete it")


async def _explicit(scene: Scene, who: Actor, task_id: object) -> object:
    assert isinstance(task_id, int)
    schedule = Schedule.of(await scene.app.tasks.get(OPERATOR, task_id))
    return await scene.app.drafts.create_explicit(
        who, TEAM, prompt="Read the papers", schedule=schedule, task_id=task_id
    )


async def _two_tasks(scene: Scene) -> object:
    return (await scene.task(), await scene.task())


async def _run_after(scene: Scene, who: Actor, pair: object) -> object:
    assert isinstance(pair, tuple)
    task_id, upstream_id = pair
    return await scene.app.triggers.run_after(who, task_id, upstream_id)


def _task(scene: Scene) -> Awaitable[object]:
    return scene.task()


async def _reminder(scene: Scene) -> object:
    card = await scene.app.drafts.create(scene.owner, TEAM, "tomorrow at 9 remind me to call mum")
    return (await scene.app.drafts.confirm(scene.owner, card.draft_id)).id


async def _skipped(scene: Scene) -> object:
    task_id = await scene.task()
    await scene.app.shapes.skip_next(scene.owner, task_id)
    return task_id


def _draft(scene: Scene) -> Awaitable[object]:
    return scene.draft()


def _change(scene: Scene) -> Awaitable[object]:
    return scene.change()


# Every use case an actor calls: the right the product says it needs, what it acts on, and the
# call (`x` is the id of what was prepared).
WALK: dict[str, tuple[Right, Prepare, Call]] = {
    "chats.mine": (Right.READ, _nothing, _chats_mine),
    "chats.get": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.chats.get(who, TEAM, to=Action.LIST_TASKS),
    ),
    "chats.set_timezone": (
        Right.MANAGE,
        _nothing,
        lambda s, who, x: s.app.chats.set_timezone(who, TEAM, "Europe/Paris"),
    ),
    "languages.set_language": (
        Right.MANAGE,
        _nothing,
        lambda s, who, x: s.app.languages.set_language(who, TEAM, "de"),
    ),
    "usage.month": (Right.READ, _nothing, lambda s, who, x: s.app.usage.month(who, TEAM)),
    "tasks.list": (Right.READ, _nothing, lambda s, who, x: s.app.tasks.list(who, TEAM)),
    "tasks.get": (Right.READ, _task, lambda s, who, x: s.app.tasks.get(who, x)),  # type: ignore[arg-type]
    "tasks.pause": (Right.MANAGE, _task, lambda s, who, x: s.app.tasks.pause(who, x)),  # type: ignore[arg-type]
    "tasks.resume": (Right.MANAGE, _task, lambda s, who, x: s.app.tasks.resume(who, x)),  # type: ignore[arg-type]
    "tasks.delete": (Right.MANAGE, _task, lambda s, who, x: s.app.tasks.delete(who, x)),  # type: ignore[arg-type]
    "tasks.every_chat": (Right.OPERATE, _nothing, lambda s, who, x: s.app.tasks.every_chat(who)),
    "runs.run_now": (Right.MANAGE, _task, lambda s, who, x: s.app.runs.run_now(who, x)),  # type: ignore[arg-type]
    "runs.history": (Right.READ, _task, lambda s, who, x: s.app.runs.history(who, x)),  # type: ignore[arg-type]
    "drafts.create": (
        Right.MANAGE,
        _nothing,
        lambda s, who, x: s.app.drafts.create(who, TEAM, "every day at 10 water the plants"),
    ),
    "drafts.create_explicit": (Right.MANAGE, _task, _explicit),
    "drafts.understand": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.drafts.understand(who, "every day at 9 news", chat_id=TEAM),
    ),
    "drafts.get": (Right.READ, _draft, lambda s, who, x: s.app.drafts.get(who, x)),  # type: ignore[arg-type]
    "drafts.confirm": (Right.MANAGE, _draft, lambda s, who, x: s.app.drafts.confirm(who, x)),  # type: ignore[arg-type]
    "drafts.cancel": (Right.MANAGE, _draft, lambda s, who, x: s.app.drafts.cancel(who, x)),  # type: ignore[arg-type]
    "drafts.cancel_open": (
        Right.MANAGE,
        _draft,
        lambda s, who, x: s.app.drafts.cancel_open(who, TEAM),
    ),
    "drafts.attach_card": (
        Right.MANAGE,
        _draft,
        lambda s, who, x: s.app.drafts.attach_card(who, x, 5),  # type: ignore[arg-type]
    ),
    "drafts.attach_edit_prompt": (
        Right.MANAGE,
        _draft,
        lambda s, who, x: s.app.drafts.attach_edit_prompt(who, x, 6),  # type: ignore[arg-type]
    ),
    "drafts.answering_edit_prompt": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.drafts.answering_edit_prompt(who, TEAM, 6),
    ),
    "edits.start": (Right.MANAGE, _draft, lambda s, who, x: s.app.edits.start(who, x)),  # type: ignore[arg-type]
    "edits.awaiting_correction": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.edits.awaiting_correction(who, TEAM),
    ),
    "changes.propose": (Right.MANAGE, _task, _propose),
    "changes.attach_card": (
        Right.MANAGE,
        _change,
        lambda s, who, x: s.app.changes.attach_card(who, x, 7),  # type: ignore[arg-type]
    ),
    "changes.confirm": (Right.MANAGE, _change, lambda s, who, x: s.app.changes.confirm(who, x)),  # type: ignore[arg-type]
    "changes.cancel": (Right.MANAGE, _change, lambda s, who, x: s.app.changes.cancel(who, x)),  # type: ignore[arg-type]
    "conversations.subject": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.conversations.subject(who, TEAM, 8),
    ),
    "conversations.reply": (Right.READ, _task, _reply),
    "conversations.history": (
        Right.READ,
        _task,
        lambda s, who, x: s.app.conversations.history(who, x),  # type: ignore[arg-type]
    ),
    "setup.set_model": (Right.MANAGE, _task, lambda s, who, x: s.app.setup.set_model(who, x, None)),  # type: ignore[arg-type]
    "setup.tools": (Right.READ, _task, lambda s, who, x: s.app.setup.tools(who, x)),  # type: ignore[arg-type]
    "setup.set_tools": (Right.MANAGE, _task, lambda s, who, x: s.app.setup.set_tools(who, x)),  # type: ignore[arg-type]
    "setup.set_cap": (Right.MANAGE, _task, lambda s, who, x: s.app.setup.set_cap(who, x, 1.0)),  # type: ignore[arg-type]
    "setup.estimate": (Right.READ, _task, lambda s, who, x: s.app.setup.estimate(who, x)),  # type: ignore[arg-type]
    "voice.admit": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.voice.admit(who, TEAM, RECORDING),
    ),
    "voice.hear": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.voice.hear(
            who, TEAM, b"OggS", filename="voice.ogg", recording=RECORDING
        ),
    ),
    "attachments.admit": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.attachments.admit(who, TEAM, SENT_FILE),
    ),
    "attachments.read": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.attachments.read(who, TEAM, SENT_FILE, b""),
    ),
    "attachments.admit_picture": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.attachments.admit_picture(who, TEAM, SENT_FILE),
    ),
    "attachments.picture": (
        Right.READ,
        _nothing,
        lambda s, who, x: s.app.attachments.picture(who, TEAM, SENT_FILE, b""),
    ),
    "attachments.of_task": (
        Right.READ,
        _task,
        lambda s, who, x: s.app.attachments.of_task(who, x),  # type: ignore[arg-type]
    ),
    "drafts.set_model": (
        Right.MANAGE,
        _draft,
        lambda s, who, x: s.app.drafts.set_model(who, x, None),  # type: ignore[arg-type]
    ),
    "drafts.switch_mode": (
        Right.MANAGE,
        _draft,
        lambda s, who, x: s.app.drafts.switch_mode(who, x),  # type: ignore[arg-type]
    ),
    "shapes.set_mode": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.shapes.set_mode(who, x, TaskMode.REMINDER),  # type: ignore[arg-type]
    ),
    "shapes.switch_mode": (Right.MANAGE, _task, lambda s, who, x: s.app.shapes.switch_mode(who, x)),  # type: ignore[arg-type]
    "shapes.snooze": (
        Right.MANAGE,
        _reminder,
        lambda s, who, x: s.app.shapes.snooze(who, x, SnoozeFor.HOUR),  # type: ignore[arg-type]
    ),
    "shapes.done": (Right.MANAGE, _reminder, lambda s, who, x: s.app.shapes.done(who, x)),  # type: ignore[arg-type]
    "shapes.skip_next": (Right.MANAGE, _task, lambda s, who, x: s.app.shapes.skip_next(who, x)),  # type: ignore[arg-type]
    "shapes.undo_skip": (Right.MANAGE, _skipped, lambda s, who, x: s.app.shapes.undo_skip(who, x)),  # type: ignore[arg-type]
    "shapes.skip_state": (Right.READ, _task, lambda s, who, x: s.app.shapes.skip_state(who, x)),  # type: ignore[arg-type]
    "targets.show": (Right.READ, _task, lambda s, who, x: s.app.targets.show(who, x)),  # type: ignore[arg-type]
    "targets.outcomes": (
        Right.READ,
        _task,
        lambda s, who, x: s.app.targets.outcomes(who, x, [1]),  # type: ignore[arg-type]
    ),
    "targets.check": (
        Right.MANAGE,
        _nothing,
        lambda s, who, x: s.app.targets.check(who, TEAM, ["here"]),
    ),
    "targets.choose": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.targets.choose(who, x, ["here"]),  # type: ignore[arg-type]
    ),
    "setup.check_model": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.setup.check_model(who, x, None),  # type: ignore[arg-type]
    ),
    "targets.set": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.targets.set(who, x, ["here"]),  # type: ignore[arg-type]
    ),
    "tokens.issue": (Right.OWN, _nothing, lambda s, who, x: s.app.tokens.issue(who)),
    "tokens.revoke": (Right.OWN, _nothing, lambda s, who, x: s.app.tokens.revoke(who)),
    "triggers.issue": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.triggers.issue(who, x, rotate=True),  # type: ignore[arg-type]
    ),
    "triggers.remove": (Right.MANAGE, _task, lambda s, who, x: s.app.triggers.remove(who, x)),  # type: ignore[arg-type]
    "triggers.run_after": (Right.MANAGE, _two_tasks, _run_after),
    "triggers.stop_after": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.triggers.stop_after(who, x),  # type: ignore[arg-type]
    ),
    "triggers.quiet": (
        Right.MANAGE,
        _task,
        lambda s, who, x: s.app.triggers.quiet(who, x, changed=True),  # type: ignore[arg-type]
    ),
}

# Use cases no actor calls, and why.
EXEMPT = {
    "chats.see": "Telegram tells that the chat exists (and its title)",
    "chats.unreachable": "Telegram tells that the bot was blocked or removed",
    "chats.zone_of": "reads the record the caller holds",
    "languages.of_chat": "results and notices nobody asked for speak the chat's language",
    "drafts.purge_expired": "housekeeping",
    "setup.resolve_model": "reads the name it is given (for set_model and drafts)",
    "setup.check_cap": "checks the amount it is given (before a task is made with it)",
    "setup.check_tools": "checks the names it is given (before a task is made with them)",
    "changes.purge_expired": "housekeeping",
    "changes.schedule_phrase": "reads the text it is given (for conversations.reply)",
    "changes.is_new_request": "reads the text it is given (for conversations.reply)",
    "changes.after_phrase": "reads the text it is given (for conversations.reply)",
    "changes.read_proposal": "reads the model's arguments (for conversations.reply)",
    "changes.targets_phrase": "reads the text it is given (for conversations.reply)",
    "changes.model_phrase": "reads the text it is given (for conversations.reply)",
    "changes.proposal_function": "describes the function offered to the model",
    "conversations.delivered": "the door records where it posted an answer it was let give",
    "tokens.user_for": "authentication: how the API learns who its actor is",
    "shapes.skipped_next": "reads about a task the caller was let see (a card it shows)",
    "shapes.skipped_next_of": "reads about tasks the caller was let see (a page it lists)",
    "triggers.target": "authentication: the trigger URL's secret is the credential",
    "triggers.fire": "runs the task `triggers.target` found for the secret",
}

# A refusal: the right is missing, or what was named is reported as not there.
REFUSALS = (RefusedError, TaskNotFoundError, DraftNotFoundError, ChangeNotFoundError, ChatNotListed)


def _use_cases() -> set[str]:
    """Every public method of every subject of the use cases but `access` (the rule) and
    `clock`."""
    names = set()
    for field, kind in inspect.get_annotations(UseCases, eval_str=True).items():
        if field in ("access", "clock"):
            continue
        for name, _ in inspect.getmembers(kind, inspect.isfunction):
            if not name.startswith("_"):
                names.add(f"{field}.{name}")
    return names


def test_every_use_case_is_walked_or_exempt() -> None:
    found = _use_cases()
    listed = set(WALK) | set(EXEMPT)
    assert found == listed, (
        f"neither walked nor exempt: {sorted(found - listed)}; gone: {sorted(listed - found)}"
    )
    assert not set(WALK) & set(EXEMPT)


@pytest.fixture
async def scene(pg_url: str) -> AsyncIterator[Scene]:
    database = create_engine(pg_url)
    sessions = create_sessionmaker(database)
    world = build_world(
        sessions, allowed=AllowedUsers(ids=frozenset({ALICE, BOB, CAROL})), quota=1_000
    )
    world.executor.release.set()  # a run started finishes at once
    world.members.roles.update(
        {
            (TEAM, ALICE): MemberRole.OWNER,
            (TEAM, BOB): MemberRole.MEMBER,
            (OTHER, CAROL): MemberRole.ADMIN,
        }
    )
    for chat in (TEAM, OTHER):
        await world.app.chats.see(chat, type=GROUP, title=str(chat))
    try:
        yield Scene(world, sessions)
    finally:
        await world.engine.wait_idle()
        await world.engine.stop()
        await database.dispose()


@pytest.mark.parametrize(
    ("who", "door"),
    [
        *((who, door) for who in Who if who is not Who.OPERATOR for door in (Door.BOT, Door.API)),
        (Who.OPERATOR, Door.TERMINAL),
    ],
    ids=lambda value: value.value,
)
async def test_exactly_those_with_the_right_get_through(scene: Scene, who: Who, door: Door) -> None:
    caller = actor(who, door)
    wrong = []
    for name, (right, prepare, call) in WALK.items():
        target = await prepare(scene)
        allowed = may(who, door, right)
        # What a refused call must leave as it was.
        before = None if allowed else await scene.state(target)
        try:
            await call(scene, caller, target)
        except REFUSALS as error:
            if allowed:
                wrong.append(f"{name} refused: {error!r}")
            elif await scene.state(target) != before:
                wrong.append(f"{name} refused, but changed something")
        except CronpilotError:
            # Let through, and then the task's state (say) did not allow it.
            if not allowed:
                wrong.append(f"{name} let through")
        else:
            if not allowed:
                wrong.append(f"{name} let through")
    assert wrong == []

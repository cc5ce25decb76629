"""Where a task's results go: `here` (its own chat, in the topic the command is written in),
other Telegram chats and channels (`@username` or a numeric id), and the operator's destinations
by name. Who may change them is the table's (`Action.SET_TARGETS`: the task's managers); a
Telegram target is accepted only when the person is an administrator of that chat and the bot
may post there, both asked of Telegram through the front door's `TargetChats` port. The same
check runs again when a Telegram target refuses a result (`TargetChecks.recheck`, which the
runner is given), so that the record and the task's chat say what is wrong there."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access, MemberRole
from application.permissions import Action, Actor
from application.tasks import task_in_chat
from core.errors import CronpilotError
from core.logs import get_logger
from core.reasons import Reason, TargetCannotPost, TargetGone, TargetNotAdmin, TargetRefused
from scheduler.clock import Clock
from scheduler.destinations import Destinations
from scheduler.engine import TaskNotFoundError
from storage import deliveries, runs, tasks
from storage.records import HERE, Target, TargetDelivery, TargetKind, Task

log = get_logger(__name__)

MAX_TARGETS = 10
HERE_WORDS = frozenset({"here", "this", "chat"})
_CHAT_REF = re.compile(r"^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,19})$")
ADMINS = frozenset({MemberRole.OWNER, MemberRole.ADMIN})


@dataclass(frozen=True, slots=True)
class FoundChat:
    """A Telegram chat as the bot sees it: its id, type and how people name it."""

    id: int
    type: str
    label: str


class TargetChats(Protocol):
    """The front door's way of asking Telegram about a chat results may go to."""

    async def find(self, reference: str) -> FoundChat | None:
        """The chat `@username` or numeric id names, if the bot can see it."""
        ...

    async def role(self, chat_id: int, user_id: int) -> MemberRole | None: ...

    async def bot_can_post(self, chat: FoundChat) -> bool:
        """Whether the bot may post there (in a channel: an administrator who may post)."""
        ...


@dataclass(frozen=True, slots=True)
class ChosenTargets:
    """Targets checked for task `task_id` and the topic of its own chat it posts in, ready to
    be stored (`storage.tasks.set_targets`)."""

    task_id: int
    targets: tuple[Target, ...]
    thread_id: int | None


def named(task: Task, word: str) -> Target | None:
    """The target of `task` that `word` names (`here`, `@news`, a chat's id, a destination's
    name), if the task has it."""
    wanted = word.strip().lower()
    for target in task.destinations:
        if target.kind is TargetKind.CHAT and wanted in HERE_WORDS:
            return target
        if target.kind is TargetKind.DESTINATION and target.name == wanted:
            return target
        if target.kind is TargetKind.TELEGRAM and wanted in (
            (target.name or "").lower(),
            str(target.chat_id),
        ):
            return target
    return None


class TargetError(CronpilotError):
    """A target that cannot be used; `target` is the word as written."""

    def __init__(self, message: str, target: str) -> None:
        super().__init__(message)
        self.target = target


class UnknownTargetError(TargetError):
    """Neither here, a chat the bot can see, nor a configured destination."""

    def __init__(self, target: str, destinations: Sequence[str]) -> None:
        super().__init__(f"{target!r} is no chat the bot can see and no destination", target)
        self.destinations = tuple(destinations)


class NotTargetAdminError(TargetError):
    def __init__(self, target: str) -> None:
        super().__init__(f"the person is not an administrator of {target}", target)


class BotCannotPostError(TargetError):
    def __init__(self, target: str) -> None:
        super().__init__(f"the bot may not post in {target}", target)


class TooManyTargetsError(TargetError):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} targets; at most {MAX_TARGETS}", str(count))
        self.count = count
        self.limit = MAX_TARGETS


class TargetChecks:
    """The one rule for a Telegram target, checked when it is set and again when it refuses a
    result: the person who chose it administers the chat, and the bot may post there."""

    def __init__(self, chats: TargetChats) -> None:
        self._chats = chats

    async def find(self, reference: str) -> FoundChat | None:
        return await self._chats.find(reference)

    async def verify(self, chat: FoundChat, word: str, user_id: int) -> None:
        """Raise NotTargetAdminError or BotCannotPostError when `user_id` may not choose it."""
        if await self._chats.role(chat.id, user_id) not in ADMINS:
            raise NotTargetAdminError(word)
        if not await self._chats.bot_can_post(chat):
            raise BotCannotPostError(word)

    async def recheck(self, task: Task, target: Target, refusal: str) -> Reason:
        """Why `target` refused a result of `task` (scheduler.delivery.TargetChecks): checked
        against whoever chose it (the task's creator for a target chosen before that was kept)."""
        chat = await self._chats.find(str(target.chat_id)) if target.chat_id is not None else None
        if chat is None:
            return TargetGone()
        if not await self._chats.bot_can_post(chat):
            return TargetCannotPost()
        chooser = target.set_by if target.set_by is not None else task.created_by
        if await self._chats.role(chat.id, chooser) not in ADMINS:
            return TargetNotAdmin(user_id=chooser)
        return TargetRefused(words=refusal)


class Targets:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        access: Access,
        chats: TargetChats | None = None,
        destinations: Destinations | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._access = access
        self._checks = TargetChecks(chats) if chats is not None else None
        self._destinations = destinations

    @property
    def destination_names(self) -> tuple[str, ...]:
        """The operator's destinations people may pick (names only)."""
        return self._destinations.names if self._destinations is not None else ()

    async def show(self, actor: Actor, task_id: int) -> Task:
        return await self._access.task(actor, Action.SHOW_TASK, task_id)

    async def outcomes(
        self, actor: Actor, task_id: int, run_ids: Sequence[int]
    ) -> dict[int, list[TargetDelivery]]:
        """Each of the task's runs' copies to its other targets (sent, failed, retrying)."""
        found = await self._access.task(actor, Action.TASK_HISTORY, task_id)
        async with self._sessions() as session:
            copies = await deliveries.for_runs(session, run_ids)
            mine = await runs.of_task(session, found.id, list(copies))
        return {run_id: items for run_id, items in copies.items() if run_id in mine}

    async def set(self, actor: Actor, task_id: int, words: Sequence[str]) -> Task:
        """Post task `task_id`'s results to these targets from now on.

        Raises the TargetErrors above (nothing is changed then), RefusedError, or
        TaskNotFoundError."""
        found = await self._access.task(actor, Action.SET_TARGETS, task_id)
        targets, thread_id = await self._resolve(actor, found.chat_id, found.thread_id, words)
        async with self._sessions() as session, session.begin():
            await task_in_chat(session, found.chat_id, task_id, lock=True)
            changed = await tasks.set_targets(
                session, task_id, targets, thread_id=thread_id, now=self._clock.now()
            )
        if changed is None:
            raise TaskNotFoundError(task_id)
        log.info(
            "task.targets_set",
            task_id=task_id,
            chat_id=found.chat_id,
            targets=[target.kind.value for target in targets],
            door=actor.door.value,
        )
        return changed

    async def choose(
        self, actor: Actor, task_id: int, wanted: Sequence[Target | str]
    ) -> ChosenTargets:
        """The targets a change in words asks for, checked as `set` checks them, nothing
        stored: only someone who may manage the task, and every place named anew (a word)
        resolved and checked as /target's words are. A `Target` the task already has stays as
        it is: it was checked when it was set, and keeping it grants nothing new.

        Raises as `set` does."""
        found = await self._access.task(actor, Action.SET_TARGETS, task_id)
        if len(wanted) > MAX_TARGETS:
            raise TooManyTargetsError(len(wanted))
        thread_id = found.thread_id
        chosen: dict[str, Target] = {}
        for entry in wanted:
            if isinstance(entry, str):
                # One word at a time, so each keeps its place in the order asked for.
                [target], thread_id = await self._resolve(actor, found.chat_id, thread_id, [entry])
            else:
                target = entry
            chosen.setdefault(target.key, target)
        if len(chosen) > MAX_TARGETS:
            raise TooManyTargetsError(len(chosen))
        return ChosenTargets(found.id, tuple(chosen.values()), thread_id)

    async def check(self, actor: Actor, chat_id: int, words: Sequence[str]) -> None:
        """Whether a task of `chat_id` made by `actor` could post to these targets (before it
        is made, so that bad targets make nothing); raises as `set` does."""
        chat = await self._access.chat(actor, Action.SET_TARGETS, chat_id)
        await self._resolve(actor, chat.id, None, words)

    async def _resolve(
        self, actor: Actor, chat_id: int, thread_id: int | None, words: Sequence[str]
    ) -> tuple[tuple[Target, ...], int | None]:
        """The targets these words name for a task of `chat_id`, each checked, and the topic
        of its own chat it posts in (`here` written in a topic picks that topic)."""
        unique = list(dict.fromkeys(word.strip() for word in words if word.strip()))
        if len(unique) > MAX_TARGETS:
            raise TooManyTargetsError(len(unique))
        chosen: dict[str, Target] = {}
        for word in unique or ["here"]:
            if word.lower() in HERE_WORDS:
                if actor.chat_id == chat_id:
                    thread_id = actor.topic_id
                chosen[HERE.key] = HERE
                continue
            target = await self._target(actor, chat_id, word)
            chosen[target.key] = target
        return tuple(chosen.values()), thread_id

    async def _target(self, actor: Actor, chat_id: int, word: str) -> Target:
        if self._destinations is not None and word.lower() in self._destinations:
            return Target(TargetKind.DESTINATION, name=word.lower())
        if not _CHAT_REF.match(word) or self._checks is None:
            raise UnknownTargetError(word, self.destination_names)
        chat = await self._checks.find(word)
        if chat is None:
            raise UnknownTargetError(word, self.destination_names)
        if chat.id == chat_id:
            return HERE
        await self._checks.verify(chat, word, actor.user_id)
        return Target(TargetKind.TELEGRAM, chat_id=chat.id, name=chat.label, set_by=actor.user_id)

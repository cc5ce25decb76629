"""Replies to the bot's messages about a task: follow-up questions and changes asked in words.

A reply to a result, a failure notice, a follow-up answer or a task card is about that task,
except a reply to a task card that reads as a whole new request (a schedule and something to
do, "every friday at 16 ask for the report"): that stays a new task request. A reply that
is only a schedule phrase the rules parser reads whole becomes a change card without asking
the model. Anything else goes to the task's model with the task, that run's
answer and the thread so far (the last THREAD_TURNS follow-ups), the task's own tools, and
one more function, `propose_change`: the model either answers (a follow-up, recorded and
posted as a reply), proposes a change (a change card), or says the reply is neither (a short
help). Follow-ups run within the runner's bounds (slots, timeout, tool steps) and are recorded
with their tokens and cost, which count against the chat's monthly budget like runs: past it,
the model is not asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.changes import (
    PROPOSE_CHANGE,
    ChangeAction,
    ChangeCard,
    Changes,
    InvalidChangeError,
)
from application.errors import UnknownModelError
from application.permissions import Action, Actor
from application.targets import TargetError
from application.usage import Ledger
from core.errors import CronpilotError, ScheduleError
from core.languages import ENGLISH, chat_language, english_name
from core.logs import get_logger
from core.reasons import BudgetSpent, ChangeUnusable, NoModelSetUp, Reason, logged
from scheduler.clock import Clock
from scheduler.documents import DocumentText, Picture, attachments_message, picture_message
from scheduler.engine import TaskNotFoundError
from scheduler.runner.runner import TaskRunner, Turn
from scheduler.schedules.schedule import Schedule
from scheduler.text import clean_text
from storage import chats, followups, message_parts, runs, spending, tasks
from storage.records import Followup, Run, RunStatus, Spending, TargetKind, Task

log = get_logger(__name__)

THREAD_TURNS = 10
# The model's answer when a reply is neither a question it can answer nor a change.
NOT_FOR_ME = "NOT_A_QUESTION"
RESULT_CHARS = 12_000
TURN_CHARS = 4_000
MAX_QUESTION_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class Subject:
    """What a reply is about: a task, and the run or follow-up whose message was replied to;
    `chat_id` is the chat that message is in (the task's own, or another chat its results are
    posted to; None: the task's own)."""

    task: Task
    run: Run | None
    followup: Followup | None
    chat_id: int | None = None

    @property
    def where(self) -> int:
        """The chat the reply was written in, where it is answered."""
        return self.chat_id if self.chat_id is not None else self.task.chat_id

    @property
    def elsewhere(self) -> bool:
        """Whether it is about a result posted in another chat than the task's own."""
        return self.where != self.task.chat_id


@dataclass(frozen=True, slots=True)
class Answered:
    followup: Followup


@dataclass(frozen=True, slots=True)
class Proposed:
    card: ChangeCard


@dataclass(frozen=True, slots=True)
class NotAllowed:
    """A change was asked for by someone who may not change tasks in this chat, or (`elsewhere`)
    in another chat the task posts to: a task is changed in its own chat only."""

    task: Task
    elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class NewRequest:
    """A reply to a task card that is a whole new task request, not about this task."""

    task: Task


@dataclass(frozen=True, slots=True)
class Unclear:
    """Neither a question the model could answer nor a change (`elsewhere`: asked in another
    chat the task posts to, where only questions are taken)."""

    task: Task
    elsewhere: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """The model could not answer, or its proposal could not be used (then `problem` is why, as
    raised, and `reason` is ChangeUnusable)."""

    task: Task
    reason: Reason
    problem: CronpilotError | None = None


Outcome = Answered | Proposed | NotAllowed | NewRequest | Unclear | Failed


class Conversations:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        runner: TaskRunner,
        changes: Changes,
        clock: Clock,
        access: Access,
        ledger: Ledger | None = None,
        *,
        owner: str | None = None,
        has_model: bool = True,
    ) -> None:
        self._sessions = sessions
        # Without a model (LLM_MODEL empty or `none`) a question gets one sentence saying so.
        self._has_model = has_model
        self._access = access
        # The worker answering follow-ups: if it dies, its unfinished ones are interrupted.
        self._owner = owner
        self._runner = runner
        self._changes = changes
        self._clock = clock
        self._ledger = ledger

    async def subject(
        self, actor: Actor, chat_id: int, message_id: int, *, task_id: int | None = None
    ) -> Subject | None:
        """What the bot's message `message_id` in this chat is about, if it is about a task.

        Results, failure notices and follow-up answers are found by their message: in the
        task's own chat, or in another chat or channel the task posts its results to (a copy,
        and the follow-up answers given there). A task card names its task (`task_id`, read from
        its buttons), which must belong to this chat.
        """
        await self._access.require(actor, Action.ASK_ABOUT_TASK, chat_id)
        async with self._sessions() as session:
            # A message found by its id in this chat was posted here, whatever the task's chat.
            found_here = True
            followup = await followups.find_delivered(session, chat_id, message_id)
            run: Run | None = None
            if followup is not None:
                if followup.run_id is not None:
                    run = await runs.get(session, followup.run_id)
                task_id = followup.task_id
            else:
                run = await runs.find_delivered(session, chat_id, message_id)
                if run is not None:
                    task_id = run.task_id
                else:
                    found_here = False
            if task_id is None:
                return None
            task = await tasks.get(session, task_id)
        if task is None or (task.chat_id != chat_id and not found_here):
            return None
        return Subject(task, run, followup, chat_id=chat_id)

    async def reply(
        self,
        actor: Actor,
        subject: Subject,
        text: str,
        *,
        attachment: DocumentText | Picture | None = None,
    ) -> Outcome:
        """Answer a reply about `subject.task`, or propose the change it asks for (NotAllowed
        when the actor may not change the task). A document sent with the reply goes to the
        follow-up model with the question, marked as the person's attachment; so does a picture.

        Raises ScheduleError when the reply names a schedule that is not allowed, and what
        `Changes.propose` raises for targets or a model the rules read in it (a TargetError,
        UnknownModelError, InvalidChangeError).
        """
        task = subject.task
        # Asking is reading where the result was posted: whoever may read that chat read it.
        # The answer is on the task's chat's bill, as every follow-up is.
        await self._access.require(
            actor, Action.ASK_ABOUT_TASK, subject.where, missing=TaskNotFoundError(task.id)
        )
        # A task is changed in its own chat only, by those who manage it there.
        may_change = not subject.elsewhere and await self._access.may(
            actor, Action.PROPOSE_CHANGE, task.chat_id
        )
        refused = NotAllowed(task, elsewhere=subject.elsewhere)
        text = clean_text(text).strip()[:MAX_QUESTION_CHARS]
        if not text:
            return Unclear(task, elsewhere=subject.elsewhere)
        if (
            subject.run is None
            and subject.followup is None
            and self._changes.is_new_request(task, text)
        ):
            return NewRequest(task)
        upstream = self._changes.after_phrase(text)
        if upstream is not None:
            if not may_change:
                return refused
            card = await self._changes.propose(
                actor, task, ChangeAction.AFTER, after=upstream, text=text
            )
            return Proposed(card)
        # With a document or picture, the reply is a question about it: the model is asked.
        if attachment is None:
            targets = self._changes.targets_phrase(text)
            model = self._changes.model_phrase(text) if targets is None else None
            schedule = (
                self._changes.schedule_phrase(task, text)
                if targets is None and model is None
                else None
            )
            if targets is not None or model is not None or schedule is not None:
                if not may_change:
                    return refused
                card = await self._changes.propose(
                    actor,
                    task,
                    ChangeAction.EDIT,
                    schedule=schedule,
                    targets=targets,
                    model=model,
                    text=text,
                )
                return Proposed(card)
        if not self._has_model:
            return Failed(task, NoModelSetUp())
        if self._ledger is not None and await self._ledger.reached(task.chat_id) is not None:
            return Failed(task, BudgetSpent())
        followup, messages = await self._begin(subject, actor.user_id, text)
        if isinstance(attachment, Picture):
            messages.insert(-1, picture_message(attachment))
        elif attachment is not None:
            messages.insert(-1, {"role": "user", "content": attachments_message([attachment])})
        turn = await self._runner.converse(
            task, messages, functions=[self._changes.proposal_function()]
        )
        return await self._conclude(subject, followup, turn, actor, text, refused, may_change)

    async def history(self, actor: Actor, task_id: int, *, limit: int = 10) -> list[Followup]:
        """The task's newest follow-ups, newest first: what was asked and what it cost."""
        await self._access.task(actor, Action.TASK_HISTORY, task_id)
        async with self._sessions() as session:
            return await followups.list_for_task(session, task_id, limit=limit)

    async def delivered(self, followup_id: int, message_ids: Sequence[int]) -> None:
        """The answer was posted as `message_ids` (first to last; a long answer takes several):
        a reply to any of them continues the thread."""
        first, *parts = message_ids
        async with self._sessions() as session, session.begin():
            found = await followups.set_message_id(session, followup_id, first)
            if found is not None:
                await message_parts.add(session, found.chat_id, parts, followup_id=followup_id)

    async def _begin(
        self, subject: Subject, user_id: int, text: str
    ) -> tuple[Followup, list[dict[str, Any]]]:
        task = subject.task
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # The answer is written in the language of the chat it is given in.
            chat = await chats.get(session, subject.where) or await chats.get(session, task.chat_id)
            thread = (
                await followups.thread(session, subject.followup.id, limit=THREAD_TURNS)
                if subject.followup is not None
                else []
            )
            run = subject.run
            if run is None and subject.followup is None:
                # A task card: the task's last answer, if it has one, is what there is to ask about.
                latest = await runs.recent_outputs(session, task.id, limit=1)
                run = latest[-1] if latest else None
            followup = await followups.add(
                session,
                task_id=task.id,
                run_id=run.id if run is not None else None,
                parent_id=subject.followup.id if subject.followup is not None else None,
                chat_id=subject.where,
                user_id=user_id,
                question=text,
                now=now,
                owner=self._owner,
            )
        language = chat_language(chat.language, chat.user_language) if chat else ENGLISH
        return followup, build_messages(task, run, thread, text, now=now, language=language)

    async def _conclude(
        self,
        subject: Subject,
        followup: Followup,
        turn: Turn,
        actor: Actor,
        text: str,
        refused: NotAllowed,
        may_change: bool,
    ) -> Outcome:
        task = subject.task
        outcome: Outcome
        status = RunStatus.SUCCEEDED
        answer: str | None = None
        reason = turn.reason
        if turn.reason is not None:
            status = RunStatus.FAILED
            outcome = Failed(task, turn.reason)
        elif turn.call is not None:
            status = RunStatus.SILENT
            outcome = (
                await self._proposal(task, turn.call.arguments, actor, text)
                if may_change
                else refused
            )
            if isinstance(outcome, Failed):
                status, reason = RunStatus.FAILED, outcome.reason
        elif turn.answer is None or _is_not_for_me(turn.answer):
            status = RunStatus.SILENT
            outcome = Unclear(task, elsewhere=subject.elsewhere)
        else:
            answer = turn.answer
            outcome = Answered(followup)
        usage = turn.usage
        async with self._sessions() as session, session.begin():
            finished = await followups.finish(
                session,
                followup.id,
                status=status,
                finished_at=self._clock.now(),
                answer=answer,
                reason=reason,
                prompt_tokens=usage.prompt_tokens if usage.calls else None,
                completion_tokens=usage.completion_tokens if usage.calls else None,
                cost=usage.cost,
            )
            if finished is not None and usage.calls:
                await spending.add(
                    session,
                    Spending(
                        chat_id=task.chat_id,
                        task_id=task.id,
                        kind=spending.FOLLOW_UP,
                        at=self._clock.now(),
                        prompt_tokens=usage.prompt_tokens,
                        completion_tokens=usage.completion_tokens,
                        cost=usage.cost,
                    ),
                )
        if finished is None:
            raise TaskNotFoundError(task.id)
        log.info(
            "followup.finished",
            followup_id=followup.id,
            task_id=task.id,
            chat_id=task.chat_id,
            status=status.value,
            outcome=type(outcome).__name__,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=usage.cost,
            **logged(reason),
        )
        if isinstance(outcome, Answered):
            return Answered(finished)
        return outcome

    async def _proposal(self, task: Task, arguments: str, actor: Actor, text: str) -> Outcome:
        try:
            proposal = self._changes.read_proposal(task, arguments)
            card = await self._changes.propose(
                actor,
                task,
                proposal.action,
                schedule=proposal.schedule,
                prompt=proposal.prompt,
                targets=proposal.targets,
                model=proposal.model,
                text=text,
            )
        except (InvalidChangeError, ScheduleError, TargetError, UnknownModelError) as error:
            return Failed(task, ChangeUnusable(problem=str(error)), problem=error)
        return Proposed(card)


def _places(task: Task) -> str:
    """Where the task's results go, as the model writes them in propose_change's targets."""
    return ", ".join(
        "here" if target.kind is TargetKind.CHAT else target.label for target in task.destinations
    )


def _is_not_for_me(answer: str) -> bool:
    return answer.strip().strip("`*_.!\"' \n").upper() == NOT_FOR_ME


def build_messages(
    task: Task,
    run: Run | None,
    thread: list[Followup],
    question: str,
    *,
    now: datetime,
    language: str = ENGLISH,
) -> list[dict[str, Any]]:
    """System prompt, the run's request and answer, the thread so far, then the new question."""
    schedule = Schedule.of(task)
    zone = schedule.zone
    local = now.astimezone(zone)
    system = (
        "You are cronpilot, a Telegram bot that runs tasks for its users on a schedule and "
        "posts each answer into their chat.\n"
        f"Now it is {local:%A %Y-%m-%d %H:%M} ({zone.key}, UTC{local:%z}).\n"
        f"Write in {english_name(language)}, the language of the chat, unless the user writes "
        "in another language.\n"
        f'This conversation is about task #{task.id} "{task.name}", scheduled '
        f"{schedule.describe()} ({task.state.value}). Its results go to {_places(task)}; it "
        f"runs on the {task.model or 'default'} model. Its instructions are:\n{task.prompt}\n\n"
        "The user replied to one of the task's messages. Answer their question about it, "
        "concisely and concretely, from what the task wrote; Markdown is fine. Use the tools "
        "when the answer needs fresh information, and say so if a tool fails rather than "
        "inventing results.\n"
        f"If they ask to change the task itself (when it runs, what it does or how it writes, "
        f"where its results go, which model runs it, or to pause, resume or delete it), call "
        f"{PROPOSE_CHANGE} instead of answering; "
        "nothing changes until they confirm.\n"
        "If the message is neither a question you can answer nor a change to the task, answer "
        f"with exactly {NOT_FOR_ME} and nothing else."
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    if run is not None:
        when = (run.finished_at or run.scheduled_for).astimezone(zone)
        messages.append({"role": "user", "content": f"[{when:%Y-%m-%d %H:%M}] {task.prompt}"})
        if run.output:
            messages.append({"role": "assistant", "content": _clip(run.output, RESULT_CHARS)})
        else:
            failure = run.reason.message() if run.reason is not None else run.status.value
            messages.append(
                {"role": "assistant", "content": f"(This run failed: {_clip(failure, 500)})"}
            )
    for earlier in thread:
        if earlier.answer is None:
            continue  # it proposed a change or was not a question: no answer to remember
        messages.append({"role": "user", "content": _clip(earlier.question, TURN_CHARS)})
        messages.append({"role": "assistant", "content": _clip(earlier.answer, TURN_CHARS)})
    messages.append({"role": "user", "content": question})
    return messages


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " […]"

"""Changes to a task asked for in words: proposed as a card, applied only on Confirm.

A change is proposed from a reply ("only on weekdays at 8am", "shorter, three bullet points",
"pause this", "also post this to @news", "use the fast model"): a schedule phrase the rules
parser reads whole, a change of targets or of model in the common English phrasings
(scheduler/parsing/target_words.py, model_words.py), or what the model asked for through the
one function `propose_change` (other phrasings and languages). Either way it is validated like
any new schedule and stored like a draft (short id, chat, expiry), so a stale or forged button
is refused. Confirm changes the same task (same id, its runs kept); nothing changes without it.
A proposal also remembers the task's definition when it was made: if the task changed
meanwhile, Confirm is refused rather than overwrite the newer definition.

New targets and a new model are checked when proposed and again on Confirm, by the same use
cases as /target N and /model N (`Targets.choose`, `TaskSetup.check_model`), before anything is
written: a refused target or an unknown model changes nothing. A target the task already has is
kept as it is; only the places named anew are checked.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.drafts import task_name
from application.permissions import Action, Actor
from application.targets import ChosenTargets, TargetError, Targets, named
from application.task_setup import TaskSetup
from application.tasks import pause_task, resume_task, task_in_chat
from application.triggers import link
from core.errors import N_, CronpilotError, NotUnderstoodError, ScheduleError, WordedError
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.engine import Engine, TaskNotFoundError
from scheduler.parsing.model_words import reply_model
from scheduler.parsing.rules import parse_rules
from scheduler.parsing.target_words import HERE, TargetsHow, TargetWords, reply_targets
from scheduler.schedules.schedule import Schedule, TimePassedError, validate
from scheduler.text import clean_text
from storage import changes, task_choices, tasks
from storage.records import Change, Target, Task, TaskKind, TaskState
from storage.tasks import targets_document, targets_from

log = get_logger(__name__)

CHANGE_LIFETIME = timedelta(hours=24)
PREVIEW_RUNS = 3
MAX_PROMPT_CHARS = 4_000
PROPOSE_CHANGE = "propose_change"

# Words that may stand beside a schedule phrase in a reply that only reschedules ("only on
# weekdays at 8am", "make it every day at 7pm instead"). Any other word ("skip weekends", "also
# at 9") means more than a new schedule, and the model reads it instead.
_FILLER = frozenset(
    {
        *("only", "just", "please", "pls", "instead", "rather", "now", "then", "ok", "okay"),
        *("actually", "so", "make", "it", "change", "move", "set", "run", "reschedule"),
        *("schedule", "to", "the", "this", "task", "that", "let's", "lets", "can", "you"),
        *("could", "would", "i", "i'd", "want", "like", "should", "be", "do", "from", "and"),
        *("on", "at"),
    }
)
# Words that make a reply with a schedule a change to the task rather than a new task ("skip
# weekends", "also include the top comment every day at 7").
_CHANGE_WORDS = frozenset(
    {
        *("skip", "also", "instead", "only", "except", "without", "stop", "pause", "resume"),
        *("delete", "add", "remove", "include", "exclude", "shorter", "longer", "more", "less"),
        *("fewer", "don't", "dont", "not", "no", "never", "anymore", "too", "it", "this"),
    }
)
_WORDS = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


class ChangeAction(StrEnum):
    EDIT = "edit"
    PAUSE = "pause"
    RESUME = "resume"
    DELETE = "delete"
    # "run this after #M": the task runs each time task M delivers a result (/after N M).
    AFTER = "after"


# A reply asking for one task after another: "run this after #3", "run it after task 3".
_AFTER = re.compile(
    r"(?:please\s+)?run\s+(?:this|it)(?:\s+task)?\s+after\s+(?:task\s+)?#?(\d{1,18})",
    re.IGNORECASE,
)


class ChangeNotFoundError(CronpilotError):
    """The proposal expired, was already confirmed or cancelled, or belongs to another chat."""


class ChangeOutdatedError(ChangeNotFoundError):
    """The task was changed by something else after the proposal was made."""

    def __init__(self, task_id: int) -> None:
        super().__init__(f"task #{task_id} was changed after this proposal was made")
        self.task_id = task_id


class InvalidChangeError(WordedError):
    """The model's proposal cannot be used as it is; the reason says why."""


class NotATargetError(TargetError):
    """A reply asks to stop posting somewhere the task does not post."""

    def __init__(self, target: str, task_id: int) -> None:
        super().__init__(f"task #{task_id} does not post to {target}", target)
        self.task_id = task_id


class NoTargetsLeftError(TargetError):
    """A reply asks to stop posting to every place the task posts to."""

    def __init__(self, target: str, task_id: int) -> None:
        super().__init__(f"task #{task_id} would post nowhere", target)
        self.task_id = task_id


class ProposedChange(BaseModel):
    """What the model fills in when a reply asks to change the task. Field descriptions are the
    model's instructions."""

    action: Literal["edit", "pause", "resume", "delete"] = Field(
        description="edit to change the schedule and/or what the task does; pause, resume or "
        "delete the task as a whole"
    )
    schedule: str | None = Field(
        default=None,
        description="action=edit, when the user wants a different schedule: the complete new "
        "schedule in plain English, e.g. 'every weekday at 8am' or 'every monday at 19:00'; "
        "null to keep the current schedule",
    )
    cron: str | None = Field(
        default=None,
        description="instead of schedule, when the new schedule is easier as cron: five-field "
        "standard cron 'minute hour day-of-month month day-of-week' in the task's time zone, "
        "0 or 7 = Sunday, 1-5 = Monday to Friday",
    )
    prompt: str | None = Field(
        default=None,
        description="action=edit, when the user wants the task to do or write something "
        "different: the complete new task instructions (not just the difference), keeping "
        "everything they did not ask to change; null to keep the current instructions",
    )
    targets: list[str] | None = Field(
        default=None,
        description="action=edit, when the user wants the results posted somewhere else: the "
        "complete new list of places the results go, each 'here' (this chat), '@username' or "
        "a numeric id of another Telegram chat or channel, or the name of one of the "
        "destinations listed in this function's description; keep the places they did not "
        "ask to drop; null to keep where the results go",
    )
    model: str | None = Field(
        default=None,
        description="action=edit, when the user wants the task to run on another AI model: "
        "one of the model names listed in this function's description, or 'default'; null "
        "to keep the model",
    )


def propose_change_function(
    models: Sequence[str] = (), destinations: Sequence[str] = ()
) -> dict[str, Any]:
    """The function's schema, its description naming the models (MODELS) and destinations
    (DESTINATIONS_CONFIG) there are to choose from."""
    offered = (
        f"Models to choose from: {', '.join(models)}, or default."
        if models
        else "There are no other models to choose from: leave model null."
    )
    places = (
        f"Destinations by name: {', '.join(destinations)}."
        if destinations
        else "There are no named destinations."
    )
    return {
        "type": "function",
        "function": {
            "name": PROPOSE_CHANGE,
            "description": "Propose a change to this task; the user confirms it before it "
            f"takes effect. {offered} {places}",
            "parameters": ProposedChange.model_json_schema(),
        },
    }


@dataclass(frozen=True, slots=True)
class Proposal:
    """A change read from a reply: what to do, and for an edit what changes (None: stays)."""

    action: ChangeAction
    schedule: Schedule | None = None
    prompt: str | None = None
    targets: TargetWords | None = None
    # A name of MODELS as written, or "default".
    model: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeCard:
    """Everything a change card shows: what the task is, what it would become."""

    change_id: str
    message_id: int | None
    task: Task
    action: ChangeAction
    old_schedule: Schedule
    new_schedule: Schedule | None
    old_prompt: str
    new_prompt: str | None
    # For AFTER: the task this one is to run after.
    after_task_id: int | None = None
    # For an edit of where results go: where they went and where they would go.
    old_targets: tuple[Target, ...] | None = None
    new_targets: tuple[Target, ...] | None = None
    # For an edit of the model: the stored choices (None: the default, LLM_MODEL).
    old_model: str | None = None
    new_model: str | None = None
    changes_model: bool = False

    @property
    def schedule(self) -> Schedule:
        return self.new_schedule or self.old_schedule

    def next_runs(self, now: datetime) -> list[datetime]:
        return self.schedule.next_runs(now, PREVIEW_RUNS)


@dataclass(frozen=True, slots=True)
class AppliedChange:
    action: ChangeAction
    task: Task


def _definition(schedule: Schedule, prompt: str) -> dict[str, Any]:
    return {
        "prompt": prompt,
        "kind": schedule.kind.value,
        "timezone": schedule.timezone,
        "cron": schedule.cron,
        "run_at": schedule.run_at.isoformat() if schedule.run_at else None,
        "every_seconds": schedule.every_seconds,
    }


def _schedule_from(values: dict[str, Any]) -> Schedule:
    run_at = values.get("run_at")
    return Schedule(
        kind=TaskKind(values["kind"]),
        timezone=str(values["timezone"]),
        cron=values.get("cron"),
        run_at=datetime.fromisoformat(run_at) if run_at else None,
        every_seconds=values.get("every_seconds"),
    )


def _same_instants(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Definitions compared with run_at as an instant (a database may spell it differently)."""
    left_at, right_at = left.get("run_at"), right.get("run_at")
    if (left_at is None) != (right_at is None):
        return False
    if left_at is not None and datetime.fromisoformat(str(left_at)) != datetime.fromisoformat(
        str(right_at)
    ):
        return False
    return {k: v for k, v in left.items() if k != "run_at"} == {
        k: v for k, v in right.items() if k != "run_at"
    }


class Changes:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        clock: Clock,
        access: Access,
        *,
        min_interval_seconds: int,
        targets: Targets | None = None,
        setup: TaskSetup | None = None,
    ) -> None:
        self._sessions = sessions
        self._engine = engine
        self._clock = clock
        self._access = access
        self._min_interval_seconds = min_interval_seconds
        # Where results go and which model runs a task: the use cases of /target and /model.
        self._targets = targets
        self._setup = setup

    # --- understanding ----------------------------------------------------------------------

    def schedule_phrase(self, task: Task, text: str) -> Schedule | None:
        """The new schedule when `text` is only a schedule phrase the rules read whole.

        None when it is anything more (the model reads it then). A "once" answer for a
        repeating task ("make it 7pm") is left to the model too: it means a new time of day,
        not a single run. Raises ScheduleError when the schedule is understood but not allowed.
        """
        now = self._clock.now()
        try:
            request = parse_rules(text, now=now, timezone=task.timezone, require_prompt=False)
        except (NotUnderstoodError, ScheduleError, OverflowError):
            return None
        if any(word not in _FILLER for word in _WORDS.findall(request.prompt.lower())):
            return None
        if request.schedule.kind is TaskKind.ONCE and task.kind is not TaskKind.ONCE:
            return None
        return validate(request.schedule, now=now, min_interval_seconds=self._min_interval_seconds)

    def after_phrase(self, text: str) -> int | None:
        """The task a reply asks this one to run after ("run this after #3"), if that is all
        it says."""
        found = _AFTER.fullmatch(text.strip().rstrip(".!"))
        return int(found.group(1)) if found is not None else None

    def targets_phrase(self, text: str) -> TargetWords | None:
        """Where a reply asks the results to go, if that is all it says ("also post this to
        @news", "stop posting to team-slack")."""
        if self._targets is None:
            return None
        return reply_targets(text, self._targets.destination_names)

    def model_phrase(self, text: str) -> str | None:
        """The model a reply asks the task to run on, if that is all it says ("use the fast
        model", "switch to smart"): as written, or "default"."""
        if self._setup is None:
            return None
        return reply_model(text, self._setup.models.names)

    def proposal_function(self) -> dict[str, Any]:
        """`propose_change` as the follow-up model is offered it, naming the models and
        destinations there are."""
        return propose_change_function(
            self._setup.models.names if self._setup is not None else (),
            self._targets.destination_names if self._targets is not None else (),
        )

    def is_new_request(self, task: Task, text: str) -> bool:
        """Whether `text` reads as a whole new task (a schedule and at least two words of
        something to do, none of them a word of change), not as a change to this one."""
        try:
            request = parse_rules(text, now=self._clock.now(), timezone=task.timezone)
        except (NotUnderstoodError, ScheduleError, OverflowError):
            return False
        words = _WORDS.findall(text.lower())
        if any(word in _CHANGE_WORDS for word in words):
            return False
        meaning = [w for w in _WORDS.findall(request.prompt.lower()) if w not in _FILLER]
        return len(meaning) >= 2

    def read_proposal(self, task: Task, arguments: str) -> Proposal:
        """The model's `propose_change` arguments, checked: InvalidChangeError says what is wrong
        (ScheduleError when the new schedule is not allowed). New targets and a new model are
        checked when proposed (`propose`)."""
        try:
            proposal = ProposedChange.model_validate(json.loads(arguments))
        except (json.JSONDecodeError, ValidationError) as error:
            raise InvalidChangeError(
                N_("the proposal could not be read ({kind})"), kind=type(error).__name__
            ) from None
        action = ChangeAction(proposal.action)
        if action is not ChangeAction.EDIT:
            return Proposal(action)
        schedule = self._proposed_schedule(task, proposal)
        prompt = None
        if proposal.prompt is not None and clean_text(proposal.prompt).strip():
            prompt = clean_text(proposal.prompt).strip()[:MAX_PROMPT_CHARS]
            if prompt == task.prompt:
                prompt = None
        if schedule is not None and _definition(schedule, "") == _definition(Schedule.of(task), ""):
            schedule = None
        targets = None
        if proposal.targets is not None:
            places = [place.strip() for place in proposal.targets if place.strip()]
            if not places:
                raise InvalidChangeError(N_("the proposal names no place for the results"))
            targets = TargetWords(TargetsHow.SET, tuple(dict.fromkeys(places)))
        model = (proposal.model or "").strip().lower() or None
        if schedule is None and prompt is None and targets is None and model is None:
            raise InvalidChangeError(N_("the proposal would change nothing"))
        return Proposal(action, schedule, prompt, targets, model)

    def _proposed_schedule(self, task: Task, proposal: ProposedChange) -> Schedule | None:
        now = self._clock.now()
        if proposal.cron and proposal.cron.strip():
            schedule = Schedule(kind=TaskKind.CRON, timezone=task.timezone, cron=proposal.cron)
        elif proposal.schedule and proposal.schedule.strip():
            try:
                schedule = parse_rules(
                    proposal.schedule, now=now, timezone=task.timezone, require_prompt=False
                ).schedule
            except NotUnderstoodError as error:
                raise InvalidChangeError(
                    N_("the new schedule '{schedule}' could not be read: {problem}"),
                    schedule=proposal.schedule,
                    problem=error,
                ) from None
            except OverflowError:
                raise ScheduleError(N_("that date is too far away")) from None
        else:
            return None
        return validate(schedule, now=now, min_interval_seconds=self._min_interval_seconds)

    # --- the card ---------------------------------------------------------------------------

    async def propose(
        self,
        actor: Actor,
        task: Task,
        action: ChangeAction,
        *,
        schedule: Schedule | None = None,
        prompt: str | None = None,
        after: int | None = None,
        targets: TargetWords | None = None,
        model: str | None = None,
        text: str,
    ) -> ChangeCard:
        """Keep the proposal until Confirm or Cancel; nothing about the task changes yet
        (`after`: the task it is to run after, for AFTER; `targets`: where the results are to
        go; `model`: a name of MODELS or "default").

        New targets and a new model are checked now as on Confirm: raises the TargetErrors
        (also NotATargetError, NoTargetsLeftError), UnknownModelError, and InvalidChangeError
        when they are what the task has already."""
        await self._access.require(
            actor, Action.PROPOSE_CHANGE, task.chat_id, missing=TaskNotFoundError(task.id)
        )
        now = self._clock.now()
        payload: dict[str, Any] = {
            "action": action.value,
            "text": text,
            "old": _definition(Schedule.of(task), task.prompt),
            "schedule": _definition(schedule, "") if schedule is not None else None,
            "prompt": prompt,
            "after": after,
        }
        if action is ChangeAction.EDIT:
            payload |= await self._choices(
                actor, task, targets, model, more=schedule is not None or prompt is not None
            )
        async with self._sessions() as session, session.begin():
            change = await changes.add(
                session,
                change_id=secrets.token_urlsafe(6),
                chat_id=task.chat_id,
                task_id=task.id,
                user_id=actor.user_id,
                payload=payload,
                now=now,
                expires_at=now + CHANGE_LIFETIME,
            )
        log.info("change.proposed", task_id=task.id, chat_id=task.chat_id, action=action.value)
        return _card(change, task)

    async def _choices(
        self,
        actor: Actor,
        task: Task,
        targets: TargetWords | None,
        model: str | None,
        *,
        more: bool,
    ) -> dict[str, Any]:
        """The proposal's new targets and model, checked, as the payload keeps them; those
        that are what the task has already are left out. Raises InvalidChangeError when
        nothing at all would change (`more`: the schedule or the prompt changes too)."""
        found: dict[str, Any] = {}
        if targets is not None:
            if self._targets is None:
                raise InvalidChangeError(N_("results cannot be sent elsewhere here"))
            wanted = _wanted(task, targets)
            chosen = await self._targets.choose(actor, task.id, wanted)
            if _keys(chosen.targets) != _keys(task.destinations):
                found["targets"] = [_entry(entry) for entry in wanted]
                found["old_targets"] = [_target_document(t) for t in task.destinations]
                found["new_targets"] = [_target_document(t) for t in chosen.targets]
        if model is not None:
            if self._setup is None:
                raise InvalidChangeError(N_("there are no models to choose from here"))
            stored = await self._setup.check_model(actor, task.id, model)
            if stored != task.model:
                found["model"] = {"old": task.model, "new": stored}
        if not found and not more and (targets is not None or model is not None):
            if targets is not None:
                raise InvalidChangeError(N_("the task already posts exactly there"))
            raise InvalidChangeError(N_("the task already runs on that model"))
        return found

    async def attach_card(self, actor: Actor, change_id: str, message_id: int) -> None:
        """Remember the card's message (the actor just proposed the change and was shown it)."""
        change = await self._checked(actor, Action.PROPOSE_CHANGE, change_id)
        async with self._sessions() as session, session.begin():
            await changes.set_message_id(session, change.id, message_id)

    async def confirm(self, actor: Actor, change_id: str) -> AppliedChange:
        """Apply the proposal to its task. Raises ChangeNotFoundError (also when outdated),
        TaskStateError, ScheduleError (the new time has passed meanwhile)."""
        proposed = await self._checked(actor, Action.CONFIRM_CHANGE, change_id)
        chat_id = proposed.chat_id
        after = proposed.payload.get("after")
        if after is not None:
            # Both tasks must be ones the actor may change (/after asks the same).
            await self._access.task(actor, Action.CHAIN_TASK, int(after))
        # New targets and a new model are checked again, as /target N and /model N check
        # them, before anything is written: a refusal leaves the task as it was.
        chosen = await self._chosen_targets(actor, proposed)
        model = await self._chosen_model(actor, proposed)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            change = await self._live(session, chat_id, change_id)
            task = await task_in_chat(session, chat_id, change.task_id, lock=True)
            if not _same_instants(
                _definition(Schedule.of(task), task.prompt), change.payload["old"]
            ) or _choices_changed(task, change.payload):
                raise ChangeOutdatedError(task.id)
            action = ChangeAction(change.payload["action"])
            changed = await self._apply(session, task, action, change.payload, now)
            if changed is not None and chosen is not None:
                changed = await tasks.set_targets(
                    session, task.id, chosen.targets, thread_id=chosen.thread_id, now=now
                )
            if changed is not None and "model" in change.payload:
                changed = await task_choices.set_model(session, task.id, model, now=now)
            await changes.delete(session, change.id)
        if changed is not None:
            self._engine.arm(changed.next_run_at)
        log.info("change.confirmed", task_id=task.id, chat_id=chat_id, action=action.value)
        return AppliedChange(action, changed or task)

    async def _chosen_targets(self, actor: Actor, change: Change) -> ChosenTargets | None:
        entries = change.payload.get("targets")
        if entries is None:
            return None
        if self._targets is None:
            raise ChangeNotFoundError("results cannot be sent elsewhere here")
        return await self._targets.choose(actor, change.task_id, [_unpacked(e) for e in entries])

    async def _chosen_model(self, actor: Actor, change: Change) -> str | None:
        model = change.payload.get("model")
        if model is None:
            return None
        if self._setup is None:
            raise ChangeNotFoundError("there are no models to choose from here")
        return await self._setup.check_model(actor, change.task_id, model["new"])

    async def _apply(
        self,
        session: AsyncSession,
        task: Task,
        action: ChangeAction,
        payload: dict[str, Any],
        now: datetime,
    ) -> Task | None:
        if action is ChangeAction.DELETE:
            await tasks.delete(session, task.id)
            return None
        if action is ChangeAction.PAUSE:
            return await pause_task(session, task, now=now)
        if action is ChangeAction.RESUME:
            return await resume_task(session, task, now=now)
        if action is ChangeAction.AFTER:
            return await link(session, task, int(payload["after"]), always=False, now=now)
        if not payload.get("schedule") and not payload.get("prompt"):
            # Only where its results go or its model: the definition stays as it is.
            return task
        schedule = (
            _schedule_from(payload["schedule"]) if payload.get("schedule") else Schedule.of(task)
        )
        schedule = validate(schedule, now=now, min_interval_seconds=self._min_interval_seconds)
        prompt = str(payload.get("prompt") or task.prompt)
        next_run = schedule.next_after(now)
        if next_run is None:
            raise TimePassedError(schedule.run_at or now, schedule.timezone)
        edited = await tasks.update_definition(
            session,
            task.id,
            name=task_name(prompt),
            prompt=prompt,
            kind=schedule.kind,
            cron=schedule.cron,
            run_at=schedule.run_at,
            every_seconds=schedule.every_seconds,
            timezone=schedule.timezone,
            next_run_at=next_run,
            now=now,
        )
        if edited is not None and task.state is TaskState.PAUSED:
            # A paused task stays paused: changing it is not resuming it.
            edited = await tasks.set_state(
                session, task.id, TaskState.PAUSED, next_run_at=None, now=now
            )
        return edited

    async def cancel(self, actor: Actor, change_id: str) -> ChangeCard:
        chat_id = (await self._checked(actor, Action.CANCEL_CHANGE, change_id)).chat_id
        async with self._sessions() as session, session.begin():
            change = await self._live(session, chat_id, change_id)
            task = await tasks.get(session, change.task_id)
            await changes.delete(session, change.id)
        if task is None:
            raise TaskNotFoundError(change.task_id)
        return _card(change, task)

    async def purge_expired(self) -> int:
        async with self._sessions() as session, session.begin():
            return await changes.delete_expired(session, now=self._clock.now())

    async def _checked(self, actor: Actor, action: Action, change_id: str) -> Change:
        """The proposal, when `actor` may do `action` to it; one they may not see is closed."""
        async with self._sessions() as session:
            change = await changes.get(session, change_id)
        closed = ChangeNotFoundError("this change is no longer open")
        if change is None:
            self._access.require_allowed(actor, action)
            raise closed
        await self._access.require(actor, action, change.chat_id, missing=closed)
        return change

    async def _live(self, session: AsyncSession, chat_id: int, change_id: str) -> Change:
        change = await changes.get(session, change_id)
        if change is None or change.chat_id != chat_id:
            raise ChangeNotFoundError("this change is no longer open")
        if change.expires_at <= self._clock.now():
            raise ChangeNotFoundError("this change expired")
        return change


def _card(change: Change, task: Task) -> ChangeCard:
    payload = change.payload
    old = payload["old"]
    return ChangeCard(
        change_id=change.id,
        message_id=change.message_id,
        task=task,
        action=ChangeAction(payload["action"]),
        old_schedule=_schedule_from(old),
        new_schedule=_schedule_from(payload["schedule"]) if payload.get("schedule") else None,
        old_prompt=str(old["prompt"]),
        new_prompt=payload.get("prompt"),
        after_task_id=payload.get("after"),
        old_targets=_targets_of(payload.get("old_targets")),
        new_targets=_targets_of(payload.get("new_targets")),
        old_model=(payload.get("model") or {}).get("old"),
        new_model=(payload.get("model") or {}).get("new"),
        changes_model="model" in payload,
    )


def _keys(targets: Sequence[Target]) -> list[str]:
    return [target.key for target in targets]


def _wanted(task: Task, asked: TargetWords) -> list[Target | str]:
    """The task's places after `asked`: the targets it has that stay (as they are) and the
    places named anew (as written, to be checked)."""
    current = list(task.destinations)
    if asked.how is TargetsHow.REMOVE:
        gone = set()
        for word in asked.words:
            target = named(task, word)
            if target is None:
                raise NotATargetError(word, task.id)
            gone.add(target.key)
        left: list[Target | str] = [target for target in current if target.key not in gone]
        if not left:
            raise NoTargetsLeftError(asked.words[0], task.id)
        return left
    fresh = [named(task, word) or word for word in asked.words]
    if asked.how is TargetsHow.ADD:
        return [*current, *fresh]
    return fresh


def _target_document(target: Target) -> dict[str, Any]:
    return (targets_document([target]) or [{"kind": target.kind.value}])[0]


def _entry(entry: Target | str) -> dict[str, Any]:
    """A place as a proposal keeps it: a target the task has, or a word to check on Confirm."""
    if isinstance(entry, Target):
        return {"keep": _target_document(entry)}
    return {"word": HERE if entry.strip().lower() == HERE else entry}


def _unpacked(entry: dict[str, Any]) -> Target | str:
    if "keep" in entry:
        [target] = targets_from([entry["keep"]])
        return target
    return str(entry["word"])


def _targets_of(documents: Any) -> tuple[Target, ...] | None:
    return targets_from(documents) if documents is not None else None


def _choices_changed(task: Task, payload: dict[str, Any]) -> bool:
    """Whether the task's targets or model changed since the proposal that changes them."""
    old_targets = _targets_of(payload.get("old_targets"))
    if old_targets is not None and _keys(old_targets) != _keys(task.destinations):
        return True
    model = payload.get("model")
    return model is not None and model.get("old") != task.model

"""Drafts: a request understood and kept until the user confirms it as a task (or an edit)."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.chats import zone_of
from application.errors import (
    DraftExpiredError,
    DraftNotFoundError,
    NoModelError,
    ParseBudgetSpentError,
)
from application.estimates import CostEstimates
from application.permissions import Action, Actor
from application.records import ApplicationSettings, Card, Preview
from application.task_setup import ModelOffer
from application.tasks import check_quota, task_in_chat
from application.usage import Ledger, charged_to
from core.errors import N_, NotUnderstoodError
from core.languages import ENGLISH, chat_language
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.documents import DocumentText, Picture
from scheduler.engine import Engine, TaskNotFoundError
from scheduler.parsing.model_words import DEFAULT, request_model
from scheduler.parsing.reminders import task_mode
from scheduler.parsing.request import MAX_REQUEST_CHARS, RequestParser
from scheduler.schedules.schedule import (
    ParsedRequest,
    Schedule,
    TimePassedError,
    canonical_zone,
    validate,
)
from scheduler.text import clean_text
from storage import attachments, chats, drafts, task_choices, tasks
from storage.records import Attachment, Chat, Draft, NewTask, Task, TaskKind, TaskMode

log = get_logger(__name__)

DRAFT_LIFETIME = timedelta(hours=24)
NAME_CHARS = 60
PREVIEW_RUNS = 3


def task_name(prompt: str) -> str:
    """A short name from the prompt: its first line, cut at a word under NAME_CHARS."""
    first_line = prompt.strip().splitlines()[0] if prompt.strip() else "Task"
    if len(first_line) <= NAME_CHARS:
        return first_line
    cut = first_line[: NAME_CHARS - 1].rsplit(" ", 1)[0]
    return (cut or first_line[: NAME_CHARS - 1]) + "…"


class Drafts:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: Engine,
        parser: RequestParser,
        clock: Clock,
        settings: ApplicationSettings,
        access: Access,
        ledger: Ledger | None = None,
        estimates: CostEstimates | None = None,
    ) -> None:
        self._estimates = estimates
        self._sessions = sessions
        self._engine = engine
        self._parser = parser
        self._clock = clock
        self._settings = settings
        self._access = access
        self._ledger = ledger
        self._models = ModelOffer(settings.default_model, settings.models)

    async def _estimated(self, card: Card, draft: Draft) -> Card:
        """The card with the model its runs will ask (the one chosen on it, else that of the
        task it edits, else the default) and what its task will cost on that model (nothing
        for a reminder)."""
        choice = await self._model_choice(draft)
        offer = self._models
        card = dataclasses.replace(
            card,
            models=tuple(offer.shown(each) for each in offer.choices),
            model_index=offer.choices.index(choice) if choice in offer.choices else 0,
        )
        if self._estimates is None:
            return card
        estimate = await self._estimates.estimate(
            draft.chat_id,
            card.schedule,
            choice or self._settings.default_model,
            task_id=card.task_id,
            mode=card.mode,
        )
        return dataclasses.replace(card, estimate=estimate)

    async def _model_choice(self, draft: Draft) -> str | None:
        """The model chosen for the draft's task (None: the default): on the card, else the
        one the task it edits runs on."""
        if _MODEL in draft.payload:
            return _model_of(draft.payload, self._models)
        if draft.task_id is None:
            return None
        async with self._sessions() as session:
            task = await tasks.get(session, draft.task_id)
        return task.model if task is not None and task.model in self._models.names else None

    async def create(
        self,
        actor: Actor,
        chat_id: int,
        text: str,
        *,
        task_id: int | None = None,
        attachment: DocumentText | Picture | None = None,
        carry_from: str | None = None,
        mode: TaskMode | None = None,
        thread_id: int | None = None,
    ) -> Card:
        """Understand `text` and keep it as a draft awaiting Confirm (of a new task in the chat,
        or of a new definition of its task `task_id`), with the document `attachment` sent
        with it and those of the draft `carry_from` (the card it corrects after Edit). A
        picture sent with it is read with the words by the parser's model, if it sees. A
        reminder or an AI task as `mode` says, else as the text reads. A task made in a forum
        topic (`thread_id`) posts there.

        Raises NotUnderstoodError / ScheduleError (the user is told why), QuotaExceededError,
        or TaskNotFoundError when editing a task of another chat.
        """
        chat = await self._access.chat(actor, _making(task_id), chat_id)
        now = self._clock.now()
        text = clean_text(text)
        async with self._sessions() as session:
            if task_id is not None:
                await task_in_chat(session, chat.id, task_id)
            else:
                await check_quota(session, chat.id, self._settings.max_tasks_per_chat)
        # "… with the smart model": the model is the task's, its words are not the prompt's.
        model = request_model(text, self._settings.models)
        request = await self._parse(
            model.rest if model is not None else text,
            payer=chat.id,
            now=now,
            timezone=zone_of(chat, self._settings),
            language=chat_language(chat.language, chat.user_language),
            picture=attachment if isinstance(attachment, Picture) else None,
        )
        document = attachment if isinstance(attachment, DocumentText) else None
        payload = _payload(request, text)
        if model is not None and model.known:
            payload[_MODEL] = None if model.name == DEFAULT else model.name
        elif model is not None:
            payload["model_unknown"] = model.name
        if mode is not None:
            payload["mode"] = mode.value
        self._require_model_for(TaskMode(payload["mode"]))
        async with self._sessions() as session, session.begin():
            draft = await drafts.add(
                session,
                draft_id=secrets.token_urlsafe(6),
                chat_id=chat.id,
                user_id=actor.user_id,
                payload=payload | _thread(thread_id),
                now=now,
                expires_at=now + DRAFT_LIFETIME,
                task_id=task_id,
            )
            kept = await keep_attachments(
                session, draft, attachment=document, carry_from=carry_from, now=now
            )
        return await self._estimated(self._card(draft, now, kept), draft)

    async def create_explicit(
        self,
        actor: Actor,
        chat_id: int,
        *,
        prompt: str,
        schedule: Schedule,
        task_id: int | None = None,
        mode: TaskMode | None = None,
    ) -> Card:
        """Keep an already structured schedule (the API's cron / run_at / every_seconds) as a
        draft, checked exactly as a parsed one is when confirmed; its `mode` as given, else as
        the prompt reads.

        Raises NotUnderstoodError for an empty prompt, ScheduleError for a schedule that is not
        allowed, QuotaExceededError, or TaskNotFoundError when editing a task of another chat.
        """
        chat = await self._access.chat(actor, _making(task_id), chat_id)
        now = self._clock.now()
        prompt = clean_text(prompt)
        if not prompt:
            raise NotUnderstoodError(N_("the task has no prompt: say what should be done"))
        if len(prompt) > MAX_REQUEST_CHARS:
            raise NotUnderstoodError(
                N_("that is {count} characters long; keep a task under {limit}"),
                count=len(prompt),
                limit=MAX_REQUEST_CHARS,
            )
        schedule = validate(
            schedule, now=now, min_interval_seconds=self._settings.min_interval_seconds
        )
        mode = mode or task_mode(prompt)
        self._require_model_for(mode)
        payload = _schedule_payload(schedule, prompt, text=prompt, source="api")
        payload["mode"] = mode.value
        async with self._sessions() as session:
            if task_id is not None:
                await task_in_chat(session, chat.id, task_id)
            else:
                await check_quota(session, chat.id, self._settings.max_tasks_per_chat)
        async with self._sessions() as session, session.begin():
            draft = await drafts.add(
                session,
                draft_id=secrets.token_urlsafe(6),
                chat_id=chat.id,
                user_id=actor.user_id,
                payload=payload,
                now=now,
                expires_at=now + DRAFT_LIFETIME,
                task_id=task_id,
            )
        return await self._estimated(self._card(draft, now), draft)

    async def understand(
        self, actor: Actor, text: str, *, chat_id: int | None = None, timezone: str | None = None
    ) -> Preview:
        """What a request would be understood as, without keeping anything (the API's
        /parse and the Mini App's live preview), in `timezone`, else the chat's zone. A model
        call goes on the chat's bill; with no chat named, on the actor's own chat's (their
        private chat, from outside any chat)."""
        payer = chat_id if chat_id is not None else actor.home_chat_id
        chat: Chat | None
        if chat_id is not None:
            chat = await self._access.chat(actor, Action.PREVIEW_REQUEST, chat_id)
        else:
            await self._access.require(actor, Action.PREVIEW_REQUEST, payer)
            async with self._sessions() as session:
                chat = await chats.get(session, payer)
        if timezone is not None:
            zone = canonical_zone(timezone)
        elif chat is not None:
            zone = zone_of(chat, self._settings)
        else:
            zone = self._settings.default_timezone
        now = self._clock.now()
        request = await self._parse(text, payer=payer, now=now, timezone=zone)
        return Preview(
            request=request,
            description=request.schedule.describe(),
            next_runs=tuple(request.schedule.next_runs(now, PREVIEW_RUNS)),
        )

    async def _parse(
        self,
        text: str,
        *,
        payer: int,
        now: datetime,
        timezone: str,
        language: str = ENGLISH,
        picture: Picture | None = None,
    ) -> ParsedRequest:
        """Rules first (unless there is a picture, which only a model can read); the model (on
        `payer`'s bill) only while `payer` has budget left."""

        async def budget_left(declined: NotUnderstoodError) -> None:
            if self._ledger is not None and await self._ledger.reached(payer) is not None:
                raise ParseBudgetSpentError from declined

        with charged_to(payer):
            if picture is not None:
                return await self._parser.parse_picture(
                    text,
                    picture,
                    now=now,
                    timezone=timezone,
                    language=language,
                    before_model=budget_left,
                )
            return await self._parser.parse(
                text, now=now, timezone=timezone, language=language, before_model=budget_left
            )

    async def attach_card(self, actor: Actor, draft_id: str, message_id: int) -> None:
        """Remember the card's message (the actor just made the draft and was shown it)."""
        draft = await checked_draft(self._sessions, self._access, actor, None, draft_id)
        async with self._sessions() as session, session.begin():
            await drafts.set_message_id(session, draft.id, message_id)

    async def attach_edit_prompt(self, actor: Actor, draft_id: str, message_id: int) -> None:
        """Remember the message that asks for the corrected request after Edit."""
        draft = await checked_draft(
            self._sessions, self._access, actor, Action.CORRECT_DRAFT, draft_id
        )
        async with self._sessions() as session, session.begin():
            await drafts.set_edit_prompt(session, draft.id, message_id)

    async def answering_edit_prompt(
        self, actor: Actor, chat_id: int, message_id: int
    ) -> str | None:
        """The id of the draft whose Edit prompt is that message, if it still exists."""
        await self._access.require(actor, Action.SHOW_DRAFT, chat_id)
        async with self._sessions() as session:
            draft = await drafts.find_by_edit_prompt(session, chat_id, message_id)
        return draft.id if draft is not None else None

    async def get(self, actor: Actor, draft_id: str) -> Card:
        found = await checked_draft(
            self._sessions, self._access, actor, Action.SHOW_DRAFT, draft_id
        )
        async with self._sessions() as session:
            draft = await self._live_draft(session, found.chat_id, draft_id)
        return await self._estimated(self._card(draft, self._clock.now()), draft)

    async def confirm(self, actor: Actor, draft_id: str) -> Task:
        """Turn the draft into a task (or apply it to the task it edits)."""
        found = await checked_draft(
            self._sessions, self._access, actor, Action.CONFIRM_DRAFT, draft_id
        )
        chat_id, user_id = found.chat_id, actor.user_id
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            # Locked: two quick presses of Confirm make one task, not two.
            draft = await self._live_draft(session, chat_id, draft_id, lock=True)
            schedule = validate(
                _schedule_from_payload(draft.payload),
                now=now,
                min_interval_seconds=self._settings.min_interval_seconds,
            )
            prompt = str(draft.payload["prompt"])
            mode = _mode(draft.payload)
            self._require_model_for(mode)
            # A model that MODELS no longer names is refused, not silently replaced.
            chosen = self._models.resolve(draft.payload.get(_MODEL))
            next_run = _first_run(schedule, now)
            if draft.task_id is None:
                # The count and the insert under the chat's lock: concurrent Confirms of
                # different drafts cannot all see room under the quota.
                await chats.lock(session, chat_id)
                await check_quota(session, chat_id, self._settings.max_tasks_per_chat)
                task = await tasks.add(
                    session,
                    NewTask(
                        chat_id=chat_id,
                        created_by=user_id,
                        name=task_name(prompt),
                        prompt=prompt,
                        kind=schedule.kind,
                        timezone=schedule.timezone,
                        next_run_at=next_run,
                        cron=schedule.cron,
                        run_at=schedule.run_at,
                        every_seconds=schedule.every_seconds,
                        mode=mode,
                        thread_id=_thread_of(draft.payload),
                        model=chosen,
                    ),
                    now=now,
                )
            else:
                edited = await tasks.update_definition(
                    session,
                    draft.task_id,
                    name=task_name(prompt),
                    prompt=prompt,
                    kind=schedule.kind,
                    cron=schedule.cron,
                    run_at=schedule.run_at,
                    every_seconds=schedule.every_seconds,
                    timezone=schedule.timezone,
                    next_run_at=next_run,
                    now=now,
                    mode=mode,
                )
                if edited is None:
                    raise TaskNotFoundError(draft.task_id)
                task = edited
                if _MODEL in draft.payload:  # chosen on the card; else the task keeps its own
                    rechosen = await task_choices.set_model(session, task.id, chosen, now=now)
                    assert rechosen is not None
                    task = rechosen
            await attachments.move_to_task(session, draft.id, task.id)
            if not await drafts.delete(session, draft.id):
                raise DraftNotFoundError(draft.id)
        self._engine.arm(task.next_run_at)
        log.info(
            "task.created" if draft.task_id is None else "task.edited",
            task_id=task.id,
            chat_id=chat_id,
            kind=task.kind.value,
            next_run_at=task.next_run_at.isoformat() if task.next_run_at else None,
        )
        return task

    async def switch_mode(self, actor: Actor, draft_id: str) -> Card:
        """The card's one button between "let the AI do it" and "just remind me": the draft's
        task will ask the model, or post its words as a reminder."""
        found = await checked_draft(
            self._sessions, self._access, actor, Action.CORRECT_DRAFT, draft_id
        )
        async with self._sessions() as session, session.begin():
            draft = await self._live_draft(session, found.chat_id, draft_id, lock=True)
            mode = TaskMode.AI if _mode(draft.payload) is TaskMode.REMINDER else TaskMode.REMINDER
            self._require_model_for(mode)
            await drafts.set_payload_value(session, draft.id, "mode", mode.value)
            switched = await self._live_draft(session, found.chat_id, draft_id)
        return await self._estimated(self._card(switched, self._clock.now()), switched)

    async def set_model(self, actor: Actor, draft_id: str, name: str | None) -> Card:
        """The card's model button (and the words' "with the smart model"): the draft's task
        will run on the model `name` of MODELS (None, or the default's own name: on the
        default). Raises UnknownModelError for a name MODELS does not have."""
        found = await checked_draft(
            self._sessions, self._access, actor, Action.CORRECT_DRAFT, draft_id
        )
        chosen = self._models.resolve(name)
        async with self._sessions() as session, session.begin():
            draft = await self._live_draft(session, found.chat_id, draft_id, lock=True)
            await drafts.set_payload_value(session, draft.id, _MODEL, chosen)
            changed = await self._live_draft(session, found.chat_id, draft_id)
        log.info("draft.model_set", draft_id=draft_id, model=chosen, door=actor.door.value)
        return await self._estimated(self._card(changed, self._clock.now()), changed)

    def _require_model_for(self, mode: TaskMode) -> None:
        """NoModelError when the bot has no model and the task would need one."""
        if mode is TaskMode.AI and not self._settings.has_model:
            raise NoModelError

    def _card(self, draft: Draft, now: datetime, kept: Sequence[Attachment] = ()) -> Card:
        card = replace(
            _card(draft, now, kept),
            model_available=self._settings.has_model,
            unknown_model=draft.payload.get("model_unknown"),
            model_names=self._settings.models,
        )
        if _MODEL not in draft.payload:
            return card
        # The model the request chose: the default first, then MODELS, as a card offers them.
        offer = self._models
        chosen = _model_of(draft.payload, offer)
        return replace(
            card,
            models=tuple(offer.shown(each) for each in offer.choices),
            model_index=offer.choices.index(chosen) if chosen in offer.choices else 0,
        )

    async def cancel(self, actor: Actor, draft_id: str) -> Card:
        found = await checked_draft(
            self._sessions, self._access, actor, Action.CANCEL_DRAFT, draft_id
        )
        async with self._sessions() as session, session.begin():
            draft = await self._live_draft(session, found.chat_id, draft_id)
            await drafts.delete(session, draft.id)
        return self._card(draft, self._clock.now())

    async def cancel_open(self, actor: Actor, chat_id: int) -> list[Card]:
        """/cancel: drop every request the actor still has open in this chat."""
        await self._access.require(actor, Action.CANCEL_DRAFT, chat_id)
        now = self._clock.now()
        async with self._sessions() as session, session.begin():
            found = await drafts.list_open(session, chat_id=chat_id, user_id=actor.user_id, now=now)
            for draft in found:
                await drafts.delete(session, draft.id)
        return [self._card(draft, now) for draft in found]

    async def purge_expired(self) -> int:
        async with self._sessions() as session, session.begin():
            return await drafts.delete_expired(session, now=self._clock.now())

    async def _live_draft(
        self, session: AsyncSession, chat_id: int, draft_id: str, *, lock: bool = False
    ) -> Draft:
        draft = await drafts.get(session, draft_id, for_update=lock)
        if draft is None or draft.chat_id != chat_id:
            raise DraftNotFoundError(draft_id)
        if draft.expires_at <= self._clock.now():
            raise DraftExpiredError(draft_id, DRAFT_LIFETIME)
        return draft


async def checked_draft(
    sessions: async_sessionmaker[AsyncSession],
    access: Access,
    actor: Actor,
    action: Action | None,
    draft_id: str,
) -> Draft:
    """The draft, when `actor` may do `action` to it (None: what made it, a new task or an
    edit); one they may not see is reported as not open. Its expiry is the caller's to check."""
    async with sessions() as session:
        draft = await drafts.get(session, draft_id)
    if draft is None:
        access.require_allowed(actor, action or Action.CREATE_TASK)
        raise DraftNotFoundError(draft_id)
    await access.require(
        actor,
        action or _making(draft.task_id),
        draft.chat_id,
        missing=DraftNotFoundError(draft_id),
    )
    return draft


def _making(task_id: int | None) -> Action:
    """What a draft is for: a new task, or a new definition of task `task_id`."""
    return Action.CREATE_TASK if task_id is None else Action.EDIT_TASK


async def keep_attachments(
    session: AsyncSession,
    draft: Draft,
    *,
    attachment: DocumentText | None,
    carry_from: str | None,
    now: datetime,
) -> Sequence[Attachment]:
    """The draft's documents: those of the draft it replaces, and the one sent with it."""
    if carry_from is not None:
        await attachments.move_to_draft(session, carry_from, draft.id)
    if attachment is not None:
        await attachments.add_to_draft(
            session,
            chat_id=draft.chat_id,
            draft_id=draft.id,
            name=attachment.name,
            media_type=attachment.media_type,
            text=attachment.text,
            now=now,
        )
    return await attachments.of_draft(session, draft.id)


def _card(draft: Draft, now: datetime, kept: Sequence[Attachment] = ()) -> Card:
    schedule = _schedule_from_payload(draft.payload)
    prompt = str(draft.payload["prompt"])
    return Card(
        draft_id=draft.id,
        task_id=draft.task_id,
        message_id=draft.message_id,
        prompt=prompt,
        name=task_name(prompt),
        schedule=schedule,
        description=schedule.describe(),
        next_runs=tuple(schedule.next_runs(now, PREVIEW_RUNS)),
        source=str(draft.payload.get("source", "rules")),
        corrections=tuple(
            (str(typed), str(meant)) for typed, meant in draft.payload.get("corrections", ())
        ),
        attachments=tuple((found.name, found.size) for found in kept),
        mode=_mode(draft.payload),
    )


# The payload's key for the model chosen on the card: absent, none chosen (a new task runs on
# the default, an edited one keeps its own); None, the default; else a name of MODELS.
_MODEL = "model"


def _model_of(payload: dict[str, Any], offer: ModelOffer) -> str | None:
    """The model chosen on the draft, if MODELS still names it (else the default)."""
    value = payload.get(_MODEL)
    return value if isinstance(value, str) and value in offer.names else None


def _mode(payload: dict[str, Any]) -> TaskMode:
    """The draft's mode; drafts kept before modes existed are AI tasks."""
    try:
        return TaskMode(payload.get("mode", TaskMode.AI.value))
    except ValueError:
        return TaskMode.AI


def _payload(request: ParsedRequest, text: str) -> dict[str, Any]:
    payload = _schedule_payload(request.schedule, request.prompt, text=text, source=request.source)
    # Misspellings read as schedule words, shown on the card.
    payload["corrections"] = [list(pair) for pair in request.corrections]
    payload["mode"] = task_mode(request.prompt).value
    return payload


def _thread(thread_id: int | None) -> dict[str, Any]:
    return {} if thread_id is None else {"thread_id": thread_id}


def _thread_of(payload: dict[str, Any]) -> int | None:
    thread_id = payload.get("thread_id")
    return thread_id if isinstance(thread_id, int) else None


def _schedule_payload(schedule: Schedule, prompt: str, *, text: str, source: str) -> dict[str, Any]:
    return {
        "text": text,
        "prompt": prompt,
        "source": source,
        "kind": schedule.kind.value,
        "timezone": schedule.timezone,
        "cron": schedule.cron,
        "run_at": schedule.run_at.isoformat() if schedule.run_at else None,
        "every_seconds": schedule.every_seconds,
    }


def _schedule_from_payload(payload: dict[str, Any]) -> Schedule:
    run_at = payload.get("run_at")
    return Schedule(
        kind=TaskKind(payload["kind"]),
        timezone=str(payload["timezone"]),
        cron=payload.get("cron"),
        run_at=datetime.fromisoformat(run_at) if run_at else None,
        every_seconds=payload.get("every_seconds"),
    )


def _first_run(schedule: Schedule, now: datetime) -> datetime:
    first = schedule.next_after(now)
    if first is None:
        raise TimePassedError(schedule.run_at or now, schedule.timezone)
    return first

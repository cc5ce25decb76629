"""The application layer: the use cases every front door calls, returning frozen records.

A front door holds the `UseCases` and calls their subjects: `chats`, `languages`, `drafts`,
`edits`, `tasks`, `shapes`, `runs`, `changes`, `conversations`, `usage`, `tokens`, `triggers`,
`voice`, `attachments`, `targets`. Every use case that reads or changes a task, a draft, a token
or a chat setting takes the `Actor` (who, where, through which door) and checks what it needs
(`application.permissions`) through `access`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from application.access import Access
from application.attachments import Attachments
from application.changes import Changes
from application.chats import Chats
from application.conversations import Conversations
from application.draft_edits import DraftEdits
from application.drafts import Drafts
from application.estimates import CostEstimates, Prices
from application.languages import Languages
from application.records import ApplicationSettings
from application.runs import Runs
from application.shapes import Shapes
from application.targets import TargetChats, Targets
from application.task_setup import ModelOffer, TaskSetup
from application.tasks import Tasks
from application.tokens import ApiTokens
from application.triggers import Triggers, TriggerSettings
from application.usage import Ledger, UsageReports
from application.voice import Voice
from scheduler.clock import Clock
from scheduler.destinations import Destinations
from scheduler.engine import Engine
from scheduler.parsing.request import RequestParser
from scheduler.runner.runner import TaskRunner
from scheduler.runner.tools.registry import Toolsets
from scheduler.transcription import Transcriber


@dataclass(frozen=True, slots=True)
class UseCases:
    chats: Chats
    languages: Languages
    drafts: Drafts
    edits: DraftEdits
    tasks: Tasks
    runs: Runs
    changes: Changes
    conversations: Conversations
    usage: UsageReports
    tokens: ApiTokens
    # A task's model, tools and monthly cap.
    setup: TaskSetup
    voice: Voice
    attachments: Attachments
    # Reminder or AI task, Snooze and Done, skipping the next run.
    shapes: Shapes
    targets: Targets
    # Trigger URLs, one task after another, quiet when nothing changed.
    triggers: Triggers
    # Who holds which right where; the doors ask it only whether a user is on ALLOWED_USERS.
    access: Access
    # The clock the use cases keep time by; a door asks it for now (a test's clock reaches all).
    clock: Clock


def build_use_cases(
    sessions: async_sessionmaker[AsyncSession],
    engine: Engine,
    parser: RequestParser,
    clock: Clock,
    settings: ApplicationSettings,
    runner: TaskRunner,
    access: Access,
    *,
    ledger: Ledger | None = None,
    toolsets: Toolsets | None = None,
    prices: Prices | None = None,
    transcriber: Transcriber | None = None,
    target_chats: TargetChats | None = None,
    destinations: Destinations | None = None,
) -> UseCases:
    targets = Targets(sessions, clock, access, target_chats, destinations)
    estimates = CostEstimates(sessions, clock, prices) if prices is not None else None
    setup = TaskSetup(
        sessions,
        clock,
        access,
        models=ModelOffer(settings.default_model, settings.models),
        toolsets=toolsets if toolsets is not None else Toolsets(),
        estimates=estimates,
    )
    changes = Changes(
        sessions,
        engine,
        clock,
        access,
        min_interval_seconds=settings.min_interval_seconds,
        targets=targets,
        setup=setup,
    )
    ledger = ledger or Ledger(sessions, clock, settings.monthly_budget_usd)
    return UseCases(
        chats=Chats(sessions, clock, settings, access),
        languages=Languages(sessions, access),
        drafts=Drafts(
            sessions,
            engine,
            parser,
            clock,
            settings,
            access,
            ledger,
            estimates=estimates,
        ),
        edits=DraftEdits(sessions, clock, access),
        tasks=Tasks(sessions, engine, clock, access),
        runs=Runs(sessions, engine, access, max_payload_bytes=settings.trigger_max_bytes),
        changes=changes,
        conversations=Conversations(
            sessions,
            runner,
            changes,
            clock,
            access,
            ledger,
            owner=engine.worker_id,
            has_model=settings.has_model,
        ),
        usage=UsageReports(sessions, clock, settings.monthly_budget_usd, access),
        tokens=ApiTokens(sessions, clock, access),
        setup=setup,
        voice=Voice(
            transcriber,
            access,
            ledger,
            model=settings.transcription_model,
            max_seconds=settings.voice_max_seconds,
        ),
        attachments=Attachments(sessions, access, max_bytes=settings.attachment_max_bytes),
        shapes=Shapes(sessions, engine, clock, access, has_model=settings.has_model),
        targets=targets,
        triggers=Triggers(
            sessions,
            engine,
            clock,
            access,
            TriggerSettings(settings.public_url, settings.trigger_per_minute),
        ),
        access=access,
        clock=clock,
    )

"""The operator hears first: checks of how the bot is doing, and the incidents they open.

The same checks serve two doors. `cronpilot doctor` prints them for a person at a terminal, and
with OPERATOR_CHAT_ID set every replica `review`s them every few seconds: a problem found opens
an incident (one per key, shared by the replicas through the `incidents` table), the operator
is told once when it starts and once when it resolves, and at most once an hour each. The
windows and thresholds are settings, and time is the clock's, so tests move through them.

The checks:
- model errors: more than `model_error_ratio` of a model's runs in the last
  `model_window_seconds` failed for the model's or its provider's fault (one incident per model);
- the database unreachable for longer than `database_outage_seconds`: nothing can be recorded
  while it lasts, so it is told once it is back, with how long it was away;
- a replica that stopped heartbeating (and that no process started since replaces);
- tasks that should have run and did not: due more than `overdue_seconds` ago and not claimed,
  or recorded as missed in the last window;
- deliveries failing: results owed to a chat for longer than `delivery_seconds`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.logs import get_logger
from core.reasons import MODEL_FAILURES
from scheduler.clock import Clock
from storage import incidents, vitals
from storage.incidents import Incident
from storage.retry import describe, unavailable

log = get_logger(__name__)


class CheckKind(StrEnum):
    DATABASE = "database"
    MODEL_ERRORS = "model_errors"
    REPLICAS = "replicas"
    OVERDUE = "overdue"
    DELIVERIES = "deliveries"


@dataclass(frozen=True, slots=True)
class WatchSettings:
    model_window_seconds: float = 900.0
    model_error_ratio: float = 0.2
    # Fewer runs than this in the window say nothing about a model.
    model_min_runs: int = 3
    database_outage_seconds: float = 60.0
    # A worker silent this long is taken for dead (the engine's lease).
    lease_seconds: float = 10.0
    overdue_seconds: float = 300.0
    delivery_seconds: float = 600.0
    # The operator hears of an incident's start and of its end at most once per this.
    repeat_seconds: float = 3600.0


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong: `key` names it across replicas and reviews, `facts` say what it is."""

    key: str
    kind: CheckKind
    facts: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome: fine when it found no problem; `facts` tell what it looked at."""

    kind: CheckKind
    problems: tuple[Problem, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


class OperatorChannel(Protocol):
    """Where the operator is told (the bot's OPERATOR_CHAT_ID)."""

    async def alert(self, incident: Incident) -> int | None:
        """Say an incident started; return its message's id (None if it could not be sent)."""
        ...

    async def resolved(self, incident: Incident) -> None:
        """Say an incident is over (as a reply to its alert)."""
        ...

    async def outage(self, incident: Incident) -> int | None:
        """Say the database was away (the incident is over, its facts say how long)."""
        ...


class Watch:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        settings: WatchSettings,
        *,
        me: str | None = None,
    ) -> None:
        """`me` is this process's worker id, which never counts as a silent replica."""
        self._sessions = sessions
        self._clock = clock
        self._settings = settings
        self._me = me
        # When this process first found the database unreachable, in the outage going on.
        self._down_since: datetime | None = None

    @property
    def settings(self) -> WatchSettings:
        return self._settings

    # --- the checks -------------------------------------------------------------------------

    async def diagnose(self) -> list[Check]:
        """Every check, as of now; when the database cannot be reached, that one alone."""
        now = self._clock.now()
        try:
            async with self._sessions() as session, session.begin():
                return [Check(CheckKind.DATABASE), *await self._checks(session, now)]
        except Exception as error:
            if not unavailable(error):
                raise
            problem = Problem("database", CheckKind.DATABASE, {"error": describe(error)})
            return [Check(CheckKind.DATABASE, (problem,))]

    async def _checks(self, session: AsyncSession, now: datetime) -> list[Check]:
        settings = self._settings
        window = now - timedelta(seconds=settings.model_window_seconds)
        minutes = round(settings.model_window_seconds / 60)
        outcomes = await vitals.model_outcomes(
            session, since=window, failure_codes=[kind.code for kind in MODEL_FAILURES]
        )
        model_problems = tuple(
            Problem(
                f"model:{item.model}",
                CheckKind.MODEL_ERRORS,
                {
                    "model": item.model,
                    "failed": item.failed,
                    "runs": item.runs,
                    "percent": round(100 * item.failed / item.runs),
                    "minutes": minutes,
                },
            )
            for item in outcomes
            if item.runs >= settings.model_min_runs
            and item.failed > settings.model_error_ratio * item.runs
        )
        models = Check(
            CheckKind.MODEL_ERRORS,
            model_problems,
            {"runs": sum(item.runs for item in outcomes), "minutes": minutes},
        )

        alive_since = now - timedelta(seconds=settings.lease_seconds)
        silent = await vitals.silent_workers(session, alive_since=alive_since)
        replicas = Check(
            CheckKind.REPLICAS,
            tuple(
                Problem(
                    f"replica:{worker.id}",
                    CheckKind.REPLICAS,
                    {
                        "worker": worker.id,
                        "silent_since": worker.heartbeat_at.isoformat(),
                        "seconds": round((now - worker.heartbeat_at).total_seconds()),
                    },
                )
                for worker in silent
                if worker.id != self._me
            ),
            {"alive": await vitals.live_workers(session, alive_since=alive_since)},
        )

        overdue_ids = await vitals.overdue_tasks(
            session, due_before=now - timedelta(seconds=settings.overdue_seconds)
        )
        missed = await vitals.missed_runs(session, since=window)
        overdue = Check(
            CheckKind.OVERDUE,
            (
                (
                    Problem(
                        "overdue",
                        CheckKind.OVERDUE,
                        {
                            "overdue": len(overdue_ids),
                            "tasks": ", ".join(f"#{task_id}" for task_id in overdue_ids[:5]),
                            "missed": missed,
                            "minutes": minutes,
                        },
                    ),
                )
                if overdue_ids or missed
                else ()
            ),
        )

        owed = await vitals.owed_since(
            session, finished_before=now - timedelta(seconds=settings.delivery_seconds)
        )
        deliveries = Check(
            CheckKind.DELIVERIES,
            (
                (
                    Problem(
                        "deliveries",
                        CheckKind.DELIVERIES,
                        {
                            "count": owed.count,
                            "chats": ", ".join(str(chat_id) for chat_id in owed.chat_ids),
                            "minutes": round(settings.delivery_seconds / 60),
                        },
                    ),
                )
                if owed.count
                else ()
            ),
        )
        return [models, replicas, overdue, deliveries]

    # --- incidents --------------------------------------------------------------------------

    async def review(self, channel: OperatorChannel) -> list[Check]:
        """Run the checks, open and resolve incidents, and tell the operator what is new."""
        checks = await self.diagnose()
        now = self._clock.now()
        if not checks[0].ok:
            if self._down_since is None:
                self._down_since = now
                log.warning("watch.database_unreachable", **checks[0].problems[0].facts)
            return checks
        if self._down_since is not None:
            since, self._down_since = self._down_since, None
            if (now - since).total_seconds() >= self._settings.database_outage_seconds:
                await self._tell_outage(channel, since, now)
        problems = [problem for check in checks for problem in check.problems]
        try:
            await self._record(problems, now)
            await self._tell(channel, now)
        except Exception as error:
            if not unavailable(error):
                raise
            log.warning("watch.review_postponed", error=describe(error))
        return checks

    async def _record(self, problems: Sequence[Problem], now: datetime) -> None:
        found = {problem.key: problem for problem in problems}
        reopen_since = now - timedelta(seconds=self._settings.repeat_seconds)
        async with self._sessions() as session, session.begin():
            open_now = await incidents.open_keys(session)
            await incidents.resolve(session, [key for key in open_now if key not in found], now=now)
            for problem in found.values():
                if problem.key in open_now:
                    continue
                if await incidents.open_or_reopen(
                    session,
                    key=problem.key,
                    kind=problem.kind.value,
                    facts=problem.facts,
                    now=now,
                    reopen_since=reopen_since,
                ):
                    log.warning("watch.incident_opened", key=problem.key, **problem.facts)

    async def _tell(self, channel: OperatorChannel, now: datetime) -> None:
        told_before = now - timedelta(seconds=self._settings.repeat_seconds)
        async with self._sessions() as session, session.begin():
            alerts = await incidents.claim_alerts(session, now=now)
            endings = await incidents.claim_resolutions(session, now=now, told_before=told_before)
        for incident in alerts:
            message_id = await channel.alert(incident)
            async with self._sessions() as session, session.begin():
                if message_id is None:
                    await incidents.unclaim_alert(session, incident.id)
                else:
                    await incidents.set_message(session, incident.id, message_id)
        for incident in endings:
            await channel.resolved(incident)
            log.info("watch.incident_resolved", key=incident.key)

    async def _tell_outage(self, channel: OperatorChannel, since: datetime, now: datetime) -> None:
        """The database is back after a long outage: one replica tells it (the first to open
        the incident), unless the operator heard of one within the hour."""
        seconds = round((now - since).total_seconds())
        facts = {"seconds": seconds, "minutes": max(1, round(seconds / 60))}
        log.warning("watch.database_back", seconds=seconds)
        key = CheckKind.DATABASE.value
        async with self._sessions() as session, session.begin():
            recent = await incidents.recent(
                session, key, since=now - timedelta(seconds=self._settings.repeat_seconds)
            )
            incident_id = None
            if not recent:
                incident_id = await incidents.open_passed(
                    session, key=key, kind=key, facts=facts, opened_at=since
                )
        if incident_id is None:
            return
        incident = Incident(
            id=incident_id,
            key=key,
            kind=key,
            facts=facts,
            opened_at=since,
            resolved_at=now,
            alerted_at=now,
            message_id=None,
        )
        message_id = await channel.outage(incident)
        async with self._sessions() as session, session.begin():
            await incidents.close_passed(session, incident_id, now=now, message_id=message_id)

"""One task after another (/after N M): when a run of M ends, the tasks that run after M get a
run of their own, trigger `after`, pointing at M's run.

The follower's run is recorded in the same transaction that records M's outcome, and a unique
index on (task, parent run) lets only one ever be recorded, so a follower starts exactly once
per run of M, whichever process records it and however often a commit is retried. A follower
whose previous run is still going has its run recorded as skipped, as the engine does for a
schedule. Only results start followers, unless the follower asked for every run (`always`);
silent and failed runs start those only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics
from core.reasons import PreviousRunGoing
from storage import reasons, runs, triggers
from storage.records import Run, RunStatus, Task

# How many tasks a chain may hold, from the first to the last.
MAX_CHAIN = 5
# Runs that end a chain's link: what a follower may be started by.
ENDED = frozenset({RunStatus.SUCCEEDED, RunStatus.SILENT, RunStatus.FAILED})


async def queue_followers(
    session: AsyncSession, finished: Run, *, now: datetime, owner: str | None
) -> list[tuple[Run, Task]]:
    """Record the runs `finished` starts, in the caller's transaction; return those to start
    (the skipped ones are recorded only)."""
    if finished.status not in ENDED:
        return []
    delivered = finished.status is RunStatus.SUCCEEDED and bool(finished.output)
    followers = await triggers.followers_to_start(session, finished.task_id, delivered=delivered)
    if not followers:
        return []
    busy = await runs.running_task_ids(session, [task.id for task in followers])
    started: list[tuple[Run, Task]] = []
    for follower in followers:
        going = follower.id in busy
        run = await triggers.add_after_run(
            session,
            follower,
            finished,
            now=now,
            status=RunStatus.SKIPPED if going else RunStatus.RUNNING,
            owner=owner,
            reason_columns=reasons.columns(PreviousRunGoing() if going else None),
        )
        if run is None:
            continue  # recorded already (a retried commit)
        metrics.observe_chain("skipped" if going else "started")
        if not going:
            started.append((run, follower))
    return started

"""A task's runs and follow-ups: start a run now, read the last ones, and the questions asked
about them."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, HistoryLimit, TaskId, UseCasesDep, WordsDep
from web.schemas import FollowupOut, FollowupsOut, RunIn, RunOut, RunsOut, RunStartedOut

router = APIRouter(route_class=ApiRoute)


@router.post("/tasks/{task_id}/run", response_model=RunStartedOut, status_code=202)
async def run_task(
    me: CurrentActor, use_cases: UseCasesDep, task_id: TaskId, body: RunIn | None = None
) -> RunStartedOut:
    payload = body.payload_text() if body is not None else None
    run = await use_cases.runs.run_now(me, task_id, payload=payload)
    return RunStartedOut(run_id=run.id, task_id=task_id, status=run.status.value)


@router.get("/tasks/{task_id}/runs", response_model=RunsOut)
async def list_runs(
    me: CurrentActor,
    use_cases: UseCasesDep,
    words: WordsDep,
    task_id: TaskId,
    limit: HistoryLimit = 20,
) -> RunsOut:
    runs = await use_cases.runs.history(me, task_id, limit=limit)
    copies = await use_cases.targets.outcomes(me, task_id, [run.id for run in runs])
    return RunsOut(runs=[RunOut.of(run, copies.get(run.id, ()), words.reason) for run in runs])


@router.get("/tasks/{task_id}/followups", response_model=FollowupsOut)
async def list_followups(
    me: CurrentActor,
    use_cases: UseCasesDep,
    words: WordsDep,
    task_id: TaskId,
    limit: HistoryLimit = 20,
) -> FollowupsOut:
    found = await use_cases.conversations.history(me, task_id, limit=limit)
    return FollowupsOut(followups=[FollowupOut.of(followup, words.reason) for followup in found])

"""/tasks: list a chat's tasks, create one (from words, or a prompt and a schedule), read,
change (schedule, prompt, reminder or AI task, model, tools, monthly cap, targets, paused or
active) and delete one; skip its next run.

A body's model, tools, cap and targets (and a change's new prompt or schedule) are checked
before anything is made or changed, so a refused one leaves the task as it was (or makes none). A
new task is made with them in one transaction: all of it is stored, or nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from application import UseCases
from application.permissions import Action, Actor
from application.records import TaskChoices
from scheduler.schedules.schedule import Schedule, canonical_zone
from storage.records import Task, TaskKind, TaskState
from web.deps import (
    ApiRoute,
    ChatIdQuery,
    CurrentActor,
    NowDep,
    TaskId,
    UseCasesDep,
    Words,
    WordsDep,
)
from web.errors import ApiError
from web.schemas import NewTaskIn, TaskOut, TaskPageOut, TaskPatchIn, TaskSkipOut

router = APIRouter(route_class=ApiRoute)


@router.get("/tasks", response_model=TaskPageOut)
async def list_tasks(
    me: CurrentActor,
    use_cases: UseCasesDep,
    now: NowDep,
    words: WordsDep,
    chat_id: ChatIdQuery,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> TaskPageOut:
    listing = await use_cases.tasks.list(me, chat_id, page=page - 1)
    skipped = await use_cases.shapes.skipped_next_of(listing.tasks)
    return TaskPageOut(
        # Without estimates: counting a frequent task's runs for 30 days takes a while.
        tasks=[
            TaskOut.of(task, now, skipped_for=skipped.get(task.id), describe=words.describe)
            for task in listing.tasks
        ],
        page=listing.page + 1,
        pages=listing.pages,
        total=listing.total,
    )


@router.post("/tasks", response_model=TaskOut, status_code=201)
async def create_task(
    me: CurrentActor, use_cases: UseCasesDep, now: NowDep, words: WordsDep, body: NewTaskIn
) -> TaskOut:
    # Who may create tasks there is settled before the body is read any further.
    chat = await use_cases.chats.get(me, body.chat_id, to=Action.CREATE_TASK)
    # Checked before anything is made: a bad model, tool, cap or target makes no task.
    _check_setup(use_cases, body)
    tools = use_cases.setup.check_tools(body.tools) if body.tools is not None else None
    targets, thread_id = (
        await use_cases.targets.check(me, chat.id, body.targets)
        if body.targets is not None
        else (None, None)
    )
    if body.text is not None:
        if _explicit(body):
            raise ApiError(400, "give either text, or prompt with a schedule, not both")
        card = await use_cases.drafts.create(me, chat.id, body.text, mode=body.mode)
    else:
        schedule = _schedule(body, use_cases.chats.zone_of(chat), now)
        card = await use_cases.drafts.create_explicit(
            me, chat.id, prompt=body.prompt or "", schedule=schedule, mode=body.mode
        )
    # One transaction: the task is made with its model, tools, cap and targets, or not at all
    # (a failure between them would leave one on its defaults, and a retry would make two).
    choices = TaskChoices(
        model=body.model,
        tools=tools,
        monthly_cap_usd=body.monthly_cap_usd,
        targets=targets,
        thread_id=thread_id,
    )
    task = await use_cases.drafts.confirm(me, card.draft_id, choices=choices)
    return await _one(use_cases, words, me, task, now)


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(
    me: CurrentActor, use_cases: UseCasesDep, now: NowDep, words: WordsDep, task_id: TaskId
) -> TaskOut:
    return await _one(use_cases, words, me, await use_cases.tasks.get(me, task_id), now)


@router.patch("/tasks/{task_id}", response_model=TaskOut)
async def change_task(
    me: CurrentActor,
    use_cases: UseCasesDep,
    now: NowDep,
    words: WordsDep,
    task_id: TaskId,
    body: TaskPatchIn,
) -> TaskOut:
    task = await use_cases.tasks.get(me, task_id, to=Action.EDIT_TASK)
    was_paused = task.state is TaskState.PAUSED
    _check_setup(use_cases, body)
    if body.targets is not None:
        # A target refused changes nothing else either.
        await use_cases.targets.check(me, task.chat_id, body.targets)
    # The new schedule or prompt is understood (and may be refused) before anything changes.
    card = None
    if body.schedule is not None:
        # The schedule in words, followed by the task's (new) prompt: one request, read as
        # the bot reads /edit.
        text = f"{body.schedule} {body.prompt if body.prompt is not None else task.prompt}"
        card = await use_cases.drafts.create(
            me, task.chat_id, text, task_id=task.id, mode=body.mode or task.mode
        )
    elif body.prompt is not None:
        card = await use_cases.drafts.create_explicit(
            me,
            task.chat_id,
            prompt=body.prompt,
            schedule=Schedule.of(task),
            task_id=task.id,
            mode=body.mode or task.mode,
        )
    if body.targets is not None:
        task = await use_cases.targets.set(me, task.id, body.targets)
    if card is not None:
        task = await use_cases.drafts.confirm(me, card.draft_id)
    elif body.mode is not None and body.mode is not task.mode:
        task = await use_cases.shapes.set_mode(me, task.id, body.mode)
    chosen = body.model_fields_set
    if "model" in chosen:
        task = await use_cases.setup.set_model(me, task.id, body.model)
    if "tools" in chosen:
        every = [choice.key for choice in (await use_cases.setup.tools(me, task.id)).tools]
        listed = await use_cases.setup.set_tools(
            me, task.id, only=body.tools if body.tools is not None else every
        )
        task = listed.task
    if "monthly_cap_usd" in chosen:
        task = await use_cases.setup.set_cap(me, task.id, body.monthly_cap_usd)
    wanted = body.state or ("paused" if was_paused else None)
    if wanted == "paused" and task.state is not TaskState.PAUSED:
        task = await use_cases.tasks.pause(me, task.id)
    elif wanted == "active" and task.state is not TaskState.ACTIVE:
        task = await use_cases.tasks.resume(me, task.id)
    return await _one(use_cases, words, me, task, now)


@router.post("/tasks/{task_id}/skip", response_model=TaskSkipOut)
async def skip_next_run(
    me: CurrentActor, use_cases: UseCasesDep, now: NowDep, words: WordsDep, task_id: TaskId
) -> TaskSkipOut:
    """Skip exactly the task's next run (as /skip N in the bot)."""
    state = await use_cases.shapes.skip_next(me, task_id)
    return TaskSkipOut(
        task=TaskOut.of(state.task, now, skipped_for=state.skipped_for, describe=words.describe),
        skipped_for=state.skipped_for,
    )


@router.delete("/tasks/{task_id}/skip", response_model=TaskSkipOut)
async def undo_skip(
    me: CurrentActor, use_cases: UseCasesDep, now: NowDep, words: WordsDep, task_id: TaskId
) -> TaskSkipOut:
    """The skipped run happens after all, if it has not come yet (/skip N undo)."""
    state = await use_cases.shapes.undo_skip(me, task_id)
    return TaskSkipOut(task=TaskOut.of(state.task, now, describe=words.describe), skipped_for=None)


@router.delete("/tasks/{task_id}", status_code=204)
async def delete_task(me: CurrentActor, use_cases: UseCasesDep, task_id: TaskId) -> None:
    await use_cases.tasks.delete(me, task_id)


async def _one(use_cases: UseCases, words: Words, me: Actor, task: Task, now: datetime) -> TaskOut:
    """One task with what a list leaves out: what it will cost."""
    return TaskOut.of(
        task,
        now,
        skipped_for=await use_cases.shapes.skipped_next(task),
        estimate=await use_cases.setup.estimate(me, task.id),
        describe=words.describe,
    )


def _check_setup(use_cases: UseCases, body: NewTaskIn | TaskPatchIn) -> None:
    """The body's model, tools and monthly cap are ones a task may have (422 if not)."""
    if body.model is not None:
        use_cases.setup.resolve_model(body.model)
    if body.tools is not None:
        use_cases.setup.check_tools(body.tools)
    use_cases.setup.check_cap(body.monthly_cap_usd)


def _explicit(body: NewTaskIn) -> bool:
    return any(
        value is not None
        for value in (body.prompt, body.cron, body.run_at, body.every_seconds, body.timezone)
    )


def _schedule(body: NewTaskIn, chat_zone: str, now: datetime) -> Schedule:
    given = [
        name
        for name, value in (
            ("cron", body.cron),
            ("run_at", body.run_at),
            ("every_seconds", body.every_seconds),
        )
        if value is not None
    ]
    if body.every_seconds is not None and given == ["run_at", "every_seconds"]:
        given = ["every_seconds"]  # run_at is then the first run
    if not given:
        raise ApiError(
            422,
            "no schedule: give text (as you would write to the bot), or prompt with one of "
            "cron, run_at or every_seconds",
        )
    if len(given) > 1:
        raise ApiError(422, f"give one schedule, not {' and '.join(given)}")
    zone = canonical_zone(body.timezone) if body.timezone is not None else chat_zone
    if body.cron is not None:
        return Schedule(kind=TaskKind.CRON, timezone=zone, cron=body.cron)
    if body.every_seconds is not None:
        return Schedule(
            kind=TaskKind.INTERVAL,
            timezone=zone,
            every_seconds=body.every_seconds,
            run_at=body.run_at or now,
        )
    return Schedule(kind=TaskKind.ONCE, timezone=zone, run_at=body.run_at)

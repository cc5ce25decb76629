"""The HTTP API, /api/v1: JSON over the same use cases as the bot.

Every request names its user: `Authorization: Bearer <token>` (from /token) or
`Authorization: tma <initData>` (the Mini App). Who may see and change what is
application.access's to say; this module only translates HTTP to use cases and errors to
status codes, always as `{"error": "…"}`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from application import Application
from application.access import (
    Access,
    ChatHiddenError,
    NotAllowedError,
    NotManagerError,
    Reach,
)
from application.errors import DraftNotFoundError, QuotaExceededError, TaskStateError
from application.tokens import ApiTokens, digest
from core.errors import CronpilotError, NotUnderstoodError, ScheduleError
from core.logs import get_logger
from scheduler.clock import Clock
from scheduler.engine import TaskBusyError, TaskNotFoundError
from scheduler.schedules.schedule import Schedule, canonical_zone
from storage.records import Chat, Task, TaskKind, TaskState
from web import initdata
from web.history import FollowupsOut, RunsOut, followup_out, run_out
from web.ratelimit import FAILURES_BURST, FAILURES_PER_SECOND, RateLimiter

log = get_logger(__name__)

PREVIEW_RUNS = 3
MAX_TEXT_CHARS = 4_000
# Ids are 64-bit in the database; anything outside is refused as invalid, not looked up.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ChatId = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
TaskId = Annotated[int, PathParam(ge=1, le=INT64_MAX)]

# Domain errors and the status each one answers with.
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotAllowedError, 403),
    (NotManagerError, 403),
    (ChatHiddenError, 404),
    (TaskNotFoundError, 404),
    (TaskStateError, 409),
    (TaskBusyError, 409),
    (QuotaExceededError, 409),
    (DraftNotFoundError, 409),
    (NotUnderstoodError, 422),
    (ScheduleError, 422),
)


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers


@dataclass(frozen=True, slots=True)
class ApiServices:
    app: Application
    access: Access
    reach: Reach
    tokens: ApiTokens
    clock: Clock
    bot_token: str
    rate_limiter: RateLimiter
    # Failed sign-ins per client address.
    failure_limiter: RateLimiter = field(
        default_factory=lambda: RateLimiter(burst=FAILURES_BURST, per_second=FAILURES_PER_SECOND)
    )


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int


# --- the JSON shapes ------------------------------------------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    error: str


class ChatOut(BaseModel):
    id: int
    type: str
    title: str | None
    timezone: str
    can_manage: bool


class ChatsOut(BaseModel):
    chats: list[ChatOut]


class TaskOut(BaseModel):
    id: int
    chat_id: int
    name: str
    prompt: str
    kind: TaskKind
    cron: str | None
    run_at: datetime | None
    every_seconds: int | None
    timezone: str
    state: TaskState
    description: str
    next_runs: list[datetime]
    last_run_at: datetime | None
    created_at: datetime


class TaskPageOut(BaseModel):
    tasks: list[TaskOut]
    page: int
    pages: int
    total: int


class RunStartedOut(BaseModel):
    run_id: int
    task_id: int
    status: str


class ParseOut(BaseModel):
    """The shape of `cronpilot parse --json`."""

    kind: TaskKind
    cron: str | None
    run_at: datetime | None
    every_seconds: int | None
    timezone: str
    prompt: str
    description: str
    next_runs: list[datetime]
    source: str


class NewTaskIn(Strict):
    chat_id: ChatId
    text: str | None = Field(
        None, max_length=MAX_TEXT_CHARS, description="a request, parsed as the bot parses it"
    )
    prompt: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    cron: str | None = Field(None, max_length=255)
    run_at: AwareDatetime | None = None
    every_seconds: int | None = Field(None, ge=1, le=10 * 366 * 86400)
    timezone: str | None = Field(None, max_length=64)


class TaskPatchIn(Strict):
    state: Literal["paused", "active"] | None = None
    prompt: str | None = Field(None, max_length=MAX_TEXT_CHARS)
    schedule: str | None = Field(
        None, max_length=MAX_TEXT_CHARS, description="new schedule in words or cron"
    )


class ParseIn(Strict):
    text: str = Field(max_length=MAX_TEXT_CHARS)
    chat_id: ChatId | None = None
    timezone: str | None = Field(None, max_length=64)


async def _caller(request: Request) -> Caller:
    services: ApiServices = request.app.state.services
    return await _authenticate(request, services)


Me = Annotated[Caller, Depends(_caller)]


# --- building the app -----------------------------------------------------------------------------

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "bad request"),
        (401, "no valid token or initData"),
        (403, "not allowed"),
        (404, "no such chat or task (or not yours)"),
        (409, "conflicts with the task's state"),
        (422, "not understood, or not allowed as a schedule"),
        (429, "too many requests; see Retry-After"),
    )
}


def build_api(services: ApiServices) -> FastAPI:
    # The interactive docs load Swagger UI from this server (fastapi-offline ships it), not from
    # a CDN: a self-hosted bot's operator may have no internet in the browser that reads them.
    api = FastAPIOffline(
        title="cronpilot",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs-assets",
        responses=ERRORS,
    )
    _add_error_handlers(api)
    api.state.services = services

    @api.get("/chats", response_model=ChatsOut)
    async def list_chats(me: Me) -> ChatsOut:
        views = await services.reach.chats(me.user_id)
        return ChatsOut(
            chats=[
                ChatOut(
                    id=view.chat.id,
                    type=view.chat.type,
                    title=view.chat.title,
                    timezone=services.app.chats.zone_of(view.chat),
                    can_manage=view.rights.manage,
                )
                for view in views
            ]
        )

    @api.get("/tasks", response_model=TaskPageOut)
    async def list_tasks(
        me: Me,
        chat_id: Annotated[int, Query(ge=INT64_MIN, le=INT64_MAX)],
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    ) -> TaskPageOut:
        chat = await services.reach.chat(me.user_id, chat_id, manage=False)
        listing = await services.app.tasks.list(chat.id, page=page - 1)
        return TaskPageOut(
            tasks=[_task_out(task, services.clock) for task in listing.tasks],
            page=listing.page + 1,
            pages=listing.pages,
            total=listing.total,
        )

    @api.post("/tasks", response_model=TaskOut, status_code=201)
    async def create_task(me: Me, body: NewTaskIn) -> TaskOut:
        chat = await services.reach.chat(me.user_id, body.chat_id, manage=True)
        drafts = services.app.drafts
        if body.text is not None:
            if _explicit(body):
                raise ApiError(400, "give either text, or prompt with a schedule, not both")
            card = await drafts.create(chat, me.user_id, body.text)
        else:
            schedule = _schedule(body, services.app.chats.zone_of(chat), services.clock)
            card = await drafts.create_explicit(
                chat, me.user_id, prompt=body.prompt or "", schedule=schedule
            )
        task = await drafts.confirm(chat.id, card.draft_id, me.user_id)
        return _task_out(task, services.clock)

    @api.get("/tasks/{task_id}", response_model=TaskOut)
    async def get_task(me: Me, task_id: TaskId) -> TaskOut:
        task = await services.reach.task(me.user_id, task_id, manage=False)
        return _task_out(task, services.clock)

    @api.patch("/tasks/{task_id}", response_model=TaskOut)
    async def change_task(me: Me, task_id: TaskId, body: TaskPatchIn) -> TaskOut:
        task = await services.reach.task(me.user_id, task_id, manage=True)
        chat = await services.reach.chat(me.user_id, task.chat_id, manage=True)
        drafts = services.app.drafts
        was_paused = task.state is TaskState.PAUSED
        if body.schedule is not None:
            # The schedule in words, followed by the task's (new) prompt: one request, read as
            # the bot reads /edit.
            text = f"{body.schedule} {body.prompt if body.prompt is not None else task.prompt}"
            card = await drafts.create(chat, me.user_id, text, task_id=task.id)
            task = await drafts.confirm(chat.id, card.draft_id, me.user_id)
        elif body.prompt is not None:
            card = await drafts.create_explicit(
                chat, me.user_id, prompt=body.prompt, schedule=Schedule.of(task), task_id=task.id
            )
            task = await drafts.confirm(chat.id, card.draft_id, me.user_id)
        wanted = body.state or ("paused" if was_paused else None)
        if wanted == "paused" and task.state is not TaskState.PAUSED:
            task = await services.app.tasks.pause(chat.id, task.id)
        elif wanted == "active" and task.state is not TaskState.ACTIVE:
            task = await services.app.tasks.resume(chat.id, task.id)
        return _task_out(task, services.clock)

    @api.delete("/tasks/{task_id}", status_code=204)
    async def delete_task(me: Me, task_id: TaskId) -> None:
        task = await services.reach.task(me.user_id, task_id, manage=True)
        await services.app.tasks.delete(task.chat_id, task.id)

    @api.post("/tasks/{task_id}/run", response_model=RunStartedOut, status_code=202)
    async def run_task(me: Me, task_id: TaskId) -> RunStartedOut:
        task = await services.reach.task(me.user_id, task_id, manage=True)
        run = await services.app.runs.run_now(task.chat_id, task.id)
        return RunStartedOut(run_id=run.id, task_id=task.id, status=run.status.value)

    @api.get("/tasks/{task_id}/runs", response_model=RunsOut)
    async def list_runs(
        me: Me, task_id: TaskId, limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> RunsOut:
        task = await services.reach.task(me.user_id, task_id, manage=False)
        runs = await services.app.runs.history(task.chat_id, task.id, limit=limit)
        return RunsOut(runs=[run_out(run) for run in runs])

    @api.get("/tasks/{task_id}/followups", response_model=FollowupsOut)
    async def list_followups(
        me: Me, task_id: TaskId, limit: Annotated[int, Query(ge=1, le=100)] = 20
    ) -> FollowupsOut:
        task = await services.reach.task(me.user_id, task_id, manage=False)
        found = await services.app.conversations.history(task.chat_id, task.id, limit=limit)
        return FollowupsOut(followups=[followup_out(followup) for followup in found])

    @api.post("/parse", response_model=ParseOut)
    async def parse(me: Me, body: ParseIn) -> ParseOut:
        services.access.require_allowed(me.user_id)
        chat = (
            await services.reach.chat(me.user_id, body.chat_id, manage=False)
            if body.chat_id is not None
            else None
        )
        if body.timezone is not None:
            zone = _zone(body.timezone)
        elif chat is not None:
            zone = services.app.chats.zone_of(chat)
        else:
            zone = await _own_zone(services, me.user_id)
        # A model call goes on the named chat's bill, else on the caller's private chat.
        payer = chat.id if chat is not None else me.user_id
        preview = await services.app.drafts.understand(body.text, timezone=zone, payer=payer)
        schedule = preview.request.schedule
        return ParseOut(
            kind=schedule.kind,
            cron=schedule.cron,
            run_at=schedule.run_at.astimezone(schedule.zone) if schedule.run_at else None,
            every_seconds=schedule.every_seconds,
            timezone=schedule.timezone,
            prompt=preview.request.prompt,
            description=preview.description,
            next_runs=[run.astimezone(schedule.zone) for run in preview.next_runs],
            source=preview.request.source,
        )

    return api


# --- pieces ---------------------------------------------------------------------------------------


async def _authenticate(request: Request, services: ApiServices) -> Caller:
    """The caller, or 401; an address that failed too often meanwhile gets 429 before its
    credentials are even looked at."""
    address = "address:" + (request.client.host if request.client else "unknown")
    wait = services.failure_limiter.waiting(address)
    if wait is not None:
        raise _too_many(wait)
    try:
        return await _identify(request, services)
    except ApiError as error:
        if error.status == 401:
            services.failure_limiter.take(address)
        raise


async def _identify(request: Request, services: ApiServices) -> Caller:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        limit_key = "token:" + digest(credentials)
        _check_rate(services, limit_key)
        user_id = await services.tokens.user_for(credentials)
        if user_id is None:
            raise ApiError(401, "the token is unknown or was revoked; /token makes a new one")
    elif scheme.lower() == "tma" and credentials:
        try:
            user = initdata.verify(credentials, services.bot_token, now=services.clock.now())
        except initdata.InitDataError as error:
            raise ApiError(401, str(error)) from None
        user_id = user.id
        _check_rate(services, f"user:{user_id}")
    else:
        raise ApiError(401, "send Authorization: Bearer <token> (from /token) or tma <initData>")
    services.access.require_allowed(user_id)
    return Caller(user_id)


def _check_rate(services: ApiServices, key: str) -> None:
    wait = services.rate_limiter.take(key)
    if wait is not None:
        raise _too_many(wait)


def _too_many(wait: int) -> ApiError:
    return ApiError(
        429, f"too many requests; try again in {wait} s", headers={"Retry-After": str(wait)}
    )


def _explicit(body: NewTaskIn) -> bool:
    return any(
        value is not None
        for value in (body.prompt, body.cron, body.run_at, body.every_seconds, body.timezone)
    )


def _zone(name: str) -> str:
    try:
        return canonical_zone(name)
    except ScheduleError as error:
        raise ApiError(422, str(error)) from None


async def _own_zone(services: ApiServices, user_id: int) -> str:
    for view in await services.reach.chats(user_id):
        if view.chat.id == user_id:
            return services.app.chats.zone_of(view.chat)
    return services.app.chats.zone_of(
        Chat(
            id=user_id,
            type="private",
            title=None,
            timezone=None,
            active=True,
            created_at=services.clock.now(),
        )
    )


def _schedule(body: NewTaskIn, chat_zone: str, clock: Clock) -> Schedule:
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
    zone = _zone(body.timezone) if body.timezone is not None else chat_zone
    if body.cron is not None:
        return Schedule(kind=TaskKind.CRON, timezone=zone, cron=body.cron)
    if body.every_seconds is not None:
        return Schedule(
            kind=TaskKind.INTERVAL,
            timezone=zone,
            every_seconds=body.every_seconds,
            run_at=body.run_at or clock.now(),
        )
    return Schedule(kind=TaskKind.ONCE, timezone=zone, run_at=body.run_at)


def _task_out(task: Task, clock: Clock) -> TaskOut:
    schedule = Schedule.of(task)
    next_runs = (
        [run.astimezone(schedule.zone) for run in schedule.next_runs(clock.now(), PREVIEW_RUNS)]
        if task.state is TaskState.ACTIVE
        else []
    )
    return TaskOut(
        id=task.id,
        chat_id=task.chat_id,
        name=task.name,
        prompt=task.prompt,
        kind=task.kind,
        cron=task.cron,
        run_at=task.run_at,
        every_seconds=task.every_seconds,
        timezone=task.timezone,
        state=task.state,
        description=schedule.describe(),
        next_runs=next_runs,
        last_run_at=task.last_run_at,
        created_at=task.created_at,
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _add_error_handlers(api: FastAPI) -> None:
    async def api_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        return _error(error.status, str(error), error.headers)

    async def domain_error(_request: Request, error: Exception) -> JSONResponse:
        for kind, status in STATUS:
            if isinstance(error, kind):
                return _error(status, str(error))
        return _error(400, str(error))

    async def invalid(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
            problems.append(
                f"{where}: {problem.get('msg', 'is invalid')}"
                if where
                else str(problem.get("msg", "is invalid"))
            )
        status = 400 if any(p.get("type") == "json_invalid" for p in error.errors()) else 422
        return _error(status, "; ".join(problems) or "the request is invalid")

    async def http_error(_request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        return _error(error.status_code, str(error.detail), getattr(error, "headers", None))

    handlers: dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
        ApiError: api_error,
        CronpilotError: domain_error,
        RequestValidationError: invalid,
        StarletteHTTPException: http_error,
    }
    for kind, handler in handlers.items():
        api.add_exception_handler(kind, handler)

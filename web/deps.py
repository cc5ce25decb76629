"""What the API's routes depend on, typed once, as the FastAPI template's `app/api/deps.py`
does: `CurrentActor` (who calls: the template's `CurrentUser`), `UseCasesDep` (the one way to
reach the application), `NowDep`, and the ids a route takes; and `ApiRoute`, the route class of
every router, which settles who calls before the body is read.

Every request names its user: `Authorization: Bearer <token>` (from /token) or
`Authorization: tma <initData>` (the Mini App). Who that user may be and what they may do is
the application's to say; this module only finds out who is calling. Failed sign-ins are
counted per client address: the socket's, or the one a proxy named in FORWARDED_ALLOW_IPS
forwarded (uvicorn has put it in the request's `client` by then; see web.server).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.responses import Response

from application import UseCases
from application.permissions import Actor, Door, NotAllowedError
from application.tokens import digest
from core.reasons import Reason
from scheduler.schedules.schedule import Schedule
from web import initdata
from web.bodies import JsonLimits, JsonTooComplexError
from web.errors import ApiError, Explain, asked_language, too_many
from web.ratelimit import FAILURES_BURST, FAILURES_PER_SECOND, SignInLimiter
from web.schemas import INT64_MAX, INT64_MIN
from web.texts import MiniAppTexts


class Describe(Protocol):
    def __call__(self, language: str, schedule: Schedule, /) -> str:
        """The schedule in words, in `language`."""
        ...


class SayReason(Protocol):
    def __call__(self, language: str, reason: Reason, /) -> str:
        """The reason's sentence in `language`."""
        ...


@dataclass(frozen=True, slots=True)
class ApiDoor:
    """What the HTTP door holds: the use cases, and its own settings (the bot token the Mini
    App's initData is signed with, the sign-in limits, the Mini App's words, errors in words)."""

    use_cases: UseCases
    bot_token: str
    # Requests per caller (a token, a Mini App user).
    rate_limiter: SignInLimiter
    texts: MiniAppTexts
    # The bot's sentence for an expected error in a language (web.errors).
    explain: Explain
    # A schedule in words in a language, as the bot's cards say it.
    describe: Describe
    # Why a run or a follow-up ended, in a language, as the bot's history says it.
    say_reason: SayReason
    # Failed sign-ins per client address.
    failure_limiter: SignInLimiter = field(
        default_factory=lambda: SignInLimiter(burst=FAILURES_BURST, per_second=FAILURES_PER_SECOND)
    )


def get_door(request: Request) -> ApiDoor:
    found: ApiDoor = request.app.state.door
    return found


DoorDep = Annotated[ApiDoor, Depends(get_door)]


def get_use_cases(door: DoorDep) -> UseCases:
    return door.use_cases


def get_now(door: DoorDep) -> datetime:
    return door.use_cases.clock.now()


async def get_current_actor(request: Request, door: DoorDep) -> Actor:
    """The caller, or 401; an address that failed too often meanwhile gets 429 before its
    credentials are even looked at, and a user not on ALLOWED_USERS 403. Found once a request
    (ApiRoute asks first, the route's dependency then gets the same)."""
    known: Actor | None = getattr(request.state, "actor", None)
    if known is not None:
        return known
    address = "address:" + (request.client.host if request.client else "unknown")
    wait = door.failure_limiter.waiting(address)
    if wait is not None:
        raise too_many(wait)
    try:
        actor = await _identify(request, door)
    except ApiError as error:
        if error.status == 401:
            door.failure_limiter.take(address)
        raise
    if not door.use_cases.access.allowed(actor.user_id):
        raise NotAllowedError(actor)
    request.state.actor = actor
    return actor


@dataclass(frozen=True, slots=True)
class Words:
    """How the caller would have things said: in the language its Accept-Language asks for
    (one of the bot's), else in the English the API's documents show."""

    language: str | None
    door: ApiDoor

    def describe(self, schedule: Schedule) -> str:
        if self.language is None:
            return schedule.describe()
        return self.door.describe(self.language, schedule)

    def reason(self, reason: Reason) -> str:
        if self.language is None:
            return reason.message()
        return self.door.say_reason(self.language, reason)


def get_words(request: Request, door: DoorDep) -> Words:
    return Words(asked_language(request.headers.get("Accept-Language")), door)


UseCasesDep = Annotated[UseCases, Depends(get_use_cases)]
WordsDep = Annotated[Words, Depends(get_words)]
NowDep = Annotated[datetime, Depends(get_now)]
CurrentActor = Annotated[Actor, Depends(get_current_actor)]
TaskId = Annotated[int, PathParam(ge=1, le=INT64_MAX)]
ChatIdQuery = Annotated[int, Query(ge=INT64_MIN, le=INT64_MAX)]
# How many of a task's last runs or follow-ups a list holds: 20 unless asked, 100 at most.
HistoryLimit = Annotated[int, Query(ge=1, le=100)]


async def _identify(request: Request, door: ApiDoor) -> Actor:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        _check_rate(door, "token:" + digest(credentials))
        user_id = await door.use_cases.tokens.user_for(credentials)
        if user_id is None:
            raise ApiError(401, "the token is unknown or was revoked; /token makes a new one")
        return Actor(user_id, Door.API)
    if scheme.lower() == "tma" and credentials:
        try:
            user = initdata.verify(credentials, door.bot_token, now=door.use_cases.clock.now())
        except initdata.InitDataError as error:
            raise ApiError(401, str(error)) from None
        _check_rate(door, f"user:{user.id}")
        return Actor(user.id, Door.MINIAPP)
    raise ApiError(401, "send Authorization: Bearer <token> (from /token) or tma <initData>")


def _check_rate(door: ApiDoor, key: str) -> None:
    wait = door.rate_limiter.take(key)
    if wait is not None:
        raise too_many(wait)


class ApiRoute(APIRoute):
    """The route class of every API router. FastAPI reads and parses a route's body before it
    resolves the route's dependencies, so a stranger's body would be read and parsed before the
    401; here the caller is identified first (CurrentActor, for the routes that take it), and
    only then is the body read (no further than the API's `max_body_size`) and its JSON parsed
    within the API's limits (`api.state.json_limits`, web.api)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = super().get_route_handler()
        identifies = _depends_on(self.dependant, get_current_actor)

        async def handle(request: Request) -> Response:
            if identifies:
                await get_current_actor(request, get_door(request))
            return await endpoint(_LimitedJsonRequest(request.scope, request.receive))

        return handle


class _LimitedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            limits: JsonLimits = self.app.state.json_limits
            try:
                self._json = limits.parse(await self.body())
            except JsonTooComplexError as error:
                # FastAPI passes an HTTPException on as it is (anything else becomes a 400).
                raise HTTPException(422, str(error)) from None
        return self._json


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(
        needed.call is call or _depends_on(needed, call) for needed in dependant.dependencies
    )

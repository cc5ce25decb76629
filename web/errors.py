"""The HTTP API's errors: which status each of the use cases' errors answers with (the one
table, `STATUS`), what each status means in the OpenAPI document, and the handlers that answer
every error as `{"error": "…"}`.

The use cases' errors carry facts and their English sentence (`str(error)`); the API answers
with that sentence, and, when the request's Accept-Language names a language of the catalogs, with
the bot's own sentence for it in that language too (`message`: the Mini App shows it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

from application.errors import (
    AlreadySkippedError,
    CapOutOfRangeError,
    DraftNotFoundError,
    NoModelError,
    NoSkipToUndoError,
    NotAReminderError,
    NothingToSkipError,
    PayloadTooLargeError,
    QuotaExceededError,
    TaskStateError,
    UnknownModelError,
    UnknownToolError,
)
from application.permissions import (
    ChatHiddenError,
    NotAllowedError,
    NotManagerError,
    OperatorOnlyError,
    PrivateChatOnlyError,
)
from application.targets import NotTargetAdminError, TargetError
from core.errors import CronpilotError, NotUnderstoodError, ScheduleError
from core.languages import supported_language
from scheduler.engine import TaskBusyError, TaskNotFoundError


class ApiError(Exception):
    """An answer the API itself gives (no credentials, a body that contradicts itself, too many
    requests): its status and sentence."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers


class ErrorOut(BaseModel):
    error: str
    message: str | None = None


class Explain(Protocol):
    def __call__(self, language: str, error: CronpilotError, /) -> str:
        """The bot's sentence for an expected error, in `language` (plain text)."""
        ...


def asked_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header the catalogs have (`de-AT;q=0.9` is
    German), or None."""
    for part in (header or "").split(","):
        found = supported_language(part.split(";", 1)[0])
        if found is not None:
            return found
    return None


# The use cases' errors and the status each one answers with; the first that fits wins, and
# any other CronpilotError is a 400.
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotAllowedError, 403),
    (NotManagerError, 403),
    (PrivateChatOnlyError, 403),
    (OperatorOnlyError, 403),
    (ChatHiddenError, 404),
    (TaskNotFoundError, 404),
    (TaskStateError, 409),
    (TaskBusyError, 409),
    (QuotaExceededError, 409),
    (DraftNotFoundError, 409),
    (PayloadTooLargeError, 413),
    (NotUnderstoodError, 422),
    (UnknownModelError, 422),
    (UnknownToolError, 422),
    (CapOutOfRangeError, 422),
    # A target the person may not use, or that names nothing (application.targets).
    (NotTargetAdminError, 403),
    (TargetError, 422),
    (ScheduleError, 422),
    # A bot without a model cannot take an AI task (LLM_MODEL empty or none).
    (NoModelError, 409),
    (NotAReminderError, 409),
    (NothingToSkipError, 409),
    (AlreadySkippedError, 409),
    (NoSkipToUndoError, 409),
)

# What each status means, for every operation of the OpenAPI document.
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": description}
    for status, description in (
        (400, "bad request"),
        (401, "no valid token or initData"),
        (403, "not allowed"),
        (404, "no such chat or task (or not yours)"),
        (409, "conflicts with the task's state"),
        (413, "the request body is larger than the API takes"),
        (422, "not understood, or not allowed as a schedule; or JSON with too many keys or levels"),
        (429, "too many requests; see Retry-After"),
    )
}


def too_many(wait: int) -> ApiError:
    return ApiError(
        429, f"too many requests; try again in {wait} s", headers={"Retry-After": str(wait)}
    )


def status_of(error: Exception) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


def _answer(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return _answer(error.status, str(error), error.headers)


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, CronpilotError)
    body = {"error": str(error)}
    language = asked_language(request.headers.get("Accept-Language"))
    explain: Explain | None = getattr(request.app.state, "explain", None)
    if language is not None and explain is not None:
        body["message"] = explain(language, error)
    return JSONResponse(body, status_code=status_of(error))


async def _invalid(_request: Request, error: Exception) -> JSONResponse:
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
    return _answer(status, "; ".join(problems) or "the request is invalid")


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    limit = request.scope.get(MAX_BODY_SIZE_SCOPE_KEY)
    if error.status_code == 413 and isinstance(limit, int):
        # A chunked body that went past the route's limit (Starlette says "Content Too Large").
        return _answer(413, f"the request body is larger than the {limit} bytes the API takes")
    return _answer(error.status_code, str(error.detail), getattr(error, "headers", None))


HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[JSONResponse]]] = {
    ApiError: _api_error,
    CronpilotError: _domain_error,
    RequestValidationError: _invalid,
    StarletteHTTPException: _http_error,
}


def add_error_handlers(api: FastAPI) -> None:
    for kind, handler in HANDLERS.items():
        api.add_exception_handler(kind, handler)

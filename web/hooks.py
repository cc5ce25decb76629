"""Trigger URLs: `POST /hooks/<secret>` runs the secret's task now, the request's body given to
its model as the event that started the run.

The secret is checked before the body is read (an unknown or revoked one is 404, whatever was
sent, and takes the same work either way: application.triggers), and so are the task's state
(paused: 409) and its rate (TRIGGER_PER_MINUTE: 429 with Retry-After). The body is read up to
TRIGGER_MAX_BYTES (the route's `max_body_size`, web.bodies: a larger one is 413 unread); a JSON
body (by its Content-Type) must parse within `HOOK_JSON`'s limits, any other must be UTF-8 text.
The answer is 202 with the run's id: the result goes to the task's chat.
"""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from application.errors import (
    TaskStateError,
    TriggerNotFoundError,
    TriggersTooFastError,
)
from application.triggers import Triggers
from core import metrics
from scheduler.engine import TaskBusyError
from web.bodies import JsonLimits, JsonTooComplexError

# An event is a small document (a CI job's status, a form, an alert); a few thousand keys and
# a few dozen levels are far more than any needs.
HOOK_JSON = JsonLimits(max_keys=5_000, max_depth=32)
BUSY_RETRY_SECONDS = 5


class Hooks:
    def __init__(self, triggers: Triggers, max_bytes: int) -> None:
        self._triggers = triggers
        self._max_bytes = max_bytes

    def route(self) -> Route:
        return Route("/hooks/{secret}", self._post, methods=["POST"], max_body_size=self._max_bytes)

    async def _post(self, request: Request) -> Response:
        try:
            task = await self._triggers.target(request.path_params["secret"])
        except TriggerNotFoundError:
            return _error(404, "no such trigger URL")
        except TaskStateError as error:
            return _error(409, f"task {error.task_id} is {error.state.value}; resume it first")
        except TriggersTooFastError as error:
            return _error(429, str(error), retry_after=error.retry_after)
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=400)
        try:
            payload = _payload(body, request.headers.get("content-type", ""))
        except JsonTooComplexError as error:
            metrics.observe_trigger("invalid")
            return _error(422, str(error))
        except ValueError as error:
            metrics.observe_trigger("invalid")
            return _error(400, str(error))
        try:
            run = await self._triggers.fire(task, payload)
        except TriggerNotFoundError:
            return _error(404, "no such trigger URL")
        except TaskBusyError as error:
            return _error(
                409,
                f"task {error.task_id} has a run going; try again when it ends",
                retry_after=BUSY_RETRY_SECONDS,
            )
        return JSONResponse(
            {"run_id": run.id, "task_id": task.id, "status": run.status.value}, status_code=202
        )


def _payload(body: bytes, content_type: str) -> str | None:
    """The event as text: None for an empty body; JSON checked against HOOK_JSON; ValueError
    for a body that is neither JSON (when it says it is) nor UTF-8 text."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8 text") from None
    if "json" in content_type.lower():
        try:
            HOOK_JSON.parse(body)
        except JsonTooComplexError:
            raise
        except ValueError:
            raise ValueError("the body is not JSON, though its Content-Type says so") from None
    # PostgreSQL cannot store NUL, and it never means anything in an event.
    return text.replace("\x00", "")


def _error(status: int, message: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)

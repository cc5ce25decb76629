"""The HTTP API, /api/v1: JSON over the same use cases as the bot.

One router per resource (web/routes/: chats, tasks, runs, attachments, parse, usage, tokens,
destinations, models, tools, texts),
each route taking what it needs as typed dependencies (web/deps.py: the caller as
`CurrentActor`, the use cases as `UseCasesDep`). Who may see and change what is the
application's to say; the routes only translate HTTP to use cases, and errors to statuses
(web/errors.py), always as `{"error": "…"}`. Every router's routes are `ApiRoute`s
(web/deps.py): the caller is known before a body is read, and bodies are read within the
limits declared here (web/bodies.py).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from web.bodies import JsonLimits
from web.deps import ApiDoor
from web.errors import RESPONSES, add_error_handlers
from web.routes import (
    attachments,
    chats,
    destinations,
    models,
    parse,
    runs,
    tasks,
    texts,
    tokens,
    tools,
    usage,
)

__all__ = ["ApiDoor", "build_api"]

ROUTERS = (
    chats.router,
    tasks.router,
    runs.router,
    attachments.router,
    parse.router,
    usage.router,
    tokens.router,
    destinations.router,
    models.router,
    tools.router,
    texts.router,
)
# The API's bodies are small JSON objects; the largest, a new task, has a text and a prompt of
# at most 4,000 characters each (48 KB each even if every character came as a \uXXXX pair).
MAX_BODY_BYTES = 128 * 1024
# Each body is one flat object of a few fields.
JSON_LIMITS = JsonLimits(max_keys=64, max_depth=4)


def build_api(door: ApiDoor) -> FastAPI:
    # The interactive docs load Swagger UI from this server (fastapi-offline ships it), not from
    # a CDN: a self-hosted bot's operator may have no internet in the browser that reads them.
    api = FastAPIOffline(
        title="cronpilot",
        version="1",
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        static_url="/docs-assets",
        responses=RESPONSES,
        max_body_size=MAX_BODY_BYTES,
    )
    add_error_handlers(api)
    api.state.door = door
    api.state.explain = door.explain
    api.state.json_limits = JSON_LIMITS
    for router in ROUTERS:
        api.include_router(router)
    return api

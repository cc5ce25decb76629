"""The one ASGI application on HTTP_PORT: health, metrics, the webhook, the API and the Mini App.

/healthz, /metrics      web.health
/<webhook path>         Telegram's updates, when WEBHOOK_URL is set (web.webhook)
/api/v1/…               the HTTP API, OpenAPI at /api/v1/openapi.json (web.api)
/app/                   the Mini App's static files (web/miniapp/)
/hooks/<secret>         trigger URLs: POST runs the secret's task with the body (web.hooks)

A route that takes a body says how large it may be (`max_body_size`, beside the route; see
web.bodies); every other route takes none, so a body sent to it is refused (413) unread.
"""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from web.health import Health
from web.hooks import Hooks
from web.webhook import Webhook

MINIAPP_FILES = Path(__file__).resolve().parent / "miniapp"

# What the composition root holds and serves: an ASGI application (it needs no framework types).
WebApp = ASGIApp


def build_app(
    health: Health,
    *,
    webhook: Webhook | None = None,
    api: ASGIApp | None = None,
    hooks: Hooks | None = None,
) -> Starlette:
    routes: list[BaseRoute] = list(health.routes())
    if webhook is not None:
        routes.append(webhook.route())
    if hooks is not None:
        routes.append(hooks.route())
    if api is not None:
        routes.append(Mount("/api/v1", app=api))
    routes.append(Route("/app", _to_app, methods=["GET"]))
    routes.append(Mount("/app", app=StaticFiles(directory=MINIAPP_FILES, html=True)))
    return Starlette(routes=routes, max_body_size=0)


async def _to_app(_request: Request) -> Response:
    return RedirectResponse("/app/", status_code=308)

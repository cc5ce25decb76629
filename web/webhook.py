"""Telegram's webhook: updates posted to the path of WEBHOOK_URL, checked against the secret.

The secret is checked before the body is read, and the body is read up to the size of the
largest update Telegram sends (the route's `max_body_size`, web.bodies). The update itself is
handed to a receiver the bot provides (it puts it on the PTB Application's update queue), so
this module never imports telegram.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.logs import get_logger
from web.bodies import JsonLimits, JsonTooComplexError

log = get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Telegram's updates are small: a message holds at most 4,096 characters of text (1,024 of a
# caption), and with its entities, its keyboard and the message it replies to an update stays
# far below 100 KB. Anything ten times that is not from Telegram.
MAX_UPDATE_BYTES = 1_000_000
# An update nests a dozen levels at most (a reply's message's entities' user…), and even a full
# keyboard and a hundred entities on both messages make a few thousand keys.
UPDATE_JSON = JsonLimits(max_keys=20_000, max_depth=32)

UpdateReceiver = Callable[[dict[str, Any]], Awaitable[None]]


class Webhook:
    def __init__(self, path: str, secret: str, receive: UpdateReceiver) -> None:
        self._path = "/" + path.strip("/")
        self._secret = secret
        self._receive = receive
        self.accepting = True

    def route(self) -> Route:
        return Route(self._path, self._post, methods=["POST"], max_body_size=MAX_UPDATE_BYTES)

    async def _post(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning("webhook.refused", reason="wrong secret token")
            return JSONResponse({"error": "wrong secret token"}, status_code=403)
        if not self.accepting:
            # Shutting down: Telegram keeps the update and tries again (another replica).
            return JSONResponse({"error": "shutting down"}, status_code=503)
        try:
            update = UPDATE_JSON.parse(await request.body())
        except JsonTooComplexError as error:
            return JSONResponse({"error": str(error)}, status_code=422)
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return JSONResponse({"error": "the body is not a Telegram update"}, status_code=400)
        await self._receive(update)
        return Response(status_code=200)

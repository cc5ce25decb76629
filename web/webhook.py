"""Telegram's webhook: updates posted to the path of WEBHOOK_URL, checked against the secret.

The update itself is handed to a receiver the bot provides (it puts it on the PTB Application's
update queue), so this module never imports telegram.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.logs import get_logger

log = get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# Telegram's updates are small; anything much larger is not from Telegram.
MAX_UPDATE_BYTES = 1_000_000

UpdateReceiver = Callable[[dict[str, Any]], Awaitable[None]]


class Webhook:
    def __init__(self, path: str, secret: str, receive: UpdateReceiver) -> None:
        self._path = "/" + path.strip("/")
        self._secret = secret
        self._receive = receive
        self.accepting = True

    def route(self) -> Route:
        return Route(self._path, self._post, methods=["POST"])

    async def _post(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            log.warning("webhook.refused", reason="wrong secret token")
            return JSONResponse({"error": "wrong secret token"}, status_code=403)
        if not self.accepting:
            # Shutting down: Telegram keeps the update and tries again (another replica).
            return JSONResponse({"error": "shutting down"}, status_code=503)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return JSONResponse({"error": "the update is too large"}, status_code=413)
        try:
            update = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "the body is not JSON"}, status_code=400)
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return JSONResponse({"error": "the body is not a Telegram update"}, status_code=400)
        await self._receive(update)
        return Response(status_code=200)

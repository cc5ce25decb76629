"""Webhook updates from the HTTP server into the PTB Application's update queue."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application


def update_receiver(
    application: Application,  # type: ignore[type-arg]
) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def receive(payload: dict[str, Any]) -> None:
        update = Update.de_json(payload, application.bot)
        await application.update_queue.put(update)

    return receive

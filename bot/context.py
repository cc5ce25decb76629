"""What every handler receives: the services built by the composition root, typed."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from application import Application
from application.limits import RequestLimits
from core.settings import Settings
from scheduler.clock import Clock
from scheduler.engine import Engine


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    app: Application
    engine: Engine
    clock: Clock
    limits: RequestLimits


class BotData:
    """PTB's bot_data, typed: one slot, filled once by the composition root."""

    __slots__ = ("_services",)

    def __init__(self) -> None:
        self._services: Services | None = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the application was started without its services")
        return self._services

    @services.setter
    def services(self, services: Services) -> None:
        self._services = services


Context = CallbackContext[ExtBot[None], dict[object, object], dict[object, object], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


def services(context: Context) -> Services:
    return context.bot_data.services

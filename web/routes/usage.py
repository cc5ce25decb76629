"""/usage: a chat's spending this month and its budget, as /usage shows it in the bot."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, ChatIdQuery, CurrentActor, UseCasesDep
from web.schemas import UsageOut

router = APIRouter(route_class=ApiRoute)


@router.get("/usage", response_model=UsageOut)
async def read_usage(me: CurrentActor, use_cases: UseCasesDep, chat_id: ChatIdQuery) -> UsageOut:
    return UsageOut.of(chat_id, await use_cases.usage.month(me, chat_id))

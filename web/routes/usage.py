"""/usage: a chat's spending this month and its budget, as /usage shows it in the bot."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import AppDep, ChatIdQuery, CurrentActor
from web.schemas import UsageOut

router = APIRouter()


@router.get("/usage", response_model=UsageOut)
async def read_usage(me: CurrentActor, app: AppDep, chat_id: ChatIdQuery) -> UsageOut:
    return UsageOut.of(chat_id, await app.usage.month(me, chat_id))

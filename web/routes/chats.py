"""/chats: the chats the caller may reach, and whether they may manage each."""

from __future__ import annotations

from fastapi import APIRouter

from application.permissions import Right
from core.languages import supported_language
from web.deps import ApiRoute, CurrentActor, UseCasesDep
from web.schemas import ChatOut, ChatsOut

router = APIRouter(route_class=ApiRoute)


@router.get("/chats", response_model=ChatsOut)
async def list_chats(me: CurrentActor, use_cases: UseCasesDep) -> ChatsOut:
    views = await use_cases.chats.mine(me)
    return ChatsOut(
        chats=[
            ChatOut(
                id=view.chat.id,
                type=view.chat.type,
                title=view.chat.title,
                timezone=use_cases.chats.zone_of(view.chat),
                can_manage=Right.MANAGE in view.rights,
                language=supported_language(view.chat.language),
            )
            for view in views
        ]
    )

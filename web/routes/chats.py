"""/chats: the chats the caller may reach, and whether they may manage each."""

from __future__ import annotations

from fastapi import APIRouter

from application.permissions import Right
from web.deps import AppDep, CurrentActor
from web.schemas import ChatOut, ChatsOut

router = APIRouter()


@router.get("/chats", response_model=ChatsOut)
async def list_chats(me: CurrentActor, app: AppDep) -> ChatsOut:
    views = await app.chats.mine(me)
    return ChatsOut(
        chats=[
            ChatOut(
                id=view.chat.id,
                type=view.chat.type,
                title=view.chat.title,
                timezone=app.chats.zone_of(view.chat),
                can_manage=Right.MANAGE in view.rights,
            )
            for view in views
        ]
    )

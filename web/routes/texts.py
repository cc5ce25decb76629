"""/texts: the Mini App's words in one language (web.texts). They are no secret, and the page
needs them before it can say that it was not opened from Telegram: no sign-in is asked."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from web.deps import ApiRoute, DoorDep
from web.schemas import TextsOut

router = APIRouter(route_class=ApiRoute)


@router.get("/texts", response_model=TextsOut)
async def texts(
    door: DoorDep, language: Annotated[str | None, Query(max_length=35)] = None
) -> TextsOut:
    spoken, texts = door.texts.of(language)
    return TextsOut(language=spoken, texts=texts)

"""/parse: what a request would be understood as, without keeping anything (the Mini App's
live preview; `cronpilot parse --json`'s shape)."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, UseCasesDep, WordsDep
from web.schemas import ParseIn, ParseOut

router = APIRouter(route_class=ApiRoute)


@router.post("/parse", response_model=ParseOut)
async def parse(
    me: CurrentActor, use_cases: UseCasesDep, words: WordsDep, body: ParseIn
) -> ParseOut:
    # A model call goes on the named chat's bill, else on the caller's private chat.
    preview = await use_cases.drafts.understand(
        me, body.text, chat_id=body.chat_id, timezone=body.timezone
    )
    schedule = preview.request.schedule
    return ParseOut(
        kind=schedule.kind,
        cron=schedule.cron,
        run_at=schedule.run_at.astimezone(schedule.zone) if schedule.run_at else None,
        every_seconds=schedule.every_seconds,
        timezone=schedule.timezone,
        prompt=preview.request.prompt,
        description=preview.description if words.language is None else words.describe(schedule),
        next_runs=[run.astimezone(schedule.zone) for run in preview.next_runs],
        source=preview.request.source,
    )

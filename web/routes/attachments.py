"""A task's attachments: the documents kept with it, by name and size (their text stays with
the task's model)."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, TaskId, UseCasesDep
from web.schemas import AttachmentOut, AttachmentsOut

router = APIRouter(route_class=ApiRoute)


@router.get("/tasks/{task_id}/attachments", response_model=AttachmentsOut)
async def list_attachments(
    me: CurrentActor, use_cases: UseCasesDep, task_id: TaskId
) -> AttachmentsOut:
    found = await use_cases.attachments.of_task(me, task_id)
    return AttachmentsOut(attachments=[AttachmentOut.of(attachment) for attachment in found])

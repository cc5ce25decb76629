"""/tools: the tools a task may have or not (its `tools`), by key and name."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, UseCasesDep
from web.schemas import ToolOut, ToolsOut

router = APIRouter(route_class=ApiRoute)


@router.get("/tools", response_model=ToolsOut)
async def list_tools(me: CurrentActor, use_cases: UseCasesDep) -> ToolsOut:
    # Any caller the API let in may see them: choosing them is checked per task.
    del me
    return ToolsOut(
        tools=[ToolOut(key=key, label=label) for key, label in use_cases.setup.tool_choices]
    )

"""/destinations: the names of the operator's destinations outside Telegram, which a task's
targets may name (their addresses stay on the server)."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, UseCasesDep
from web.schemas import DestinationsOut

router = APIRouter(route_class=ApiRoute)


@router.get("/destinations", response_model=DestinationsOut)
async def list_destinations(me: CurrentActor, use_cases: UseCasesDep) -> DestinationsOut:
    # Any caller the API let in may see the names: picking one is checked per task.
    del me
    return DestinationsOut(destinations=list(use_cases.targets.destination_names))

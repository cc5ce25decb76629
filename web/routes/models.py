"""/models: the models a task may run on (its `model`): the default and the names of MODELS."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, UseCasesDep
from web.schemas import ModelsOut

router = APIRouter(route_class=ApiRoute)


@router.get("/models", response_model=ModelsOut)
async def list_models(me: CurrentActor, use_cases: UseCasesDep) -> ModelsOut:
    # Any caller the API let in may see the names: choosing one is checked per task.
    del me
    offer = use_cases.setup.models
    return ModelsOut(default=offer.default, models=list(offer.names))

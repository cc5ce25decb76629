"""/token: the caller's own API token. It is handed out by /token in a private chat (shown once
there); here it can only be withdrawn, by the script that holds it or from the Mini App."""

from __future__ import annotations

from fastapi import APIRouter

from web.deps import ApiRoute, CurrentActor, UseCasesDep

router = APIRouter(route_class=ApiRoute)


@router.delete("/token", status_code=204)
async def revoke_token(me: CurrentActor, use_cases: UseCasesDep) -> None:
    """Withdraw the caller's token (requests that use it are refused from then on); nothing
    happens when they have none."""
    await use_cases.tokens.revoke(me)

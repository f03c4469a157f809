"""Chain writes: the status of a change accepted with 202 until it is on chain."""

from __future__ import annotations

from fastapi import APIRouter, Path

from api.deps import CurrentPrincipal, GovernanceDep
from api.limits import GuardedRoute
from api.schemas import ChainWriteView

router = APIRouter(route_class=GuardedRoute, tags=["chain writes"])


@router.get("/v1/chain-writes/{write_id}", summary="Where a change accepted with 202 stands")
def chain_write(principal: CurrentPrincipal, governance: GovernanceDep,
                write_id: int = Path(ge=1, le=2**62,
                                     description="the write id a 202 answer named")) -> ChainWriteView:
    """``pending`` (recorded, being sent), ``sent`` (mined, waiting for confirmations), ``settled`` (on chain at the
    confirmation depth) or ``refused`` (the contract will not accept it; ``error`` says why). Visible to the account
    that signs it and to admins."""
    write = governance.chain_write(principal, write_id)
    return ChainWriteView.model_validate(write.to_json())

"""Selective disclosure for holders: withhold fields of a sealed document before handing it over."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.limits import GuardedRoute
from api.schemas import DisclosureRequest
from registry.sealing.document import SealedDocument, withhold

router = APIRouter(route_class=GuardedRoute, tags=["holders"])


@router.post("/v1/disclosures", summary="Withhold fields of a sealed document (selective disclosure)")
def disclose(body: DisclosureRequest, response: Response) -> SealedDocument:
    """The partial sealed document: each withheld field's value and salt gone, its leaf hash kept, so
    it still verifies at `POST /v1/verify`. Stateless and keyless (the holder already has the document):
    the node neither stores nor logs it. A path naming no field is a 422 naming `withhold[i]`; withholding
    every field is refused (share the document hash instead). Same as `coo disclose`, which works offline."""
    response.headers["Cache-Control"] = "no-store"
    return withhold(body.document, body.withhold)

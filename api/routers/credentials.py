"""The node as a verifiable-credential issuer: its DID document and its status list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from registry.errors import NotFoundError
from registry.vc.issuer import STATUS_PATH, VcIssuer

router = APIRouter(tags=["credentials"])


def _issuer(request: Request) -> VcIssuer:
    issuer: VcIssuer | None = getattr(request.app.state.node, "vc_issuer", None)
    if issuer is None:
        raise NotFoundError("credential issuer", "this node")
    return issuer


@router.get("/.well-known/did.json", summary="This node's did:web document")
async def did_json(request: Request) -> dict[str, Any]:
    """The Ed25519 key that signs this node's certificate credentials and status lists."""
    return _issuer(request).did_document()


@router.get(STATUS_PATH, summary="The node's Bitstring Status List credential (vc+jwt)",
            response_class=Response, responses={200: {"content": {"application/vc+jwt": {}}}})
async def status_list(request: Request) -> Response:
    """131,072 entries, GZIP, multibase base64url; cache it briefly."""
    return Response(_issuer(request).status_list(), media_type="application/vc+jwt",
                    headers={"Cache-Control": "max-age=60"})

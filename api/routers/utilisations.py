"""Importing Customs: record each use of a certificate against an import declaration."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import CurrentCustoms, CurrentReader, UtilisationDep
from api.limits import GuardedRoute
from api.schemas import PENDING_RESPONSES, UtilisationCreate, UtilisationRecorded, UtilisationState
from registry.services.utilisation import Draw

router = APIRouter(route_class=GuardedRoute, prefix="/v1/certificates", tags=["customs"])


@router.post("/{certificate_id}/utilisations", status_code=status.HTTP_201_CREATED,
             summary="Record a use of a certificate against an import declaration",
             responses={**PENDING_RESPONSES,
                        200: {"model": UtilisationRecorded, "description": "the same declaration, already recorded"}})
def utilise(certificate_id: str, body: UtilisationCreate, customs: CurrentCustoms, utilisation: UtilisationDep,
            response: Response) -> UtilisationRecorded:
    """`certificate_id` is this node's certificate id or the document hash. Only Customs of the
    certificate's importing country may draw; the contract refuses a draw beyond the certified
    quantity and any use of a revoked, superseded, erased or expired certificate. A
    back-to-back certificate also draws down its parent. Repeating a declaration with the
    same quantities returns the recorded use (200) and draws nothing more.
    """
    draws = [Draw(item.item_number, item.quantity) for item in body.items]

    def work() -> dict[str, Any]:
        record, new, balance = utilisation.utilise(customs, certificate_id, body.declaration_reference, body.date,
                                                   draws, body.document, body.parent_document)
        if not new:
            response.status_code = status.HTTP_200_OK
        return {**balance, "utilisation": record}

    return UtilisationRecorded.model_validate(work())


@router.get("/{certificate_id}/utilisations", summary="How much of a certificate has been used")
def utilisation(certificate_id: str, who: CurrentReader, utilisation: UtilisationDep) -> UtilisationState:
    """Certified, drawn and remaining quantity per goods item (from the chain), open verification
    requests, and the declarations this node recorded."""
    return UtilisationState.model_validate(
        utilisation.utilisation(who, certificate_id))

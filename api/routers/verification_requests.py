"""Retroactive verification: importing Customs asks, the issuing side answers."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status

from api.deps import CurrentCustoms, CurrentIssuerOrAuthority, CurrentReader, RequestsDep
from api.limits import GuardedRoute
from api.schemas import PENDING_RESPONSES, ReasonDelivery, RequestAnswer, RequestCreate, VerificationRequestPublic

router = APIRouter(route_class=GuardedRoute, tags=["customs"])

RequestId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the request's number on chain")]


@router.post("/v1/certificates/{certificate_id}/verification-requests",
             responses=PENDING_RESPONSES, status_code=status.HTTP_201_CREATED,
             summary="Open a retroactive verification request")
def open_request(certificate_id: str, body: RequestCreate, customs: CurrentCustoms,
                 requests: RequestsDep) -> VerificationRequestPublic:
    """`certificate_id` is this node's certificate id or the document hash. The reason text stays
    on this node; its hash goes on chain with the time, so the answer deadline is auditable."""
    found = requests.open_request(customs, certificate_id, body.reason, body.document)
    return VerificationRequestPublic.model_validate(found)


@router.get("/v1/verification-requests", summary="Verification requests the caller is party to")
def list_requests(who: CurrentReader, requests: RequestsDep,
                  status_: Annotated[Literal["open", "confirmed", "not-confirmed", "all"],
                                     Query(alias="status")] = "all") -> list[VerificationRequestPublic]:
    """Customs see the requests their country opened; issuing bodies and authorities the requests
    on their certificates. Each comes with its age in seconds (until it was answered)."""
    found = requests.requests(who, status_)
    return [VerificationRequestPublic.model_validate(r) for r in found]


@router.get("/v1/verification-requests/{request_id}", summary="One verification request")
def read_request(request_id: RequestId, who: CurrentReader, requests: RequestsDep) -> VerificationRequestPublic:
    """Visible to the parties to it."""
    return VerificationRequestPublic.model_validate(requests.request(who, request_id))


@router.put("/v1/verification-requests/{request_id}/reason", status_code=status.HTTP_204_NO_CONTENT,
            summary="Deliver the reason text of a request to the issuing node")
def deliver_reason(request_id: RequestId, body: ReasonDelivery, customs: CurrentCustoms,
                   requests: RequestsDep) -> None:
    """Sent by the requesting country's node to the node that issued the certificate; the text must
    hash to the reason hash recorded on chain. Requests opened on the issuing node need no delivery."""
    requests.receive_reason(customs, request_id, body.reason)


@router.post("/v1/verification-requests/{request_id}/answer",
             responses=PENDING_RESPONSES, summary="Answer a verification request")
def answer(request_id: RequestId, body: RequestAnswer, who: CurrentIssuerOrAuthority,
           requests: RequestsDep) -> VerificationRequestPublic:
    """By the issuing body or its authority. `not-confirmed` revokes the certificate on chain
    (reason: origin not confirmed on verification request)."""
    found = requests.answer_request(who, request_id, body.answer == "confirmed", body.remarks)
    return VerificationRequestPublic.model_validate(found)

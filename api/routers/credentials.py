"""The node as a verifiable-credential issuer: its DID document, its JSON-LD context, its status lists,
and hybrid credentials for anchored certificates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import CurrentIssuer, IssuingDep
from api.limits import GuardedRoute
from registry.domain.states import CertificateStatus
from registry.errors import ConflictError, NotFoundError
from registry.vc.context import CONTEXT_MEDIA_TYPE, CONTEXT_PATH, context_bytes
from registry.vc.issuer import STATUS_DI_PATH, STATUS_PATH, STATUS_TTL_SECONDS, VcIssuer
from registry.vc.securing import VC_MEDIA_TYPE, SecuredCredential, Securing

router = APIRouter(route_class=GuardedRoute, tags=["credentials"])

_LIST_CACHE = {"Cache-Control": f"max-age={STATUS_TTL_SECONDS}"}


def _issuer(request: Request) -> VcIssuer:
    issuer: VcIssuer | None = getattr(request.app.state.node, "vc_issuer", None)
    if issuer is None:
        raise NotFoundError("credential issuer", "this node")
    return issuer


def _send(secured: SecuredCredential, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(secured.body(), status_code=status_code, media_type=secured.media_type, headers=headers)


@router.get("/.well-known/did.json", summary="This node's did:web document")
async def did_json(request: Request) -> dict[str, Any]:
    """The Ed25519 key that signs this node's certificate credentials and status lists."""
    return _issuer(request).did_document()


@router.get(CONTEXT_PATH, summary="The certificate-of-origin JSON-LD context", response_class=Response,
            responses={200: {"content": {CONTEXT_MEDIA_TYPE: {}}}})
async def context() -> Response:
    """Defines every term of this node's credentials (all `@protected`, no `@vocab`). Version 1 never changes:
    cache it for good; a change would be published as `v2`."""
    return Response(context_bytes(), media_type=CONTEXT_MEDIA_TYPE,
                    headers={"Cache-Control": "public, max-age=31536000, immutable",
                             "Access-Control-Allow-Origin": "*"})


@router.get(STATUS_PATH, summary="The node's Bitstring Status List credential (vc+jwt)",
            response_class=Response, responses={200: {"content": {"application/vc+jwt": {}}}})
async def status_list(request: Request) -> Response:
    """131,072 entries, GZIP, multibase base64url; cache it briefly. Credentials secured as vc+jwt point here."""
    return _send(_issuer(request).published_list("vc+jwt"), headers=_LIST_CACHE)


@router.get(STATUS_DI_PATH, summary="The same status list with a Data Integrity proof (eddsa-jcs-2022)",
            response_class=Response, responses={200: {"content": {VC_MEDIA_TYPE: {}}}})
async def status_list_data_integrity(request: Request) -> Response:
    """The list of `/v1/status-lists/revocation-1`, as a JSON credential with an embedded `eddsa-jcs-2022` proof
    (`application/vc`): credentials secured with Data Integrity point here, so a verifier that handles only
    embedded proofs can check them."""
    return _send(_issuer(request).published_list("di"), headers=_LIST_CACHE)


FormatName = Literal["vc+jwt", "vc jwt", "jwt", "di"]
"""The ``format`` query values: ``vc jwt`` is ``vc+jwt`` with its ``+`` left unencoded (a query decodes it as a
space), ``jwt`` its short name."""


@router.post("/v1/certificates/{certificate_id}/credential", status_code=status.HTTP_201_CREATED,
             summary="Issue an anchored certificate as a hybrid verifiable credential", response_class=Response,
             responses={201: {"content": {"application/vc+jwt": {}, VC_MEDIA_TYPE: {}}}})
def hybrid_credential(certificate_id: str, who: CurrentIssuer, issuing: IssuingDep, request: Request,
                      name: Annotated[FormatName, Query(alias="format", description=(
                          "`vc+jwt` (a compact JWS, `application/vc+jwt`; send the `+` as `%2B`, or write `jwt`) "
                          "or `di` (an eddsa-jcs-2022 Data Integrity proof, `application/vc`)"))] = "vc+jwt",
                      ) -> Response:
    """The issuer's own anchored, active certificate as a VC signed with this node's DID key, whose
    `credentialStatus` is a `CertificateRegistryStatus` entry (chain id, registry contract, document hash, batch
    root and proof): verifiers read its status on chain, not from a status list."""
    securing: Securing = "di" if name == "di" else "vc+jwt"
    row = issuing.ctx.certificate(who, certificate_id)
    if CertificateStatus(row.status).final:
        raise ConflictError(f"certificate {certificate_id} is {row.status}: only an active certificate is issued "
                            "as a credential")
    document = issuing.sealed_document(who, certificate_id)
    return _send(_issuer(request).issue_hybrid(document, securing), status.HTTP_201_CREATED)

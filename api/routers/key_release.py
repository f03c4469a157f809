"""Encrypted records on chain: key release by the issuing node, fetch-and-open by another node."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Response, status

from api.deps import CurrentCustoms, KeyReleaseDep
from api.limits import GuardedRoute
from api.schemas import ErasureAcknowledgementIn, KeyReleased
from registry.sealing.document import SealedDocument
from registry.types import hex32

router = APIRouter(route_class=GuardedRoute, prefix="/v1/certificates", tags=["customs"])


@router.post("/{certificate_id}/key-release", summary="Release a certificate's data key to importing Customs")
def release_key(certificate_id: str, customs: CurrentCustoms, keys: KeyReleaseDep,
                response: Response) -> KeyReleased:
    """On the issuing node, for an encrypted-mode certificate, to Customs of its importing country
    (`certificate_id` may be the document hash). Every release is written to the audit log."""
    released = keys.release_key(customs, certificate_id)
    response.headers["Cache-Control"] = "no-store"
    return KeyReleased(document_hash=hex32(released.document_hash), issuer=released.issuer,
                       data_key=base64.urlsafe_b64encode(released.key).rstrip(b"=").decode())


@router.post("/{document_hash}/fetch", summary="Fetch another node's encrypted certificate from the chain")
def fetch(document_hash: str, customs: CurrentCustoms, keys: KeyReleaseDep, response: Response) -> SealedDocument:
    """Asks the issuing country's node (a configured peer) for the data key, keeps it wrapped
    under this node's key, and opens the ciphertext the anchoring transaction logged. After the
    certificate is erased on chain the key is dropped and this answers 410."""
    document = keys.fetch(customs, document_hash)
    response.headers["Cache-Control"] = "no-store"
    return document


@router.post("/{document_hash}/erasure/acknowledgements", status_code=status.HTTP_204_NO_CONTENT,
             summary="A peer node confirms it destroyed its copy of an erased certificate's key")
def acknowledge_erasure(document_hash: str, body: ErasureAcknowledgementIn, customs: CurrentCustoms,
                        keys: KeyReleaseDep) -> Response:
    """Sent by the node the key was released to, signed by its node account (`coo-erasure-ack/1`);
    listed by `GET /v1/certificates/{id}/erasure`."""
    keys.receive_acknowledgement(customs, document_hash, body.model_dump())
    return Response(status_code=status.HTTP_204_NO_CONTENT)

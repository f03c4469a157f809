"""Zero-knowledge proofs: an issuer proves claims about its certificate's confidential figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import CurrentIssuer, NodeDep
from api.schemas import ProofRequest
from registry.services.proofs import Proofs
from registry.zk.bundle import ProofBundle

router = APIRouter(tags=["issuers"])


def _proofs(node: NodeDep) -> Proofs:
    return Proofs(node.context, node.verification)


ProofsDep = Annotated[Proofs, Depends(_proofs)]


@router.post("/v1/certificates/{certificate_id}/proofs", summary="Prove claims about a certificate in zero knowledge")
def prove(certificate_id: str, body: ProofRequest, who: CurrentIssuer, response: Response,
          proofs: ProofsDep) -> ProofBundle:
    """A proof bundle (`coo-proofs/1`) for the issuer's own anchored certificate sealed with confidential
    figures: each claim proven, no value disclosed. Anyone verifies it at `POST /v1/verify`. A claim the
    committed values do not satisfy is a 422 naming `claims[i]` (and says nothing about the values); another
    issuer's certificate is a 404, an erased one a 410. Same as `coo prove`, which works offline."""
    response.headers["Cache-Control"] = "no-store"
    return proofs.prove(who, certificate_id, body.claims)

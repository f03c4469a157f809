"""Zero-knowledge proofs: an issuer proves claims about its certificate's confidential figures; Customs has the
chain verify a proof bundle's claims and record them."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import CurrentCustoms, CurrentIssuer, NodeDep
from api.limits import GuardedRoute
from api.schemas import PENDING_RESPONSES, ClaimsRecorded, ProofRequest
from registry.services.proofs import Proofs
from registry.zk.bundle import ProofBundle

router = APIRouter(route_class=GuardedRoute, tags=["issuers"])


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


@router.post("/v1/claims", summary="Verify a proof bundle's claims on chain and record them", tags=["customs"],
             responses=PENDING_RESPONSES)
def record(bundle: ProofBundle, who: CurrentCustoms, proofs: ProofsDep) -> ClaimsRecorded:
    """The bundle is verified here first (as `POST /v1/verify`: a refused bundle is a 409 and nothing is sent);
    then each claim is verified again by the generated Groth16 verifier on chain and recorded by `ZkClaimLog`
    as a `ClaimVerified` event, signed by the calling officer's account. The claims are chain writes like any
    other (sent in order by the node's chain writer): `202` with the last claim's status link when they are not
    on chain within the request's bound. The contracts are deployed next to the registry on first use."""
    report, receipt, log, recorded = proofs.record(who, bundle)
    return ClaimsRecorded(verdict=report.verdict, receipt_id=receipt.receipt_id, claim_log=log,
                          recorded=[dataclasses.asdict(r) for r in recorded])

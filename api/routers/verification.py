"""Importing Customs (and anyone): verify a sealed document, a hash, or a QR token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Response

from api import pages
from api.config import Settings
from api.deps import CurrentPrincipal, KeyReleaseDep, MaybePrincipal, SettingsDep, VerificationDep
from api.limits import GuardedRoute
from api.offload import blocking
from api.paging import AfterQuery, LimitQuery, SinceQuery, UntilQuery, epoch_seconds, next_cursor
from api.problems import status_for
from api.schemas import (
    OpenAttestationWrapped,
    VerificationEntry,
    VerificationPage,
    VerificationPublic,
    VerifyRequest,
)
from registry.custody.apikeys import Principal
from registry.domain.report import Verdict, VerificationReport
from registry.errors import RegistryError, ValidationError
from registry.openattestation.identity import IdentityResolver
from registry.pipelines.verify import Declaration
from registry.sealing.document import SealedDocument
from registry.services.documents import KEY_TOKEN_PREFIX
from registry.services.verification import Verification, VerificationReceipt
from registry.storage.audit import ReceiptQuery
from registry.types import parse_hex32
from registry.zk.bundle import ProofBundle

router = APIRouter(route_class=GuardedRoute, tags=["customs"])


def _public(report: VerificationReport, receipt: VerificationReceipt) -> VerificationPublic:
    """The report with its receipt, not validated again: the report's fields are a validated report's, the
    receipt's are strings this node made (``tests/api/test_hot_path.py`` checks the bytes are the same)."""
    return VerificationPublic.model_construct(**dict(report), receipt_id=receipt.receipt_id,
                                              receipt_signature=receipt.signature, node_account=receipt.node_account)


def _answer(public: VerificationPublic) -> Response:
    """The report as JSON; 503 with Retry-After when the chain could not be reached (fail closed)."""
    if public.verdict is Verdict.UNAVAILABLE:
        return Response(public.model_dump_json(), status_code=503, media_type="application/json",
                        headers={"Retry-After": "5"})
    return Response(public.model_dump_json(), media_type="application/json")


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": VerificationPublic, "description": "chain unreachable: verdict UNAVAILABLE"}}


@router.post("/v1/verify", summary="Verify a sealed document (full or selectively disclosed)",
             response_model=VerificationPublic, responses=_UNAVAILABLE)
async def verify(body: Annotated[VerifyRequest | SealedDocument | ProofBundle | OpenAttestationWrapped, Body()],
                 verification: VerificationDep, who: MaybePrincipal, settings: SettingsDep) -> Response:
    """Send the sealed document itself, or `{"document": …, "declaration": {…}}` to match an import declaration,
    or an OpenAttestation v2 wrapped document (a TradeTrust certificate: checked on its DocumentStore on this
    node's chain, its issuer's identity by DNS-TXT or this node's trust list), or a zero-knowledge proof bundle
    (`coo-proofs/1`: the certificate's status first, then its commitment and one `claim` check per claim).

    With an API key, the receipt is filed in that key's history (`GET /v1/verifications`)."""
    return _answer(_public(*await blocking(_verify, body, verification, who, settings)))


def _verify(body: VerifyRequest | SealedDocument | ProofBundle | OpenAttestationWrapped, verification: Verification,
            who: Principal | None, settings: Settings) -> tuple[VerificationReport, VerificationReceipt]:
    if isinstance(body, OpenAttestationWrapped):
        identity = IdentityResolver.configured(settings.oa_dns_resolver, settings.oa_trust_list,
                                               settings.oa_dns_timeout_ms / 1000)
        return verification.verify_openattestation(body.model_dump(mode="json"), identity, who)
    if isinstance(body, ProofBundle):
        return verification.verify_bundle(body, who)
    document = body.document if isinstance(body, VerifyRequest) else body
    given = body.declaration if isinstance(body, VerifyRequest) else None
    declaration = Declaration(**given.model_dump()) if given is not None else None
    return verification.verify_document(document, declaration, who)


@router.get("/v1/verify", summary="Verify by issuer and certificate number", response_model=VerificationPublic,
            responses=_UNAVAILABLE)
async def verify_number(verification: VerificationDep, who: MaybePrincipal,
                        issuer: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{40}$", description="issuer account")],
                        number: Annotated[str, Query(min_length=1, max_length=64, description="certificate number")],
                        ) -> Response:
    """Certificate numbers are unique only per issuer, so both are needed (answered by the issuing node).

    Without the issuer's key or the importing Customs' key: the verdict and the checks'
    outcomes only, never a field value, and the same shape for a number that does not exist."""
    return _answer(_public(*await blocking(verification.verify_number, issuer, number, who)))


@router.get("/v1/verify/{document_hash}", summary="Status-only check of a document hash",
            response_model=VerificationPublic, responses=_UNAVAILABLE)
async def verify_hash(document_hash: str, verification: VerificationDep, who: MaybePrincipal) -> Response:
    """Anchoring, issuer authorisation and revocation status; no contents (filed in the key's history, if sent)."""
    try:
        digest = parse_hex32(document_hash)
    except ValueError:
        raise ValidationError("document_hash: expected 32 bytes as 64 hex digits",
                              [{"loc": "document_hash", "msg": "expected 0x followed by 64 hex digits"}]) from None
    return _answer(_public(*await blocking(verification.verify_hash, digest, None, who)))


@router.get("/v1/verifications/{receipt_id}", summary="A verification receipt from the audit log")
def verification(receipt_id: str, verification: VerificationDep, who: CurrentPrincipal) -> dict[str, object]:
    """The signed receipt and, while the certificate's key exists, the report it covers.

    Only for the certificate's issuer, the importing country's Customs and the key that asked for it (401
    without a key, 404 for anyone else). After erasure: the receipt and verdict, `"contents": "erased"`."""
    return verification.verification_receipt(who, receipt_id)


@router.get("/v1/verifications", summary="The caller's own verification history")
def verifications(verification: VerificationDep, who: CurrentPrincipal, after: AfterQuery = None,
                  limit: LimitQuery = 50, verdict: Verdict | None = None,
                  since: SinceQuery = None, until: UntilQuery = None,
                  key_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{16}$",
                                                      description="admins: one key's history")] = None,
                  ) -> VerificationPage:
    """Newest first. Each key sees only the verifications it asked for itself (one Customs officer never sees
    another's, nor another country's Customs ours); an admin sees every key's, or one key's with `key_id`.
    Verifications asked without a key are in no one's history: there is no one to attribute them to.
    Erased certificates' entries stay, without hash or number. The report each receipt covers:
    `GET /v1/verifications/{receipt_id}`."""
    query = ReceiptQuery(key_id=key_id, verdict=verdict.value if verdict else None, since=epoch_seconds(since),
                         until=epoch_seconds(until), after=after, limit=limit + 1)
    entries = verification.history(who, query)
    page = [VerificationEntry.of(e) for e in entries[:limit]]
    return VerificationPage(verifications=page, next=next_cursor([e.receipt.receipt_id for e in entries], limit))


@router.get("/v/{token}", summary="QR target: verdict page (HTML, or JSON with Accept: application/json)",
            response_model=VerificationPublic,
            responses={200: {"content": {"text/html": {}, "application/json": {}}},
                       404: {"content": {"text/html": {}, "application/problem+json": {}},
                             "description": "unknown code: an HTML page, or problem+json for JSON clients"}})
def verify_token(token: str, verification: VerificationDep, keys: KeyReleaseDep, settings: SettingsDep,
                 accept: Annotated[str, Header()] = "text/html") -> Response:
    """What a phone shows after scanning the QR code on a paper certificate: the verification page
    with the report, the QR code and the verification code (see `api/pages.py`). A key token
    (`k1.…`, encrypted mode) works at any member node: it opens the ciphertext on chain."""
    wants_json = "application/json" in accept and "text/html" not in accept
    try:
        if token.startswith(KEY_TOKEN_PREFIX):
            report, receipt = keys.verify_key_token(token)
        else:
            report, receipt = verification.verify_token(token)
    except RegistryError as error:
        if wants_json:
            raise
        return pages.problem_page(status_for(error), error)
    public = _public(report, receipt)
    if wants_json:
        return _answer(public)
    return pages.report_page(public, pages.verification_link(settings.base_url, token), token)

"""Certificates: register, read, download, QR, replace, revoke, erase."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import segno
from fastapi import APIRouter, Body, Query, Response, status

from api.deps import (
    CurrentIssuer,
    CurrentIssuerOrAuthority,
    CurrentReader,
    IssuingDep,
    KeyReleaseDep,
    NodeDep,
    SettingsDep,
)
from api.limits import GuardedRoute
from api.offload import blocking
from api.paging import AfterQuery, LimitQuery, SinceQuery, UntilQuery, epoch_seconds, next_cursor
from api.schemas import (
    PENDING_RESPONSES,
    BatchCreate,
    BatchPublic,
    CertificatePage,
    CertificatePublic,
    DestructionReceiptPublic,
    ErasureAcknowledgementPublic,
    ErasurePublic,
    ReplaceResponse,
    RevokeRequest,
    TrueCopyRequest,
    VerificationLink,
)
from registry.domain.reasons import RevocationReason
from registry.openattestation.exports import OpenAttestationExports
from registry.sealing.document import SealedDocument
from registry.services.context import CertificateFilter, ServiceContext
from registry.services.key_release import KeyRelease
from registry.storage.store import CertificateRow, Store

router = APIRouter(route_class=GuardedRoute, prefix="/v1/certificates", tags=["issuers"])

_EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _examples() -> dict[str, Any]:
    found = {}
    for path in sorted(_EXAMPLES.glob("*.json")):
        found[path.stem] = {"summary": path.stem.replace("-", " "), "value": json.loads(path.read_text())}
    return found


CertificateBody = Annotated[dict[str, Any], Body(openapi_examples=_examples(),
                                                 description="A certificate of origin (DESIGN §6 dataset)")]
ParentQuery = Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{64}$",
                                          description="back-to-back only: the parent certificate's document hash")]
ParentItemsQuery = Annotated[str | None, Query(
    pattern=r"^[0-9]{1,5}(,[0-9]{1,5}){0,999}$",
    description="back-to-back only: per goods item, the parent's item (0-based) it draws down, e.g. `0,0,1`; "
                "default: the item at the same position")]
ModeQuery = Annotated[Literal["hash-only", "encrypted"],
                      Query(description="hash-only (default) or encrypted payload on chain")]


def public(store: Store, row: CertificateRow, base_url: str) -> CertificatePublic:
    """The public view of a certificate row."""
    batch = store.batch(row.batch_id) if row.batch_id is not None else None
    return CertificatePublic.from_row(row, batch, base_url)


@router.post("", status_code=status.HTTP_202_ACCEPTED, summary="Register one certificate")
async def register(body: CertificateBody, issuer: CurrentIssuer, issuing: IssuingDep, settings: SettingsDep,
                   mode: ModeQuery = "hash-only", parent: ParentQuery = None,
                   parent_items: ParentItemsQuery = None) -> CertificatePublic:
    """Accepted at once as `pending`; `anchored` once its batch is mined (about a second).

    Idempotent on (issuer, certificate number): the same body again returns the same
    certificate; a different body under the same number is a 409. The certificate's terms
    (importing country, validity, quantities) are sealed into its hash for utilisation on
    chain; a back-to-back certificate names its parent's document hash in `parent` (and, when
    its items are not numbered as the parent's, which parent item each draws in `parent_items`).
    """
    parent_hash = bytes.fromhex(parent[2:]) if parent else None
    items = [int(i) for i in parent_items.split(",")] if parent_items else None

    def work() -> CertificatePublic:
        rows = issuing.register(issuer, [body], mode, parent=parent_hash, parent_items=items)
        return public(issuing.store, rows[0], settings.base_url)

    return await blocking(work)


@router.post("/batch", status_code=status.HTTP_202_ACCEPTED, summary="Register many certificates")
async def register_batch(body: BatchCreate, issuer: CurrentIssuer, issuing: IssuingDep, settings: SettingsDep,
                         mode: ModeQuery = "hash-only") -> BatchPublic:
    """All certificates are accepted or none; they are anchored together. Every item is checked: a
    batch with any refused item registers nothing and answers 422 listing each one by index and
    field path (`certificates[2].goods[0].hs_code`); 403, with the same list, when an item is an
    export this issuer may not certify."""
    def work() -> BatchPublic:
        rows = issuing.register(issuer, body.certificates, mode, batch=True)
        return BatchPublic(certificates=[public(issuing.store, r, settings.base_url) for r in rows])

    return await blocking(work)


@router.get("", summary="List the certificates the caller may see")
def list_certificates(who: CurrentReader, issuing: IssuingDep, settings: SettingsDep,
                      status_: Annotated[Literal["pending", "anchored", "revoked", "superseded", "erased"] | None,
                                         Query(alias="status")] = None,
                      number_prefix: Annotated[str | None, Query(min_length=1, max_length=64,
                                                                 description="certificate numbers starting so")] = None,
                      importing_country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$",
                                                                     description="ISO 3166-1 alpha-2")] = None,
                      since: SinceQuery = None, until: UntilQuery = None,
                      after: AfterQuery = None, limit: LimitQuery = 50) -> CertificatePage:
    """An issuer sees its own, an authority its country's exports, Customs the imports into its country, an admin
    all; newest first. Every filter given must match; `since`/`until` bound the registration time. A number
    prefix is matched after unsealing the numbers (they are stored sealed), so it scans the caller's
    certificates: narrow it with the other filters on a large node."""
    wanted = CertificateFilter(status=status_, number_prefix=number_prefix, importing_country=importing_country,
                               created_since=epoch_seconds(since), created_before=epoch_seconds(until))
    rows = issuing.ctx.certificates(who, wanted, after=after, limit=limit + 1)
    page = [public(issuing.store, r, settings.base_url) for r in rows[:limit]]
    return CertificatePage(certificates=page, next=next_cursor([r.id for r in rows], limit))


@router.get("/{certificate_id}", summary="Status and anchoring of a certificate")
def read(certificate_id: str, who: CurrentReader, issuing: IssuingDep,
         settings: SettingsDep) -> CertificatePublic:
    """Visible to its issuer, its country's authority, the importing country's Customs and admins."""
    row = issuing.ctx.certificate(who, certificate_id)
    return public(issuing.store, row, settings.base_url)


@router.get("/{certificate_id}/document", summary="The sealed document to hand to the exporter")
def document(certificate_id: str, who: CurrentIssuerOrAuthority, issuing: IssuingDep) -> SealedDocument:
    """Certificate, salts, document hash, batch proof and anchoring reference."""
    return issuing.sealed_document(who, certificate_id)


def _qr(ctx: ServiceContext, keys: KeyRelease, who: Any, certificate_id: str, base_url: str) -> segno.QRCode:
    row = ctx.certificate(who, certificate_id)
    return segno.make(f"{base_url}/v/{keys.token_for(row)}", error="m")


@router.get("/{certificate_id}/verification-link", summary="The URL the QR code carries")
def verification_link(certificate_id: str, who: CurrentIssuerOrAuthority, issuing: IssuingDep,
                      settings: SettingsDep, keys: KeyReleaseDep, response: Response) -> VerificationLink:
    """For printing or sending with the paper copy. WARNING: in encrypted mode it carries the
    certificate's data key for the bearer, so treat it like the paper certificate itself."""
    def work() -> VerificationLink:
        row = issuing.ctx.certificate(who, certificate_id)
        token = keys.token_for(row)
        return VerificationLink(url=f"{settings.base_url}/v/{token}", carries_key=token != row.id)

    response.headers["Cache-Control"] = "no-store"
    return work()


@router.get("/{certificate_id}/qr.svg", summary="QR code for the paper copy (SVG)",
            response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def qr_svg(certificate_id: str, who: CurrentIssuerOrAuthority, issuing: IssuingDep, settings: SettingsDep,
           keys: KeyReleaseDep) -> Response:
    """Points at this node's `/v/{token}` verification page. In encrypted mode the token carries
    the data key for the bearer, so any member node can open the record on chain."""
    code = _qr(issuing.ctx, keys, who, certificate_id, settings.base_url)
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, title="Verify this certificate of origin")
    return Response(out.getvalue(), media_type="image/svg+xml")


@router.get("/{certificate_id}/qr.png", summary="QR code for the paper copy (PNG)",
            response_class=Response, responses={200: {"content": {"image/png": {}}}})
def qr_png(certificate_id: str, who: CurrentIssuerOrAuthority, issuing: IssuingDep, settings: SettingsDep,
           keys: KeyReleaseDep) -> Response:
    """As the SVG (a key token in encrypted mode)."""
    code = _qr(issuing.ctx, keys, who, certificate_id, settings.base_url)
    out = io.BytesIO()
    code.save(out, kind="png", scale=6)
    return Response(out.getvalue(), media_type="image/png")


@router.post("/{certificate_id}/replace",
             responses=PENDING_RESPONSES, summary="Register a replacement and supersede this certificate")
def replace(certificate_id: str, body: CertificateBody, issuer: CurrentIssuer, issuing: IssuingDep,
            settings: SettingsDep, mode: ModeQuery = "hash-only") -> ReplaceResponse:
    """The replacement is anchored at once; the old certificate then verifies as SUPERSEDED."""
    old, new = issuing.replace(issuer, certificate_id, body, mode)
    return ReplaceResponse(replaced=public(issuing.store, old, settings.base_url),
                           replacement=public(issuing.store, new, settings.base_url))


@router.post("/{certificate_id}/true-copy",
             responses=PENDING_RESPONSES, summary="Issue a certified true copy and supersede the original")
def true_copy(certificate_id: str, who: CurrentIssuerOrAuthority, issuing: IssuingDep,
              settings: SettingsDep, body: Annotated[TrueCopyRequest | None, Body()] = None) -> ReplaceResponse:
    """For a lost or destroyed original: the copy keeps its number, contents and validity and is
    marked `certified_true_copy`; it continues the original's utilisation on chain, and the
    original then verifies as SUPERSEDED, pointing at the copy, and cannot be utilised."""
    remarks = body.remarks if body else None
    old, new = issuing.true_copy(who, certificate_id, remarks)
    return ReplaceResponse(replaced=public(issuing.store, old, settings.base_url),
                           replacement=public(issuing.store, new, settings.base_url))


@router.post("/{certificate_id}/revoke", responses=PENDING_RESPONSES, summary="Revoke with a reason")
def revoke(certificate_id: str, body: RevokeRequest, who: CurrentIssuerOrAuthority, issuing: IssuingDep,
           settings: SettingsDep) -> CertificatePublic:
    """Recorded on chain; visible to every verifier from the next block."""
    reason = RevocationReason.from_slug(body.reason)
    row = issuing.revoke(who, certificate_id, reason)
    return public(issuing.store, row, settings.base_url)


@router.post("/{certificate_id}/erase", responses=PENDING_RESPONSES, summary="Destroy the key (crypto-shredding)")
def erase(certificate_id: str, who: CurrentIssuerOrAuthority, issuing: IssuingDep) -> DestructionReceiptPublic:
    """Irreversible: the erasure is recorded on chain, then the data key and salts are destroyed and the
    key epoch that wrapped them is closed. Answers the signed receipt with `state` `erased`."""
    def work() -> DestructionReceiptPublic:
        receipt = issuing.erase(who, certificate_id)
        erasure, _ = issuing.erasure(who, certificate_id)
        return DestructionReceiptPublic(**receipt.to_json(), state="erased" if erasure is None else erasure.state.value)

    return work()


@router.get("/{certificate_id}/erasure", summary="Erasure state and the peers that confirmed it")
def erasure(certificate_id: str, who: CurrentReader, issuing: IssuingDep) -> ErasurePublic:
    """`erasing` until the key epoch is closed, then `erased`; peers that held the key send a signed
    acknowledgement once they destroyed their copy."""
    found, acknowledgements = issuing.erasure(who, certificate_id)
    if found is None:
        return ErasurePublic(state="none")
    return ErasurePublic(state=found.state.value, started_at=found.started_at, finished_at=found.finished_at,
                         acknowledgements=[ErasureAcknowledgementPublic(**a) for a in acknowledgements])


@router.get("/{certificate_id}/openattestation", responses=PENDING_RESPONSES,
            summary="The certificate as an OpenAttestation v2 document (TradeTrust), issued on this node's store")
def openattestation(certificate_id: str, who: CurrentIssuerOrAuthority, node: NodeDep,
                    settings: SettingsDep) -> dict[str, Any]:
    """A wrapped OpenAttestation v2 document that OpenAttestation's verifiers (TradeTrust) accept: issued on the
    DocumentStore this node deploys on the registry's chain, its identity the DNS-TXT record of
    `COO_OA_IDENTITY_DOMAIN` (see `docs/interop-openattestation.md`). The same document every time; revoking
    the certificate revokes it. For the certificate's issuer and its country's authority only."""
    exports = OpenAttestationExports(node.context, node.config.data_dir, settings.identity_domain, settings.base_url)
    return exports.export(who, certificate_id)

"""Request and response models at the edge of the API."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from datetime import date as date_
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from registry.domain.codes import Country
from registry.domain.names import OfficialName
from registry.domain.reasons import RevocationReason
from registry.domain.report import Verdict, VerificationReport
from registry.pipelines.worker import WorkerHealth
from registry.sealing.document import SealedDocument
from registry.services.verification import HistoryEntry
from registry.storage.store import CertificateRow
from registry.types import hex32

ReasonSlug = Literal[tuple(r.slug for r in RevocationReason)]  # type: ignore[valid-type]


# Complexity (radon C): the grade is from_row's (below); the fields themselves have no branches
class CertificatePublic(BaseModel):
    """A registered certificate's status (never its contents, keys or salts)."""

    id: str
    certificate_number: str
    issuer: str
    document_hash: str
    status: Literal["pending", "anchored", "revoked", "superseded", "erased"]
    mode: str
    exporting_country: str
    importing_country: str
    created_at: datetime = Field(description="when this node registered it (what `since`/`until` filter)")
    batch_root: str | None = None
    tx_hash: str | None = None
    block_number: int | None = None
    anchored_at: datetime | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    revocation_reason: str | None = None
    links: dict[str, str]

    # Complexity (radon C): one conditional per batch field of the response, each None until the batch is anchored
    @classmethod
    def from_row(cls, row: CertificateRow, batch: Any | None, base_url: str) -> CertificatePublic:
        """Build from a store row (and its batch, once anchored)."""
        anchored = batch is not None and batch.state == "anchored"
        batch = batch if anchored else None
        reason = RevocationReason(row.revocation_reason).slug if row.revocation_reason is not None else None
        return cls(
            id=row.id, certificate_number=row.certificate_number, issuer=row.issuer,
            document_hash=hex32(row.document_hash), status=row.status, mode=row.mode,  # type: ignore[arg-type]
            exporting_country=row.exporting_country, importing_country=row.importing_country,
            created_at=datetime.fromtimestamp(row.created_at, UTC),
            batch_root=hex32(batch.root) if batch is not None and batch.root else None,
            tx_hash=batch.tx_hash or None if batch is not None else None,
            block_number=batch.block_number if batch is not None else None,
            anchored_at=datetime.fromtimestamp(batch.anchored_at).astimezone()
            if batch is not None and batch.anchored_at else None,
            replaces=row.replaces, replaced_by=row.replaced_by, revocation_reason=reason,
            links={
                "self": f"/v1/certificates/{row.id}",
                "document": f"/v1/certificates/{row.id}/document",
                "qr": f"/v1/certificates/{row.id}/qr.svg",
                "verify": f"{base_url}/v/{row.id}",
            },
        )


class BatchCreate(BaseModel):
    """Many certificates in one request, anchored under one batch root.

    The items are checked by the registry, not here, so that every refused item is
    reported (an item that is not a JSON object among them), not only the first.
    """

    model_config = ConfigDict(extra="forbid")

    certificates: list[Any] = Field(min_length=1, max_length=10_000, json_schema_extra={"items": {"type": "object"}},
                                    description="certificates of origin (DESIGN §6 dataset)")


class BatchPublic(BaseModel):
    """The certificates a batch request registered, in request order."""

    certificates: list[CertificatePublic]


class CertificatePage(BaseModel):
    """One page of certificates, newest first; pass ``next`` as ``after`` for the following page."""

    certificates: list[CertificatePublic]
    next: str | None = Field(default=None, description="the `after` of the next page; absent on the last page")


class RevokeRequest(BaseModel):
    """Why a certificate is revoked."""

    model_config = ConfigDict(extra="forbid")

    reason: ReasonSlug = "issued-in-error"  # type: ignore[valid-type]


class ReplaceResponse(BaseModel):
    """The superseded certificate and its replacement."""

    replaced: CertificatePublic
    replacement: CertificatePublic


class DestructionReceiptPublic(BaseModel):
    """Signed evidence that a certificate's key was destroyed, and how far the erasure got.

    ``erasing``: the key is deleted but its key epoch is not closed yet (a crash
    interrupted it; the next start finishes it). ``erased``: the epoch is closed.
    """

    certificate_id: str
    document_hash: str
    destroyed_at: str
    node_account: str
    signature: str
    state: Literal["erasing", "erased"] = "erased"


class ErasureAcknowledgementPublic(BaseModel):
    """A peer node's signed confirmation that it destroyed its copy of the key."""

    node_account: str
    country: str
    acknowledged_at: str
    signature: str


class ErasureAcknowledgementIn(BaseModel):
    """A peer node's signed acknowledgement (``coo-erasure-ack/1``), as it sends it."""

    document_hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    node_account: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    acknowledged_at: str = Field(min_length=1, max_length=40)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]{130}$")


class ErasurePublic(BaseModel):
    """The erasure of one certificate: its state and the peers that confirmed it."""

    state: Literal["none", "erasing", "erased"]
    started_at: float | None = None
    finished_at: float | None = None
    acknowledgements: list[ErasureAcknowledgementPublic] = []


class DeclarationInput(BaseModel):
    """The import declaration to match a certificate against."""

    model_config = ConfigDict(extra="forbid")

    hs_code: str | None = Field(default=None, pattern=r"^\d{6,10}$")
    quantity: Decimal | None = Field(default=None, gt=0)
    consignee: str | None = Field(default=None, max_length=500)
    importing_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class VerifyRequest(BaseModel):
    """A sealed document, optionally with an import declaration."""

    model_config = ConfigDict(extra="forbid")

    document: SealedDocument
    declaration: DeclarationInput | None = None


class VerificationPublic(VerificationReport):
    """A verification report plus the node's signed receipt."""

    receipt_id: str
    receipt_signature: str
    node_account: str


class CountryCreate(BaseModel):
    """Admit a country; the node creates the authority account unless one is given."""

    model_config = ConfigDict(extra="forbid")

    country: Country
    authority: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    authority_name: OfficialName | None = Field(
        default=None, description="registered on chain; verifiers show it beside the authority's address")


class AuthorityAccountCreate(BaseModel):
    """Create a country authority's account on this node (not yet admitted on chain)."""

    model_config = ConfigDict(extra="forbid")

    country: Country
    label: str = Field(default="", max_length=200)


class IssuerCreate(BaseModel):
    """Authorise an issuing body; the node creates its account unless one is given."""

    model_config = ConfigDict(extra="forbid")

    label: OfficialName = Field(description="the issuing body's name, registered on chain: verifiers show it "
                                             "beside the issuer's address")
    account: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")


class NameSet(BaseModel):
    """A name registered on chain for an issuing body or a country's authority."""

    model_config = ConfigDict(extra="forbid")

    name: OfficialName


class ChainWriteView(BaseModel):
    """A chain write in the node's outbox: ``pending`` → ``sent`` → ``settled``, or ``refused``."""

    id: int
    kind: str
    state: str
    signer: str
    tx_hash: str | None = None
    block_number: int | None = None
    attempts: int
    error: str | None = None
    result: dict[str, Any] | None = None
    created_at: str
    settled_at: str | None = None


class WriteAccepted(BaseModel):
    """A change accepted but not yet on chain (HTTP 202): poll ``status_url`` until ``settled``."""

    status: str = "pending"
    detail: str
    write_id: int
    kind: str
    status_url: str
    account: str | None = None
    api_key: str | None = None


class AccountCreated(BaseModel):
    """A governed account and the API key bound to it (shown once)."""

    account: str
    api_key: str


class KeyCreate(BaseModel):
    """Mint an API key."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "authority", "issuer", "customs"]
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    account: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")
    label: str = Field(default="", max_length=200)


class KeyListed(BaseModel):
    """An API key as the node lists it: who it speaks for, never its secret."""

    key_id: str
    role: str
    country: str | None = None
    account: str | None = None
    label: str
    created_at: datetime


class KeyCreated(BaseModel):
    """A freshly minted API key (shown once)."""

    api_key: str
    role: str


class VerificationLink(BaseModel):
    """What the QR code of a certificate encodes."""

    url: str
    carries_key: bool = Field(description="true in encrypted mode: the link opens the on-chain record for its bearer")


class TrueCopyRequest(BaseModel):
    """Optional remarks printed on a certified true copy (e.g. why the original was replaced)."""

    model_config = ConfigDict(extra="forbid")

    remarks: str | None = Field(default=None, min_length=1, max_length=2000)


# -- Customs to Customs ---------------------------------------------------------------------

Quantity = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]


class DrawInput(BaseModel):
    """Quantity drawn from one goods item (its `item_number` on the certificate)."""

    model_config = ConfigDict(extra="forbid")

    item_number: int = Field(ge=1, le=65_535)
    quantity: Quantity


class UtilisationCreate(BaseModel):
    """One use of a certificate against an import declaration."""

    model_config = ConfigDict(extra="forbid")

    declaration_reference: str = Field(min_length=1, max_length=120, pattern=r"^[\x20-\x7E]+$")
    date: date_ = Field(description="the import declaration's date: not before the certificate's issue date, "
                                    "not more than three years ago, not after tomorrow (UTC)")
    items: list[DrawInput] = Field(min_length=1, max_length=1000)
    document: SealedDocument | None = Field(
        default=None, description="the sealed document, when this node did not issue it and holds no key to open it")
    parent_document: SealedDocument | None = Field(
        default=None, description="for a back-to-back certificate whose parent is not yet known on chain")


class DrawPublic(BaseModel):
    """A quantity drawn from one goods item."""

    item_number: int
    quantity: str


class UtilisationPublic(BaseModel):
    """A recorded utilisation."""

    id: str
    declaration_reference: str
    declared_on: str
    draws: list[DrawPublic]
    customs: str
    tx_hash: str
    block_number: int


class ItemBalance(BaseModel):
    """Certified, drawn and remaining quantity of one goods item."""

    item_number: int
    unit: str | None
    certified: str
    drawn: str
    remaining: str


class UtilisationState(BaseModel):
    """How much of a certificate has been used, and this node's declarations against it."""

    document_hash: str
    items: list[ItemBalance]
    exhausted: bool
    open_verification_requests: int
    declarations: list[UtilisationPublic]


class UtilisationRecorded(UtilisationState):
    """A new utilisation and the certificate's balance after it."""

    utilisation: UtilisationPublic


class RequestCreate(BaseModel):
    """Open a retroactive verification request."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    document: SealedDocument | None = None


class ReasonDelivery(BaseModel):
    """The reason text of a verification request, delivered to the issuing node."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)


class RequestAnswer(BaseModel):
    """The issuing side's answer."""

    model_config = ConfigDict(extra="forbid")

    answer: Literal["confirmed", "not-confirmed"]
    remarks: str | None = Field(default=None, max_length=2000)


class VerificationRequestPublic(BaseModel):
    """A retroactive verification request (the reason text only where this node holds it)."""

    id: int
    document_hash: str
    certificate_id: str | None
    certificate_number: str | None
    status: Literal["open", "confirmed", "not-confirmed"]
    opened_by: str
    country: str | None
    reason: str | None
    reason_hash: str
    opened_at: datetime
    age_seconds: int
    answered_at: datetime | None
    answered_by: str | None
    answer: str | None


class KeyReleased(BaseModel):
    """A data key released to the importing country's Customs (base64url, no padding)."""

    document_hash: str
    issuer: str
    data_key: str


class CustomsCreate(BaseModel):
    """Admit a Customs account of the authority's country; the node creates it unless one is given."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=200)
    account: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")


class PeerSet(BaseModel):
    """Another country's node and the Customs API key this node uses there."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://[^\s]+$", max_length=300)
    api_key: str = Field(min_length=1, max_length=300)


class Problem(BaseModel):
    """An error, as ``application/problem+json`` (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    code: str | None = Field(default=None, description="for a contract refusal: the Solidity custom error's name")
    contract_error: str | None = Field(default=None, description="the same as `code` (kept for older clients)")


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": text, "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}
    for status, text in ((400, "Malformed request"), (401, "No or invalid API key"), (403, "Not allowed for this key"),
                         (404, "Not found"), (409, "Conflicts with the current state"), (410, "Key destroyed"),
                         (413, "Body over the size limit"), (415, "The body is not JSON (Content-Type)"),
                         (422, "Invalid input; the failing fields are named"),
                         (500, "Unexpected error"), (502, "The chain refused or failed"),
                         (503, "The chain could not be reached"))
}
"""Every error any endpoint may answer, documented once for all of them."""

PENDING_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"model": WriteAccepted, "description": "Accepted, not on chain yet: follow `Location` "
                                                 "(`/v1/chain-writes/{id}`) until it is `settled`"}}
"""What an endpoint that writes to the chain answers while its write is pending."""


class WorkerStatus(BaseModel):
    """How one background worker fares."""

    name: str
    running: bool
    failures: int = Field(description="Rounds failed in a row (0 after a good round).")
    last_error: str | None = None
    seconds_since_success: float | None = None

    @classmethod
    def of(cls, health: WorkerHealth) -> WorkerStatus:
        return cls(name=health.name, running=health.running, failures=health.failures, last_error=health.last_error,
                   seconds_since_success=None if health.since_success is None else round(health.since_success, 3))


class Health(BaseModel):
    """Liveness / readiness answer."""

    status: Literal["ok", "unavailable"]
    chain_head: int | None = None
    contract: str | None = None
    detail: str | None = None
    index_lag: int | None = Field(default=None, description="Blocks the event index is behind the chain head.")
    workers: list[WorkerStatus] | None = None


class ReceiptPublic(BaseModel):
    """A signed verification receipt: ``coo-verification/1|id|report_hash|checked_at|chain_head``,
    signed (EIP-191) by ``node_account``."""

    receipt_id: str
    report_hash: str
    checked_at: str
    chain_head: int | None = None
    node_account: str
    signature: str


class VerificationEntry(BaseModel):
    """One verification in a caller's history; the report itself is at `GET /v1/verifications/{receipt_id}`."""

    receipt_id: str
    checked_at: str
    verdict: Verdict
    contents: Literal["available", "erased", "not kept"] = Field(
        description="`available` while the certificate's key is on this node; `erased` after erasure (no hash, "
                    "no number then); `not kept` when this node never held the key")
    document_hash: str | None = Field(default=None, description="as the report gave it; none for a status-only "
                                                                "answer by number, or after erasure")
    certificate_number: str | None = None
    key_id: str | None = Field(default=None, description="the API key that asked (its id, never the key)")
    receipt: ReceiptPublic

    @classmethod
    def of(cls, entry: HistoryEntry) -> VerificationEntry:
        """Build from an entry of :meth:`registry.services.verification.Verification.history`."""
        receipt = ReceiptPublic(**dataclasses.asdict(entry.receipt))
        return cls(receipt_id=receipt.receipt_id, checked_at=receipt.checked_at, verdict=Verdict(entry.verdict),
                   contents=entry.contents, document_hash=entry.document_hash,
                   certificate_number=entry.certificate_number, key_id=entry.key_id, receipt=receipt)


class VerificationPage(BaseModel):
    """One page of verifications, newest first; pass ``next`` as ``after`` for the following page."""

    verifications: list[VerificationEntry]
    next: str | None = Field(default=None, description="the `after` of the next page; absent on the last page")


class DisclosureRequest(BaseModel):
    """A sealed document and the fields to withhold from it."""

    model_config = ConfigDict(extra="forbid")

    document: SealedDocument
    withhold: list[Annotated[str, Field(min_length=1, max_length=256)]] = Field(
        min_length=1, max_length=1000,
        description="paths or path prefixes: `goods[1]`, `exporter.address`, `goods`; every one must name a field")


class CodeListsPublic(BaseModel):
    """The dataset's code lists, each code with its name (for showing a certificate to people)."""

    countries: dict[str, str] = Field(description="ISO 3166-1 alpha-2 code to short name")
    currencies: dict[str, str] = Field(description="ISO 4217 code to name")
    units: dict[str, str] = Field(description="UN/ECE Recommendation 20 unit code to name")
    transport_modes: dict[str, str] = Field(description="UN/ECE Recommendation 19 mode code to name")
    origin_criteria: dict[str, str] = Field(description="origin criterion token to name; tokens join with + "
                                                        "(both met) or / (either met)")
    value_content: str = Field(description="how an RVC token with a two-digit threshold reads "
                                           "({percent} is the threshold)")
    certificate_types: dict[str, str] = Field(description="certificate type (agreement code) to name")


class OpenAttestationWrapped(BaseModel):
    """An OpenAttestation v2 wrapped document (a TradeTrust certificate), verified against its DocumentStore.

    Any body whose `version` is an OpenAttestation schema is read as one: its parts are checked by the
    verifier, which names the part that is missing or malformed (see `docs/interop-openattestation.md`)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"title": "OpenAttestation v2 wrapped document"})

    version: str = Field(pattern=r"^https://schema\.openattestation\.com/",
                         examples=["https://schema.openattestation.com/2.0/schema.json"])
    data: Any = Field(default=None, description="the salted data (`<uuid>:<type>:<value>`), a JSON object")
    signature: Any = Field(default=None, description="`SHA3MerkleProof`: targetHash, proof, merkleRoot")
    privacy: Any = Field(default=None, description="`obfuscatedData`: the hashes of hidden fields")


class ProofRequest(BaseModel):
    """Claims to prove in zero knowledge about a certificate's committed values (`docs/zero-knowledge.md`)."""

    model_config = ConfigDict(extra="forbid")

    claims: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=32,
        examples=[["goods[0].rvc >= 40", "goods[0].hs_code startswith 8481",
                   "issue_date - transport.departure_date <= 365"]],
        description="`goods[i]` is the item at index i (0-based) of the certificate's goods list")


class ClaimsRecorded(BaseModel):
    """A proof bundle's claims, verified on chain and recorded as `ClaimVerified` events of the claim log."""

    verdict: Verdict
    receipt_id: str = Field(description="the receipt of the verification on this node")
    claim_log: str = Field(description="the `ZkClaimLog` contract")
    recorded: list[dict[str, str | int]] = Field(description="per claim: claim, tx_hash, block_number, gas_used")

"""Verification on this node: documents, hashes, numbers and QR codes, each with a signed receipt.

The verdict comes from :mod:`registry.pipelines.verify`; this service adds what the
node knows beyond the chain (its own status record, a pending change) and files the
receipt in the audit log, the report sealed under the certificate's data key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from registry.custody.apikeys import Principal, Role
from registry.custody.keys import DataKey
from registry.custody.signer import signer_for
from registry.custody.vault import KeyVault
from registry.domain.report import VerificationReport
from registry.domain.states import CertificateStatus
from registry.entropy import random_uuid
from registry.errors import (
    NotFoundError,
    PermissionDenied,
)
from registry.openattestation.identity import IdentityResolver
from registry.openattestation.verifier import OpenAttestationVerifier
from registry.pipelines.verify import Declaration, NodeFacts, Verifier
from registry.sealing.document import SealedDocument
from registry.sealing.record import parse_sealed_record
from registry.sealing.terms import SealedTerms, Terms, terms_from_plain, terms_plain
from registry.services.context import (
    PENDING_STATUS,
    Service,
    ServiceContext,
    canonical_json,
    checksum_address,
    proof_of,
    status_subject,
)
from registry.storage.audit import ReceiptQuery
from registry.storage.filing import ReceiptFiler
from registry.storage.store import (
    HeldCertificate,
    ReceiptRecord,
)
from registry.types import hex32, parse_hex32, same_account
from registry.zk.bundle import ProofBundle
from registry.zk.verifier import verify_bundle

Contents = Literal["available", "erased", "not kept"]
"""What a filed receipt still holds of its report on this node."""


@dataclass(frozen=True)
class VerificationReceipt:
    """A signed record of one verification, for Customs to file with the declaration."""

    receipt_id: str
    report_hash: str
    checked_at: str
    chain_head: int | None
    node_account: str
    signature: str


class Verification(Service):
    """Verify and sign receipts; read receipts back for those entitled."""

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.verifier = Verifier(ctx.reads or ctx.chain, index=ctx.follower)
        self.signer = signer_for(ctx.node_account)
        """Signs receipts with the node account's key, parsed once (:mod:`registry.custody.signer`)."""
        self.filer = ReceiptFiler(ctx.store)
        """Files receipts, those of concurrent verifications in one transaction (:mod:`registry.storage.filing`)."""

    def verify_document(self, document: SealedDocument, declaration: Declaration | None = None,
                        principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify a (possibly selectively disclosed) sealed document and sign a receipt (filed in
        *principal*'s history when given)."""
        known = self._known(parse_hex32(document.document_hash))
        report = self.verifier.verify_document(document, declaration, self._facts(known.certificate))
        return report, self._receipt(report, principal, known)

    def verify_bundle(self, bundle: ProofBundle,
                      principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify a zero-knowledge proof bundle (:mod:`registry.zk.verifier`) and sign a receipt."""
        known = self._known(parse_hex32(bundle.document_hash))
        report = verify_bundle(self.verifier, bundle, self._facts(known.certificate))
        return report, self._receipt(report, principal, known)

    def verify_openattestation(self, document: Mapping[str, Any], identity: IdentityResolver,
                               principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify an OpenAttestation v2 wrapped document against its DocumentStore on this node's chain, its
        issuer's identity by DNS-TXT (or the trust list in *identity*), and sign a receipt.

        Raises:
            OpenAttestationDocumentError: not a wrapped v2 envelope (naming the part).
        """
        report = OpenAttestationVerifier(self.chain, identity).verify(document)
        return report, self._receipt(report, principal)

    def verify_hash(self, document_hash: bytes, proof: Sequence[bytes] | None = None,
                    principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Status-only verification of a hash (with its proof, if given or if this node issued it)."""
        known = self._known(document_hash, with_record=True)
        held = known.certificate
        if proof is None and held and held.proof:
            proof = [parse_hex32(p) for p in held.proof]
        facts = self._facts(held, self._terms(held, known.key) if held is not None else None)
        report = self.verifier.verify_hash(document_hash, list(proof) if proof else None, facts)
        return report, self._receipt(report, principal, known)

    def verify_number(self, issuer: str, certificate_number: str,
                      principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Look a certificate up by (issuer, certificate number), unique only per issuer, and verify it.

        Contents only for its issuer and the importing country's Customs. Anyone else gets
        the verdict and the checks' outcomes, no field value, no document hash, and the same
        shape for a number this node does not hold (``INVALID``, not a 404).
        """
        row = self.store.by_number(checksum_address(issuer), certificate_number)  # issuers are stored checksummed
        if row is not None and principal is not None and _entitled(principal, row.issuer, row.importing_country):
            return self.verify_token(row.id, principal)
        if row is None:
            probe = hashlib.sha256(b"coo-unknown-number/1|" + issuer.lower().encode() + b"|" +
                                   certificate_number.encode()).digest()
            report = self.verifier.verify_hash(probe, None, NodeFacts())
        else:
            held = self.store.held_certificate(row.document_hash)  # the number is not revealed again
            report = self.verifier.verify_hash(row.document_hash, proof_of(row), self._facts(held))
        return self._status_only(report, principal)

    def _status_only(self, report: VerificationReport,
                     principal: Principal | None) -> tuple[VerificationReport, VerificationReceipt]:
        """The verdict and the outcome of each check, nothing that names or describes the certificate."""
        checks = [c.model_copy(update={"details": {}}) for c in report.checks]
        bare = report.model_copy(update={"checks": checks, "document_hash": None, "certificate_number": None,
                                         "exporting_country": None, "disclosed": None, "issuer": None,
                                         "issuer_name": None, "authority": None, "authority_name": None,
                                         "withheld": None})
        return bare, self._receipt(bare, principal)

    def verify_token(self, token: str,
                     principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Verification behind a QR code: full contents while the key exists, status after."""
        try:
            row = self.store.certificate(str(uuid.UUID(token)))
        except ValueError:
            raise NotFoundError("verification code", token) from None
        if row.status == CertificateStatus.ERASED or self.store.wrapped_key(row.id) is None:
            return self.verify_hash(row.document_hash, principal=principal)
        return self.verify_document(self.ctx.sealed_of(row), principal=principal)

    def _known(self, document_hash: bytes, *, with_record: bool = False) -> _Known:
        """Read this node's certificate of *document_hash* (one statement; its sealed document with
        *with_record*) and unwrap the data key held for it, once for the whole verification: its own
        key, or else a key another node released to this one (as :meth:`KeyVault.key_for_document`)."""
        held = self.store.held_certificate(document_hash, with_record=with_record)
        if held is None:
            return _Known(document_hash, None, self.vault.released_key(document_hash))
        key = None if held.wrapped_key is None else self.vault.data_key(held.id, held.wrapped_key)
        return _Known(document_hash, held, key)

    def _terms(self, held: HeldCertificate, key: DataKey | None) -> Terms | None:
        """The committed terms of one of this node's certificates (None once its key is gone), opened
        with the key the verification already unwrapped."""
        if key is None:
            return None
        sealed = self._sealed_terms(held, key)
        return sealed.unpack()[0] if sealed is not None else None

    def _sealed_terms(self, held: HeldCertificate, key: DataKey) -> SealedTerms | None:
        """The terms from their small ciphertext; until a certificate has one (sealed before schema version
        14), from the whole sealed document, then sealed apart for the next verification."""
        if held.sealed_terms is not None:
            return terms_from_plain(KeyVault.open_terms(key, held.id, held.issuer, held.sealed_terms))
        if held.sealed_record is None:
            return None
        record = self.vault.decrypt_record(held.id, held.issuer, key, held.sealed_record)
        terms = parse_sealed_record(record, held.document_hash)[1].terms
        self.store.put_sealed_terms(held.id, KeyVault.seal_terms(key, held.id, held.issuer, terms_plain(terms)))
        return terms

    def _facts(self, held: HeldCertificate | None, terms: Terms | None = None) -> NodeFacts:
        """Whether the key still exists and this node's own status (a pending change first), with the committed
        *terms* when the caller opened them (a verification by hash)."""
        if held is None:
            return NodeFacts()
        waiting = self.outbox.pending_for(status_subject(held.document_hash))
        status = PENDING_STATUS[waiting[-1].kind] if waiting else held.status
        return NodeFacts(key_exists=held.wrapped_key is not None, terms=terms, local_status=status)

    def _receipt(self, report: VerificationReport, principal: Principal | None = None,
                 known: _Known | None = None) -> VerificationReceipt:
        """Sign a receipt and file it: the report itself only sealed under the certificate's data key.

        With no key on this node for the document, the contents are not kept at all. The
        receipt is filed under *principal*'s key id (never the key) when one asked. *known*
        is what the verification already read of the document (read here when not given).
        """
        body = canonical_json(report.model_dump(mode="json"))
        report_hash = "0x" + hashlib.sha256(body).hexdigest()
        receipt_id = str(random_uuid())
        checked_at = datetime.now(UTC).isoformat(timespec="seconds")
        message = f"coo-verification/1|{receipt_id}|{report_hash}|{checked_at}|{report.chain_head}".encode()
        receipt = VerificationReceipt(receipt_id, report_hash, checked_at, report.chain_head,
                                      self.signer.address, "0x" + self.signer.sign_message(message).hex())
        known = self._known_for(report, known)
        held = known.certificate if known is not None else None
        contents = known.key.encrypt(body, _receipt_aad(receipt_id)) if known and known.key else None
        importing = (report.disclosed or {}).get("importing_country") or (held.importing_country if held else None)
        self.filer.file(ReceiptRecord(
            id=receipt_id, document_hash=known.document_hash if known else None,
            issuer=report.issuer or (held.issuer if held else None),
            importing_country=importing, verdict=report.verdict.value, report_hash=report_hash,
            checked_at=checked_at, chain_head=report.chain_head, node_account=receipt.node_account,
            signature=receipt.signature, contents=contents, key_id=_key_of(principal)))
        return receipt

    def _known_for(self, report: VerificationReport, known: _Known | None) -> _Known | None:
        """What the receipt of *report* needs of its document: *known* when it is about that document,
        else read now (an OpenAttestation report); None when the report names no document."""
        if not report.document_hash:
            return None
        digest = parse_hex32(report.document_hash)
        return known if known is not None and known.document_hash == digest else self._known(digest)

    def verification_receipt(self, principal: Principal, receipt_id: str) -> dict[str, Any]:
        """A receipt from the audit log, for the certificate's issuer, the importing country's Customs,
        and the key that asked for the verification (its own history's entries, :meth:`history`).

        The report comes with it while the certificate's key exists on this node; after
        erasure only the receipt, the verdict and ``"contents": "erased"``. The asker gets the
        report as it was answered (a status-only answer stays status-only).

        Raises:
            NotFoundError: unknown, or not the caller's (no existence oracle).
        """
        record = self.store.receipt(receipt_id)
        asked = record.key_id is not None and record.key_id == principal.key_id
        if not (asked or _entitled(principal, record.issuer, record.importing_country)):
            raise NotFoundError("verification receipt", receipt_id)
        receipt = dataclasses.asdict(_receipt_of(record))
        report, state = self._opened(record)
        return {"receipt": receipt, "verdict": record.verdict, "contents": state, "report": report}

    def _opened(self, record: ReceiptRecord) -> tuple[dict[str, Any] | None, Contents]:
        """A filed receipt's report while its certificate's key is here, and ``available``,
        ``erased`` or ``not kept``."""
        report: dict[str, Any] | None = None
        state: Contents = "not kept"
        if record.contents is not None and record.document_hash is not None:
            held = self.vault.key_for_document(record.document_hash)
            if held is None:
                state = "erased"
            else:
                report, state = json.loads(held[1].decrypt(record.contents, _receipt_aad(record.id))), "available"
        elif record.document_hash is not None and self.store.erasure(record.document_hash) is not None:
            state = "erased"
        return report, state

    def history(self, principal: Principal, query: ReceiptQuery) -> list[HistoryEntry]:
        """A caller's own verification history, newest first, a page at a time.

        Whose: every key sees the verifications it asked for itself, and nothing else;
        an admin sees every key's (and may narrow to one with ``query.key_id``). A Customs
        officer's history is the officer's key's, so another officer's, and another
        country's Customs, are never in it. An issuer does not see the verifications of its
        own certificates here: who checks which consignment, and when, is the importing
        administration's to tell (an issuer still reads a receipt whose id it is given, at
        :meth:`verification_receipt`). Verifications asked without a key are in no one's
        history, not even an admin's: there is no one to attribute them to (they stay in the
        audit log, readable by receipt id).

        Each entry: the signed receipt, the verdict, and the document hash and certificate
        number the report gave that caller (none for a status-only answer by number). Once
        the certificate is erased the entry stays, with ``contents`` ``erased`` and neither
        hash nor number, as :meth:`verification_receipt` shows no report.

        Raises:
            PermissionDenied: a key other than an admin's asks for another key's history.
            ValidationError: ``query.after`` is not a receipt of this history.
        """
        if principal.role is not Role.ADMIN:
            if query.key_id not in (None, principal.key_id):
                raise PermissionDenied("only an admin key lists another key's verifications")
            query = dataclasses.replace(query, key_id=principal.key_id)
        return [self._entry(record) for record in self.store.receipts(query)]

    def _entry(self, record: ReceiptRecord) -> HistoryEntry:
        report, state = self._opened(record)
        erased = state == "erased"
        number = report.get("certificate_number") if report else None
        return HistoryEntry(
            receipt=_receipt_of(record), verdict=record.verdict, contents=state, key_id=record.key_id,
            document_hash=None if erased or record.document_hash is None else hex32(record.document_hash),
            certificate_number=None if erased else number)


@dataclass(frozen=True)
class _Known:
    """What one verification read of its document: this node's certificate (None: not registered here)
    and the data key held for it (None: none here). Passed to the receipt so nothing is read or unwrapped
    twice; it lives only as long as the request (no key is cached across requests)."""

    document_hash: bytes
    certificate: HeldCertificate | None
    key: DataKey | None


@dataclass(frozen=True)
class HistoryEntry:
    """One verification in a caller's history (:meth:`Verification.history`)."""

    receipt: VerificationReceipt
    verdict: str
    contents: Contents
    """``available``, ``erased`` or ``not kept`` (no key for the document on this node)."""
    key_id: str | None
    document_hash: str | None
    certificate_number: str | None


def _receipt_of(record: ReceiptRecord) -> VerificationReceipt:
    return VerificationReceipt(record.id, record.report_hash, record.checked_at, record.chain_head,
                               record.node_account, record.signature)


def _key_of(principal: Principal | None) -> str | None:
    """The id of the caller's API key (never the key), to file a receipt under; None without one."""
    return principal.key_id if principal is not None else None


def _receipt_aad(receipt_id: str) -> bytes:
    return b"coo-receipt/1|" + receipt_id.encode()


def _entitled(principal: Principal, issuer: str | None, importing_country: str | None) -> bool:
    """The certificate's issuing body, or Customs of its importing country."""
    return ((principal.role is Role.ISSUER and same_account(principal.account, issuer))
            or (principal.role is Role.CUSTOMS and importing_country is not None
                and principal.country == importing_country))


__all__ = ["HistoryEntry", "Verification", "VerificationReceipt"]

"""The registry service: what issuers, Customs and governance can do on a node.

Thin orchestration over the core modules: validate (:mod:`certificate`), seal
(:mod:`hashing`), encrypt and store (:mod:`keys`, :mod:`store`), anchor
(:mod:`anchoring`, :mod:`chain`) and verify (:mod:`verify`). Every operation
takes the calling :class:`~registry.custody.apikeys.Principal` and enforces who may do
what before touching anything.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Mapping, Sequence
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from registry.custody.accounts import AccountBook
from registry.pipelines.anchoring import Anchorer
from registry.custody.apikeys import ApiKeys, Principal, Role
from registry.domain.certificate import parse_certificate
from registry.chain.client import ChainClient, DocumentState, iso_country
from registry.pipelines.effects import hexes
from registry.errors import (
    ChainError,
    ConflictError,
    ContractRevertError,
    KeyDestroyedError,
    NotFoundError,
    PermissionDenied,
    WritePending,
)
from registry.pipelines.outbox import Outbox
from registry.storage.writelog import ChainWrite, WriteKind
from registry.pipelines.indexer import Follower
from registry.sealing.document import (
    Sealed,
    SealedDocument,
    build_sealed_document,
    parse_sealed_record,
    seal,
    sealed_record,
)
from registry.sealing.terms import Terms, terms_for
from registry.custody.keys import DestructionReceipt, encrypt
from registry.custody.vault import KeyVault
from registry.domain.reasons import RevocationReason
from registry.domain.report import VerificationReport
from registry.storage.store import CertificateRow, Erasure, NewCertificate, ReceiptRecord, Store
from registry.types import hex32, parse_hex32
from registry.pipelines.verify import Declaration, NodeFacts, Verifier

Mode = Literal["hash-only", "encrypted"]
STANDING_TTL = 2.0
"""Seconds an issuer's on-chain standing is trusted before it is read again."""
MODES: tuple[str, ...] = ("hash-only", "encrypted")


@dataclass(frozen=True)
class VerificationReceipt:
    """A signed record of one verification, for Customs to file with the declaration."""

    receipt_id: str
    report_hash: str
    checked_at: str
    chain_head: int | None
    node_account: str
    signature: str


class RegistryService:
    """Everything a node does, behind role checks."""

    def __init__(self, *, store: Store, vault: KeyVault, chain: ChainClient, accounts: AccountBook,
                 node_account: LocalAccount, api_keys: ApiKeys, anchorer: Anchorer, follower: Follower,
                 outbox: Outbox) -> None:
        self.store = store
        self.vault = vault
        self.chain = chain
        self.accounts = accounts
        self.node_account = node_account
        self.api_keys = api_keys
        self.anchorer = anchorer
        self.follower = follower
        self.outbox = outbox
        self.verifier = Verifier(chain, index=follower)
        self._standing: dict[str, tuple[float, bool]] = {}
        outbox.on_settled(WriteKind.REVOKE, self._revoked)
        outbox.on_settled(WriteKind.SUPERSEDE, self._superseded)
        outbox.on_settled(WriteKind.ERASE, self._erased)
        for kind in (WriteKind.AUTHORISE_ISSUER, WriteKind.SUSPEND_ISSUER, WriteKind.REINSTATE_ISSUER):
            outbox.on_settled(kind, self._standing_changed)
        for kind in (WriteKind.ADMIT_COUNTRY, WriteKind.AUTHORISE_CUSTOMS, WriteKind.WITHDRAW_CUSTOMS):
            outbox.on_settled(kind, lambda _: self.refresh_index())

    # -- issuing -------------------------------------------------------------------------

    def register(self, principal: Principal, payloads: Sequence[Mapping[str, Any]], mode: str = "hash-only",
                 *, replaces: str | None = None, parent: bytes | None = None,
                 parent_items: Sequence[int] | None = None) -> list[CertificateRow]:
        """Validate, seal, encrypt and queue certificates for anchoring (all or none).

        Each certificate is sealed with its terms (importing country, validity, quantities;
        :mod:`registry.sealing.terms`) so importing Customs can utilise it on chain. *parent* is the
        document hash of the parent of a back-to-back certificate, which it then draws down;
        *parent_items* names, per goods item, the parent's item (0-based) it draws (default:
        the item at the same position).

        Raises:
            PermissionDenied: not an issuer key, or a certificate of another country.
            CertificateValidationError: a certificate breaks the dataset rules.
            ConflictError: a number already used with different contents.
        """
        issuer = self._issuer_of(principal)
        self._check_standing(issuer)
        if mode not in MODES:
            raise ConflictError(f"unknown mode {mode!r}; use hash-only or encrypted")
        with self.vault.wrapping():
            rows = self._accept(principal, issuer, payloads, mode, replaces, parent, parent_items)
        self.anchorer.wake()
        by_number = {r.certificate_number: r for r in rows}
        out = []
        for payload in payloads:
            number = str(payload.get("certificate_number"))
            row = by_number.get(number) or self.store.by_number(issuer, number)
            assert row is not None
            out.append(row)
        return out

    def _accept(self, principal: Principal, issuer: str, payloads: Sequence[Mapping[str, Any]], mode: str,
                replaces: str | None, parent: bytes | None,
                parent_items: Sequence[int] | None) -> list[CertificateRow]:
        """Validate and store (inside :meth:`KeyVault.wrapping`); the rows written."""
        items: list[NewCertificate] = []
        seen: set[str] = set()
        for index, payload in enumerate(payloads):
            certificate = parse_certificate(payload)
            where = f"certificates[{index}]: " if len(payloads) > 1 else ""
            if certificate.exporting_country != principal.country:
                raise PermissionDenied(f"{where}this issuer certifies exports from {principal.country}, "
                                       f"not from {certificate.exporting_country}")
            if (parent is not None or parent_items is not None) and not certificate.back_to_back:
                raise ConflictError(f"{where}a parent certificate applies only to a back-to-back certificate")
            if parent_items is not None and parent is None:
                raise ConflictError(f"{where}parent_items needs the parent's document hash (parent)")
            if certificate.certificate_number in seen:
                raise ConflictError(f"{where}certificate number {certificate.certificate_number} appears twice in the batch")
            seen.add(certificate.certificate_number)
            body = certificate.to_json()
            existing = self.store.by_number(issuer, certificate.certificate_number)
            if existing is not None:
                if not self.vault.same_body(existing.id, existing.fingerprint, _canonical(body)):
                    raise ConflictError(f"{where}certificate number {certificate.certificate_number} is already "
                                        "registered by this issuer with different contents")
                continue
            items.append(self._prepare(issuer, body, mode, replaces, parent, parent_items=parent_items))
        return self.store.insert_certificates(items) if items else []

    def _prepare(self, issuer: str, body: dict[str, Any], mode: str,
                 replaces: str | None, parent: bytes | None = None, copy: int = 0,
                 parent_items: Sequence[int] | None = None) -> NewCertificate:
        """Seal and encrypt one certificate (call inside :meth:`KeyVault.wrapping`).

        The fingerprint is an HMAC of the canonical body under the new data key and the
        number is kept sealed under it, so erasing the key leaves neither to confirm a guess.
        """
        sealed: Sealed = seal(body, terms_for(body, parent, parent_items))
        certificate_id = str(uuid.uuid4())
        key, wrapped = self.vault.new_wrapped_key(certificate_id)
        record = sealed_record(body, sealed)
        number = body["certificate_number"]
        return NewCertificate(
            id=certificate_id, issuer=issuer, certificate_number=number,
            fingerprint=KeyVault.fingerprint(key, _canonical(body)),
            document_hash=sealed.document_hash, mode=mode, exporting_country=body["exporting_country"],
            importing_country=body["importing_country"], sealed_record=encrypt(key, record, certificate_id, issuer),
            wrapped_key=wrapped, replaces=replaces, copy=copy,
            number_sealed=KeyVault.seal_number(key, certificate_id, issuer, number),
        )

    def certificate(self, principal: Principal, certificate_id: str) -> CertificateRow:
        """A certificate the caller may see (its issuer, its authority, importing Customs, admin).

        Raises:
            NotFoundError: unknown, or not visible to the caller (no existence oracle).
        """
        row = self.store.certificate(certificate_id)
        visible = (
            principal.role is Role.ADMIN
            or (principal.role is Role.ISSUER and _same(principal.account, row.issuer))
            or (principal.role is Role.AUTHORITY and principal.country == row.exporting_country)
            or (principal.role is Role.CUSTOMS and principal.country == row.importing_country)
        )
        if not visible:
            raise NotFoundError("certificate", certificate_id)
        return row

    def sealed_document(self, principal: Principal | None, certificate_id: str) -> SealedDocument:
        """The full sealed document (certificate, salts, proof) of an anchored certificate.

        Raises:
            ConflictError: not anchored yet.
            KeyDestroyedError: erased.
        """
        row = self.store.certificate(certificate_id) if principal is None else self.certificate(principal, certificate_id)
        return self.sealed_of(row)

    def sealed_of(self, row: CertificateRow) -> SealedDocument:
        """The sealed document of one of this node's anchored certificates (no access check).

        Raises:
            ConflictError: not anchored yet.
            KeyDestroyedError: erased.
        """
        if row.proof is None or row.batch_id is None:
            raise ConflictError(f"certificate {row.id} is not anchored yet; try again in a moment")
        certificate, sealed = parse_sealed_record(self.vault.decrypt_record(row.id, row.issuer), row.document_hash)
        batch = self.store.batch(row.batch_id)
        assert batch.root is not None
        return build_sealed_document(certificate, sealed, batch.root, [parse_hex32(p) for p in row.proof],
                                     chain_id=self.chain.chain_id, contract=self.chain.address)

    def revoke(self, principal: Principal, certificate_id: str, reason: RevocationReason) -> CertificateRow:
        """Revoke on chain, then record it here."""
        row, signer = self._changeable(principal, certificate_id)
        self._status_write(WriteKind.REVOKE, signer, row, {"reason": int(reason)})
        return self.store.certificate(row.id)

    def replace(self, principal: Principal, certificate_id: str, payload: Mapping[str, Any],
                mode: str = "hash-only") -> tuple[CertificateRow, CertificateRow]:
        """Register a replacement, anchor it now, and mark the old certificate superseded."""
        old, signer = self._changeable(principal, certificate_id)
        new = self.register(principal, [payload], mode, replaces=old.id)[0]
        if new.id == old.id:
            raise ConflictError("the replacement must differ from the certificate it replaces")
        return self._supersede_now(old, signer, new, "replacement")

    def true_copy(self, principal: Principal, certificate_id: str,
                  remarks: str | None = None) -> tuple[CertificateRow, CertificateRow]:
        """Issue a certified true copy (e.g. the original was lost) and supersede the original.

        The copy keeps the original's number, contents and validity, is marked
        ``certified_true_copy``, and continues the original's utilisation on chain;
        from then on the original verifies as SUPERSEDED, pointing at the copy.

        Returns:
            (the original, now superseded; the copy, anchored).
        """
        old, signer = self._changeable(principal, certificate_id)
        certificate, sealed = parse_sealed_record(self.vault.decrypt_record(old.id, old.issuer), old.document_hash)
        body = dict(certificate)
        body.update(certified_true_copy=True, original_reference=body.get("original_reference") or old.certificate_number)
        if remarks:
            body["remarks"] = remarks
        copy_body = parse_certificate(body).to_json()
        old_terms = sealed.terms.unpack()[0] if sealed.terms is not None else None
        parent = old_terms.parent if old_terms is not None and old_terms.has_parent else None
        parent_items = old_terms.parent_items if old_terms is not None and parent is not None else None
        with self.vault.wrapping():
            item = self._prepare(old.issuer, copy_body, old.mode, old.id, parent,
                                 copy=self.store.copies_of(old.issuer, old.certificate_number) + 1,
                                 parent_items=parent_items)
            copy = self.store.insert_certificates([item])[0]
        return self._supersede_now(old, signer, copy, "certified true copy")

    def _supersede_now(self, old: CertificateRow, signer: LocalAccount, new: CertificateRow,
                       what: str) -> tuple[CertificateRow, CertificateRow]:
        """Anchor *new* at once, then supersede *old* by it on chain and here."""
        self.anchorer.wake()
        self.anchorer.flush()
        new = self.store.certificate(new.id)
        if new.proof is None:
            raise ChainError(f"the {what} could not be anchored yet; retry")
        self._status_write(WriteKind.SUPERSEDE, signer, old, {
            "replacement": hex32(new.document_hash), "replacement_proof": hexes(_proof(new)), "replaced_by": new.id})
        return self.store.certificate(old.id), new

    def erase(self, principal: Principal, certificate_id: str) -> DestructionReceipt:
        """Crypto-shred a certificate: record the erasure on chain, then destroy its key and close the epoch.

        WARNING: irreversible. When this returns the erasure is ``erased``
        (:meth:`erasure`); a crash in between leaves it ``erasing`` until the next start.
        """
        row, signer = self._changeable(principal, certificate_id, allow_final=True)
        self._status_write(WriteKind.ERASE, signer, row, {})
        receipt = self.store.destruction_receipt(row.id)
        if receipt is None:  # pragma: no cover - the applier shreds before the write counts as settled
            raise ConflictError(f"certificate {row.id}: the erasure is on chain but its key is not destroyed yet")
        return DestructionReceipt.from_json(receipt)

    def erasure(self, principal: Principal, certificate_id: str) -> tuple[Erasure | None, list[dict[str, str]]]:
        """The erasure state of a certificate and the peers that confirmed destroying their copy of its key.

        Raises:
            NotFoundError: unknown, or not visible to the caller.
        """
        row = self.certificate(principal, certificate_id)
        return self.store.erasure(row.document_hash), self.store.acknowledgements(row.document_hash)

    def _changeable(self, principal: Principal, certificate_id: str,
                    allow_final: bool = False) -> tuple[CertificateRow, LocalAccount]:
        row = self.store.certificate(certificate_id)
        if principal.role is Role.ISSUER and _same(principal.account, row.issuer):
            account = row.issuer
        elif principal.role is Role.AUTHORITY and principal.country == row.exporting_country and principal.account:
            account = principal.account
        else:
            raise PermissionDenied("only the issuing body or its country's authority may change this certificate")
        if row.status == "erased":
            raise KeyDestroyedError(row.id)
        if row.status in ("revoked", "superseded") and not allow_final:
            raise ConflictError(f"certificate {row.id} is already {row.status}")
        if row.proof is None:
            self.anchorer.flush()
            row = self.store.certificate(certificate_id)
            if row.proof is None:
                raise ConflictError(f"certificate {row.id} is not anchored yet; try again in a moment")
        signer = self.accounts.get(account)
        if signer is None:
            raise PermissionDenied(f"this node holds no signing key for {account}")
        return row, signer

    def refresh_index(self) -> None:
        """Index our own change now, so this node's next verification already sees it."""
        try:
            self.follower.poll()
        except ChainError:
            pass  # the follower catches up; until then verification reads the chain

    def _status_write(self, kind: WriteKind, signer: LocalAccount, row: CertificateRow,
                      args: Mapping[str, Any]) -> ChainWrite:
        """Send a status change through the outbox; the store records it once it is on chain.

        Raises:
            WritePending: recorded, not on chain yet (the node shows it as a warning meanwhile).
            ConflictError: the chain refuses it, or another change of this certificate is still pending.
        """
        subject = status_subject(row.document_hash)
        waiting = self.outbox.pending_for(subject)
        if waiting and kind is not WriteKind.ERASE:
            raise ConflictError(f"certificate {row.id} has a {waiting[0].kind} still waiting for the chain "
                                f"(chain write {waiting[0].id})")
        try:
            return self.outbox.submit(kind, signer, {"certificate_id": row.id, "document_hash": hex32(row.document_hash),
                                                     "proof": hexes(_proof(row)), **args}, subject=subject)
        except ContractRevertError as error:
            if error.name == "CertificateRegistryInvalidStatusChange":
                raise ConflictError(f"the chain refuses this change: certificate {row.id} is "
                                    f"{DocumentState(error.args_decoded[1]).name.lower()}") from error
            raise

    def _revoked(self, write: ChainWrite) -> None:
        row = self.store.certificate(write.args["certificate_id"])
        if row.status not in ("revoked", "erased"):
            self.store.set_status(row.id, "revoked", reason=int(write.args["reason"]))
        self.refresh_index()

    def _superseded(self, write: ChainWrite) -> None:
        row = self.store.certificate(write.args["certificate_id"])
        if row.status != "erased":
            self.store.set_status(row.id, "superseded", replaced_by=write.args["replaced_by"])
        self.refresh_index()

    def _erased(self, write: ChainWrite) -> None:
        certificate_id = write.args["certificate_id"]
        if self.store.destruction_receipt(certificate_id) is None:
            self.vault.destroy_key(certificate_id, parse_hex32(write.args["document_hash"]), self.node_account)
        self.refresh_index()

    def _standing_changed(self, write: ChainWrite) -> None:
        self._standing[write.args["account"].lower()] = (time.monotonic(), write.kind is not WriteKind.SUSPEND_ISSUER)
        self.refresh_index()

    # -- verification ------------------------------------------------------------------

    def verify_document(self, document: SealedDocument,
                        declaration: Declaration | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify a (possibly selectively disclosed) sealed document and sign a receipt."""
        row = self.store.by_document_hash(parse_hex32(document.document_hash))
        report = self.verifier.verify_document(document, declaration, self._facts(row))
        return report, self._receipt(report)

    def verify_hash(self, document_hash: bytes,
                    proof: Sequence[bytes] | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Status-only verification of a hash (with its proof, if given or if this node issued it)."""
        row = self.store.by_document_hash(document_hash)
        if proof is None and row and row.proof:
            proof = [parse_hex32(p) for p in row.proof]
        facts = self._facts(row)
        if row is not None and facts.key_exists:
            facts = dataclasses.replace(facts, terms=self._terms(row))
        report = self.verifier.verify_hash(document_hash, list(proof) if proof else None, facts)
        return report, self._receipt(report)

    def verify_number(self, issuer: str, certificate_number: str,
                      principal: Principal | None = None) -> tuple[VerificationReport, VerificationReceipt]:
        """Look a certificate up by (issuer, certificate number), unique only per issuer, and verify it.

        Contents only for its issuer and the importing country's Customs. Anyone else gets
        the verdict and the checks' outcomes, no field value, no document hash, and the same
        shape for a number this node does not hold (``INVALID``, not a 404).
        """
        row = self.store.by_number(_checksum(issuer), certificate_number)  # issuers are stored checksummed
        if row is not None and principal is not None and _entitled(principal, row.issuer, row.importing_country):
            return self.verify_token(row.id)
        if row is None:
            probe = hashlib.sha256(b"coo-unknown-number/1|" + issuer.lower().encode() + b"|" +
                                   certificate_number.encode()).digest()
            report = self.verifier.verify_hash(probe, None, NodeFacts())
        else:
            report = self.verifier.verify_hash(row.document_hash, _proof(row), self._facts(row))
        return self._status_only(report)

    def _status_only(self, report: VerificationReport) -> tuple[VerificationReport, VerificationReceipt]:
        """The verdict and the outcome of each check, nothing that names or describes the certificate."""
        checks = [c.model_copy(update={"details": {}}) for c in report.checks]
        bare = report.model_copy(update={"checks": checks, "document_hash": None, "certificate_number": None,
                                         "exporting_country": None, "disclosed": None, "issuer": None})
        return bare, self._receipt(bare)

    def verify_token(self, token: str) -> tuple[VerificationReport, VerificationReceipt]:
        """Verification behind a QR code: full contents while the key exists, status after."""
        try:
            row = self.store.certificate(str(uuid.UUID(token)))
        except ValueError:
            raise NotFoundError("verification code", token) from None
        if row.status == "erased" or self.store.wrapped_key(row.id) is None:
            return self.verify_hash(row.document_hash)
        return self.verify_document(self.sealed_of(row))

    def _terms(self, row: CertificateRow) -> Terms | None:
        """The committed terms of one of this node's certificates (None once its key is gone)."""
        try:
            _, sealed = parse_sealed_record(self.vault.decrypt_record(row.id, row.issuer), row.document_hash)
        except (KeyDestroyedError, NotFoundError):
            return None
        return sealed.terms.unpack()[0] if sealed.terms is not None else None

    def _facts(self, row: CertificateRow | None) -> NodeFacts:
        if row is None:
            return NodeFacts()
        waiting = self.outbox.pending_for(status_subject(row.document_hash))
        status = _PENDING_STATUS[waiting[-1].kind] if waiting else row.status
        return NodeFacts(key_exists=self.store.wrapped_key(row.id) is not None, local_status=status)

    def _receipt(self, report: VerificationReport) -> VerificationReceipt:
        """Sign a receipt and file it: the report itself only sealed under the certificate's data key.

        With no key on this node for the document, the contents are not kept at all.
        """
        body = report.model_dump(mode="json")
        report_hash = "0x" + hashlib.sha256(_canonical(body)).hexdigest()
        receipt_id = str(uuid.uuid4())
        checked_at = datetime.now(UTC).isoformat(timespec="seconds")
        message = f"coo-verification/1|{receipt_id}|{report_hash}|{checked_at}|{report.chain_head}".encode()
        signature = self.node_account.sign_message(encode_defunct(message)).signature
        receipt = VerificationReceipt(receipt_id, report_hash, checked_at, report.chain_head,
                                      self.node_account.address, "0x" + bytes(signature).hex())
        digest = parse_hex32(report.document_hash) if report.document_hash else None
        row = self.store.by_document_hash(digest) if digest else None
        held = self.vault.key_for_document(digest) if digest else None
        contents = held[1].encrypt(_canonical(body), _receipt_aad(receipt_id)) if held else None
        importing = (report.disclosed or {}).get("importing_country") or (row.importing_country if row else None)
        self.store.add_receipt(ReceiptRecord(
            id=receipt_id, document_hash=digest, issuer=report.issuer or (row.issuer if row else None),
            importing_country=importing, verdict=report.verdict.value, report_hash=report_hash,
            checked_at=checked_at, chain_head=report.chain_head, node_account=receipt.node_account,
            signature=receipt.signature, contents=contents))
        return receipt

    def verification_receipt(self, principal: Principal, receipt_id: str) -> dict[str, Any]:
        """A receipt from the audit log, for the certificate's issuer or the importing country's Customs.

        The report comes with it while the certificate's key exists on this node; after
        erasure only the receipt, the verdict and ``"contents": "erased"``.

        Raises:
            NotFoundError: unknown, or not the caller's (no existence oracle).
        """
        record = self.store.receipt(receipt_id)
        if not _entitled(principal, record.issuer, record.importing_country):
            raise NotFoundError("verification receipt", receipt_id)
        receipt = {"receipt_id": record.id, "report_hash": record.report_hash, "checked_at": record.checked_at,
                   "chain_head": record.chain_head, "node_account": record.node_account,
                   "signature": record.signature}
        report, state = None, "not kept"
        if record.contents is not None and record.document_hash is not None:
            held = self.vault.key_for_document(record.document_hash)
            if held is None:
                state = "erased"
            else:
                report, state = json.loads(held[1].decrypt(record.contents, _receipt_aad(record.id))), "available"
        elif record.document_hash is not None and self.store.erasure(record.document_hash) is not None:
            state = "erased"
        return {"receipt": receipt, "verdict": record.verdict, "contents": state, "report": report}

    # -- governance ----------------------------------------------------------------------

    def admit_country(self, principal: Principal, country: str, authority: str | None) -> tuple[str, str]:
        """Admit *country*; create its authority account here unless one is given. Returns (address, API key)."""
        admin = self.signer_for(principal, Role.ADMIN)
        country = iso_country(country)
        account = _checksum(authority) if authority else self.new_funded_account()
        key = self.api_keys.mint(Role.AUTHORITY, country=country, account=account, label=f"authority of {country}")
        self.send_governance(WriteKind.ADMIT_COUNTRY, admin, {"country": country, "authority": account},
                         f"country:{country}", account=account, api_key=key)
        return account, key

    def create_authority_account(self, principal: Principal, country: str, label: str) -> tuple[str, str]:
        """Create, on this node, the account of *country*'s competent authority, for the consortium
        admin (who may run another node) to admit. Nothing happens on chain. Returns (address, API key)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may create authority accounts")
        account = self.new_funded_account()
        key = self.api_keys.mint(Role.AUTHORITY, country=country, account=account, label=label)
        return account, key

    def authorise_issuer(self, principal: Principal, label: str, issuer: str | None) -> tuple[str, str]:
        """Authorise an issuing body for the authority's country. Returns (address, API key)."""
        authority = self.signer_for(principal, Role.AUTHORITY)
        account = _checksum(issuer) if issuer else self.new_funded_account()
        key = self.api_keys.mint(Role.ISSUER, country=principal.country, account=account, label=label)
        self.send_governance(WriteKind.AUTHORISE_ISSUER, authority, {"account": account}, f"standing:{account.lower()}",
                         account=account, api_key=key)
        return account, key

    def set_issuer_standing(self, principal: Principal, issuer: str, active: bool) -> None:
        """Suspend or reinstate an issuing body of the authority's own country."""
        authority = self.signer_for(principal, Role.AUTHORITY)
        self._standing.pop(issuer.lower(), None)
        kind = WriteKind.REINSTATE_ISSUER if active else WriteKind.SUSPEND_ISSUER
        self.send_governance(kind, authority, {"account": _checksum(issuer)}, f"standing:{issuer.lower()}")

    def send_governance(self, kind: WriteKind, signer: LocalAccount, args: Mapping[str, Any], subject: str,
                    **shown: str) -> ChainWrite:
        """Send a governance write through the outbox; *shown* goes into a pending answer (the new key)."""
        try:
            return self.outbox.submit(kind, signer, args, subject=subject)
        except WritePending as pending:
            pending.shown.update(shown)
            raise

    def chain_write(self, principal: Principal, write_id: int) -> ChainWrite:
        """A chain write, for the account that signs it or an admin.

        Raises:
            NotFoundError: no such write, or not the caller's.
        """
        write = self.outbox.log.get(write_id)
        if principal.role is not Role.ADMIN and not _same(principal.account, write.signer):
            raise NotFoundError("chain write", str(write_id))
        return write

    def mint_key(self, principal: Principal, role: Role, country: str | None, account: str | None, label: str) -> str:
        """Mint an API key (admin only)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only an admin key may mint API keys")
        return self.api_keys.mint(role, country=country, account=account, label=label)

    def signer_for(self, principal: Principal, role: Role) -> LocalAccount:
        """The signing account of a caller with *role* (the node account for an admin).

        Raises:
            PermissionDenied: another role, or this node holds no key for the caller's account.
        """
        if principal.role is not role:
            raise PermissionDenied(f"this needs a {role.value} key")
        address = principal.account or (self.node_account.address if role is Role.ADMIN else None)
        signer = self.accounts.get(address) if address else None
        if signer is None and role is Role.ADMIN:
            signer = self.node_account
        if signer is None:
            raise PermissionDenied("this node holds no signing key for the caller's account")
        return signer

    def new_funded_account(self) -> str:
        """Create an account in this node's book and fund it where the chain allows; its address."""
        account = self.accounts.create()
        try:
            self.chain.fund(account.address)
        except ChainError:
            pass  # a permissioned network funds accounts (or charges no gas) by its own rules
        return account.address

    def _check_standing(self, issuer: str) -> None:
        """Refuse a suspended issuer up front, without waiting on the chain.

        The standing is what this node last set or read (for ``STANDING_TTL``
        seconds), else what the event index says while it is fresh; with neither, the certificate
        is accepted into the outbox and the contract refuses it at anchoring if the
        issuer is suspended by then.
        """
        now = time.monotonic()
        cached = self._standing.get(issuer.lower())
        if cached is None or now - cached[0] > STANDING_TTL:
            if not self.follower.fresh():
                return
            cached = (now, self.follower.view.issuer_active(issuer))
            self._standing[issuer.lower()] = cached
        if not cached[1]:
            raise PermissionDenied(f"issuer {issuer} is not authorised (suspended or never admitted) on the registry")

    def _issuer_of(self, principal: Principal) -> str:
        if principal.role is not Role.ISSUER or not principal.account:
            raise PermissionDenied("registering certificates needs an issuer key")
        return principal.account


def _canonical(body: Any) -> bytes:
    """Deterministic JSON of our own report (sorted keys, no spaces) for its hash."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


_PENDING_STATUS = {WriteKind.REVOKE: "revoked", WriteKind.SUPERSEDE: "superseded", WriteKind.ERASE: "erased"}


def status_subject(document_hash: bytes) -> str:
    """The outbox subject of a certificate's status changes."""
    return f"status:{hex32(document_hash)}"


def _checksum(address: str) -> str:
    from eth_utils.address import to_checksum_address

    try:
        return str(to_checksum_address(address))
    except ValueError:
        return address


def _receipt_aad(receipt_id: str) -> bytes:
    return b"coo-receipt/1|" + receipt_id.encode()


def _entitled(principal: Principal, issuer: str | None, importing_country: str | None) -> bool:
    """The certificate's issuing body, or Customs of its importing country."""
    return ((principal.role is Role.ISSUER and _same(principal.account, issuer))
            or (principal.role is Role.CUSTOMS and importing_country is not None
                and principal.country == importing_country))


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


def _proof(row: CertificateRow) -> list[bytes]:
    return [parse_hex32(p) for p in row.proof or []]


__all__ = ["MODES", "Mode", "RegistryService", "VerificationReceipt", "hex32"]

"""Issuing: register certificates, and revoke, replace, copy or erase them.

Every change of a certificate's status goes through the chain-write outbox
(:mod:`registry.pipelines.outbox`); this node records it once it is on chain.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from eth_account.signers.local import LocalAccount

from registry.chain.client import DocumentState
from registry.chain.refusals import Refusal
from registry.custody.apikeys import Principal, Role
from registry.custody.keys import DestructionReceipt, encrypt
from registry.custody.vault import KeyVault
from registry.domain.certificate import Certificate, parse_certificate
from registry.domain.reasons import RevocationReason
from registry.domain.states import CertificateStatus, Mode
from registry.entropy import random_uuid
from registry.errors import (
    CertificateValidationError,
    ChainError,
    ConflictError,
    ContractRevertError,
    KeyDestroyedError,
    PermissionDenied,
    ValidationError,
)
from registry.pipelines.effects import hexes
from registry.sealing.document import SealedDocument
from registry.sealing.fields import Sealed, seal
from registry.sealing.record import parse_sealed_record, sealed_record
from registry.sealing.terms import terms_for, terms_plain
from registry.services.admission import Admission
from registry.services.context import (
    Service,
    ServiceContext,
    canonical_json,
    proof_of,
    status_subject,
)
from registry.storage.store import (
    CertificateRow,
    Erasure,
    NewCertificate,
)
from registry.storage.writelog import ChainWrite, WriteKind
from registry.types import hex32, parse_hex32, same_account
from registry.zk.commitment import SealedCommitment, commit, confidential_of

MODES: tuple[str, ...] = tuple(m.value for m in Mode)
STANDING_TTL = 2.0
"""Seconds an issuer's on-chain standing is trusted before it is read again."""


def _fingerprinted(body: dict[str, Any], figures: list[dict[str, str]] | None) -> bytes:
    """What a certificate's fingerprint covers: its body and, when it has any, its confidential figures."""
    return canonical_json(body if figures is None else {"certificate": body, "confidential": figures})


def _parsed(payloads: Sequence[Any]) -> list[Certificate | CertificateValidationError]:
    """Each payload validated (:func:`parse_certificate`), or why it is not a certificate."""
    parsed: list[Certificate | CertificateValidationError] = []
    for payload in payloads:
        try:
            parsed.append(parse_certificate(payload))
        except CertificateValidationError as error:
            parsed.append(error)
    return parsed


def _numbers(parsed: Sequence[Certificate | CertificateValidationError]) -> list[str]:
    """The certificate numbers of the valid ones."""
    return [certificate.certificate_number for certificate in parsed if isinstance(certificate, Certificate)]


class Issuing(Service):
    """What issuing bodies (and their authority, for status changes) do, behind role checks."""

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__(ctx)
        self.outbox.on_settled(WriteKind.REVOKE, self._revoked)
        self.outbox.on_settled(WriteKind.SUPERSEDE, self._superseded)
        self.outbox.on_settled(WriteKind.ERASE, self._erased)

    def register(self, principal: Principal, payloads: Sequence[Any], mode: str = "hash-only",
                 *, replaces: str | None = None, parent: bytes | None = None,
                 parent_items: Sequence[int] | None = None, batch: bool | None = None) -> list[CertificateRow]:
        """Validate, seal, encrypt and queue certificates for anchoring (all or none).

        Every item is checked before anything is stored. A batch (*batch*, by default
        more than one payload) that has any refused item raises one error listing
        every refused item by index and field path (``certificates[2].goods[0].hs_code``).

        Each certificate is sealed with its terms (importing country, validity, quantities;
        :mod:`registry.sealing.terms`) so importing Customs can utilise it on chain. *parent* is the
        document hash of the parent of a back-to-back certificate, which it then draws down;
        *parent_items* names, per goods item, the parent's item (0-based) it draws (default:
        the item at the same position).

        Raises:
            PermissionDenied: not an issuer key, or (one certificate) of another country.
            CertificateValidationError: a certificate breaks the dataset rules; for a batch,
                any refused item (another country's, a number twice or already used).
            ConflictError: (one certificate) a number already used with different contents.
        """
        issuer = self._issuer_of(principal)
        self._check_standing(issuer)
        if mode not in MODES:
            raise ConflictError(f"unknown mode {mode!r}; use hash-only or encrypted")
        with self.vault.wrapping():
            rows = self._accept(principal, issuer, payloads, mode, replaces, parent, parent_items,
                                len(payloads) > 1 if batch is None else batch)
        self.anchorer.wake()
        by_number = {r.certificate_number: r for r in rows}
        numbers = [str(payload.get("certificate_number")) for payload in payloads]
        by_number.update(self.store.by_numbers(issuer, [number for number in numbers if number not in by_number]))
        return [by_number[number] for number in numbers]

    def _accept(self, principal: Principal, issuer: str, payloads: Sequence[Any], mode: str,
                replaces: str | None, parent: bytes | None, parent_items: Sequence[int] | None,
                batch: bool) -> list[CertificateRow]:
        """Check every item, then seal and store the new ones (inside :meth:`KeyVault.wrapping`); the rows written.

        Nothing is stored unless every item passes: each refusal is collected
        (:class:`~registry.services.admission.Admission`) and raised together.
        """
        if parent_items is not None and parent is None:
            raise ConflictError("parent_items needs the parent's document hash (parent)")
        admission = Admission(batch)
        items: list[NewCertificate] = []
        admitted = list(self._admitted(principal, issuer, payloads, parent, admission))
        commitments = commit([(body, figures) for _, body, figures in admitted])
        for (index, body, figures), zk in zip(admitted, commitments, strict=True):
            try:
                items.append(self._prepare(issuer, body, mode, replaces, parent, parent_items=parent_items,
                                           zk=zk, figures=figures))
            except ValidationError as error:
                admission.invalid(index, error)
        admission.raise_refused(len(payloads))
        return self.store.insert_certificates(items) if items else []

    def _admitted(self, principal: Principal, issuer: str, payloads: Sequence[Any], parent: bytes | None,
                  admission: Admission) -> Iterator[tuple[int, dict[str, Any], list[dict[str, str]] | None]]:
        """The items to store, each as its validated JSON with its confidential figures; the refused ones go
        to *admission*.

        An item already registered by this issuer with the same contents is not stored
        again (registration is idempotent on the issuer and number). Every item is validated
        first, so that the registered ones are looked up in one query; the refusals are then
        collected in request order.
        """
        parsed = _parsed(payloads)
        registered = self.store.by_numbers(issuer, _numbers(parsed))
        for index, certificate in enumerate(parsed):
            if isinstance(certificate, CertificateValidationError):
                admission.invalid(index, certificate)
                continue
            refused = len(admission.refused)
            admission.check(index, certificate, principal.country)
            if parent is not None and not certificate.back_to_back:
                admission.refuse(index, "back_to_back", ConflictError(
                    "a parent certificate applies only to a back-to-back certificate"))
            body, figures = certificate.to_json(), certificate.confidential()
            existing = registered.get(certificate.certificate_number)
            if existing is not None and not self.vault.same_body(existing.id, existing.fingerprint,
                                                                  _fingerprinted(body, figures)):
                admission.refuse(index, "certificate_number", ConflictError(
                    f"certificate number {certificate.certificate_number} is already registered by this issuer "
                    "with different contents"))
            if existing is None and len(admission.refused) == refused:
                yield index, body, figures

    def _prepare(self, issuer: str, body: dict[str, Any], mode: str,
                 replaces: str | None, parent: bytes | None = None, copy: int = 0,
                 parent_items: Sequence[int] | None = None, zk: SealedCommitment | None = None,
                 figures: list[dict[str, str]] | None = None) -> NewCertificate:
        """Seal and encrypt one certificate (call inside :meth:`KeyVault.wrapping`), with its zero-knowledge
        commitment *zk* when it has confidential *figures* (:mod:`registry.zk.commitment`).

        The fingerprint is an HMAC of the canonical body (and figures) under the new data key and the
        number is kept sealed under it, so erasing the key leaves neither to confirm a guess.
        """
        sealed: Sealed = seal(body, terms_for(body, parent, parent_items), zk)
        certificate_id = str(random_uuid())
        key, wrapped = self.vault.new_wrapped_key(certificate_id)
        record = sealed_record(body, sealed)
        number = body["certificate_number"]
        return NewCertificate(
            id=certificate_id, issuer=issuer, certificate_number=number,
            fingerprint=KeyVault.fingerprint(key, _fingerprinted(body, figures)),
            document_hash=sealed.document_hash, mode=mode, exporting_country=body["exporting_country"],
            importing_country=body["importing_country"], sealed_record=encrypt(key, record, certificate_id, issuer),
            wrapped_key=wrapped, replaces=replaces, copy=copy,
            number_sealed=KeyVault.seal_number(key, certificate_id, issuer, number),
            terms_sealed=KeyVault.seal_terms(key, certificate_id, issuer, terms_plain(sealed.terms)),
        )

    def sealed_document(self, principal: Principal | None, certificate_id: str) -> SealedDocument:
        """The full sealed document (certificate, salts, proof) of an anchored certificate.

        Raises:
            ConflictError: not anchored yet.
            KeyDestroyedError: erased.
        """
        row = (self.store.certificate(certificate_id) if principal is None
               else self.ctx.certificate(principal, certificate_id))
        return self.ctx.sealed_of(row)

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
        body.update(certified_true_copy=True,
                    original_reference=body.get("original_reference") or old.certificate_number)
        if remarks:
            body["remarks"] = remarks
        copy_body = parse_certificate(body).to_json()
        figures = confidential_of(sealed.zk.opening) if sealed.zk is not None and sealed.zk.opening else None
        old_terms = sealed.terms.unpack()[0] if sealed.terms is not None else None
        parent = old_terms.parent if old_terms is not None and old_terms.has_parent else None
        parent_items = old_terms.parent_items if old_terms is not None and parent is not None else None
        with self.vault.wrapping():
            item = self._prepare(old.issuer, copy_body, old.mode, old.id, parent,
                                 copy=self.store.copies_of(old.issuer, old.certificate_number) + 1,
                                 parent_items=parent_items, zk=commit([(copy_body, figures)])[0], figures=figures)
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
            "replacement": hex32(new.document_hash), "replacement_proof": hexes(proof_of(new)), "replaced_by": new.id})
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
        row = self.ctx.certificate(principal, certificate_id)
        return self.store.erasure(row.document_hash), self.store.acknowledgements(row.document_hash)

    # Complexity (radon C): a change's preconditions: who may act, status, anchored, a signing key
    def _changeable(self, principal: Principal, certificate_id: str,
                    allow_final: bool = False) -> tuple[CertificateRow, LocalAccount]:
        row = self.store.certificate(certificate_id)
        if principal.role is Role.ISSUER and same_account(principal.account, row.issuer):
            account = row.issuer
        elif principal.role is Role.AUTHORITY and principal.country == row.exporting_country and principal.account:
            account = principal.account
        else:
            raise PermissionDenied("only the issuing body or its country's authority may change this certificate")
        if row.status == CertificateStatus.ERASED:
            raise KeyDestroyedError(row.id)
        if row.status in (CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED) and not allow_final:
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
            return self.outbox.submit(kind, signer, {"certificate_id": row.id,
                                                     "document_hash": hex32(row.document_hash),
                                                     "proof": hexes(proof_of(row)), **args}, subject=subject)
        except ContractRevertError as error:
            if error.name == Refusal.INVALID_STATUS_CHANGE:
                raise ConflictError(f"the chain refuses this change: certificate {row.id} is "
                                    f"{DocumentState(error.args_decoded[1]).name.lower()}") from error
            raise

    def _revoked(self, write: ChainWrite) -> None:
        row = self.store.certificate(write.args["certificate_id"])
        if row.status not in (CertificateStatus.REVOKED, CertificateStatus.ERASED):
            self.store.set_status(row.id, CertificateStatus.REVOKED, reason=int(write.args["reason"]))
        self.ctx.refresh_index()

    def _superseded(self, write: ChainWrite) -> None:
        row = self.store.certificate(write.args["certificate_id"])
        if row.status != CertificateStatus.ERASED:
            self.store.set_status(row.id, CertificateStatus.SUPERSEDED, replaced_by=write.args["replaced_by"])
        self.ctx.refresh_index()

    def _erased(self, write: ChainWrite) -> None:
        certificate_id = write.args["certificate_id"]
        if self.store.destruction_receipt(certificate_id) is None:
            self.vault.destroy_key(certificate_id, parse_hex32(write.args["document_hash"]), self.node_account)
        self.ctx.refresh_index()

    def _check_standing(self, issuer: str) -> None:
        """Refuse a suspended issuer up front, without waiting on the chain.

        The standing is what this node last set or read (for ``STANDING_TTL``
        seconds), else what the event index says while it is fresh; with neither, the certificate
        is accepted into the outbox and the contract refuses it at anchoring if the
        issuer is suspended by then.
        """
        now = time.monotonic()
        cached = self.ctx.standing.get(issuer.lower())
        if cached is None or now - cached[0] > STANDING_TTL:
            if not self.follower.fresh():
                return
            cached = (now, self.follower.view.issuer_active(issuer))
            self.ctx.standing[issuer.lower()] = cached
        if not cached[1]:
            raise PermissionDenied(f"issuer {issuer} is not authorised (suspended or never admitted) on the registry")

    def _issuer_of(self, principal: Principal) -> str:
        if principal.role is not Role.ISSUER or not principal.account:
            raise PermissionDenied("registering certificates needs an issuer key")
        return principal.account


__all__ = ["MODES", "STANDING_TTL", "Issuing"]

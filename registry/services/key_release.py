"""Key release: the data key of an encrypted-mode certificate, to the bearer of its QR code or to the
importing country's node; and the erasure acknowledgements that node sends back once it destroyed its copy."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from registry.custody.acknowledgements import (
    checked_acknowledgement,
    sign_acknowledgement,
)
from registry.custody.apikeys import Principal, Role
from registry.domain.states import CertificateStatus, Mode
from registry.errors import (
    ConflictError,
    DecryptionError,
    KeyDestroyedError,
    NotFoundError,
    PeerError,
    PermissionDenied,
    ValidationError,
)
from registry.sealing.document import SealedDocument
from registry.services.context import Service, ServiceContext
from registry.services.verification import Verification
from registry.storage.customs import CustomsRecords
from registry.storage.store import CertificateRow
from registry.types import hex32

if TYPE_CHECKING:
    from registry.domain.report import VerificationReport
    from registry.services.verification import VerificationReceipt

from registry.services.documents import (
    Documents,
    hash_or_none,
    key_token,
    parse_key_token,
)

log = logging.getLogger("coo.customs")

ACK_RETRY_SECONDS = 5.0
"""How long to wait before sending erasure acknowledgements again after a peer could not be reached."""

@dataclass(frozen=True)
class ReleasedKey:
    """A data key released to an entitled party. Its repr never shows the key."""

    document_hash: bytes
    issuer: str
    key: bytes = field(repr=False)


class KeyRelease(Service):
    """Release keys, open what they open, and confirm their destruction to the issuing node."""

    def __init__(self, ctx: ServiceContext, documents: Documents, verification: Verification) -> None:
        super().__init__(ctx)
        self.documents = documents
        self.verification = verification
        self.records = CustomsRecords(ctx.store)
        self._ack_retry_at = 0.0

    def release_key(self, principal: Principal, ref: str) -> ReleasedKey:
        """The data key of one of this node's encrypted-mode certificates, for its importing Customs.

        WARNING: the released copy is out of this node's reach; erasing later stops the
        registry from opening it (nodes drop released keys on the on-chain erasure), but
        cannot unlearn it from a party that kept it elsewhere.

        Raises:
            NotFoundError: not a certificate of this node visible to the caller.
            KeyDestroyedError: erased.
            ConflictError: hash-only mode (there is no on-chain ciphertext to open).
        """
        if principal.role is not Role.CUSTOMS:
            raise PermissionDenied("keys are released only to Customs of the importing country")
        row = self.documents._local(principal, ref, hash_or_none(ref))
        if row is None:
            raise NotFoundError("certificate", ref)
        if row.mode != Mode.ENCRYPTED:
            raise ConflictError("this certificate was anchored in hash-only mode: there is no on-chain ciphertext; "
                                "ask the exporter for the sealed document")
        key = self.ctx.vault.export_key(row.id)
        self.ctx.store.append_audit(str(uuid.uuid4()), {
            "key_release": {"certificate_id": row.id, "document_hash": hex32(row.document_hash),
                            "to_country": principal.country, "key_id": principal.key_id,
                            "at": datetime.now(UTC).isoformat(timespec="seconds")}})
        return ReleasedKey(row.document_hash, row.issuer, key)

    def token_for(self, row: CertificateRow) -> str:
        """What the QR code of a certificate carries: a key token in encrypted mode, else its id."""
        if row.mode == Mode.ENCRYPTED and row.status != CertificateStatus.ERASED:
            try:
                return key_token(row.document_hash, self.ctx.vault.export_key(row.id))
            except (KeyDestroyedError, NotFoundError):
                return row.id
        return row.id

    def verify_key_token(self, token: str) -> tuple[VerificationReport, VerificationReceipt]:
        """Verify the certificate a key token names, opening its on-chain ciphertext with the token's key.

        Contents are shown only while the certificate is not erased on chain; afterwards
        the verdict is ERASED with no contents, though the ciphertext is still on chain.

        Raises:
            NotFoundError: not a key token, no ciphertext on chain, or a key that does not open it.
        """
        parsed = parse_key_token(token)
        if parsed is None:
            raise NotFoundError("verification code", token[:12] + "…")
        document_hash, key = parsed
        published = self.documents.published(document_hash)
        try:
            document = self.documents.open_published(published, document_hash, key)
        except KeyDestroyedError:
            return self.verification.verify_hash(document_hash, published.proof(document_hash))
        except DecryptionError:
            raise NotFoundError("verification code", "(its key does not open this certificate)") from None
        return self.verification.verify_document(document)

    def fetch(self, principal: Principal, ref: str) -> SealedDocument:
        """Obtain the key of another node's encrypted-mode certificate and open its on-chain record.

        Raises:
            NotFoundError: no on-chain ciphertext for this hash, or no peer node for the issuer's country.
            KeyDestroyedError: the certificate was erased.
        """
        self.documents.customs_signer(principal)
        document_hash = hash_or_none(ref)
        if document_hash is None:
            raise ValidationError("document_hash: expected 0x followed by 64 hex digits",
                                  [{"loc": "document_hash", "msg": "not a document hash"}])
        if self.records.released_key(document_hash) is None:
            issuer = self.documents.published(document_hash).issuer
            country = self.ctx.chain.issuer_country(issuer) or ""
            peer = self.documents.peer(country)
            if peer is None:
                raise NotFoundError("peer node", f"of {country} (configure it: PUT /v1/governance/peers/{country})")
            self.documents.keep_key(document_hash, issuer, self.documents.peers.fetch_key(*peer, document_hash))
        return self.documents.open_released(document_hash)

    def acknowledge_erasures(self) -> int:
        """Send the issuing nodes a signed acknowledgement for each released key destroyed here.

        Unreachable peers are tried again next time. Returns how many were delivered.
        """
        sent = 0
        if time.monotonic() < self._ack_retry_at:
            return 0
        for document_hash, issuer in self.ctx.store.unacknowledged_erasures():
            peer = self.documents.peer(self.ctx.chain.issuer_country(issuer) or "")
            if peer is None:
                continue
            try:
                self.documents.peers.acknowledge_erasure(*peer, document_hash,
                                                sign_acknowledgement(self.ctx.node_account, document_hash))
            except PeerError as error:
                log.warning("erasure of %s: acknowledgement not delivered (retry in %.0f s): %s",
                            hex32(document_hash), ACK_RETRY_SECONDS, error)
                self._ack_retry_at = time.monotonic() + ACK_RETRY_SECONDS
                continue
            self.ctx.store.mark_acknowledged(document_hash)
            sent += 1
        return sent

    def receive_acknowledgement(self, principal: Principal, ref: str, given: Mapping[str, Any]) -> None:
        """Keep a peer node's signed acknowledgement that it destroyed its copy of one of this node's keys.

        Raises:
            PermissionDenied: not a Customs key.
            NotFoundError: not a certificate of this node visible to the caller.
            ConflictError: the certificate is not erased here.
            ValidationError: a malformed or wrongly signed acknowledgement.
        """
        if principal.role is not Role.CUSTOMS or not principal.country:
            raise PermissionDenied("erasure acknowledgements come from Customs nodes")
        row = self.documents._local(principal, ref, hash_or_none(ref))
        if row is None:
            raise NotFoundError("certificate", ref)
        if self.ctx.store.erasure(row.document_hash) is None:
            raise ConflictError(f"certificate {row.id} is not erased on this node")
        ack = checked_acknowledgement(row.document_hash, given)
        self.ctx.store.add_acknowledgement(row.document_hash, ack["node_account"], principal.country,
                                               ack["acknowledged_at"], ack["signature"])


__all__ = ["ACK_RETRY_SECONDS", "KeyRelease", "ReleasedKey"]
